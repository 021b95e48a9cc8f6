"""The init study: train the same network from several initializations and seeds, measure what
each one does, and aggregate.

    >>> res = fastinit.study.compare("circles", ["zeros", "xavier_normal", "he_normal"], seeds=3)
    >>> print(res.format_table()); res.save("results/")

plan (the grid, checked; the defaults; the ensembles) -> run (one config, or an ensemble of
them: run_group) -> executor (compare: this process, a local process pool or any
concurrent.futures executor, e.g. a Dask cluster's
`Client(address).get_executor(pure=False)`) -> results (table, verdicts, JSON/CSV) -> plot,
report (HTML); presets; cli. Runs are independent and fully seeded, so a result does not depend
on which executor ran it or in what order.
"""
from fastinit.study import plot, report
from fastinit.study.executor import compare
from fastinit.study.plan import DEFAULT_INITS, DEFAULTS, GRID_KEYS, OPTIMIZERS, RunConfig, make_optimizer, plan
from fastinit.study.columns import COLUMNS, VERDICTS
from fastinit.study.results import StudyResult
from fastinit.study.run import initial_model, run, run_group

__all__ = ["COLUMNS", "DEFAULTS", "plot", "report", "DEFAULT_INITS", "GRID_KEYS", "OPTIMIZERS", "RunConfig", "StudyResult", "VERDICTS",
           "compare", "initial_model", "make_optimizer", "plan", "run", "run_group"]
