"""StudyResult's JSON: what save() writes reads back as the same result; what is no result is
refused with a message."""
import json

import numpy as np
import pytest

from fastinit import study


@pytest.fixture(scope="module")
def result():
    return study.compare(inits=["he_normal", "zeros"], seeds=2, steps=100, eval_every=50, progress=False, n_jobs=1)


def test_json_round_trip_gives_the_same_result(result, tmp_path):
    text = result.to_json()
    back = study.StudyResult.from_json(text)
    assert back.runs == json.loads(json.dumps(result.runs, default=lambda v: v.item() if isinstance(v, np.generic)
                                              else v.tolist()))
    assert back.table == result.table and back.settings == json.loads(json.dumps(result.settings, default=str))
    lines = text.splitlines()  # settings, table, then one run a line (readable, diffable)
    assert lines[0].startswith('{"settings": ') and lines[1].startswith('"table": ') and lines[2] == '"runs": ['
    assert len(lines) == 3 + len(result.runs) + 1
    paths = result.save(tmp_path)
    assert study.StudyResult.from_json(open(paths["json"]).read()).table == result.table


@pytest.mark.parametrize("text, says", [
    ('[1, 2]', "no list of runs"),
    ('{"runs": [], "settings": 3}', "settings is no object"),
    ('{"runs": [3]}', "run 0 is no object"),
    ('{"runs": [{"config": {}}]}', "lacks or garbles"),
])
def test_from_json_refuses_what_is_no_result(text, says):
    with pytest.raises(ValueError, match=says):
        study.StudyResult.from_json(text)
