"""The model file: an .npz archive of named arrays plus one JSON "meta" entry. Reading and
writing it, with clear errors for anything that is not one; what the entries mean is nn's."""
from __future__ import annotations

import json
import zipfile
from typing import Any

import numpy as np

from fastinit import _npz

__all__ = ["read", "write"]


def write(path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write meta (JSON-ready) and arrays to `path` (a file name or a binary file object)."""
    entries = {"meta": np.array(json.dumps(meta)), **arrays}
    if hasattr(path, "write"):
        np.savez(path, **entries)
    else:
        with open(path, "wb") as f:
            np.savez(f, **entries)


def read(path, fmt: str, expected=None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of a file written by `write` whose meta["format"] is fmt; ValueError
    naming the file for anything else (FileNotFoundError passes through).

    expected(meta) -> {name: (shape, dtype)}: the arrays the meta says the file holds (raising
    ValueError/TypeError/KeyError for a meta it cannot read). Each member's header is checked
    against it before any array is read, and a member it does not name is refused: a small
    file cannot make the reader allocate gigabytes."""
    bad = f"{path!r} is not a fastinit model file"
    if _npz.is_npy(path):
        raise ValueError(f"{bad}: it holds one array (.npy), not an .npz archive")
    try:
        arc = _npz.Archive(path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        why = "" if isinstance(e, zipfile.BadZipFile) else f" ({e})"
        raise ValueError(f"{bad}: not a readable .npz archive{why}") from None
    with arc:
        try:
            shape, dtype = arc.headers["meta"]
            if shape != () or dtype.kind != "U" or dtype.itemsize > 4 << 20:
                raise ValueError(f"meta is {shape} {dtype}, not one JSON text")
            meta = json.loads(str(arc.read("meta")[()]))
        except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path!r} is not a valid fastinit model file: no readable meta entry ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != fmt:
            got = meta.get("format") if isinstance(meta, dict) else None
            raise ValueError(f"{path!r} is not a valid fastinit model file: unknown format {got!r}")
        names = [n for n in arc.headers if n != "meta"]
        if expected is not None:
            try:
                want = expected(meta)
            except (KeyError, TypeError, ValueError, OverflowError) as e:
                raise ValueError(f"{path!r} is not a valid fastinit model file: its meta entry: {e}") from None
            extra, missing = sorted(set(names) - set(want)), sorted(set(want) - set(names))
            if extra or missing:
                raise ValueError(f"{path!r} is not a valid fastinit model file: "
                                 + (f"unknown arrays {extra}" if extra else f"missing arrays {missing}"))
            for n, (shp, dt) in want.items():
                got_shape, got_dt = arc.headers[n]
                if got_shape != tuple(shp) or got_dt.newbyteorder("=") != np.dtype(dt):
                    raise ValueError(f"{path!r} is not a valid fastinit model file: array {n!r} is {got_shape} "
                                     f"{got_dt}, its meta says {tuple(shp)} {np.dtype(dt)}")
        try:
            data = {n: arc.read(n) for n in names}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path!r} is not a fastinit model file: a damaged .npz archive ({e})") from None
    return meta, data
