"""Datasets without network access: built-in generators (NumPy only), scikit-learn's bundled
digits, MNIST-1D regenerated procedurally by the `mnist1d` package, and loaders for files a user
already has (MNIST/Fashion-MNIST IDX, .npz, CSV).

    >>> ds = fastinit.data.load("circles", n_train=300, n_test=100, noise=0.05, seed=1)
    >>> print(ds.describe())
"""
from __future__ import annotations

import csv
import gzip
import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from fastinit import _cache, _npz, _validate
from fastinit.generators import make_blobs, make_circles, make_moons, make_spirals, make_xor
from fastinit._validate import unknown

__all__ = ["Dataset", "load", "names", "split", "standardize", "circles", "course_circles", "moons", "spirals",
           "xor", "blobs", "digits", "mnist1d", "load_idx", "from_arrays", "from_file", "encode_labels"]


@dataclass
class Dataset:
    """Train and test arrays of one task; y holds class ids (int64). classes: the class names
    when the labels were names (y == i is classes[i]), else None."""
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple | None = None

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0))) + 1

    def class_balance(self) -> dict:
        """Fraction of the training set in each class."""
        key = (lambda c: self.classes[c]) if self.classes else int
        n = max(1, len(self.y_train))
        if self.n_classes > 4 * len(self.y_train) + 1024:  # sparse ids (a label of 10**12): the present ones
            ids, counts = np.unique(self.y_train, return_counts=True)
            return {key(int(c)): round(float(v) / n, 4) for c, v in zip(ids, counts)}
        counts = np.bincount(self.y_train, minlength=self.n_classes)
        return {key(c): round(float(v) / n, 4) for c, v in enumerate(counts)}

    def __repr__(self) -> str:  # the arrays' shapes, never their contents
        return (f"Dataset({self.name!r}, train {self.X_train.shape}, test {self.X_test.shape}, "
                f"{self.n_classes} classes)")

    def describe(self) -> str:
        return (f"{self.name}: {len(self.X_train)} train / {len(self.X_test)} test, {self.n_features} features, "
                f"{self.n_classes} classes, balance {self.class_balance()}")


def _label_array(y, where):
    """y as a 1-D array of numbers (dtype b/i/u/f) or of names (dtype U): bytes are decoded, an
    object array holds either numbers or names, never both."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"{where} (shape {y.shape}): expected one label per row")
    if y.dtype.kind == "S":
        return y.astype(str)
    if y.dtype.kind == "O":
        names = {isinstance(v, (str, bytes)) for v in y}
        if names == {True}:
            return np.array([v.decode() if isinstance(v, bytes) else v for v in y])
        if names == {False}:
            try:
                return y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{where}: labels must be numbers or names, got {type(y[0]).__name__}") from None
        raise ValueError(f"{where}: labels mix class names and numbers")
    return y


def encode_labels(*ys, where="y"):
    """Class ids (int64 arrays) of one or more label arrays, and the class names: integer labels
    (or integral floats, or bools) are the ids themselves (names None); names (strings) are
    numbered in sorted order, over all the arrays together. Anything else is a ValueError naming
    the offending value: a fractional or negative label is never silently truncated."""
    ys = [_label_array(y, where) for y in ys]
    if any(y.dtype.kind == "U" for y in ys):
        if not all(y.dtype.kind == "U" for y in ys):
            raise ValueError(f"{where}: class names in one set of labels, numbers in another")
        names = tuple(sorted({str(v) for y in ys for v in y}))
        ids = {n: i for i, n in enumerate(names)}
        return [np.array([ids[str(v)] for v in y], np.int64) for y in ys], names
    out = []
    for y in ys:
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{where} (dtype {y.dtype}): expected integer class labels or class names")
        bad = ~np.isfinite(y) | (y != np.round(y)) | (y < 0) if y.dtype.kind == "f" else (y < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{where}: class labels must be integers >= 0 or names; found {y[i].item()!r} at "
                             f"position {i}")
        out.append(y.astype(np.int64))
    return out, None


def split(X, y, test_fraction=0.25, seed=0, name="data") -> Dataset:
    """Shuffle (seeded) and split arrays into a Dataset (labels as encode_labels reads them)."""
    X = np.asarray(X)
    (y,), classes = encode_labels(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if len(X) < 2:  # one row went to the test set, leaving no training rows
        raise ValueError(f"{name}: a split needs at least 2 rows (one to train on, one to test), got {len(X)}")
    test_fraction = _validate.real("test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    _validate.seed("seed", seed)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = min(len(X) - 1, max(1, int(round(test_fraction * len(X)))))
    te, tr = order[:n_test], order[n_test:]
    return Dataset(name, X[tr], y[tr], X[te], y[te], classes)


def standardize(ds: Dataset) -> Dataset:
    """Zero mean, unit variance per feature, with statistics of the training set only."""
    mu = ds.X_train.mean(axis=0)
    sd = ds.X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    f = lambda X: ((X - mu) / sd).astype(np.float32)  # noqa: E731
    return Dataset(ds.name, f(ds.X_train), ds.y_train, f(ds.X_test), ds.y_test, ds.classes)


def _two_parts(make, n_train, n_test, seed, name, **kw):
    """Train and test sets drawn independently (seed, seed + 1), as the course notebook does."""
    X, y = make(n_train, seed=seed, **kw)
    Xt, yt = make(n_test, seed=seed + 1, **kw)
    return Dataset(name, X.astype(np.float32), y.astype(np.int64), Xt.astype(np.float32), yt.astype(np.int64))


def circles(n_train=300, n_test=100, noise=0.05, factor=0.8, seed=1):
    """The classic course's circles: 300 train / 100 test points, noise 0.05, inner radius 0.8."""
    return _two_parts(make_circles, n_train, n_test, seed, "circles", noise=noise, factor=factor)


