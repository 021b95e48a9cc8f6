"""An on-disk cache for datasets that take seconds to build (MNIST-1D is generated, not
downloaded: about 3 s with its package's import, in every process of a study, every time).

FASTINIT_CACHE names the folder; set to an empty string, nothing is cached. Default:
$XDG_CACHE_HOME/fastinit, else ~/.cache/fastinit. An entry is a .npz named by what built it
(the builder's name, its package's version, its arguments), written to a temporary file and
renamed, so a reader never sees half of one; an entry that does not read back as the arrays
expected is built again. A folder that cannot be written costs only the cache."""
from __future__ import annotations

import os
import tempfile
from typing import Callable

import numpy as np

from fastinit import _npz


def folder() -> str | None:
    """The cache folder, or None when caching is off."""
    path = os.environ.get("FASTINIT_CACHE")
    if path is not None:
        return path or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fastinit")


def arrays(key: str, kinds: dict[str, str], build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays named in kinds (name -> dtype kind, e.g. "f" or "i") that build() returns,
    from the cache entry `key` when it holds them, else built and stored there."""
    where = folder()
    path = os.path.join(where, key + ".npz") if where else None
    if path and os.path.isfile(path):
        try:
            with _npz.Archive(path) as arc:
                if set(arc.headers) == set(kinds) and all(arc.headers[n][1].kind == k for n, k in kinds.items()):
                    return {n: arc.read(n) for n in kinds}
        except Exception:  # damaged, cut short or foreign (zip, header, I/O errors alike): build again
            pass
    out = build()
    if path:
        _store(path, out)
    return out


def _store(path: str, out: dict[str, np.ndarray]) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **out)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
