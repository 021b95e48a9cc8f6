import sys
import types

import pytest

from fastinit import _progress, study


class _Tty:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def _jupyter(monkeypatch):
    shell = type("ZMQInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_a_bar_only_where_someone_watches(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", _Tty(False))
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert _progress.bar(True, 10, "run") is None  # a log or a pipe
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert _progress.bar(True, 10, "run") is None  # IPython imported, no kernel
    _jupyter(monkeypatch)
    assert _progress.interactive()
    monkeypatch.delitem(sys.modules, "IPython")
    monkeypatch.setattr(sys, "stderr", _Tty(True))
    b = _progress.bar(True, 10, "run")
    assert b is not None and b.total == 10
    b.close()
    assert _progress.bar(False, 10, "run") is None
    monkeypatch.setattr(sys, "stderr", None)  # pythonw, some services
    assert _progress.bar(True, 10, "run") is None


def test_a_study_in_a_notebook_counts_its_runs(monkeypatch):
    pytest.importorskip("tqdm")
    err = _Tty(False)
    monkeypatch.setattr(sys, "stderr", err)
    _jupyter(monkeypatch)
    study.compare("circles", ["zeros", "he_normal"], sizes=[4], steps=5, seeds=1, n_jobs=1)
    assert "0/2 [" in err.text and "run/s" in err.text  # tqdm's text bar (no widgets here)


class _Bar:
    def __init__(self):
        self.n, self.closed = 0, False

    def update(self, k):
        self.n += k

    def close(self):
        self.closed = True


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_the_study_bar_counts_every_run_and_closes(monkeypatch, n_jobs):
    bars = []
    monkeypatch.setattr(_progress, "bar", lambda enabled, total, unit: (bars.append(_Bar()) or bars[-1])
                        if enabled else None)
    study.compare("circles", ["zeros", "he_normal"], sizes=[4], steps=5, seeds=2, n_jobs=n_jobs)
    assert [(b.n, b.closed) for b in bars] == [(4, True)]