def course_circles():
    """The deeplearning.ai "Initialization" notebook's data, exactly: scikit-learn's
    make_circles(n_samples=300, noise=.05) after np.random.seed(1) (train) and (100, .05) after
    np.random.seed(2) (test), in float64; (n, 2) here where the notebook transposes to (2, n).
    The generators are RandomState(1) and (2), the states those seeds give NumPy's global one,
    which is left alone. Without scikit-learn: the built-in circles, an approximation (other
    draws), and the name says so."""
    try:
        from sklearn.datasets import make_circles as sk_circles
    except ImportError:
        ds = circles()
        return Dataset("circles (built-in, approximates the course's data: install scikit-learn for the exact one)",
                       ds.X_train.astype(np.float64), ds.y_train, ds.X_test.astype(np.float64), ds.y_test)
    X, y = sk_circles(n_samples=300, noise=.05, random_state=np.random.RandomState(1))
    Xt, yt = sk_circles(n_samples=100, noise=.05, random_state=np.random.RandomState(2))
    return Dataset("course_circles (scikit-learn's make_circles, seeds 1 and 2: the course's data)",
                   X.astype(np.float64), y.astype(np.int64), Xt.astype(np.float64), yt.astype(np.int64))


def moons(n_train=300, n_test=100, noise=0.1, seed=1):
    return _two_parts(make_moons, n_train, n_test, seed, "moons", noise=noise)


def spirals(n_train=600, n_test=300, classes=3, noise=0.2, seed=1):
    return _two_parts(make_spirals, n_train, n_test, seed, "spirals", classes=classes, noise=noise)


def xor(n_train=400, n_test=200, noise=0.1, seed=1):
    return _two_parts(make_xor, n_train, n_test, seed, "xor", noise=noise)


def blobs(n_train=600, n_test=300, classes=3, features=2, spread=1.0, seed=1):
    return _two_parts(make_blobs, n_train, n_test, seed, "blobs", classes=classes, features=features,
                      spread=spread)


