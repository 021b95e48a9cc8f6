import dataclasses
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from support import kernel_set, num_threads, python_env

import fastinit
from fastinit import runtime, study
from fastinit.study import cli
from fastinit.study import gains, isometry, phase, presets


def test_compare_end_to_end(tmp_path, capsys):
    pytest.importorskip("matplotlib")
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
    r = subprocess.run([sys.executable, "-m", "fastinit"] + argv, capture_output=True, text=True, env=python_env())
    assert r.returncode != 0
    assert msg in r.stderr and "Traceback" not in r.stderr


def test_info_reports_the_kernel_set_and_threads_in_use(capsys):
    for kernel, threads in (("ref", 1), (runtime.available_kernels()[-1], 2)):
        with kernel_set(kernel), num_threads(threads):
            assert cli.main(["info"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == f"fastinit {fastinit.__version__}"
        assert lines[1].split()[:2] == ["kernel", kernel] and lines[2].split()[:2] == ["threads", str(threads)]


DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "presets.md"

# What docs/presets.md says each preset runs: dataset (train / test rows), layer sizes,
# activations, optimizer, lr, batch size (None: full batch), steps, seeds.
DOCUMENTED = {
    "course": ("course_circles", 300, 100, [2, 10, 5, 1], ["relu"], "sgd", 0.01, None, 15000, 1),
    "course-seeds": ("course_circles", 300, 100, [2, 10, 5, 1], ["relu"], "sgd", 0.01, None, 15000, 10),
    "glorot2010-fig2": ("digits", 1348, 449, [64] + [100] * 4 + [10], ["sigmoid"], "sgd", 1.0, 32, 6000, 2),
    "linear-depth-40": ("blobs", 600, 300, [2] * 42, ["identity"], "sgd", 0.01, None, 300, 1),
    "deep-relu": ("spirals", 600, 300, [2] + [64] * 30 + [3], ["relu"], "sgd", 0.01, 64, 1500, 2),
    "glorot2010": ("digits", 1348, 449, [64] + [100] * 5 + [10], ["tanh", "sigmoid"], "sgd", 0.1, 32, 1500, 2),
    "linear-depth": ("blobs", 600, 300, [2] * 12, ["identity"], "sgd", 0.01, None, 300, 1),
    "mnist1d": ("mnist1d", 4000, 1000, [40, 100, 100, 10], ["relu"], "adam", 0.01, 100, 6000, 2),
    "lsuv": ("spirals", 600, 300, [2] + [64] * 12 + [3], ["tanh"], "sgd", 0.05, 64, 1500, 2),
}
NEEDS = {"glorot2010": "sklearn", "glorot2010-fig2": "sklearn", "mnist1d": "mnist1d"}


def _documented_sections():
    """{preset: (its table's (init, activation or None) rows, the target the table names or
    None)} read from docs/presets.md: sections "## name: ...", a variant's paragraph opening
    "**name**", tables "| init | ... | steps to 90% test |" (or "reached 90%")."""
    out, name = {}, None
    for line in DOCS.read_text().splitlines():
        if line.startswith("## ") or re.match(r"\*\*[a-z0-9-]+\*\*", line):
            name = line[3:].split(":")[0].strip() if line.startswith("## ") else line.split("**")[1]
            out[name] = [set(), None, None]
        elif name and line.startswith("| init |"):
            head = [c.strip() for c in line.strip("|").split("|")]
            out[name][2] = head
            target = next((c for c in head if c.startswith(("steps to ", "reached "))), None)
            if target is not None:
                out[name][1] = int(next(w for w in target.split() if w.endswith("%")).rstrip("%")) / 100
        elif name and out[name][2] and line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            scheme = cells[0].split(" (")[0].replace(", gain ", ":gain=")
            act = cells[out[name][2].index("activation")] if "activation" in out[name][2] else None
            out[name][0].add((scheme, act))
    return {k: (rows, target) for k, (rows, target, _) in out.items()}


def test_every_preset_is_documented_and_every_documented_one_exists():
    others = (phase.PRESETS, gains.PRESETS, isometry.PRESETS)  # presets with their own runners
    assert set(_documented_sections()) == set(presets.PRESETS).union(*others)
    assert set(presets.PRESETS) == set(DOCUMENTED)
    assert len(set(presets.PRESETS).union(*others)) == len(presets.PRESETS) + sum(map(len, others))


# What docs/presets.md says each phase-diagram preset runs: sigma_w^2 values (its table's rows),
# depths (its columns), width, steps, lr.
PHASE_DOCUMENTED = {
    "edge-of-chaos": ((1.0, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0), (10, 20, 40, 70, 100), 100, 1000, 0.0005),
}


@pytest.mark.parametrize("preset", sorted(phase.PRESETS))
def test_phase_presets_run_the_grid_docs_presets_md_tabulates(preset):
    sw2, depths, width, steps, lr = PHASE_DOCUMENTED[preset]
    kw = phase.PRESETS[preset]
    assert (tuple(kw["sigma_w2"]), tuple(kw["depths"]), kw["width"], kw["steps"], kw["lr"]) == PHASE_DOCUMENTED[preset]
    text = DOCS.read_text().split(f"## {preset}:")[1].split("\n## ")[0]
    head = next(line for line in text.splitlines() if line.startswith("| init |"))
    assert [int(c) for c in head.strip("|").split("|")[2:]] == list(depths)
    rows = [float(line.split("|")[1].split("=")[1]) for line in text.splitlines() if line.startswith("| sigma_w^2 =")]
    assert rows == list(sw2)


@pytest.mark.parametrize("preset", sorted(presets.PRESETS))
def test_presets_plan_what_docs_presets_md_says_and_train(preset):
    """Each preset plans the grid docs/presets.md describes (dataset, sizes, activations,
    optimizer, lr, batch, steps, seeds, the inits of its table and its target), and every run of
    that grid trains a step."""
    if preset in NEEDS:
        pytest.importorskip(NEEDS[preset])
    configs, settings = study.plan(**presets.PRESETS[preset])
    dataset, n_train, n_test, sizes, acts, opt, lr, batch, steps, n_seeds = DOCUMENTED[preset]
    rows, target = _documented_sections()[preset]
    assert re.match(rf"{dataset}( \(.*\))?: {n_train} train / {n_test} test", settings["dataset"])
    assert {c.sizes for c in configs} == {tuple(sizes)}
    target = presets.PRESETS[preset]["target"] if target is None else target  # a table without one
    assert {(c.optimizer, c.lr, c.batch_size, c.steps, c.target) for c in configs} == {(opt, lr, batch, steps, target)}
    seeds = {c.seed for c in configs}
    assert len(seeds) == n_seeds
    grid = {(c.init, c.activation) for c in configs}
    assert len(configs) == len(grid) * n_seeds  # init x activation x seed, each once
    assert grid == {(i, a) for i, _ in rows for a in acts}
    assert all(a is None for _, a in rows) or {(i, a) for i, a in rows} == grid
    for cfg in configs:
        if cfg.seed == min(seeds):
            rec = study.run(dataclasses.replace(cfg, steps=1, eval_every=1))
            assert len(rec["loss_curve"]["loss"]) == 1 and np.isfinite(rec["loss_curve"]["loss"][0])
            assert rec["config"]["init"] == cfg.init and rec["evals"][-1]["step"] == 1


def _preset(name, **override):
    """The preset's study on fewer steps/seeds (the qualitative outcome must already show)."""
    from fastinit import study

    kw = {**presets.PRESETS[name], **override}
    res = study.compare(inits=kw.pop("inits"), n_jobs=1, progress=False, **kw)
    return {(r["init"], r.get("activation")): r for r in res.table}, res


def test_preset_course_zeros_stay_symmetric_large_random_trains_poorly_he_trains():
    rows, res = _preset("course", steps=9000)  # the full course: tests/test_presets.py
    zeros = next(r for r in res.runs if r["config"]["init"] == "course:kind=zeros")
    assert zeros["final"]["val_acc"] == 0.5 and zeros["final"]["train_acc"] == 0.5
    assert np.allclose(zeros["loss_curve"]["loss"], np.log(2), atol=1e-6)  # the flat cost of the course
    he, rnd = rows[("course:kind=he", "relu")], rows[("course:kind=random", "relu")]
    assert rows[("course:kind=zeros", "relu")]["verdict"] == "symmetric"
    assert he["test_acc"] >= 0.93 and he["steps_to_target"]
    assert 0.6 < rnd["test_acc"] < he["test_acc"] and rnd["gradient_ratio"] > 1e2


def test_preset_linear_depth_explodes_and_vanishes_as_the_gain_to_the_depth():
    rows, _ = _preset("linear-depth", steps=1)
    ratio = {k[0]: r["gradient_ratio"] for k, r in rows.items()}
    # 10 hidden layers and the output one, all gain * I: the gradient at the first layer's input
    # is gain^10 times the one at the last layer's input.
    assert ratio["identity"] == pytest.approx(1.0)
    assert ratio["identity:gain=1.5"] == pytest.approx(1.5 ** 10, rel=1e-4)
    assert ratio["identity:gain=0.5"] == pytest.approx(0.5 ** 10, rel=1e-4)
    assert rows[("identity:gain=0.5", "identity")]["verdict"] == "vanishing"
    assert rows[("identity:gain=1.5", "identity")]["verdict"] == "exploding"  # the rate, 1.5 per layer


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


@pytest.mark.parametrize("jobs, delay, group", [("1", 4, True), ("2", 4, True), ("2", 4, False), ("2", 0, True)])
def test_ctrl_c_writes_the_runs_that_finished_and_exits_130(tmp_path, jobs, delay, group):
    """Ctrl-C reaches the whole process group; `kill -INT pid` the parent alone; delay 0: the
    moment the study opens its journal, as the pool's workers start (a fixed 0.3 s landed in
    Python's own start-up on a loaded machine, before any of our code runs)."""
    import os
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "fastinit", "compare", "--inits", "zeros,he_normal", "--seeds", "400",
                             "--steps", "1500", "--jobs", jobs, "--no-plots", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=python_env())
    if delay:
        time.sleep(delay)
    else:
        deadline = time.monotonic() + 60
        while not (tmp_path / "runs.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.005)
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
    pytest.importorskip("matplotlib")  # the first run writes the report
    argv = ["compare", "--inits", "he_normal", "--steps", "5", "--seeds", "1", "--jobs", "1", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    assert "earlier run" not in capsys.readouterr().out
    assert cli.main(argv + ["--no-plots"]) == 0
    assert f"note: {tmp_path / 'report.html'} and its figures are from an earlier run" in capsys.readouterr().out


def test_compare_without_matplotlib_writes_the_results_and_says_why_no_plots(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    assert cli.main(["compare", "--inits", "he_normal", "--steps", "5", "--seeds", "1", "--jobs", "1",
                     "--out", str(tmp_path)]) == 0
    assert "(no plots: plots need matplotlib: pip install 'fastinit[plot]')" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "results.json", "runs.jsonl"]


def test_activation_parameters_and_defaults_on_the_command_line(tmp_path, capsys):
    assert cli.main(["compare", "--activation", "leaky_relu:0.2", "--inits", "he_normal", "--seeds", "1",
                     "--steps", "20", "--jobs", "1", "--no-plots", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {r["config"]["activation"] for r in doc["runs"]} == {"leaky_relu:0.2"}
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {study.DEFAULTS['lr']})" in text and f"(default: {study.DEFAULTS['steps']})" in text
    assert ".npz" in text and ".csv" in text  # the file formats --dataset reads
    assert cli.main(["compare", "--sizes", "8", "--depth", "2", "--no-plots", "--out", str(tmp_path)]) == 2
    assert "not both" in capsys.readouterr().err


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


def test_no_ensemble_trains_each_run_alone_with_the_same_results(tmp_path):
    docs = []
    for flag in ([], ["--no-ensemble"]):
        out = tmp_path / ("alone" if flag else "ensembles")
        assert cli.main(["compare", "--inits", "zeros,he_normal", "--steps", "60", "--seeds", "2", "--jobs", "1",
                         "--eval-every", "20", "--batch-size", "50", "--no-plots", "--out", str(out)] + flag) == 0
        doc = json.loads((out / "results.json").read_text())
        for r in doc["runs"]:
            r.pop("seconds_to_target"), r.pop("wall_seconds")
            for e in r["evals"]:
                e.pop("time")
        for row in doc["table"]:
            row.pop("seconds_to_target")
        docs.append(doc)
    assert docs[0]["runs"] == docs[1]["runs"] and docs[0]["table"] == docs[1]["table"] and len(docs[0]["runs"]) == 4
