"""csrc/fi_stats through _core: tensor statistics and dead units against NumPy."""
import numpy as np
import pytest

from fastinit import stats


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 7, 1000, 4099])
def test_tensor_stats_match_numpy(dtype, n):
    x = np.random.default_rng(n).normal(1.5, 3.0, n).astype(dtype)
    x[::5] = 0
    s = stats.tensor_stats(x, -2.0, 4.0, 13)
    ref = x.astype(np.float64)
    assert s["mean"] == pytest.approx(ref.mean(), rel=1e-12, abs=1e-12)
    assert s["std"] == pytest.approx(ref.std(), rel=1e-12, abs=1e-12)
    assert (s["min"], s["max"]) == (ref.min(), ref.max())
    assert s["zero_frac"] == np.mean(ref == 0)
    assert s["sat_frac"] == np.mean((ref < -2.0) | (ref > 4.0))
    assert s["nonfinite"] == 0
    counts, edges = s["hist"]
    if n > 1:
        ref_counts, ref_edges = np.histogram(ref, bins=13)
        np.testing.assert_allclose(edges, ref_edges, rtol=1e-12)
        # NumPy and C may put a value lying exactly on an edge on different sides: total and all
        # but a few bins agree.
        assert counts.sum() == n and np.abs(counts - ref_counts).sum() <= 2
    else:  # one value: a unit-wide range centred on it
        assert counts.sum() == 1 and edges[0] < x[0] < edges[-1]


def test_nonfinite_values_are_counted_and_left_out():
    x = np.array([1.0, np.nan, 3.0, np.inf, -np.inf, 5.0])
    s = stats.tensor_stats(x, bins=2)
    assert s["nonfinite"] == 3
    assert (s["mean"], s["min"], s["max"]) == (3.0, 1.0, 5.0)
    assert s["std"] == pytest.approx(np.std([1.0, 3.0, 5.0]))
    assert s["hist"][0].tolist() == [1, 2]  # the last bin is closed: 3 and 5 share it


def test_all_nonfinite_and_empty_give_nan_not_a_crash():
    for x in (np.full(4, np.nan, np.float32), np.empty(0)):
        s = stats.tensor_stats(x, bins=3)
        assert np.isnan(s["mean"]) and np.isnan(s["std"]) and s["hist"][0].sum() == 0


@pytest.mark.parametrize("bins", [1, 4, 5, 40])
@pytest.mark.parametrize("value", [0.0, 2.5, -1e6])
def test_constant_tensor_fills_the_bin_holding_it_as_numpy_does(value, bins):
    x = np.full(10, value)
    s = stats.tensor_stats(x, bins=bins)
    counts, edges = s["hist"]
    ref_counts, ref_edges = np.histogram(x, bins=bins)
    assert s["std"] == 0
    assert counts.tolist() == ref_counts.tolist()
    np.testing.assert_allclose(edges, ref_edges, rtol=1e-15)
    b = int(np.flatnonzero(counts)[0])
    assert edges[b] <= value <= edges[b + 1]


def test_strided_input_is_read_correctly():
    x = np.arange(24.0).reshape(4, 6)[:, ::2]
    assert stats.tensor_stats(x)["mean"] == x.mean()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dead_units(dtype):
    a = np.maximum(np.random.default_rng(0).normal(size=(9, 11)), 0).astype(dtype)
    a[:, [0, 4, 10]] = 0
    assert stats.dead_units(a) == int(np.all(a <= 0, axis=0).sum()) >= 3
    assert stats.dead_units(np.zeros((0, 3), dtype)) == 3  # no row fires: every unit is dead
    assert stats.dead_units(np.asfortranarray(a)) == stats.dead_units(a)


def _distinct_ref(w, b, tol):
    rows = (w if b is None else np.c_[w, b]).astype(np.float64)
    big = np.abs(rows[np.isfinite(rows)]).max(initial=1e-30)
    q = np.round(rows / (tol * max(big, 1e-30)))
    q[np.isnan(rows)] = 1e300  # NaN equals NaN here, as in C
    return len(np.unique(q, axis=0)) if len(rows) else 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0, 3), (1, 5), (2, 1), (7, 13), (64, 33), (257, 10)])
def test_distinct_rows_match_numpy(dtype, shape):
    r = np.random.default_rng(shape[0])
    w = r.normal(size=shape).astype(dtype)
    if len(w):
        w[1::3] = w[0]  # repeated rows
    if len(w) > 4:
        w[-1, 0], w[-2, 0] = np.nan, np.inf
        w[-3] = w[-1]
    b = r.normal(size=shape[0]).astype(dtype)
    for tol in (1e-6, 0.5):
        assert stats.distinct_rows(w, None, tol) == _distinct_ref(w, None, tol)
        assert stats.distinct_rows(w, b, tol) == _distinct_ref(w, b, tol)
    assert stats.distinct_rows(np.asfortranarray(w)) == stats.distinct_rows(w)


def test_distinct_rows_edge_cases():
    assert stats.distinct_rows(np.zeros((5, 0))) == 1 and stats.distinct_rows(np.zeros((0, 0))) == 0
    assert stats.distinct_rows(np.full((9, 4), 3.0)) == 1
    assert stats.distinct_rows(np.array([[0.0], [-0.0]])) == 1
    w = np.array([[1.0, 2.0], [1.0, 2.0 + 1e-9], [3.0, 1.0]])
    assert stats.distinct_rows(w) == 2 and stats.distinct_rows(w, tol=1e-12) == 3
    assert stats.distinct_rows(np.array([[1e300], [-1e300], [1.0]]), tol=1e-310) == 3  # codes saturate


def test_bad_inputs_name_the_argument():
    with pytest.raises(TypeError, match=r"x .*int64.*float32 or float64"):
        stats.tensor_stats(np.arange(3))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        stats.tensor_stats([1.0, 2.0])
    with pytest.raises(ValueError, match=r"bins must be an int in \[0, "):
        stats.tensor_stats(np.ones(3), bins=-1)
    with pytest.raises(ValueError, match=r"a .*2-D"):
        stats.dead_units(np.ones(3))
    with pytest.raises(ValueError, match=r"w .*2-D"):
        stats.distinct_rows(np.ones(3))
    with pytest.raises(ValueError, match=r"b .*\(2,\) float64"):
        stats.distinct_rows(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"tol must be a finite number in \(0, inf\)"):
        stats.distinct_rows(np.ones((2, 3)), tol=0.0)


# ---------------------------------------------------------------- issue 12, items 8 and 12
@pytest.mark.parametrize("scale", [1.0, 1e300])
def test_histogram_of_a_range_past_the_float64_maximum(scale):
    # max - min overflowed: every value went to bin (int)NaN (undefined behaviour) with NaN edges.
    x = np.array([-1.0, 0.1, 1.0, 0.6, 0.3, -0.7])  # none on an edge * (1.7e308 if scale > 1 else 1.0)
    counts, edges = stats.tensor_stats(x, bins=4)["hist"]
    want_counts, want_edges = np.histogram(x / (1.7e308 if scale > 1 else 1.0), bins=4)
    assert counts.tolist() == want_counts.tolist()
    assert np.isfinite(edges).all()
    assert np.allclose(edges / (1.7e308 if scale > 1 else 1.0), want_edges)


@pytest.mark.parametrize("bins, exc", [(2.5, TypeError), (np.float32(3), TypeError), ("4", TypeError), (-1, ValueError)])
def test_histogram_bins_must_be_a_whole_count(bins, exc):
    with pytest.raises(exc, match="bins"):
        stats.tensor_stats(np.ones(3), bins=bins)
