import concurrent.futures as cf
import re

import pytest
from support import python_env

import fastinit.ensemble
from fastinit import study, train
from fastinit.study import executor, results

SMALL = dict(dataset="circles", sizes=[8], steps=60, seeds=2, target=0.9, eval_every=20, lr=0.5)


def _strip(runs):
    """Everything a run reports except wall-clock times."""
    out = []
    for r in runs:
        r = {k: v for k, v in r.items() if k not in ("seconds_to_target", "wall_seconds")}
        r["evals"] = [{k: v for k, v in e.items() if k != "time"} for e in r["evals"]]
        out.append(r)
    return out


def test_grid_table_and_json_round_trip(tmp_path):
    res = study.compare(inits=["zeros", "he_normal"], activation=["relu", "tanh"], n_jobs=1, progress=False, **SMALL)
    assert len(res.runs) == 2 * 2 * 2
    rows = res.table
    assert {(r["init"], r["activation"]) for r in rows} == {(i, a) for i in ("zeros", "he_normal") for a in ("relu", "tanh")}
    zeros = [r for r in rows if r["init"] == "zeros"]
    assert all(not r["symmetry_broken"] and r["verdict"] == "symmetric" for r in zeros)
    text = res.format_table()
    assert "he_normal" in text and "activation" in text
    paths = res.save(tmp_path)
    back = study.StudyResult.load(tmp_path)
    assert back.runs == res.runs and back.table == rows
    assert open(paths["csv"]).readline().startswith("init,")


def test_results_do_not_depend_on_the_executor():
    local = study.compare(inits=["he_normal", "random_small"], n_jobs=1, progress=False, **SMALL)
    with cf.ThreadPoolExecutor(2) as ex:
        threaded = study.compare(inits=["he_normal", "random_small"], executor=ex, progress=False, **SMALL)
    pooled = study.compare(inits=["he_normal", "random_small"], n_jobs=2, progress=False, **SMALL)
    assert _strip(local.runs) == _strip(threaded.runs) == _strip(pooled.runs)


