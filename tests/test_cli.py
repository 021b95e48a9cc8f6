import json
import subprocess
import sys

import numpy as np
import pytest

from fastinit.study import cli
from fastinit.study import presets


def test_compare_end_to_end(tmp_path, capsys):
    rc = cli.main(["compare", "--inits", "zeros,he_normal", "--steps", "40", "--seeds", "1", "--jobs", "1",
                   "--eval-every", "20", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "he_normal" in out and "symmetric" in out and "steps to target" in out
    for name in ("results.json", "results.csv", "loss_curves.png", "accuracy_curves.png", "activation_histograms.png",
                 "gradient_flow.png", "steps_to_target.png", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {r["init"] for r in doc["table"]} == {"zeros", "he_normal"}
    assert "data:image/png;base64," in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("argv,msg", [
    (["compare", "--inits", "nope", "--jobs", "1"], "unknown init scheme 'nope'"),
    (["compare", "--steps", "abc"], "invalid int value"),
    (["compare", "--preset", "nope"], "invalid choice"),
    (["compare", "--dataset", "nope", "--jobs", "1"], "unknown dataset"),
])
def test_bad_options_give_one_line_and_nonzero_exit(argv, msg):
    r = subprocess.run([sys.executable, "-m", "fastinit"] + argv, capture_output=True, text=True)
    assert r.returncode != 0
    assert msg in r.stderr and "Traceback" not in r.stderr


def test_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "kernel" in out and "threads" in out


@pytest.mark.parametrize("preset", sorted(presets.PRESETS))
def test_presets_are_valid_configurations(preset):
    cfg = dict(presets.PRESETS[preset])
    from fastinit import init

    for name in cfg["inits"]:
        init.get(name)


def _preset(name, **override):
    """The preset's study on fewer steps/seeds (the qualitative outcome must already show)."""
    from fastinit import study

    kw = {**presets.PRESETS[name], **override}
    res = study.compare(inits=kw.pop("inits"), n_jobs=1, progress=False, **kw)
    return {(r["init"], r.get("activation")): r for r in res.table()}, res


def test_preset_course_zeros_stay_symmetric_large_random_trains_poorly_he_trains():
    rows, res = _preset("course", steps=9000)
    zeros = next(r for r in res.runs if r["config"]["init"] == "zeros")
    assert zeros["final"]["val_acc"] == 0.5 and zeros["final"]["train_acc"] == 0.5
    assert np.allclose(zeros["loss_curve"]["loss"], np.log(2), atol=1e-6)  # the flat cost of the course
    assert rows[("zeros", "relu")]["verdict"] == "symmetric"
    assert rows[("he_normal", "relu")]["test_acc"] >= 0.93 and rows[("he_normal", "relu")]["steps_to_target"]
    assert 0.6 < rows[("random_large", "relu")]["test_acc"] < rows[("he_normal", "relu")]["test_acc"]
    assert rows[("random_large", "relu")]["gradient_ratio"] > 1e2


def test_preset_linear_depth_explodes_and_vanishes_as_the_gain_to_the_depth():
    rows, _ = _preset("linear-depth", steps=1)
    ratio = {k[0]: r["gradient_ratio"] for k, r in rows.items()}
    # 10 hidden layers and the output one, all gain * I: the gradient at the first layer's input
    # is gain^10 times the one at the last layer's input.
    assert ratio["identity"] == pytest.approx(1.0)
    assert ratio["identity:gain=1.5"] == pytest.approx(1.5 ** 10, rel=1e-4)
    assert ratio["identity:gain=0.5"] == pytest.approx(0.5 ** 10, rel=1e-4)
    assert rows[("identity:gain=0.5", "identity")]["verdict"] == "vanishing"


def test_preset_deep_relu_he_trains_xavier_and_torch_default_vanish():
    rows, _ = _preset("deep-relu", steps=200, seeds=1)
    he, xavier, default = (rows[(i, "relu")] for i in ("he_normal", "xavier_normal", "torch_default"))
    assert he["steps_to_target"] is not None and 1e-2 < he["gradient_ratio"] < 1e2
    for r in (xavier, default):
        assert r["steps_to_target"] is None and r["gradient_ratio"] < 1e-3 and r["verdict"] == "vanishing"


def test_preset_glorot2010_normalized_init_beats_the_standard_one_with_tanh():
    pytest.importorskip("sklearn")
    rows, _ = _preset("glorot2010", steps=200, seeds=1)
    xavier, standard = rows[("xavier_uniform", "tanh")], rows[("torch_default", "tanh")]
    assert xavier["gradient_ratio"] > 5 * standard["gradient_ratio"]  # the normalized init keeps the gradient
    assert xavier["steps_to_target"] is not None
    assert standard["steps_to_target"] is None or standard["steps_to_target"] > xavier["steps_to_target"]
    assert rows[("torch_default", "sigmoid")]["verdict"] == "vanishing"


def test_preset_mnist1d_he_and_xavier_learn_zeros_stay_at_chance():
    pytest.importorskip("mnist1d")
    rows, _ = _preset("mnist1d", steps=600, seeds=1, eval_every=100)
    assert rows[("he_normal", "relu")]["test_acc"] > 0.55 and rows[("xavier_normal", "relu")]["test_acc"] > 0.55
    assert rows[("zeros", "relu")]["test_acc"] < 0.15 and rows[("zeros", "relu")]["verdict"] == "symmetric"


def test_preset_lsuv_reaches_the_target():
    rows, _ = _preset("lsuv", steps=200, seeds=1, inits=["lsuv"])
    assert rows[("lsuv", "tanh")]["steps_to_target"] is not None


@pytest.mark.parametrize("jobs, delay, group", [("1", 4, True), ("2", 4, True), ("2", 4, False), ("2", 0.3, True)])
def test_ctrl_c_writes_the_runs_that_finished_and_exits_130(tmp_path, jobs, delay, group):
    """Ctrl-C reaches the whole process group; `kill -INT pid` the parent alone; at 0.3 s the
    workers are still starting."""
    import os
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "fastinit", "compare", "--inits", "zeros,he_normal", "--seeds", "400",
                             "--steps", "1500", "--jobs", jobs, "--no-plots", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(delay)
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err[-2000:]
    if delay < 1 and not (tmp_path / "results.json").exists():
        assert err.strip().endswith("fastinit: interrupted")  # nothing had finished: nothing to keep
        return
    doc = json.loads((tmp_path / "results.json").read_text())
    n = len(doc["runs"])
    assert 0 < n < 800 and doc["settings"]["interrupted"] == f"{n} of 800 runs finished"
    assert f"interrupted: {n} of 800 runs finished" in err


def test_epochs_replace_the_steps_of_the_defaults_and_presets(tmp_path, capsys):
    assert cli.main(["compare", "--preset", "course", "--inits", "he_normal", "--epochs", "7", "--jobs", "1",
                     "--no-plots", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["settings"]["epochs"] == 7 and doc["runs"][0]["config"]["steps"] == 7  # full batch: 1 step an epoch


def test_a_run_without_plots_says_the_old_report_is_not_its_own(tmp_path, capsys):
    argv = ["compare", "--inits", "he_normal", "--steps", "5", "--seeds", "1", "--jobs", "1", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    assert "earlier run" not in capsys.readouterr().out
    assert cli.main(argv + ["--no-plots"]) == 0
    assert f"note: {tmp_path / 'report.html'} and its figures are from an earlier run" in capsys.readouterr().out


# ---------------------------------------------------------------- issue 12, item 19
def test_an_unknown_kernel_env_is_one_line_and_info_still_reports():
    import os

    env = dict(os.environ, FASTINIT_KERNEL="bogus")
    info = subprocess.run([sys.executable, "-m", "fastinit", "info"], capture_output=True, text=True, env=env)
    assert info.returncode == 0 and "available: ref" in info.stdout and "error     FASTINIT_KERNEL='bogus'" in info.stdout
    run = subprocess.run([sys.executable, "-m", "fastinit", "compare", "--steps", "1"], capture_output=True,
                         text=True, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("fastinit: error: FASTINIT_KERNEL='bogus'")


@pytest.mark.parametrize("option", ["--lr=", "--inits=", "--sizes=", "--activation=", "--depth=,"])
def test_an_empty_option_is_one_line(option, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["compare", option])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "got nothing" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("fastinit ")
