"""Bad input, as a hostile user gives it (issue 12): each case runs in a child process with an
address-space limit and a time limit, so a crash, a hang or a memory blow-up is caught and
counted instead of taking the test run down. A case must end in one clear exception (a
ValueError, TypeError or OSError naming what is wrong), or in the right answer where the input
is odd but valid.

The child runs the cases in order and reports each as it ends; when one kills it, the parent
counts that case as a crash and starts a new child at the next."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fastinit

ROOT = os.path.dirname(os.path.dirname(fastinit.__file__))
MEMORY_LIMIT = 3 << 30  # bytes of address space per child
CASE_SECONDS = 60

SETUP = """
import numpy as np, fastinit, tempfile, os, io, json, zipfile, gzip, struct
from fastinit import optim, init, data, study, diagnostics, stats, rng, runtime, activations
X = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
y = np.array([0, 1] * 4)
M = lambda **kw: fastinit.MLP([2, 4, 2], **kw)
tmp = tempfile.mkdtemp()
"""

# (code, expect): expect "raise" (a clean exception), "ok" (no exception) or "any" (either).
# Silent wrong answers are asserted inside the code (an AssertionError counts as wrong).
CASES = [
    # crashes
    ("o = optim.SGD(0.1); o.momentum = 0.9", "raise"),
    ("fastinit.set_num_threads(100000)", "raise"),
    ("fastinit.set_num_threads(runtime.MAX_THREADS); a = np.ones((600, 600), np.float32); fastinit.matmul(a, a)",
     "any"),
    ("fastinit.set_num_threads(2.9)", "raise"),
    ("fastinit.set_num_threads('2')", "raise"),
    ("fastinit.set_num_threads(None)", "raise"),
    # byte order, labels, targets
    ("a = np.arange(9.0).reshape(3, 3); assert np.array_equal(fastinit.matmul(a.astype('>f8'), a), a @ a)", "ok"),
    ("a = np.ones((3, 3), 'f4'); fastinit.matmul(a, a, out=np.zeros((3, 3), '>f4'))", "raise"),
    ("m = M(); assert np.array_equal(m.forward(X.astype('>f4')), m.forward(X))", "ok"),
    ("M().train_step(X, np.array([2**56] + [0] * 7, '>i8'), optim.SGD(0.1))", "raise"),
    ("M().train_step(X, np.array([2**63] + [0] * 7, np.uint64), optim.SGD(0.1))", "raise"),
    ("M().train_step(X, np.array([1e20] + [0.0] * 7), optim.SGD(0.1))", "raise"),
    ("fastinit.MLP([2, 1], output='sigmoid').train_step(X, np.full((8, 1), 2, np.float32), optim.SGD(0.1))", "raise"),
    ("fastinit.MLP([2, 1], output='identity').train_step(X, np.full((8, 1), np.nan, np.float32), optim.SGD(0.1))",
     "raise"),
    ("W = np.ones((3, 2), '>f4'); assert diagnostics.distinct_neurons(W) == 1", "ok"),
    # unaligned views (a buffer at an odd offset): read as copies, refused as outputs
    ("U = lambda a: np.frombuffer(b'0' + a.tobytes(), a.dtype, offset=1).reshape(a.shape); m = M(); "
     "assert np.array_equal(m.forward(U(X)), m.forward(X)); assert np.isfinite(m.train_step(U(X), U(y), optim.SGD(0.1)))",
     "ok"),
    ("a = np.arange(6.0).reshape(2, 3); u = np.frombuffer(b'0' + a.tobytes(), a.dtype, offset=1).reshape(2, 3); "
     "assert np.array_equal(fastinit.matmul(u, u.T), a @ a.T)", "ok"),
    ("o = np.zeros(17, np.uint8)[1:].view(np.float32); rng.fill(o, 'normal', seed=1)", "raise"),
    # NaN and divergence
    ("m = M(); m.layers[0].W[:] = np.nan; assert np.isnan(m.forward(X)).all()", "ok"),
    ("z = np.full(9, np.nan, np.float32); o = np.empty_like(z); activations.forward(z, o, 1); assert np.isnan(o).all()",
     "ok"),
    ("h = fastinit.fit(M(), X, y, optimizer=optim.Adam(1e3), steps=300, batch_size=2, progress=False); "
     "assert h.diverged", "ok"),
    # init schemes
    ("init.get('normal', std=float('inf'))((3, 3))", "raise"),
    ("init.get('normal', std=1e39)((3, 3))", "raise"),
    ("init.get('uniform', low=-1e308, high=1e308)((3, 3))", "raise"),
    ("w = init.get('truncated_normal', a=40.0, b=41.0)((100,)); assert np.isfinite(w).all() and w.min() >= 40",
     "ok"),
    ("w = init.get('truncated_normal', std=0.001, a=-2, b=2)((1000, 1000)); assert np.abs(w).max() < 0.01", "ok"),
    ("init.get('he_normal')((3, 0))", "ok"),
    ("init.get('he_normal')((2.5, 3))", "raise"),
    ("init.get('he_normal')((np.float32(2.5), 3))", "raise"),
    ("init.get('zero_init')((20000, 1))", "ok"),
    # statistics
    ("s = stats.tensor_stats(np.array([-1e308, 0.0, 1e308]), bins=4); assert np.isfinite(s['hist'][1]).all()",
     "ok"),
    ("stats.tensor_stats(np.ones(3), bins=2.5)", "raise"),
    # data
    ("data.split(np.ones((1, 2)), [0])", "raise"),
    ("data.split(np.ones((0, 2)), [])", "raise"),
    ("data.load('circles', noise=float('nan'))", "raise"),
    ("data.load('spirals', classes=0)", "raise"),
    ("data.load('spirals', classes=2.5)", "raise"),
    ("data.load('blobs', features=0)", "raise"),
    ("ds = data.split(np.ones((20, 2)), [10**12] + [0] * 19); ds.describe()", "ok"),
    ("p = os.path.join(tmp, 'a.csv'); open(p, 'w').write('1,2,' + str(10**12) + '\\n3,4,0\\n5,6,0\\n'); "
     "study.compare(p, ['he_normal'], seeds=1, steps=5, n_jobs=1, progress=False)", "raise"),
    ("p = os.path.join(tmp, 'i.gz'); f = gzip.open(p, 'wb'); "
     "f.write(bytes([0, 0, 8, 3]) + struct.pack('>III', 60000, 280, 280) + bytes(1 << 20)); f.close(); "
     "data.load_idx(p)", "raise"),
    # persistence
    ("p = os.path.join(tmp, 'm.npz'); np.savez(p, meta=np.array(json.dumps({'format': 'fastinit.MLP/1', "
     "'sizes': [100000, 100000], 'dtype': 'float32', 'output': 'softmax', 'activations': [], 'seed': 0, "
     "'init': 'x', 'bias_init': 'zeros'}))); fastinit.load(p)", "raise"),
    ("p = os.path.join(tmp, 'm.npz'); np.savez(p, meta=np.array('5')); fastinit.load(p)", "raise"),
    ("p = os.path.join(tmp, 'm.npz'); np.savez(p, meta=np.array('null')); fastinit.load(p)", "raise"),
    # fit and train_step arguments
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=2, target=float('nan'), progress=False)", "raise"),
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=2, target=1.5, progress=False)", "raise"),
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=2, target={'loss': 'a'}, progress=False)", "raise"),
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=2, callbacks=5, progress=False)", "raise"),
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=2, seed=-1, progress=False)", "raise"),
    ("fastinit.fit(M(), X, y, optimizer=optim.SGD(0.1), steps=10**12, progress=False, "
     "callbacks=[type('S', (), {'on_step_end': lambda s, st, m, h, a, b: setattr(h, 'stop', True)})()])", "ok"),
    ("M().train_step(X, y, None)", "raise"),
    ("M().train_step(X, y, 'sgd')", "raise"),
    ("optim.Adam(eps=0)", "raise"),
    # study
    ("study.compare(depth=[], n_jobs=1, progress=False)", "raise"),
    ("study.compare(seeds=1.5, n_jobs=1, progress=False)", "raise"),
    ("study.compare(seeds=['a'], n_jobs=1, progress=False)", "raise"),
    ("study.compare(sizes=[], n_jobs=1, progress=False)", "raise"),
    ("study.compare(executor=object(), n_jobs=1, progress=False)", "raise"),
    # model construction
    ("fastinit.MLP([2, float('inf')])", "raise"),
    ("fastinit.MLP([2, 2**63])", "raise"),
    ("fastinit.MLP([2, 3], output=['softmax'])", "raise"),
    ("M().forward([[1, 2], [3]])", "raise"),
]


def _child(start: int) -> str:
    return SETUP + textwrap.dedent(f"""
        import resource, signal, sys, json, warnings
        warnings.simplefilter("ignore")
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
        cases = json.loads(sys.stdin.read())
        signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("case timed out")))
        for i in range({start}, len(cases)):
            print(json.dumps(["start", i]), flush=True)
            signal.alarm({CASE_SECONDS})
            try:
                exec(cases[i], dict(globals()))
                out = ["ok", i, ""]
            except AssertionError as e:
                out = ["wrong", i, repr(e)]
            except TimeoutError as e:
                out = ["hang", i, str(e)]
            except MemoryError as e:
                out = ["memory", i, repr(e)]
            except Exception as e:
                out = ["raise", i, f"{{type(e).__name__}}: {{e}}"]
            signal.alarm(0)
            print(json.dumps(out), flush=True)
    """)


def _run_all() -> list:
    codes = json.dumps([c for c, _ in CASES])
    results, start = {}, 0
    while start < len(CASES):
        proc = subprocess.run([sys.executable, "-c", _child(start)], input=codes, capture_output=True, text=True,
                              timeout=CASE_SECONDS * (len(CASES) - start) + 60,
                              env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT)
        last = start
        for line in proc.stdout.splitlines():
            msg = json.loads(line)
            if msg[0] == "start":
                last = msg[1]
            else:
                results[msg[1]] = (msg[0], msg[2])
        if last not in results:  # the child died in this case
            results[last] = ("crash", f"exit {proc.returncode}: {proc.stderr[-300:]}")
        start = max(results) + 1
    return [results[i] for i in range(len(CASES))]


@pytest.fixture(scope="module")
def outcomes():
    return _run_all()


def test_no_crash_hang_memory_blow_up_or_wrong_answer(outcomes):
    bad = [(CASES[i][0], kind, msg) for i, (kind, msg) in enumerate(outcomes)
           if kind in ("crash", "hang", "memory", "wrong")]
    counts = {k: sum(o[0] == k for o in outcomes) for k in ("crash", "hang", "memory", "wrong")}
    assert not bad, f"{counts}: {bad}"


def test_each_case_ends_as_expected_with_a_clear_message(outcomes):
    wrong = []
    for (code, expect), (kind, msg) in zip(CASES, outcomes):
        if expect != "any" and kind != expect:
            wrong.append((code, kind, msg))
        elif kind == "raise" and not msg.split(":")[0] in ("ValueError", "TypeError", "OSError", "AttributeError",
                                                          "FileNotFoundError", "IsADirectoryError"):
            wrong.append((code, kind, msg))  # an IndexError or ZeroDivisionError says nothing useful
    assert not wrong, wrong


def test_the_harness_counts_a_crash():
    # The suite must be able to fail: a case that kills its process is counted, and the next runs.
    global CASES
    saved = CASES
    CASES = [("import os; os.kill(os.getpid(), 11)", "ok"), ("x = 1", "ok"),
             ("np.ones(10**10)", "raise")]
    try:
        got = _run_all()
    finally:
        CASES = saved
    assert got[0][0] == "crash" and got[1][0] == "ok" and got[2][0] in ("memory", "raise")