def digits(seed=0):
    """scikit-learn's bundled 8x8 digits (1797 images, 64 features), standardized; needs the
    'data' extra."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits dataset needs scikit-learn: pip install 'fastinit[data]'") from None
    d = load_digits()
    return standardize(split(d.data.astype(np.float32), d.target, 0.25, seed, "digits"))


def mnist1d(seed=None):
    """MNIST-1D (Greydanus 2020): 4000 train / 1000 test sequences of 40 values, 10 classes,
    regenerated procedurally by the `mnist1d` package (no download); needs the 'data' extra."""
    import importlib.metadata  # 35 ms to import: only here

    try:
        version = importlib.metadata.version("mnist1d")
    except importlib.metadata.PackageNotFoundError:
        raise ImportError("the mnist1d dataset needs the mnist1d package: pip install 'fastinit[data]'") from None
    seed = None if seed is None else _validate.integer("seed", seed, low=0, high=2**32 - 1)  # numpy.random.seed's range

    def build():
        from mnist1d.data import get_dataset_args, make_dataset  # 1.3 s to import: only on a cache miss
        args = get_dataset_args()
        if seed is not None:
            args.seed = seed
        d = make_dataset(args)
        return {"x": d["x"].astype(np.float32), "y": d["y"].astype(np.int64),
                "x_test": d["x_test"].astype(np.float32), "y_test": d["y_test"].astype(np.int64)}

    d = _cache.arrays(f"mnist1d-{version}-seed{'default' if seed is None else seed}",
                      {"x": "f", "y": "i", "x_test": "f", "y_test": "i"}, build)
    return Dataset("mnist1d", d["x"], d["y"], d["x_test"], d["y_test"])


def load_idx(path) -> np.ndarray:
    """An IDX file (MNIST / Fashion-MNIST format), raw or gzipped, as an array."""
    gz = str(path).endswith(".gz")
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            # The header first: the sizes it claims are checked against the file before the
            # body is read (a 1.6 MB .gz inflated to 3.1 GB before its header was looked at).
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise ValueError(f"{path}: not an IDX file (bad magic number)")
            types = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
            if head[2] not in types:
                raise ValueError(f"{path}: unknown IDX element type 0x{head[2]:02x}")
            ndim, dtype, raw = head[3], np.dtype(types[head[2]]), f.read(4 * head[3])
            if len(raw) != 4 * ndim:
                raise ValueError(f"{path}: the IDX header is cut short")
            dims = [int.from_bytes(raw[4 * i: 4 * i + 4], "big") for i in range(ndim)]
            nbytes, on_disk = math.prod(dims) * dtype.itemsize, os.path.getsize(path)
            if nbytes > (_npz.MAX_RATIO * on_disk + (1 << 20) if gz else on_disk):
                raise ValueError(f"{path}: its header claims dims {dims} ({nbytes} bytes), more than the "
                                 f"{on_disk}-byte file can hold")
            data = f.read(nbytes + 1)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise ValueError(f"{path}: not a readable IDX file ({e})") from None
    if len(data) != nbytes:
        raise ValueError(f"{path}: size does not match its header dims {dims}")
    return np.frombuffer(data, dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _rows(name, X):
    """X as float32 rows (n >= 1, features >= 1)."""
    X = np.asarray(X, np.float32)
    if X.ndim == 0 or len(X) == 0 or X.size == 0:
        raise ValueError(f"{_validate.describe(name, X)}: expected at least one row of features")
    return X.reshape(len(X), -1)


def from_arrays(X_train, y_train, X_test=None, y_test=None, *, name="arrays", test_fraction=0.25, seed=0):
    """A Dataset from arrays; without a test set, a seeded split of the training arrays."""
    X_train = _rows(f"{name}: X_train", X_train)
    if X_test is None:
        return split(X_train, y_train, test_fraction, seed, name)
    (y_train, y_test), classes = encode_labels(y_train, y_test)
    X_test = _rows(f"{name}: X_test", X_test)
    for part, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if len(X) != len(y):
            raise ValueError(f"{name}: the {part} set has {len(X)} rows of X and {len(y)} labels")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"{name}: {X_train.shape[1]} features in the train set, {X_test.shape[1]} in the test set")
    return Dataset(name, X_train, y_train, X_test, y_test, classes)


def _read_csv(path, label_column):
    """(features, labels) of a CSV file: features as finite floats; labels as class numbers
    (integers >= 0) or, if any is not a number, as names. A first row with text among its
    features, or a text label above number labels, is a header. Errors name the file's row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.object[e.start:e.start + 1]!r} at offset {e.start})") from None
    except csv.Error as e:  # a NUL byte, a field over the size limit, a stray quote
        raise ValueError(f"{path}: not a readable CSV file: {e}") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    width = len(rows[0])
    if width < 2:
        raise ValueError(f"{path}: expected feature columns and a label column, found {width} column")
    if not -width <= label_column < width:
        raise ValueError(f"{path}: label_column {label_column} is outside the file's {width} columns")
    col = label_column % width

    def number(text):
        try:
            return float(text)
        except ValueError:
            return None

    def text(cell):
        return cell.strip() != "" and number(cell) is None

    first = rows[0]
    header = any(text(c) for j, c in enumerate(first) if j != col) or (
        text(first[col]) and len(rows) > 1 and len(rows[1]) == width and not text(rows[1][col]))
    X, labels = [], []
    for i, r in enumerate(rows[1:] if header else rows, start=2 if header else 1):
        if len(r) != width:
            raise ValueError(f"{path}: row {i} has {len(r)} columns, the first has {width}")
        cells = [c for j, c in enumerate(r) if j != col]
        feats = [number(c) for c in cells]
        bad = [c for c, v in zip(cells, feats) if v is None or not math.isfinite(v)]
        if bad:
            raise ValueError(f"{path}: row {i}: feature {bad[0]!r} is not a finite number")
        X.append(feats)
        labels.append((i, r[col].strip()))
    if not X:
        raise ValueError(f"{path}: a header and no data rows")
    nums = [number(v) for _, v in labels]
    if None in nums:  # class names
        return np.array(X, np.float64), np.array([v for _, v in labels])
    for (i, v), x in zip(labels, nums):
        if not (math.isfinite(x) and x >= 0 and x == int(x)):
            raise ValueError(f"{path}: row {i}: label {v!r} is neither a class number (an integer >= 0) "
                             f"nor a name")
    return np.array(X, np.float64), np.array(nums, np.int64)


