import gzip
import re
import struct
import sys

import numpy as np
import pytest

from fastinit import data


@pytest.mark.parametrize("name", ["circles", "moons", "spirals", "xor", "blobs"])
def test_builtin_datasets_are_seeded_and_described(name):
    a, b = data.load(name, seed=3), data.load(name, seed=3)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert a.X_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert len(a.X_train) == len(a.y_train) and len(a.X_test) == len(a.y_test)
    assert not np.array_equal(a.X_train, data.load(name, seed=4).X_train)
    assert sum(a.class_balance().values()) == pytest.approx(1.0, abs=1e-3)
    assert name in a.describe() and "train" in a.describe()


def test_circles_matches_the_course_setup():
    ds = data.circles()
    assert ds.X_train.shape == (300, 2) and ds.X_test.shape == (100, 2)
    assert ds.class_balance() == {0: 0.5, 1: 0.5}
    r = np.linalg.norm(ds.X_train, axis=1)
    assert abs(np.median(r[ds.y_train == 0]) - 1.0) < 0.05 and abs(np.median(r[ds.y_train == 1]) - 0.8) < 0.05


def test_standardize_uses_training_statistics():
    ds = data.standardize(data.blobs(seed=2))
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1, atol=1e-4)


def _write_idx(path, arr, code):
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


@pytest.mark.parametrize("gz", [False, True])
def test_idx_loader_round_trip(tmp_path, gz):
    suffix = ".gz" if gz else ""
    imgs = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3)
    labels = np.array([0, 1, 2, 1, 0], np.uint8)
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", imgs, 0x08)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, 0x08)
    np.testing.assert_array_equal(data.load_idx(tmp_path / f"train-images-idx3-ubyte{suffix}"), imgs)
    ds = data.from_file(tmp_path / f"train-images-idx3-ubyte{suffix}", test_fraction=0.4)
    assert ds.n_features == 12 and len(ds.X_train) + len(ds.X_test) == 5
    assert ds.X_train.max() <= 1.0


def test_idx_rejects_a_foreign_file(tmp_path):
    p = tmp_path / "x.idx"
    p.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.load_idx(p)
    p.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="size does not match"):
        data.load_idx(p)


def test_npz_and_csv_files(tmp_path):
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = data.load(str(tmp_path / "d.npz"))
    assert ds.n_features == 3 and len(ds.X_train) == 30
    np.savetxt(tmp_path / "d.csv", np.c_[X, y], delimiter=",", header="a,b,c,label", comments="")
    ds2 = data.load(str(tmp_path / "d.csv"))
    assert ds2.n_features == 3 and set(ds2.y_train) <= {0, 1}
    np.savez(tmp_path / "bad.npz", Q=X)
    with pytest.raises(ValueError, match="needs arrays"):
        data.load(str(tmp_path / "bad.npz"))


def test_unknown_dataset_and_bad_parameters():
    with pytest.raises(ValueError, match="unknown dataset 'nope'; known: blobs, circles"):
        data.load("nope")
    with pytest.raises(ValueError, match="n >= 2"):
        data.circles(n_train=1)
    with pytest.raises(ValueError, match="factor"):
        data.circles(factor=2.0)


def test_optional_datasets():
    pytest.importorskip("sklearn")
    d = data.digits()
    assert d.n_features == 64 and d.n_classes == 10
    pytest.importorskip("mnist1d")
    m = data.mnist1d()
    assert m.X_train.shape == (4000, 40) and m.X_test.shape == (1000, 40) and m.n_classes == 10


def test_csv_with_class_names_header_and_label_column(tmp_path):
    p = tmp_path / "iris.csv"
    p.write_text("species,sl,sw\nsetosa,5.1,3.5\nvirginica,6.3,3.3\nsetosa,4.9,3.0\nversicolor,6.2,2.9\n"
                 "virginica,5.9,3.0\nversicolor,6.0,2.2\nsetosa,5.0,3.6\nversicolor,5.7,2.8\n")
    ds = data.from_file(p, label_column=0)
    assert ds.classes == ("setosa", "versicolor", "virginica") and ds.n_classes == 3 and ds.n_features == 2
    X = np.concatenate([ds.X_train, ds.X_test])
    names = [ds.classes[i] for i in np.concatenate([ds.y_train, ds.y_test])]
    rows = {tuple(np.round(x, 4)): n for x, n in zip(X.astype(np.float64), names)}
    assert rows[(5.1, 3.5)] == "setosa" and rows[(6.3, 3.3)] == "virginica" and rows[(6.0, 2.2)] == "versicolor"
    assert set(ds.class_balance()) == set(ds.classes)
    assert data.standardize(ds).classes == ds.classes


