"""The model file: an .npz archive of named arrays plus one JSON "meta" entry. Reading and
writing it, with clear errors for anything that is not one; what the entries mean is nn's."""
from __future__ import annotations

import json
import zipfile
from typing import Any

import numpy as np

__all__ = ["read", "write"]


def write(path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write meta (JSON-ready) and arrays to `path` (a file name or a binary file object)."""
    entries = {"meta": np.array(json.dumps(meta)), **arrays}
    if hasattr(path, "write"):
        np.savez(path, **entries)
    else:
        with open(path, "wb") as f:
            np.savez(f, **entries)


def read(path, fmt: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a file written by `write` whose meta["format"] is fmt; ValueError
    naming the file for anything else (FileNotFoundError passes through)."""
    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        # NumPy reads anything that is neither .npy nor .npz as a pickle, refused here: its
        # message (load it unsafely with allow_pickle) is not advice to pass on.
        why = "" if isinstance(e, ValueError) else f" ({e})"
        raise ValueError(f"{path!r} is not a fastinit model file: not a readable .npz archive{why}") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(f"{path!r} is not a fastinit model file: it holds one array (.npy), not an .npz archive")
    try:
        with f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path!r} is not a fastinit model file: a damaged .npz archive ({e})") from None
    try:
        meta = json.loads(str(data.pop("meta")[()]))
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{path!r} is not a valid fastinit model file: no readable meta entry ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise ValueError(f"{path!r} is not a valid fastinit model file: unknown format {got!r}")
    return meta, data
