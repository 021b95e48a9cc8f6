import pytest

import fastinit
from fastinit import _validate, data, init, study

KNOWN = ["he_normal", "he_uniform", "xavier_normal", "normal", "zeros"]


@pytest.mark.parametrize("typed, hint", [
    ("xavier", " (did you mean 'xavier_normal'?)"),
    ("HE", " (did you mean 'he_normal' or 'he_uniform'?)"),
    ("zeroes", " (did you mean 'zeros'?)"),
    ("qwerty", ""),
])
def test_unknown_suggests_the_closest_names_then_lists_all(typed, hint):
    e = _validate.unknown("init scheme", typed, KNOWN)
    assert isinstance(e, ValueError)
    assert str(e) == f"unknown init scheme {typed!r}{hint}; known: {', '.join(KNOWN)}"


def test_three_suggestions_read_as_a_list():
    e = _validate.unknown("activation", "rellu", ["relu", "elu", "selu", "tanh"])
    assert "(did you mean 'relu', 'elu' or 'selu'?)" in str(e)


@pytest.mark.parametrize("call, msg", [
    (lambda: init.get("glorot"), "unknown init scheme 'glorot' (did you mean"),
    (lambda: init.get("xavier"), "(did you mean 'xavier_normal' or 'xavier_uniform'?)"),
    (lambda: fastinit.MLP([2, 3, 2], activation="rellu"), "activation: unknown activation 'rellu' (did you mean 'relu'"),
    (lambda: data.load("circle"), "unknown dataset 'circle' (did you mean 'circles' or 'course_circles'?); known: blobs, circles"),
    (lambda: study.make_optimizer("adm", 0.1, 0.0), "unknown optimizer 'adm' (did you mean 'adam' or 'adamw'?)"),
])
def test_every_name_lookup_suggests(call, msg):
    with pytest.raises(ValueError) as e:
        call()
    assert msg in str(e.value)


# ---------------------------------------------------------------- issue 12: properties of the checks
import math  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_NOT_INTS = st.one_of(st.floats(), st.booleans(), st.text(max_size=3), st.none(), st.just(np.float32(2.0)))


@given(st.integers(-2**70, 2**70), st.integers(-100, 100), st.integers(0, 200))
def test_integer_returns_the_value_or_names_the_range(v, low, width):
    high = low + width
    if low <= v <= high:
        assert _validate.integer("n", v, low=low, high=high) == v
        assert _validate.integer("n", np.int64(v) if abs(v) < 2**63 else v, low=low, high=high) == v
    else:
        with pytest.raises(ValueError, match=f"^n must be an int in \\[{low}, {high}\\], got {v}$"):
            _validate.integer("n", v, low=low, high=high)


@given(_NOT_INTS)
def test_integer_refuses_what_is_no_int(v):
    with pytest.raises(TypeError, match="^n must be an int, got "):
        _validate.integer("n", v)


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30)))
def test_real_accepts_exactly_the_finite_numbers_in_range(v):
    ok = math.isfinite(float(v)) and 0.0 < float(v) <= 1.0
    if ok:
        assert _validate.real("x", v, low=0.0, high=1.0, low_open=True) == float(v)
    else:
        with pytest.raises(ValueError, match="^x must be a finite number in \\(0, 1\\], got "):
            _validate.real("x", v, low=0.0, high=1.0, low_open=True)


@given(st.one_of(st.booleans(), st.text(max_size=3), st.none(), st.lists(st.floats(), max_size=2)))
def test_real_refuses_what_is_no_number(v):
    with pytest.raises(TypeError, match="^x must be a number, got "):
        _validate.real("x", v)


@given(st.integers(-2**65, 2**65))
def test_seed_is_an_unsigned_64_bit_int(v):
    if 0 <= v < 2**64:
        assert _validate.seed("seed", v) == v
    else:
        with pytest.raises(ValueError, match="seed must be an int in \\[0, 2\\*\\*64\\)"):
            _validate.seed("seed", v)


_FLOAT_DTYPES = st.sampled_from(["<f4", ">f4", "<f8", ">f8"])


@settings(max_examples=60, deadline=None)
@given(_FLOAT_DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(max_dims=3, max_side=5),
                                                      elements=st.floats(width=32, allow_nan=False, allow_infinity=False))))
def test_float_array_gives_native_byte_order_with_the_same_values(a):
    out = _validate.float_array("a", a)
    assert out.dtype.isnative and out.dtype.itemsize == a.dtype.itemsize and np.array_equal(out, a)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["<i8", ">i8", "<i4", ">i4", "u1", "<u8", ">u8", "<i2"]).flatmap(
    lambda dt: hnp.arrays(dt, st.integers(1, 12))), st.integers(1, 300))
def test_labels_are_range_checked_in_their_own_dtype(y, classes):
    values = [int(v) for v in y]  # Python ints: no wrap-around
    if all(0 <= v < classes for v in values):
        out = _validate.labels("y", y, len(y), classes)
        assert out.dtype == np.int64 and out.tolist() == values
    else:
        with pytest.raises(ValueError, match=f"labels must be in \\[0, {classes}\\)"):
            _validate.labels("y", y, len(y), classes)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: hnp.arrays(dt, st.tuples(st.integers(1, 6), st.just(1)),
                          elements=st.one_of(st.floats(-2, 2, width=32), st.sampled_from([np.nan, np.inf, -np.inf])))))
def test_bce_targets_are_finite_and_in_the_unit_interval_on_every_path(y):
    ok = bool(np.isfinite(y).all() and (y >= 0).all() and (y <= 1).all())
    for given_y in (y, y.astype(y.dtype.newbyteorder(">")), y[:, 0]):
        if ok:
            out = _validate.targets("y", given_y, len(y), 1, y.dtype, unit_interval=True)
            assert np.array_equal(out, y)
        else:
            with pytest.raises(ValueError, match="NaN or inf|must be in \\[0, 1\\]"):
                _validate.targets("y", given_y, len(y), 1, y.dtype, unit_interval=True)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 5), st.just(3)),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_features_refuse_any_nan_or_inf(X):
    if np.isfinite(X).all():
        assert _validate.features("X", X, np.dtype(np.float32), 3) is X
    else:
        with pytest.raises(ValueError, match="contains NaN or inf"):
            _validate.features("X", X, np.dtype(np.float32), 3)


def test_a_ragged_array_is_named():
    with pytest.raises(ValueError, match="X must be a rectangular numeric array"):
        _validate.features("X", [[1, 2], [3]], np.dtype(np.float32), 2)
