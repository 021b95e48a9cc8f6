import json
import subprocess
import sys

import pytest

from fastinit import cli


def test_compare_end_to_end(tmp_path, capsys):
    rc = cli.main(["compare", "--inits", "zeros,he_normal", "--steps", "40", "--seeds", "1", "--jobs", "1",
                   "--eval-every", "20", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "he_normal" in out and "symmetric" in out and "steps to target" in out
    for name in ("results.json", "results.csv", "loss_curves.png", "activation_histograms.png",
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


@pytest.mark.parametrize("preset", sorted(cli.PRESETS))
def test_presets_are_valid_configurations(preset):
    cfg = dict(cli.PRESETS[preset])
    from fastinit import init

    for name in cfg["inits"]:
        init.get(name)