def test_dask_local_cluster_matches_local_runs():
    distributed = pytest.importorskip("distributed")
    local = study.compare(inits=["he_normal"], n_jobs=1, progress=False, **SMALL)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote = study.compare(inits=["he_normal"], executor=client.get_executor(pure=False), progress=False,
                                   **SMALL)
    assert _strip(local.runs) == _strip(remote.runs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown init scheme 'nope'"):
        study.compare(inits=["nope"], n_jobs=1, **SMALL)
    with pytest.raises(TypeError, match="built-in name or a file path"):
        study.compare(dataset=object(), inits=["he_normal"], n_jobs=1)
    with pytest.raises(ValueError, match="unknown dataset"):
        study.compare(dataset="nope", inits=["he_normal"], n_jobs=1)
    with pytest.raises(FileNotFoundError, match="no such dataset file: 'data/missing.csv'"):
        study.compare(dataset="data/missing.csv", inits=["he_normal"], n_jobs=1)


@pytest.mark.parametrize("option, msg", [
    (dict(width=0, depth=2), "width must be an int >= 1, got 0"),
    (dict(depth=[2, -1]), "depth must be an int >= 0, got -1"),
    (dict(steps=2.5), "steps must be an int >= 1, got 2.5"),
    (dict(steps=0), "steps must be an int >= 1, got 0"),
    (dict(sizes=[16], depth=3), "give sizes or depth/width, not both"),
    (dict(batch_size=[32, 0]), "batch_size must be an int >= 1, got 0"),
    (dict(eval_every=0), "eval_every must be an int >= 1, got 0"),
    (dict(target=2), "target must be a test accuracy in (0, 1] or None, got 2"),
    (dict(target=0), "target must be a test accuracy in (0, 1] or None, got 0"),
    (dict(n_jobs=0), "n_jobs must be an int in [1, inf), got 0"),
])
def test_every_option_is_checked_before_any_run(option, msg, monkeypatch):
    monkeypatch.setattr(executor, "run", lambda cfg: pytest.fail("a run started"))
    with pytest.raises(ValueError, match=re.escape(msg)):
        study.compare("circles", ["he_normal"], progress=False, **option)


def test_width_defaults_to_16_only_when_not_given():
    cfgs, _ = study.plan("circles", ["he_normal"], depth=3, seeds=1)
    assert cfgs[0].sizes == (2, 16, 16, 16, 2)


def _run(steps=None, sym=True, diverged=False, ratio=1.0, loss=(0.7, 0.6), dead=None, sat=None, end_dead=None):
    diag = {"symmetry_broken": sym, "gradient_ratio": ratio, "dead": dead, "saturated": sat}
    return {"steps_to_target": steps, "diverged": diverged, "diag_init": diag,
            "diag_end": {**diag, "dead": end_dead, "saturated": sat}, "loss_curve": {"loss": list(loss)}}


VERDICT_CASES = [
    ([_run(sym=False)], None, "symmetric"),
    ([_run(diverged=True)], None, "diverged"),
    ([_run(loss=(1.0, 500.0))], None, "exploded"),
    ([_run(ratio=1e-3)], None, "vanishing"),
    ([_run(ratio=1e3)], None, "exploding"),
    ([_run(ratio=1e-3), _run(ratio=1.0), _run(ratio=2.0)], None, "slow"),  # the median seed decides
    ([_run(end_dead=0.6)], None, "dead units"),
    ([_run(end_dead=0.6), _run(end_dead=0.0), _run(end_dead=0.1)], None, "slow"),
    ([_run(sat=0.9)], None, "saturated"),
    ([_run()], None, "slow"),
    ([_run(steps=10), _run()], 10, "unreliable"),
    ([_run(steps=20), _run(steps=30)], 10, "trains"),
    ([_run(steps=10), _run(steps=10)], 10, "fastest"),
]


@pytest.mark.parametrize("runs, best, word", VERDICT_CASES)
def test_every_verdict_is_reachable_and_explained(runs, best, word):
    assert results._verdict(runs, best) == word
    assert word in study.VERDICTS


def test_every_explained_verdict_has_a_case_above():
    assert {word for _, _, word in VERDICT_CASES} == set(study.VERDICTS)


SCRIPT = """import fastinit
{guard}r = fastinit.study.compare("circles", ["zeros", "he_normal"], sizes=[8], steps=30, seeds=2, n_jobs=2,
{indent}                          target=0.99, progress=False)
{indent}print(r.format_table())
"""


@pytest.mark.parametrize("guarded", [True, False])
def test_a_script_gets_its_study_whether_or_not_it_guards_the_call(tmp_path, guarded):
    import subprocess
    import sys

    script = tmp_path / "study_script.py"
    script.write_text(SCRIPT.format(guard='if __name__ == "__main__":\n    ' if guarded else "",
                                    indent="    " if guarded else ""))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=python_env())
    assert r.returncode == 0, r.stderr[-2000:]
    serial = study.compare("circles", ["zeros", "he_normal"], sizes=[8], steps=30, seeds=2, n_jobs=1, target=0.99,
                           progress=False)
    assert r.stdout.strip() == serial.format_table().strip()
    warned = "RuntimeWarning: fastinit.study.compare: the worker processes stopped as they ran study_script.py"
    assert (warned in r.stderr) != guarded and "Traceback" not in r.stderr


SCHEME = """from fastinit import init


@init.register("{name}")
def _scaled(scale=0.7):
    return init.normal_draw(lambda fan_in, fan_out: scale / fan_in ** 0.5, "N(0, scale^2 / fan_in)")
"""
SMALL_USER = dict(sizes=[8], steps=30, seeds=2, target=0.99, progress=False)


def test_a_scheme_registered_in_a_module_reaches_the_worker_processes(tmp_path, monkeypatch):
    import importlib

    (tmp_path / "user_schemes_for_test.py").write_text(SCHEME.format(name="user_module_scheme"))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("user_schemes_for_test")
    from fastinit import init

    assert init.module_of("user_module_scheme:scale=2") == "user_schemes_for_test"
    assert init.module_of("he_normal") == "fastinit.init.schemes"
    pooled = study.compare("circles", ["user_module_scheme", "he_normal"], n_jobs=2, **SMALL_USER)
    local = study.compare("circles", ["user_module_scheme", "he_normal"], n_jobs=1, **SMALL_USER)
    assert _strip(pooled.runs) == _strip(local.runs)