@pytest.mark.parametrize("text, msg", [
    ("", "no rows"),
    ("a,b,label\n", "a header and no data rows"),
    ("1,2,0\n3,4\n", "row 2 has 2 columns, the first has 3"),
    ("1,2,0\n3,x,1\n", "row 2: feature 'x' is not a finite number"),
    ("1,2,0\n3,nan,1\n", "row 2: feature 'nan' is not a finite number"),
    ("1,,0\n3,4,1\n", "row 1: feature '' is not a finite number"),
    ("1,2,0\n3,4,1\n5,6,0.5\n", "row 3: label '0.5' is neither a class number (an integer >= 0) nor a name"),
    ("a,b,label\n1,2,-1\n3,4,1\n", "row 2: label '-1' is neither a class number"),
])
def test_bad_csv_files_say_what_is_wrong(tmp_path, text, msg):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=re.escape(msg)):
        data.from_file(p)
    with pytest.raises(ValueError, match="label_column 5 is outside the file's 3 columns"):
        (tmp_path / "ok.csv").write_text("1,2,0\n")
        data.from_file(tmp_path / "ok.csv", label_column=5)


def test_a_numeric_header_over_number_labels_is_still_a_header(tmp_path):
    p = tmp_path / "pandas.csv"
    p.write_text("0,1,label\n1.5,2,0\n3,4,1\n5,6,1\n7,8,0\n")  # DataFrame with integer column names
    ds = data.from_file(p)
    assert ds.classes is None and ds.n_classes == 2 and len(ds.X_train) + len(ds.X_test) == 4


def test_labels_from_arrays_are_checked_never_truncated():
    (a, b), names = data.encode_labels(["b", "a"], np.array(["c"]))
    assert names == ("a", "b", "c") and a.tolist() == [1, 0] and b.tolist() == [2]
    (c,), none = data.encode_labels(np.array([True, False]))
    assert none is None and c.dtype == np.int64 and c.tolist() == [1, 0]
    (d,), _ = data.encode_labels(np.array([[2.0], [0.0]]))
    assert d.tolist() == [2, 0]
    (e,), none = data.encode_labels(np.array([2, 10, 1, 0], dtype=object))  # a mixed DataFrame's column
    assert none is None and e.tolist() == [2, 10, 1, 0]
    (f,), names = data.encode_labels(np.array([b"x", b"y"]))
    assert names == ("x", "y") and f.tolist() == [0, 1]
    with pytest.raises(ValueError, match="labels mix class names and numbers"):
        data.encode_labels(np.array(["a", 1], dtype=object))
    with pytest.raises(ValueError, match="class names in one set of labels, numbers in another"):
        data.encode_labels([0, 1], ["a"])
    for bad in ([0.0, 1.5], [0, -2], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="class labels must be integers >= 0 or names"):
            data.from_arrays(np.zeros((2, 1)), bad, np.zeros((1, 1)), [0])


