/* A small task pool for kernels on a shared machine, the only threads of csrc (GEMM, the
   ensemble's members and lane groups, random fills). Owns the helper threads; no kernels.

   An OpenMP parallel region ends with a join: the caller waits until every thread of the team
   has arrived, including one that the OS has not yet run because other work holds its core.
   Beside busy processes that wait measured longer than the product (bench/bench_load.py). Here
   tasks are claimed one at a time from a shared counter; the caller (worker 0) claims too, and
   returns once every task has finished. A helper that wakes late finds nothing left and sleeps
   again: the caller waits only for tasks under way, never for a thread that has not run.
   Which thread runs a task never changes its arithmetic. */
#ifndef FI_POOL_H
#define FI_POOL_H

/* fn(arg, task, worker) for task in [0, ntasks), on at most nt threads; worker in [0, nt) names
   the thread (0 = the caller), for per-thread scratch. Tasks of one call may run in any order
   and at once. Called while another thread's call is under way, runs every task on the
   calling thread (worker 0). Without threads support: all on the caller. */
typedef void (*fi_task_fn)(void *arg, long task, int worker);
void fi_pool_run(int nt, long ntasks, fi_task_fn fn, void *arg);

/* 1 where the pool runs threads (pthreads and C11 atomics), 0 where every job runs on the
   caller. */
int fi_pool_threads(void);

/* 1 inside a task of a job running on more than one thread (kernels called there keep to
   their thread), else 0. */
int fi_pool_in_task(void);

/* Calibration: the median microseconds for nt - 1 sleeping helpers to wake and join a job
   over 21 jobs (each of nt tasks waits, up to 1 ms, until all nt have started; a helper not
   there by then found its core taken, and its job counts as no measurement). Seeds the join
   estimate with it (1000 if no helper came in time). 0 without threads support or for
   nt <= 1. Starts the helpers. */
double fi_pool_wake_us(int nt);

/* The join estimate, in microseconds: what threading costs a job beyond its work now. Every
   job times how long its first helper took to arrive and moves the estimate a quarter octave
   towards it (a running median: it follows the load on a shared machine, and a calibration
   spoilt by another process's passing burst mends itself). Helpers poll this long for the
   next job before they sleep. 0 until measured. */
double fi_pool_join_us(void);

/* For tests: set the join estimate (as a spoilt calibration or a heavy load would leave it). */
void fi_pool_set_join_us(double us);

/* 1 (and counted as done) when no job was published for 100 join estimates (0.1 s at most):
   then a caller
   that chose one thread for work below the threshold should run it on the pool anyway, so
   that the estimate is measured again (one join's cost, 1% of the time between probes, buys
   a threshold that recovers when the load goes away). Else 0. */
int fi_pool_probe_due(void);

#endif
