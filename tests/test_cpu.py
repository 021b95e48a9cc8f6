import pytest
from support import num_threads

import fastinit


def test_thread_count_roundtrip():
    old = fastinit.get_num_threads()
    with num_threads(1):
        assert fastinit.get_num_threads() == 1
        fastinit.set_num_threads(2)
        assert fastinit.get_num_threads() == 2
    assert fastinit.get_num_threads() == old


@pytest.mark.parametrize("n", [0, -3])
def test_thread_count_rejects_nonpositive(n):
    with pytest.raises(ValueError, match=r"n must be an int in \[1, 1024\]"):
        fastinit.set_num_threads(n)
