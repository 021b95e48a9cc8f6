import concurrent.futures as cf

import pytest

from fastinit import study

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
    rows = res.table()
    assert {(r["init"], r["activation"]) for r in rows} == {(i, a) for i in ("zeros", "he_normal") for a in ("relu", "tanh")}
    zeros = [r for r in rows if r["init"] == "zeros"]
    assert all(not r["symmetry_broken"] and r["verdict"] == "symmetric" for r in zeros)
    text = res.format_table()
    assert "he_normal" in text and "activation" in text
    paths = res.save(tmp_path)
    back = study.StudyResult.load(tmp_path)
    assert back.runs == res.runs and back.table() == rows
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


def _run(steps=None, sym=True, diverged=False, flow="ok", loss=(0.7, 0.6), dead=None, sat=None, end_dead=None):
    diag = {"symmetry_broken": sym, "gradient_flow": flow, "dead": dead, "saturated": sat}
    return {"steps_to_target": steps, "diverged": diverged, "diag_init": diag,
            "diag_end": {**diag, "dead": end_dead, "saturated": sat}, "loss_curve": {"loss": list(loss)}}


VERDICT_CASES = [
    ([_run(sym=False)], None, "symmetric"),
    ([_run(diverged=True)], None, "diverged"),
    ([_run(loss=(1.0, 500.0))], None, "exploded"),
    ([_run(flow="vanishing")], None, "vanishing"),
    ([_run(flow="exploding")], None, "exploding"),
    ([_run(end_dead=0.6)], None, "dead units"),
    ([_run(sat=0.9)], None, "saturated"),
    ([_run()], None, "slow"),
    ([_run(steps=10), _run()], 10, "unreliable"),
    ([_run(steps=20), _run(steps=30)], 10, "trains"),
    ([_run(steps=10), _run(steps=10)], 10, "fastest"),
]


@pytest.mark.parametrize("runs, best, word", VERDICT_CASES)
def test_every_verdict_is_reachable_and_explained(runs, best, word):
    assert study._verdict(runs, best) == word
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
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    serial = study.compare("circles", ["zeros", "he_normal"], sizes=[8], steps=30, seeds=2, n_jobs=1, target=0.99,
                           progress=False)
    assert r.stdout.strip() == serial.format_table().strip()
    warned = "RuntimeWarning: fastinit.study.compare: the worker processes stopped as they ran study_script.py"
    assert (warned in r.stderr) != guarded and "Traceback" not in r.stderr
