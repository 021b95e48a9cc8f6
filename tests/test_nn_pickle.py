"""fastinit.MLP pickles and deep-copies through save/load: an exact, independent copy."""
import copy
import pickle

import numpy as np
import pytest

import fastinit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pickle_and_deepcopy_are_exact_and_independent(dtype, rng):
    m = fastinit.MLP([5, 7, 3, 2], activation=["tanh", ("elu", 0.5)], output="sigmoid", init="orthogonal",
                     bias_init="normal", seed=4, dtype=dtype)
    X = rng.standard_normal((9, 5))
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert repr(other) == repr(m) and other.seed == m.seed
        np.testing.assert_array_equal(other.forward(X), m.forward(X))
        for p, q in zip(other.parameters(), m.parameters()):
            assert p.dtype == q.dtype and not np.shares_memory(p, q)
        other.train_step(X, np.ones((9, 2)) / 2, fastinit.optim.SGD(0.1))
        assert not np.array_equal(other.forward(X), m.forward(X))


def test_pickle_keeps_a_pending_init():
    m = fastinit.MLP([3, 4, 2], init="lsuv")
    assert pickle.loads(pickle.dumps(m)).pending_init == "lsuv"
