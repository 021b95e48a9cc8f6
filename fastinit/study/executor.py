"""Running a study's configs: compare() on a local process pool of our own or any
concurrent.futures executor (Dask's too). Every process-pool, Ctrl-C and private-attribute
detail of the study lives in this file."""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import importlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings


from fastinit import _progress as _progress_bar
from fastinit import _validate, init, runtime
from fastinit.study.plan import DEFAULTS, adopt, group_key, groups, loaded, plan  # noqa: F401  (DEFAULTS: the CLI)
from fastinit.study.journal import Journal
from fastinit.study.results import StudyResult
from fastinit.study.run import run, run_group

#: CPU seconds this process had spent when the study's code was imported: the interpreter's
#: start and the imports, what each worker of a pool of our own repeats before its first run.
_START_UP = time.process_time()

_POOL_WORKER = False  # True in the processes of compare's own pool
_UNGUARDED_MARK = "FASTINIT_UNGUARDED_MARK"  # environment: the file a worker leaves (see compare)


def _worker_init(datasets):
    global _POOL_WORKER
    runtime.set_num_threads(1)  # one process per core: no nested threading
    _POOL_WORKER = True
    adopt(datasets)  # the parent's, not built again (plan.loaded)
    # Ctrl-C reaches every process of the terminal. An idle worker ignores it, so the pool never
    # breaks; a busy one stops its run (_run_importing) and the parent keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def compare(dataset=DEFAULTS["dataset"], inits=DEFAULTS["inits"], *, executor=None, n_jobs=None, progress=True,
            journal=None, resume=None, ensemble=True, **options) -> StudyResult:
    """Run the study `plan(dataset, inits, **options)` describes and return a StudyResult.

    options: sizes or depth/width, activation, output, optimizer, lr, momentum, batch_size,
    steps or epochs, seeds, target, eval_every, dataset_params (see plan). executor: any
    concurrent.futures.Executor (e.g. a Dask client's get_executor(pure=False)); default a
    local process pool of n_jobs processes (all cores). Its workers start by running the main
    script again (spawn): a script calling compare() outside `if __name__ == "__main__":` gets
    its runs done in its own process instead, with a RuntimeWarning.
    Ctrl-C (KeyboardInterrupt) stops the study and keeps what finished: the result holds the
    finished runs, settings["interrupted"] says how many (a RuntimeWarning too); with none
    finished, the KeyboardInterrupt propagates.
    journal: a folder (checked and created before the first run) where each finished run is
    appended to runs.jsonl as it finishes; resume: such a folder, whose runs are taken as done
    (the others run and are appended): a study killed halfway resumes, with the result an
    uninterrupted one gives (runs are fully seeded).
    ensemble: train the runs that share architecture, data and batch schedule (plan.group_key)
    as Ensembles (fastinit.ensemble.fit_ensemble), split into chunks over the workers
    (plan.groups); each run's record is the one run(cfg) gives, seconds aside (a member's
    seconds are its own steps' in C). False: one fit per run, as before ensembles. n_jobs None:
    a pool of our own starts only when the measured start-up of its workers costs less than
    the parallel part saves (a short calibration: two short runs of each group, timed).
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker of our pool is importing the script that started it (spawn does), and the
        # script calls compare() unguarded: leave quietly, marked; the parent runs the study itself.
        if os.environ.get(_UNGUARDED_MARK):
            open(os.environ[_UNGUARDED_MARK], "w").close()
        raise SystemExit(1)
    if n_jobs is not None:
        _validate.integer("n_jobs", n_jobs, low=1)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (with submit), got {type(executor).__name__}")
    if journal is not None and resume is not None:
        raise ValueError("give journal (a new study) or resume (a study to finish), not both")
    configs, settings = plan(dataset, inits, **options)
    jr = None if journal is None and resume is None else Journal(resume if resume is not None else journal,
                                                                 resume=resume is not None)
    try:
        done = [None] * len(configs) if jr is None else [jr.done(c) for c in configs]
        runs = _execute(configs, executor, n_jobs, progress, done, None if jr is None else
                        (lambda done: jr.add([(configs[i], rec) for i, rec in done])), ensemble=ensemble)
    finally:
        if jr is not None:
            jr.close()
    if None in runs:
        done = [r for r in runs if r is not None]
        if not done:
            raise KeyboardInterrupt
        settings["interrupted"] = f"{len(done)} of {len(runs)} runs finished"
        warnings.warn(f"fastinit.study.compare: interrupted with {settings['interrupted']}; the result "
                      f"holds those", RuntimeWarning, stacklevel=2)
        runs = done
    result = StudyResult(runs, settings)
    said = result.warnings()
    if said:  # once, after the runs (a worker's own would interleave with the progress bar)
        warnings.warn(f"fastinit.study.compare: {len(said)} warning(s) from the runs (result.warnings()): "
                      + "; ".join(said[:3]) + ("; ..." if len(said) > 3 else ""), RuntimeWarning, stacklevel=2)
    return result


def _run_importing(modules, cfgs, ensemble):
    """The records of cfgs (one task) in a worker, after importing the modules that registered
    the user's init schemes ("__main__" is left to the process start, which runs a main
    script again)."""
    for m in modules:
        if m != "__main__":
            importlib.import_module(m)
    for cfg in cfgs:
        try:
            init.get(cfg.init)
        except ValueError:
            if "__main__" not in modules:
                raise
            raise ValueError(f"init scheme {cfg.init!r} is unknown in this worker: it was registered by the main "
                             f"script or session that submitted the study, which a worker process cannot import. "
                             f"Register it in a module the workers can import, or use a thread pool") from None
    if not _POOL_WORKER:
        return _task(cfgs, ensemble)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _task(cfgs, ensemble)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _task(cfgs, ensemble):
    """The records of one task: an ensemble of cfgs, or the one run of cfgs[0]."""
    return run_group(cfgs) if ensemble else [run(cfgs[0])]


def _pool_pays(seconds, n_jobs) -> bool:
    """Whether a pool of n_jobs processes of our own finishes `seconds` of runs (CPU seconds,
    estimated by _run_seconds) sooner than this process alone, against its measured start-up."""
    # A worker repeats our start-up (_START_UP); spawning it, sending the records back and
    # shutting the pool down cost about as much again (0.55 s to a ready pool of two here, for a
    # start-up of 0.27 s).
    return 2 * _START_UP + seconds / n_jobs < seconds


def _run_seconds(cfg, ensemble) -> float:
    """About how many CPU seconds a run of cfg takes here, from two short runs of a twin (one
    and two evaluation periods: the fixed cost and a period's) trained the way the study will
    train it. Its init is he_normal: the time does not depend on it, and a user's scheme runs
    in the workers only."""
    period = min(cfg.eval_every, cfg.steps)
    twin = dataclasses.replace(cfg, init="he_normal", steps=period)
    one = min(_seconds(_task, [twin], ensemble) for _ in range(2))  # the first one warms caches up
    each = max(_seconds(_task, [dataclasses.replace(twin, steps=2 * period)], ensemble) - one, 0.0)
    return max(one - each, 0.0) + each * cfg.steps / period


def _seconds(fn, *args) -> float:
    with warnings.catch_warnings():  # a throwaway model's warnings are nobody's
        warnings.simplefilter("ignore")
        t0 = time.process_time()  # CPU time, as _START_UP: a loaded machine slows both alike
        fn(*args)
        return time.process_time() - t0


def _execute(configs, executor, n_jobs, progress, done=None, on_done=None, ensemble=True):
    """The runs' records in config order; None for a run that never finished (Ctrl-C). done:
    records known already (None for the runs to do); on_done([(i, record), ...]) as each task
    finishes. ensemble: the runs to do go in tasks of plan.groups (one Ensemble each), else one
    a task."""
    results = list(done) if done is not None else [None] * len(configs)
    on_done = on_done or (lambda done: None)
    todo = [i for i, r in enumerate(results) if r is None]
    auto, n_jobs = n_jobs is None, n_jobs or (os.cpu_count() or 1)

    estimates: dict = {}

    def seconds(cfg):  # a run's time, estimated once per group (3 evaluation periods of one run)
        key = group_key(cfg)
        if key not in estimates:
            estimates[key] = _run_seconds(cfg, ensemble)
        return estimates[key]

    def tasks(workers):  # chunks of about a worker's start-up worth of work, at least one a worker;
        # here (one worker) as many members as threads, which the ensemble splits
        threads = runtime.get_num_threads() if workers == 1 else 1
        return groups(configs, todo, workers, seconds, _START_UP, threads) if ensemble else [(i,) for i in todo]

    def serial():  # the tasks not done yet, here; Ctrl-C keeps what finished
        try:
            for task in _progress(tasks(1), progress, len(todo)):
                if results[task[0]] is None:
                    finished = list(zip(task, _task([configs[i] for i in task], ensemble)))
                    for i, rec in finished:
                        results[i] = rec
                    on_done(finished)
        except KeyboardInterrupt:
            pass
        return results

    modules = tuple(sorted(m for m in {init.module_of(c.init) for c in configs} if not m.startswith("fastinit.")))
    if not todo:
        return results
    if executor is not None:
        return _collect(executor, modules, configs, tasks(n_jobs), results, progress, ensemble, on_done=on_done)
    if n_jobs == 1:
        return serial()
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if "__main__" in modules and not (main_file and os.path.isfile(main_file)):
        warnings.warn("fastinit.study.compare: an init scheme of this study is registered in this "
                      "interactive session, which worker processes cannot see; running the "
                      f"{len(configs)} runs in this process instead. Register it in a module to use "
                      f"{n_jobs} processes.", RuntimeWarning, stacklevel=3)
        return serial()
    if main_file and not os.path.isfile(main_file):  # python - < script.py: workers cannot rerun it
        warnings.warn(f"fastinit.study.compare: worker processes start by running the main script, and "
                      f"{main_file} is no file; running the {len(configs)} runs in this process instead. "
                      f"Run a script file to use {n_jobs} processes.", RuntimeWarning, stacklevel=3)
        return serial()
    if auto and not _pool_pays(sum(seconds(configs[i]) for i in todo), n_jobs):
        return serial()
    # A worker that finds the main script calling compare() unguarded (see compare) leaves this
    # mark before it exits, so a pool broken that way is told from one broken by a crash.
    mark_dir = tempfile.mkdtemp(prefix="fastinit-")
    mark = os.path.join(mark_dir, "unguarded")
    try:
        return _collect(None, modules, configs, tasks(n_jobs), results, progress, ensemble, n_jobs=n_jobs, mark=mark,
                        on_done=on_done)
    except cf.process.BrokenProcessPool:
        if not os.path.exists(mark):
            raise
        warnings.warn(f"fastinit.study.compare: the worker processes stopped as they ran "
                      f"{os.path.basename(main_file)} again, which calls compare() outside "
                      f"`if __name__ == \"__main__\":`; running the unfinished runs in this process instead. "
                      f"Guard the call to use {n_jobs} processes.", RuntimeWarning, stacklevel=3)
        todo = [i for i, r in enumerate(results) if r is None]
        return serial()
    finally:
        shutil.rmtree(mark_dir, ignore_errors=True)


def _collect(executor, modules, configs, tasks, results, progress, ensemble, *, n_jobs=None, mark=None,
             on_done=None):
    """Run the tasks (tuples of config indices) on `executor`, or on a pool of our own (n_jobs
    spawned processes), into results. Ctrl-C cancels what has not started and keeps what
    finished."""
    on_done = on_done or (lambda done: None)
    own = None
    futures = {}

    def keep(fut):
        finished = list(zip(futures[fut], fut.result()))
        for i, rec in finished:
            results[i] = rec
        on_done(finished)

    def submit(ex):
        return {ex.submit(_run_importing, modules, [configs[i] for i in t], ensemble): t for t in tasks}

    try:
        if executor is None:
            # The workers start with Ctrl-C ignored (they inherit it), so one that arrives while
            # they import cannot break the pool; each run turns it back on (_run_importing).
            main = threading.current_thread() is threading.main_thread()
            old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
            os.environ[_UNGUARDED_MARK] = mark
            try:
                own = executor = cf.ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init,
                                                        initargs=(loaded(configs),),
                                                        mp_context=multiprocessing.get_context("spawn"))
                futures = submit(executor)
            finally:
                del os.environ[_UNGUARDED_MARK]
                if old is not None:
                    signal.signal(signal.SIGINT, old)
        else:
            futures = submit(executor)
        for fut in _progress(cf.as_completed(futures), progress, sum(len(t) for t in tasks), lambda f: len(futures[f])):
            keep(fut)
        return results
    except KeyboardInterrupt:
        if own is not None:  # Ctrl-C sent to this process alone still stops the runs under way
            for pid in list(getattr(own, "_processes", None) or ()):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)
        for fut, task in futures.items():
            if not fut.cancel() and fut.done() and fut.exception() is None and results[task[0]] is None:
                keep(fut)
        return results
    finally:
        if own is not None:  # after a failure, do not wait for the runs still queued
            own.shutdown(wait=all(f.done() for f in futures), cancel_futures=True)


def _progress(it, enabled, total, size=lambda item: len(item)):
    """`it`, counting its items' runs (size(item)) on a progress bar where someone watches (see
    fastinit._progress)."""
    bar = _progress_bar.bar(enabled, total, "run")
    if bar is None:
        yield from it
        return
    try:
        for x in it:
            yield x
            bar.update(size(x))
    finally:
        bar.close()
