""".npz archives read without trusting them: each member's shape and dtype come from its .npy
header (a few hundred bytes, inflated alone), so a caller checks them before any array is
read, and a member whose header claims more than its compressed bytes could hold is refused.
A 1 KB file cannot make the library allocate gigabytes."""
from __future__ import annotations

import os
import zipfile
from typing import Any

import numpy as np

__all__ = ["MAX_RATIO", "Archive", "is_npy"]

#: deflate cannot expand data more than ~1032 times: a member claiming more is lying.
MAX_RATIO = 1100


class Archive:
    """An open .npz: `headers` maps each member name (without .npy) to (shape, dtype)."""

    def __init__(self, path: Any) -> None:
        self.path = path
        self._zf = zipfile.ZipFile(path)  # BadZipFile / OSError for what is no archive
        self.headers: dict[str, tuple[tuple, np.dtype]] = {}
        self._info: dict[str, zipfile.ZipInfo] = {}
        for zi in self._zf.infolist():
            if zi.is_dir():
                continue
            if not zi.filename.endswith(".npy"):
                raise ValueError(f"member {zi.filename!r} is no .npy array")
            name = zi.filename[:-4]
            with self._zf.open(zi) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                offset = f.tell()
            if dtype.hasobject:
                raise ValueError(f"member {name!r} holds Python objects (dtype {dtype})")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if zi.file_size < offset + nbytes:
                raise ValueError(f"member {name!r} is cut short: its header says {shape} {dtype}, "
                                 f"{zi.file_size - offset} bytes follow")
            if zi.compress_type != zipfile.ZIP_STORED and zi.file_size > MAX_RATIO * zi.compress_size + (1 << 20):
                raise ValueError(f"member {name!r} claims {zi.file_size} bytes from {zi.compress_size} compressed")
            if zi.compress_type == zipfile.ZIP_STORED and _size(path) is not None and zi.file_size > _size(path):
                raise ValueError(f"member {name!r} claims {zi.file_size} bytes, more than the file holds")
            self.headers[name] = (tuple(shape), dtype)
            self._info[name] = zi

    def read(self, name: str) -> np.ndarray:
        """The array of member `name`, in native byte order."""
        with self._zf.open(self._info[name]) as f:
            a = np.lib.format.read_array(f, allow_pickle=False)
        return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_npy(path: Any) -> bool:
    """Whether path is a file that starts as a single .npy array does."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _size(path: Any) -> int | None:
    try:
        return os.path.getsize(path) if isinstance(path, (str, os.PathLike)) else None
    except OSError:
        return None
