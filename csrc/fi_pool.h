/* A small task pool for kernels on a shared machine. Owns the helper threads; no kernels.

   OpenMP's parallel region ends with a join: the caller waits until every thread of the team
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

/* Median microseconds for nt - 1 sleeping helpers to wake and join a job (each of nt tasks
   waits, up to 1 ms, until all nt have started): what threading costs a product beyond its
   arithmetic. 0 without threads support or for nt <= 1. Starts the helpers. */
double fi_pool_wake_us(int nt);

/* How long a helper polls for the next job after one ends before it sleeps, in microseconds:
   the fastest wake-up that fi_pool_wake_us measured (0 until it has run). */
double fi_pool_spin_us(void);

#endif