# ---------------------------------------------------------------- issue 12, items 9 and 18
@pytest.mark.parametrize("call, exc, msg", [
    (lambda: data.split(np.ones((1, 2)), [0]), ValueError, "at least 2 rows"),
    (lambda: data.split(np.ones((0, 2)), []), ValueError, "at least 2 rows"),
    (lambda: data.split(np.ones((4, 2)), [0, 1, 0, 1], test_fraction=float("nan")), ValueError, "test_fraction"),
    (lambda: data.from_arrays(np.ones((0, 2)), [], np.ones((1, 2)), [0]), ValueError, "at least one row"),
    (lambda: data.from_arrays(np.ones((2, 2)), [0, 1], np.ones((0, 2)), []), ValueError, "at least one row"),
    (lambda: data.load("circles", noise=float("nan")), ValueError, "noise"),
    (lambda: data.load("moons", noise=-1.0), ValueError, "noise"),
    (lambda: data.load("circles", factor=float("inf")), ValueError, "factor"),
    (lambda: data.load("spirals", classes=0), ValueError, "classes"),
    (lambda: data.load("spirals", classes=-1), ValueError, "classes"),
    (lambda: data.load("spirals", classes=2.5), TypeError, "classes"),
    (lambda: data.load("blobs", classes=1), ValueError, "classes"),
    (lambda: data.load("blobs", features=0), ValueError, "features"),
    (lambda: data.load("blobs", spread=float("nan")), ValueError, "spread"),
])
def test_degenerate_datasets_and_generator_arguments_are_refused(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_two_rows_split_into_one_and_one():
    ds = data.split(np.ones((2, 2)), [0, 1], test_fraction=0.9)
    assert len(ds.X_train) == 1 and len(ds.X_test) == 1


def test_a_huge_class_id_is_counted_sparsely():
    # bincount over ids up to 10**12 allocated 7 TiB.
    ds = data.split(np.ones((20, 2)), [10**12] + [0] * 19, seed=3)
    bal = ds.class_balance()
    assert set(bal) <= {0, 10**12} and abs(sum(bal.values()) - 1) < 1e-3
    assert "1000000000001 classes" in ds.describe()
    dense = data.split(np.ones((20, 2)), [0, 2] * 10, seed=3).class_balance()
    assert list(dense) == [0, 1, 2] and dense[1] == 0.0  # dense ids keep their zero counts


# ---------------------------------------------------------------- issue 12, items 16, 17
def test_an_idx_header_claiming_more_than_the_file_is_refused_before_inflating(tmp_path):
    import tracemalloc
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:  # claims 60000 x 280 x 280 bytes (4.7 GB), holds 1 MB of zeros
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", 60000, 280, 280) + bytes(1 << 20))
    tracemalloc.start()
    with pytest.raises(ValueError, match="more than the"):
        data.load_idx(path)
    assert tracemalloc.get_traced_memory()[1] < 8 << 20
    tracemalloc.stop()
    cut = tmp_path / "cut.idx"
    cut.write_bytes(bytes([0, 0, 8, 2]) + struct.pack(">I", 5))
    with pytest.raises(ValueError, match="cut short"):
        data.load_idx(cut)


def test_an_npz_dataset_is_checked_by_its_headers(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.ones((4, 2)), y=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="one label per row"):
        data.from_file(p)
    np.savez(p, X=np.ones((4, 2)), y=np.zeros(4, np.int64), junk=np.zeros(10))
    with pytest.raises(ValueError, match="no others"):
        data.from_file(p)
    np.savez(p, X=np.ones((4, 2)), y=np.array([0, 1, 0, 1]))
    assert data.from_file(p).n_features == 2


# ---------------------------------------------------------------- issue 12, item 20
@pytest.mark.parametrize("content, msg", [
    (b"1,2,\xe9\n3,4,a\n", "not UTF-8 text"),
    (b"1," + b"9" * 200000 + b",0\n3,4,1\n", "not a readable CSV file: field larger than field limit"),
    (b"1,2,0\n3,\x004,1\n", "row 2"),
])
def test_csv_codec_and_parser_errors_name_the_file(tmp_path, content, msg):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=msg) as e:
        data.from_file(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("content", [b"not gzip at all", b"\x1f\x8b\x08\x00broken"])
def test_a_broken_gz_names_the_file(tmp_path, content):
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable IDX file") as e:
        data.load_idx(p)
    assert str(p) in str(e.value)


def test_mnist1d_is_cached_on_disk_bit_for_bit(tmp_path, monkeypatch):
    """MNIST-1D is generated (seconds); the second load reads the cache entry, which holds the
    generated arrays exactly; a damaged entry is built again; FASTINIT_CACHE='' caches nothing."""
    pytest.importorskip("mnist1d")
    monkeypatch.setenv("FASTINIT_CACHE", str(tmp_path))
    first = data.mnist1d(seed=3)
    (entry,) = tmp_path.glob("mnist1d-*-seed3.npz")
    monkeypatch.setattr(sys.modules["mnist1d.data"], "make_dataset", None)  # a cache hit never builds
    again = data.mnist1d(seed=3)
    for a, b in [(first.X_train, again.X_train), (first.y_train, again.y_train),
                 (first.X_test, again.X_test), (first.y_test, again.y_test)]:
        assert a.dtype == b.dtype and np.array_equal(a, b)
    monkeypatch.undo()
    monkeypatch.setenv("FASTINIT_CACHE", str(tmp_path))
    entry.write_bytes(entry.read_bytes()[:100])  # cut short: built again, and stored whole
    rebuilt = data.mnist1d(seed=3)
    assert np.array_equal(rebuilt.X_train, first.X_train) and entry.stat().st_size > 100_000
    assert not np.array_equal(data.mnist1d(seed=4).X_train, first.X_train)
    monkeypatch.setenv("FASTINIT_CACHE", "")
    off = tmp_path / "off"
    monkeypatch.setenv("XDG_CACHE_HOME", str(off))
    assert np.array_equal(data.mnist1d(seed=3).X_train, first.X_train) and not off.exists()
    with pytest.raises(ValueError, match="seed"):
        data.mnist1d(seed=-1)
