"""Every check of user input, in one place and one message style: the library calls these at
each public entry point; the binding layer (fastinit._core) then assumes valid input.

Messages name the argument, and for arrays their shape and dtype. Arrays come back in the form
the kernels want (native byte order, C-contiguous, the requested dtype); nothing is cast
silently where the value could change (float labels must be whole, ranges are checked).
"""
from __future__ import annotations

import difflib
import math
import numbers
from typing import Any, Iterable

import numpy as np

from fastinit import _core

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def describe(name: str, a: Any) -> str:
    """'name (shape (2, 3), dtype float32)', or the type for a non-array."""
    if isinstance(a, np.ndarray):
        return f"{name} (shape {a.shape}, dtype {a.dtype})"
    return f"{name} ({type(a).__name__})"


def unknown(kind: str, name: Any, known: Iterable[str], also: str = "", aliases: Iterable[str] = ()) -> ValueError:
    """ValueError "unknown {kind} {name!r} (did you mean ...?); known: ...{also}". Suggestions
    come from the known names and their aliases (not listed)."""
    known = list(known)
    candidates = known + [a for a in aliases if a not in known]
    typed = str(name).strip().lower()
    # "xavier" -> xavier_normal, xavier_uniform: a family prefix, too short for difflib's ratio.
    close = [k for k in candidates if k.startswith(typed + "_")] or difflib.get_close_matches(typed, candidates, n=3)
    hint = ""
    if close:
        close = [repr(k) for k in close]
        hint = f" (did you mean {', '.join(close[:-1]) + ' or ' if len(close) > 1 else ''}{close[-1]}?)"
    return ValueError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}{also}")


# --------------------------------------------------------------------------- numbers

def _range_text(low, high, low_open, high_open) -> str:
    lo = "-inf" if low is None else format(low, "g") if isinstance(low, float) else str(low)
    hi = "inf" if high is None else format(high, "g") if isinstance(high, float) else str(high)
    return f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """value as an int in [low, high]: a Python or NumPy integer (not bool, not 2.0 or '2')."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an int in {_range_text(low, high, False, False)}, got {v}")
    return v


def real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """value as a finite float in the range (bounds open or closed): an int or float (not bool
    or str)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    bad = (not math.isfinite(v) or (low is not None and (v <= low if low_open else v < low))
           or (high is not None and (v >= high if high_open else v > high)))
    if bad:
        raise ValueError(f"{name} must be a finite number in {_range_text(low, high, low_open, high_open)}, "
                         f"got {value!r}")
    return v


def positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    return real(name, value, low=0.0, low_open=True)


def finite(name: str, value: Any) -> float:
    """Any finite number."""
    return real(name, value)


def seed(name: str, value: Any) -> int:
    """A seed or stream: an int in [0, 2**64)."""
    v = integer(name, value)
    if not 0 <= v < 2**64:
        raise ValueError(f"{name} must be an int in [0, 2**64), got {v}")
    return v


def choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def float_dtype(name: str, dtype: Any) -> np.dtype:
    """np.dtype float32 or float64 from anything numpy reads as one."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt.kind != "f" or dt.itemsize not in (4, 8):
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}")
    return FLOATS[dt.itemsize == 8]  # the native singleton: the fast paths compare by identity


# --------------------------------------------------------------------------- arrays

def _native(a: np.ndarray) -> np.ndarray:
    """a in native byte order and aligned to its items ('>f4' on x86, or a view at an odd byte
    offset of a buffer, is copied, its values kept): C reads it through typed pointers."""
    return a if a.dtype.isnative and a.flags.aligned else a.astype(a.dtype.newbyteorder("="))


def _engine_form(a: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """a as dtype, C-contiguous and aligned, copied only if it is not already."""
    return np.require(a, dtype, ("C_CONTIGUOUS", "ALIGNED"))


def float_array(name: str, x: Any, *, ndim: int | None = None, dtype: np.dtype | None = None,
                writeable: bool = False) -> np.ndarray:
    """x as a float32/float64 ndarray of native byte order (not copied otherwise). dtype: the
    one required; ndim: the number of axes required; writeable: it is written in place (then
    it must already be native, since a converted copy would not be seen)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind != "f" or x.dtype.itemsize not in (4, 8):
        raise TypeError(f"{describe(name, x)}: expected float32 or float64")
    if writeable:
        if not x.dtype.isnative:
            raise TypeError(f"{describe(name, x)}: an output array must be in native byte order")
        if not x.flags.writeable:
            raise ValueError(f"{describe(name, x)} is read-only")
        if not x.flags.aligned:
            raise ValueError(f"{describe(name, x)}: an output array must be aligned to its {x.itemsize}-byte "
                             f"items (as numpy.empty makes it), not a view at an odd offset of a buffer")
    a = _native(x)
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{describe(name, x)}: expected dtype {np.dtype(dtype).name}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{describe(name, x)}: expected a {ndim}-D array")
    return a