def _session(code, tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=python_env())
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def test_a_scheme_registered_in_a_session_runs_in_it_with_a_warning(tmp_path):
    code = SCHEME.format(name="session_scheme") + (
        "from fastinit import study\n"
        f"r = study.compare('circles', ['session_scheme'], n_jobs=2, **{SMALL_USER!r})\n"
        "print(r.table[0]['init'], len(r.runs))\n")
    r = _session(code, tmp_path)
    assert r.stdout.split() == ["session_scheme", "2"]
    assert "registered in this interactive session, which worker processes cannot see" in r.stderr


def test_a_session_scheme_sent_to_an_executors_processes_fails_with_the_reason(tmp_path):
    code = SCHEME.format(name="session_scheme") + (
        "import concurrent.futures as cf, multiprocessing\n"
        "from fastinit import study\n"
        "with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as ex:\n"
        "    try:\n"
        f"        study.compare('circles', ['session_scheme'], executor=ex, **{SMALL_USER!r})\n"
        "    except ValueError as e:\n"
        "        print(e)\n")
    r = _session(code, tmp_path)
    assert "init scheme 'session_scheme' is unknown in this worker: it was registered by the main" in r.stdout


def test_ctrl_c_keeps_the_runs_that_finished(monkeypatch):
    calls = []
    real_run = study.run

    def run(cfg):
        calls.append(cfg)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run(cfg)

    monkeypatch.setattr(executor, "run", run)
    with pytest.warns(RuntimeWarning, match="interrupted with 2 of 4 runs finished"):
        res = study.compare("circles", ["zeros", "he_normal"], n_jobs=1, ensemble=False, **SMALL_USER)
    assert [r["config"]["init"] for r in res.runs] == ["zeros", "zeros"]
    assert res.settings["interrupted"] == "2 of 4 runs finished" and len(res.table) == 1
    calls.clear()
    monkeypatch.setattr(executor, "run", lambda cfg: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):  # nothing finished: nothing to return
        study.compare("circles", ["zeros"], n_jobs=1, ensemble=False, **SMALL_USER)


def test_ctrl_c_keeps_the_ensembles_that_finished(monkeypatch):
    tasks = []
    real = executor.run_group

    def run_group(cfgs):
        tasks.append(cfgs)
        if len(tasks) == 2:
            raise KeyboardInterrupt
        return real(cfgs)

    monkeypatch.setattr(executor, "run_group", run_group)
    monkeypatch.setattr(executor, "_run_seconds", lambda cfg, ensemble: executor._START_UP / 2)  # two runs a chunk
    monkeypatch.setattr(fastinit.ensemble, "lane_width", lambda dtype: 2)  # lanes of two: chunks of two are full
    with pytest.warns(RuntimeWarning, match="interrupted with 2 of 4 runs finished"):  # 4 runs: 2 ensembles of 2
        res = study.compare("circles", ["zeros", "he_normal"], n_jobs=1, **SMALL_USER)
    assert [len(t) for t in tasks] == [2, 2] and [r["config"]["init"] for r in res.runs] == ["zeros", "zeros"]


def test_a_run_whose_training_was_interrupted_stops_the_study(monkeypatch):
    real_fit = train.fit

    def fit(*args, **kwargs):
        hist = real_fit(*args, **kwargs)
        hist.interrupted = True  # what fit records when Ctrl-C reaches it
        return hist

    monkeypatch.setattr(train, "fit", fit)
    cfg = study.plan("circles", ["he_normal"], sizes=[8], steps=5, seeds=1)[0][0]
    with pytest.raises(KeyboardInterrupt):
        study.run(cfg)


def test_without_a_target_the_table_says_nothing_about_reaching_it():
    res = study.compare("circles", ["he_normal", "zeros", "random_small"], sizes=[4], steps=5, seeds=1, n_jobs=1,
                        target=None, progress=False)
    _, heads, rows = res.table_cells()
    cells = {r[0]: dict(zip(heads, r)) for r in rows}
    assert all(c["reached"] == c["steps to target"] == c["s to target"] == "-" for c in cells.values())
    assert [cells[i]["verdict"] for i in ("he_normal", "zeros", "random_small")] == ["-", "symmetric", "vanishing"]
    assert results._verdict([_run()], None, has_target=False) == "-"


