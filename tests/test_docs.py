"""Every ```python block of README.md and docs/*.md runs as written (issue 16, item 14): each is
written to a script file and run in its own interpreter, from an empty folder, against this
checkout's fastinit, so a snippet that leans on a name it never defines, on data fastinit does not
ship, or on an unguarded study (its workers rerun the script) fails here.

A block that is not meant to run (a fragment, or one that needs what a test machine lacks) says
so on its first line with `# not run: <why>`; this test skips exactly those, and lists them.
Blocks fenced as anything but python (bash, text) are not Python and are not run.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
NOT_RUN = "# not run:"


def _blocks():
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append(pytest.param(m.group(1), id=f"{doc.relative_to(ROOT)}:{line}"))
    return out


BLOCKS = _blocks()


def test_the_docs_have_python_blocks_to_run():
    assert len(BLOCKS) >= 3  # README's "Using it", docs/init.md, docs/theory.md at least


@pytest.mark.parametrize("code", BLOCKS)
def test_snippet_runs_as_written(code, tmp_path):
    if code.lstrip().startswith(NOT_RUN):
        pytest.skip(code.lstrip().splitlines()[0])
    script = tmp_path / "snippet.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
           "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"{code}\n--- stderr ---\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    # an unguarded study makes the workers rerun the script; the study then warns that it did
    assert "outside `if __name__" not in r.stderr