def contiguous_output(name: str, out: Any, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An array the kernels write into: native, C-contiguous, writeable, of shape and dtype."""
    a = float_array(name, out, dtype=dtype, writeable=True)
    if a.shape != tuple(shape):
        raise ValueError(f"{describe(name, out)}: expected shape {tuple(shape)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{describe(name, out)} must be C-contiguous")
    return a


def rows_contiguous(a: np.ndarray) -> bool:
    """True if a (2-D) has contiguous rows and a positive row stride >= its width."""
    if a.shape[0] == 0 or a.shape[1] == 0:
        return True
    isz = a.itemsize
    return a.strides[1] == isz and a.strides[0] >= a.shape[1] * isz and a.strides[0] % isz == 0


def overlaps(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether the memory extents of x and y intersect (bounds only)."""
    return _core.overlaps(x, y)


def all_finite(a: np.ndarray) -> bool:
    """Whether every value of a float ndarray is finite (C pass over contiguous data)."""
    if a.flags.c_contiguous:
        return _core.all_finite(a)
    return bool(np.isfinite(a).all())


# --------------------------------------------------------------------------- model data

def _reject_non_array(name: str, x: Any, what: str) -> None:
    if x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be {what}, got {type(x).__name__}")


def _asarray(name: str, x: Any) -> np.ndarray:
    """np.asarray(x), with a ragged or non-numeric nesting named instead of NumPy's message."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a rectangular numeric array (rows of equal length), got a "
                         f"{type(x).__name__} NumPy cannot read as one") from None


def features(name: str, X: Any, dtype: np.dtype, n_in: int) -> np.ndarray:
    """X as the engine wants it: a C-contiguous (n >= 1, n_in) array of `dtype`, finite.
    Integers are converted, and so is float64 for a float32 model; float16, bool, complex
    and object arrays are rejected."""
    if (X.__class__ is np.ndarray and X.dtype is dtype and X.ndim == 2 and X.shape[1] == n_in
            and X.shape[0] and X.flags.c_contiguous and X.flags.aligned):
        if _core.all_finite(X):
            return X
        raise ValueError(f"{describe(name, X)} contains NaN or inf")
    _reject_non_array(name, X, "a 2-D numeric array")
    a = _asarray(name, X)
    k = a.dtype.kind
    if k not in "iuf" or (k == "f" and a.dtype.itemsize < 4):
        raise TypeError(f"{describe(name, a)}: expected float32, float64 or integer values")
    if a.ndim != 2:
        raise ValueError(f"{describe(name, a)}: expected a 2-D array (batch, {n_in})")
    if a.shape[1] != n_in:
        raise ValueError(f"{describe(name, a)}: expected {n_in} features per row (the model's sizes[0])")
    if a.shape[0] == 0:
        raise ValueError(f"{describe(name, a)} is empty")
    out = _engine_form(a, dtype)
    if not _core.all_finite(out):
        raise ValueError(f"{describe(name, a)} contains NaN or inf"
                         + (" (after conversion to the model's float32)" if np.isfinite(a).all() else ""))
    return out


def labels(name: str, y: Any, n: int, classes: int) -> np.ndarray:
    """y as int64 class labels (n,) in [0, classes): integers of any width and byte order,
    booleans, or whole floats; a (n, 1) column is accepted."""
    if (y.__class__ is np.ndarray and y.dtype is _INT64 and y.ndim == 1 and y.shape[0] == n
            and y.flags.c_contiguous and y.flags.aligned):
        if _core.labels_in_range(y, classes):
            return y
        lo, hi = y.min(), y.max()
        raise ValueError(f"{describe(name, y)}: labels must be in [0, {classes}), found {lo if lo < 0 else hi}")
    _reject_non_array(name, y, "an array of class labels")
    a = _asarray(name, y)
    if a.dtype.kind == "b":  # y = X[:, 0] > 0: classes 0 and 1
        a = a.astype(np.int64)
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
        raise TypeError(f"{describe(name, a)}: expected integer class labels")
    if a.shape[:1] != (n,):
        raise ValueError(f"{describe(name, a)}: expected {n} rows (as many as X)")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{describe(name, a)}: expected integer class labels of shape ({n},)")
    a = _native(a)
    if a.dtype.kind == "f":
        if not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ValueError(f"{describe(name, a)}: class labels must be integers")
    lo, hi = a.min(), a.max()  # compared in a's own type: 2**63 as uint64 or 1e20 stays large
    if lo < 0 or hi >= classes:
        raise ValueError(f"{describe(name, a)}: labels must be in [0, {classes}), found {lo if lo < 0 else hi}")
    return _engine_form(a, np.int64)


_INT64 = np.dtype(np.int64)


def targets(name: str, y: Any, n: int, outputs: int, dtype: np.dtype, *, unit_interval: bool) -> np.ndarray:
    """y as float targets (n, outputs) of `dtype`, finite; within [0, 1] if unit_interval (BCE).
    A (n,) vector is accepted for one output."""
    if not (y.__class__ is np.ndarray and y.dtype is dtype and y.shape == (n, outputs) and y.flags.c_contiguous
            and y.flags.aligned):
        _reject_non_array(name, y, "an array of targets")
        a = _asarray(name, y)
        if a.dtype.kind == "b":
            a = a.astype(dtype)
        if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and a.dtype.itemsize < 4):
            raise TypeError(f"{describe(name, a)}: expected numeric targets")
        if a.shape[:1] != (n,):
            raise ValueError(f"{describe(name, a)}: expected {n} rows (as many as X)")
        if a.ndim == 1 and outputs == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != outputs:
            raise ValueError(f"{describe(name, a)}: expected targets of shape ({n}, {outputs})")
        y = _engine_form(a, dtype)
    if not _core.all_finite(y):
        raise ValueError(f"{describe(name, y)} contains NaN or inf")
    if unit_interval and ((y < 0).any() or (y > 1).any()):
        raise ValueError(f"{describe(name, y)}: binary cross-entropy targets must be in [0, 1]")
    return y
