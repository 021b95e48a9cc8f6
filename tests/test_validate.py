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