def _from_npz(path, name, test_fraction, seed) -> Dataset:
    """An .npz dataset; members checked by their headers (rows of X and y agree, no unknown
    member) before any is read: a small file cannot allocate gigabytes."""
    try:
        arc = _npz.Archive(path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable .npz archive ({e})") from None
    with arc:
        keys = set(arc.headers)
        for layout in (("X_train", "y_train", "X_test", "y_test"), ("X_train", "y_train"), ("X", "y")):
            if keys == set(layout):
                break
        else:
            raise ValueError(f"{path}: an .npz dataset needs arrays X_train, y_train (and X_test, y_test) or X, y, no others; "
                             f"found {sorted(keys)}")
        for X, y in zip(layout[::2], layout[1::2]):
            (xs, _), (ys, _) = arc.headers[X], arc.headers[y]
            if not xs or not ys or xs[0] != ys[0]:
                raise ValueError(f"{path}: {X} has shape {xs} and {y} {ys}: one label per row of {X}")
        try:
            arrays = [arc.read(k) for k in layout]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: a damaged .npz archive ({e})") from None
    split_kw = dict(test_fraction=test_fraction, seed=seed) if len(arrays) == 2 else {}
    try:
        return from_arrays(*arrays, name=name, **split_kw)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def from_file(path, *, label_column=-1, test_fraction=0.25, seed=0) -> Dataset:
    """A Dataset from .npz (X_train, y_train[, X_test, y_test] or X, y), CSV (numeric features,
    the label in `label_column` as a class number or name, a header row skipped), or an MNIST
    IDX images file beside its labels file
    (train-images-idx3-ubyte[.gz] -> train-labels-idx1-ubyte[.gz], t10k-* as the test set)."""
    path = os.fspath(path)
    name = os.path.basename(path)
    if path.endswith(".npz"):
        return _from_npz(path, name, test_fraction, seed)
    if path.endswith(".csv"):
        if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)):
            raise TypeError(f"label_column must be an int, got {label_column!r}")
        X, y = _read_csv(path, label_column)
        try:
            return from_arrays(X, y, name=name, test_fraction=test_fraction, seed=seed)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
    if "idx3" in path:
        images = load_idx(path)
        labels = load_idx(path.replace("images-idx3", "labels-idx1"))
        test_path = path.replace("train-", "t10k-")
        X = images.reshape(len(images), -1).astype(np.float32) / 255.0
        if test_path != path and os.path.exists(test_path):
            Xt = load_idx(test_path)
            yt = load_idx(test_path.replace("images-idx3", "labels-idx1"))
            return from_arrays(X, labels, Xt.reshape(len(Xt), -1).astype(np.float32) / 255.0, yt, name=name)
        return from_arrays(X, labels, name=name, test_fraction=test_fraction, seed=seed)
    raise ValueError(f"{path}: unknown dataset file type (use .npz, .csv or an IDX images file)")


_BUILTIN = {"circles": circles, "course_circles": course_circles, "moons": moons, "spirals": spirals, "xor": xor, "blobs": blobs,
            "digits": digits, "mnist1d": mnist1d}


def names() -> list[str]:
    return sorted(_BUILTIN)


def load(name, **params) -> Dataset:
    """A built-in dataset by name (see names()), or a file path (see from_file)."""
    if isinstance(name, Dataset):
        return name
    if name in _BUILTIN:
        return _BUILTIN[name](**params)
    if os.path.exists(str(name)):
        return from_file(name, **params)
    if os.sep in str(name) or str(name).endswith((".csv", ".npz", ".gz", "ubyte")):
        raise FileNotFoundError(f"no such dataset file: {name!r}")
    raise unknown("dataset", name, names(), also=", or the path of a data file")