def test_loading_something_that_is_no_result_says_which_file(tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'results.json'}: Expecting property name")):
        study.StudyResult.load(tmp_path)
    (tmp_path / "results.json").write_text('{"table": []}')
    with pytest.raises(ValueError, match="not a fastinit study result"):
        study.StudyResult.load(tmp_path / "results.json")
    with pytest.raises(FileNotFoundError):
        study.StudyResult.load(tmp_path / "missing")


def test_epochs_become_steps_per_batch_size():
    cfgs, settings = study.plan("circles", ["he_normal"], sizes=[4], epochs=3, batch_size=[None, 64, 300, 1000],
                                seeds=1)  # circles: 300 training rows
    assert [c.steps for c in cfgs] == [3, 3 * 5, 3, 3] and settings["epochs"] == 3 and "steps" not in settings
    assert study.plan("circles", ["he_normal"], seeds=1)[0][0].steps == study.DEFAULTS["steps"]
    with pytest.raises(ValueError, match="give steps or epochs, not both"):
        study.plan("circles", ["he_normal"], steps=10, epochs=1)
    res = study.compare("circles", ["he_normal"], sizes=[4], epochs=2, batch_size=100, seeds=1, n_jobs=1,
                        progress=False)
    assert len(res.runs[0]["loss_curve"]["loss"]) == 6


def test_a_crashing_worker_is_reported_not_blamed_on_the_script(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "crash.py"
    script.write_text(
        "import os\nfrom fastinit import init, study\n\n\n@init.register('crasher')\ndef crasher():\n"
        "    return init.normal_draw(lambda fan_in, fan_out: os._exit(3), 'exits the process')\n\n\n"
        "if __name__ == '__main__':\n"
        "    study.compare('circles', ['crasher', 'he_normal'], sizes=[4], steps=5, seeds=2, n_jobs=2, progress=False)\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=python_env())
    assert r.returncode == 1 and "BrokenProcessPool" in r.stderr and "RuntimeWarning" not in r.stderr


def test_a_script_read_from_standard_input_runs_its_study_in_process(tmp_path):
    import subprocess
    import sys

    code = SCRIPT.format(guard='if __name__ == "__main__":\n    ', indent="    ")
    r = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env=python_env())
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "<stdin> is no file; running the 4 runs in this process instead" in r.stderr
    assert r.stdout.startswith("init ")


# ---------------------------------------------------------------- issue 12, items 10, 14, 26
@pytest.mark.parametrize("doc, msg", [
    ('{"runs": [1, 2]}', "run 0 is no object"), ('{"runs": [{"config": {}}]}', "lacks or garbles"),
    ("[]", "no list of runs"), ('{"runs": [], "settings": 5}', "settings is no object"), ("{", "")])
def test_a_malformed_result_file_is_named(tmp_path, doc, msg):
    p = tmp_path / "results.json"
    p.write_text(doc)
    with pytest.raises(ValueError, match=msg) as e:
        study.StudyResult.load(p)
    assert str(p) in str(e.value)


def test_an_empty_result_says_so_on_save(tmp_path):
    with pytest.raises(ValueError, match="no runs"):
        study.StudyResult([], {}).save(tmp_path)


@pytest.mark.parametrize("options, exc, match", [
    ({"depth": []}, ValueError, "depth is empty"), ({"lr": []}, ValueError, "lr is empty"),
    ({"seeds": 1.5}, TypeError, "seeds must be a count"), ({"seeds": ["a"]}, TypeError, "seeds\\[0\\]"),
    ({"sizes": []}, ValueError, "sizes must be a non-empty"), ({"executor": object()}, TypeError, "executor must be"),
])
def test_study_options_that_would_run_nothing_or_crash_are_refused(options, exc, match):
    with pytest.raises(exc, match=match):
        study.compare("circles", ["he_normal"], n_jobs=1, progress=False, **options)


def test_a_finite_blow_up_is_the_study_verdict_diverged():
    res = study.compare("circles", ["he_normal"], seeds=1, steps=300, optimizer="adam", lr=1e3, n_jobs=1,
                        progress=False)
    assert res.runs[0]["diverged"] and res.table[0]["verdict"] == "diverged"
