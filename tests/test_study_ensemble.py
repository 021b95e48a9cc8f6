"""The study trains its runs as ensembles (issue 14): each member's record is the one run(cfg)
gives alone, seconds aside, whatever the grouping; compare(ensemble=False) keeps one fit per
run and gives the same study; the journal, resume and the pool decision keep working."""
import concurrent.futures as cf
import json
import sys

import pytest

import fastinit.ensemble
from fastinit import study
from fastinit.study import executor
from fastinit.study.run import run, run_group

plan_module = sys.modules["fastinit.study.plan"]  # the package exports the function plan() by that name


def _strip(runs):
    """The runs as JSON without wall-clock times (all that may differ)."""
    out = json.loads(json.dumps(runs, default=float))
    for r in out:
        r.pop("seconds_to_target")
        r.pop("wall_seconds")
        for e in r["evals"]:
            e.pop("time")
    return out


def _untimed(table):
    return [{k: v for k, v in row.items() if k != "seconds_to_target"} for row in table]


#: Batches, shuffled; tanh and relu; a data-dependent init (lsuv); lr 20 diverges.
BATCHED = dict(sizes=[24, 24], activation=["tanh", "relu"], inits=["lsuv", "he_normal", "random_large"],
               lr=[0.05, 20.0], batch_size=64, steps=150, eval_every=30, seeds=2, target=0.7)


def test_each_member_gets_the_record_its_solo_run_gives_whatever_the_grouping():
    cfgs, _ = study.plan()  # the default study: one group of 15
    solo = _strip([run(c) for c in cfgs])
    assert _strip(run_group(cfgs)) == solo
    split = [cfgs[:1], cfgs[1:5], cfgs[5:]]
    assert _strip([r for part in split for r in run_group(part)]) == solo
    assert _strip([r for part in reversed(split) for r in run_group(part)]) == solo[5:] + solo[1:5] + solo[:1]


@pytest.mark.parametrize("dataset", ["spirals", "mnist1d"])
def test_ensembles_and_single_runs_give_the_same_study(dataset):
    if dataset == "mnist1d":
        pytest.importorskip("mnist1d")
    kw = dict(BATCHED, dataset=dataset, n_jobs=1, progress=False)
    with pytest.warns(RuntimeWarning, match="diverged"):
        ens = study.compare(**kw)
    with pytest.warns(RuntimeWarning, match="diverged"):
        solo = study.compare(ensemble=False, **kw)
    assert _strip(ens.runs) == _strip(solo.runs) and _untimed(ens.table) == _untimed(solo.table)
    assert ens.format_table().count("\n") == solo.format_table().count("\n")
    assert any(r["diverged"] for r in ens.runs) and not all(r["diverged"] for r in ens.runs)
    assert {r["config"]["init"] for r in ens.runs} == {"lsuv", "he_normal", "random_large"}
    assert ens.warnings() == solo.warnings() and ens.warnings()


def test_the_default_study_is_the_same_with_and_without_ensembles():
    ens = study.compare(n_jobs=1, progress=False)
    solo = study.compare(n_jobs=1, progress=False, ensemble=False)
    assert _strip(ens.runs) == _strip(solo.runs) and _untimed(ens.table) == _untimed(solo.table)


def test_chunks_on_threads_and_processes_change_no_number():
    kw = dict(BATCHED, dataset="spirals", activation="tanh", lr=0.05, progress=False)
    local = study.compare(n_jobs=1, **kw)
    with cf.ThreadPoolExecutor(3) as ex:
        threaded = study.compare(executor=ex, n_jobs=5, **kw)  # n_jobs: how many chunks to make
    pooled = study.compare(n_jobs=2, **kw)
    assert _strip(local.runs) == _strip(threaded.runs) == _strip(pooled.runs)


def test_groups_split_by_what_members_must_share_and_balance_the_chunks(monkeypatch):
    cfgs, _ = study.plan(activation=["relu", "tanh"], lr=[0.1, 0.5], seeds=3)  # 5 inits x 3 seeds x 2 x 2
    keys = {plan_module.group_key(c) for c in cfgs}
    assert len(keys) == 2  # lr, init and seed are each member's own; the activation is not
    whole = plan_module.groups(cfgs)
    assert sorted(len(g) for g in whole) == [30, 30]
    for g in whole:
        assert len({plan_module.group_key(cfgs[i]) for i in g}) == 1
    four = plan_module.groups(cfgs, workers=4)
    assert len(four) == 4 and sorted(i for g in four for i in g) == list(range(60))
    monkeypatch.setattr(fastinit.ensemble, "lane_width", lambda dtype: 0)  # the ref set: no lanes
    timed = plan_module.groups(cfgs, workers=2, seconds=lambda c: 0.1, quantum=0.45)  # 3 s a group: 7 chunks
    assert len(timed) == 14 and {len(g) for g in timed} == {4, 5}
    monkeypatch.setattr(fastinit.ensemble, "lane_width", lambda dtype: 8)  # the quantum yields to full lanes
    laned = plan_module.groups(cfgs, workers=2, seconds=lambda c: 0.1, quantum=0.45)
    assert len(laned) == 6 and {len(g) for g in laned} == {10}
    monkeypatch.setattr(fastinit.ensemble, "lane_width", lambda dtype: 16)  # but every worker stays busy
    busy = plan_module.groups(cfgs, workers=4, seconds=lambda c: 0.1, quantum=0.45)
    assert len(busy) == 4 and {len(g) for g in busy} == {15}
    some = plan_module.groups(cfgs, [1, 2, 3, 40], workers=1)
    by_key = {}
    for i in (1, 2, 3, 40):
        by_key.setdefault(plan_module.group_key(cfgs[i]), []).append(i)
    assert sorted(map(list, some)) == sorted(by_key.values()) and len(by_key) == 2


def test_a_pool_of_our_own_starts_only_when_it_pays(monkeypatch):
    started = []

    class Pool(cf.ThreadPoolExecutor):  # counts the pools compare() starts, runs them on threads
        def __init__(self, max_workers, **kw):
            started.append(max_workers)
            super().__init__(max_workers)

    monkeypatch.setattr(executor.cf, "ProcessPoolExecutor", Pool)
    small = dict(inits=["he_normal"], sizes=[4], steps=20, seeds=2, progress=False)
    study.compare(n_jobs=None, **small)
    assert started == []  # milliseconds of work: not worth a worker's start-up
    monkeypatch.setattr(executor, "_run_seconds", lambda cfg, ensemble: 10.0)  # as if each run took 10 s
    study.compare(n_jobs=None, **small)
    assert len(started) == 1
    study.compare(n_jobs=2, **{**small, "inits": ["xavier_normal"]})  # asked for: always
    assert started[1:] == [2]


def test_resume_runs_only_the_members_not_journaled(tmp_path, monkeypatch):
    kw = dict(inits=["he_normal", "xavier_normal"], sizes=[8], steps=60, eval_every=20, seeds=3, n_jobs=1,
              progress=False)
    whole = study.compare(journal=str(tmp_path), **kw)
    path = tmp_path / "runs.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) == 6
    path.write_text("\n".join(lines[:1] + lines[4:5]) + "\n")  # two members of different ensembles kept
    ran = []
    real = executor.run_group
    monkeypatch.setattr(executor, "run_group",  # counting the study's runs, not the calibration's short ones
                        lambda cfgs: ran.append(sum(c.steps == 60 for c in cfgs)) or real(cfgs))
    resumed = study.compare(resume=str(tmp_path), **kw)
    assert sum(ran) == 4 and len(path.read_text().splitlines()) == 6
    assert _strip(resumed.runs) == _strip(whole.runs)
