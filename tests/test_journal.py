"""Nothing lost (issue 12, items 28 and 29): the output folder is checked before the first run,
each finished run is journaled as it finishes, and a study killed halfway resumes to the result
an uninterrupted one gives."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import fastinit
from fastinit import study
from fastinit.study import cli, journal

# 18 runs: several ensembles of a few, each journaled as it finishes (plan.groups)
# Two ensembles (relu, tanh) of 9, so the journal receives the study in more than one piece
# whatever the lane width (chunks are never smaller than a lane group where runs are long).
STUDY = dict(dataset="circles", inits=["zeros", "xavier_normal", "he_normal"], seeds=3, steps=1500, eval_every=50,
             activation=["relu", "tanh"])
ROOT = os.path.dirname(os.path.dirname(fastinit.__file__))


def _runs(result):
    """The runs as JSON, without wall-clock times (the only thing that may differ)."""
    runs = json.loads(result.to_json())["runs"]
    for r in runs:
        r.pop("wall_seconds", None)
        r.pop("seconds_to_target", None)
        for e in r.get("evals", []):
            e.pop("time", None)
    return runs


def test_a_study_killed_halfway_resumes_to_the_uninterrupted_result(tmp_path):
    folder = tmp_path / "res"
    code = (f"import fastinit.study as s\nif __name__ == '__main__':\n"
            f"    s.compare(**{STUDY!r}, n_jobs=1, progress=False, journal={str(folder)!r})\n")
    script = tmp_path / "study.py"
    script.write_text(code)
    proc = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ, PYTHONPATH=ROOT))
    path = folder / journal.JOURNAL
    deadline = time.time() + 120
    while time.time() < deadline:
        if path.exists() and path.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = path.read_text()
    n_kept = kept.count("\n")
    assert 1 <= n_kept < 18, f"killed after {n_kept} runs: not halfway"

    done_before = [json.loads(line) for line in kept.splitlines() if line.strip()]
    resumed = study.compare(**STUDY, n_jobs=1, progress=False, resume=str(folder))
    lines = path.read_text().splitlines()
    assert len(lines) == 18 and lines[:n_kept] == kept.splitlines()[:n_kept]  # kept runs not rerun
    whole = study.compare(**STUDY, n_jobs=1, progress=False)
    assert _runs(resumed) == _runs(whole)
    untimed = lambda res: [{k: v for k, v in row.items() if k != "seconds_to_target"} for row in res.table]  # noqa: E731
    assert untimed(resumed) == untimed(whole)
    key = lambda run: json.dumps(run["config"], sort_keys=True)  # noqa: E731
    whole_by_config = {key(r): r for r in _runs(whole)}
    for entry in done_before:  # what the killed study wrote is what an uninterrupted one computes
        assert entry["run"]["final"] == whole_by_config[key(entry["run"])]["final"]

def test_a_line_cut_short_by_the_kill_is_run_again(tmp_path):
    folder = tmp_path / "res"
    small = dict(STUDY, inits=["he_normal"], seeds=2, steps=50, activation="relu")
    study.compare(**small, n_jobs=1, progress=False, journal=str(folder))
    path = folder / journal.JOURNAL
    first, second = path.read_text().splitlines()
    path.write_text(first + "\n" + second[: len(second) // 2])  # killed while writing
    res = study.compare(**small, n_jobs=1, progress=False, resume=str(folder))
    assert len(res.runs) == 2 and path.read_text().count("\n") >= 2


def test_resume_needs_a_journal(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        study.compare(**STUDY, n_jobs=1, progress=False, resume=str(tmp_path))


@pytest.mark.parametrize("make, msg", [
    (lambda p: (p.write_text("x"), p)[1], "is an existing file"),
    (lambda p: p / "sub" / "\0", "cannot be written|embedded null|must be a folder"),
])
def test_an_unusable_out_is_refused_before_any_run(tmp_path, make, msg, monkeypatch, capsys):
    target = make(tmp_path / "f")
    ran = []
    monkeypatch.setattr(study.executor, "run", lambda cfg: ran.append(cfg))
    rc = cli.main(["compare", "--steps", "5", "--seeds", "1", "--out", str(target), "--no-plots"])
    assert rc == 2 and not ran
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fastinit: error: ")


def test_an_unwritable_out_is_refused_before_any_run(tmp_path, monkeypatch, capsys):
    if os.geteuid() == 0:
        locked = "/proc/fastinit-cannot-write-here"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    ran = []
    monkeypatch.setattr(study.executor, "run", lambda cfg: ran.append(cfg))
    rc = cli.main(["compare", "--steps", "5", "--seeds", "1", "--out", str(locked), "--no-plots"])
    assert rc == 2 and not ran and "cannot be written" in capsys.readouterr().err


def test_the_cli_journals_and_resumes(tmp_path, capsys):
    out = tmp_path / "o"
    args = ["compare", "--inits", "he_normal,zeros", "--seeds", "1", "--steps", "30", "--jobs", "1", "--no-plots"]
    assert cli.main(args + ["--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert (out / journal.JOURNAL).read_text().count("\n") == 2
    assert cli.main(args + ["--resume", str(out)]) == 0
    again = capsys.readouterr().out
    strip = lambda text: [line.split()[:6] for line in text.split("\n\n")[1].splitlines()]  # noqa: E731
    assert strip(first) == strip(again)  # the same table, up to the seconds
