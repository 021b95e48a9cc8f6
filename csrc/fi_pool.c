/* Task pool (see fi_pool.h): pthreads and C11 atomics. One job at a time: the caller publishes
   it under the mutex with a new generation, wakes the helpers and claims tasks itself. A claim
   is a compare-and-swap on one word holding (generation, next task), so a helper still holding
   an old job can never take a task of the next one. Helpers sleep on a condition variable
   between jobs (after a poll as long as a wake-up costs); the caller spins briefly, then
   yields, for tasks under way. Every job also times how long its first helper took to join,
   which keeps the pool's join estimate (fi_pool_join_us) current. */
#include "fi_pool.h"

#if defined(_WIN32) || defined(__STDC_NO_ATOMICS__)
void fi_pool_run(int nt, long ntasks, fi_task_fn fn, void *arg)
{
    (void)nt;
    for (long i = 0; i < ntasks; i++) fn(arg, i, 0);
}
double fi_pool_wake_us(int nt)
{
    (void)nt;
    return 0.0;
}
int fi_pool_threads(void) { return 0; }
int fi_pool_in_task(void) { return 0; }
double fi_pool_join_us(void) { return 0.0; }
void fi_pool_set_join_us(double us) { (void)us; }
int fi_pool_probe_due(void) { return 0; }
#else
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define FI_POOL_MAX 64 /* helper threads at most */
/* ticket = generation << GEN_SHIFT | next task: 2^24 tasks a job (a GEMM has a few hundred)
   and 2^40 generations, so a helper stalled with an old job would need 10^12 jobs to pass
   before its generation could match again. */
#define GEN_SHIFT 24
#define IDX_MASK ((UINT64_C(1) << GEN_SHIFT) - 1)

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t g_busy = PTHREAD_MUTEX_INITIALIZER; /* one caller at a time */
static int g_nhelpers = 0;
static int g_asleep = 0; /* helpers waiting on g_wake; under g_mu */
static uint64_t g_gen = 0; /* under g_mu */
static struct {
    fi_task_fn fn;
    void *arg;
    long ntasks;
    int nt;
} g_job;                       /* under g_mu */
static _Atomic uint64_t g_ticket; /* generation and next task */
static _Atomic long g_done;       /* tasks of the current job finished */
static _Atomic uint64_t g_gen_pub; /* g_gen, readable without the mutex by spinning helpers */
/* The join estimate: a running median of how long after a job is published its first helper
   starts looking for tasks, in ns (0: none yet). Written by callers only (one job at a time). */
static _Atomic long long g_join_ns;
static _Atomic long long g_arrived_ns; /* the current job's first helper arrival, 0 if none yet */
static _Atomic long long g_last_ns;    /* when the last job (or probe) was published */
static long long g_sample_ns;          /* the last job's join time and whether it was exact */
static int g_sample_exact;             /* (not a lower bound); under g_busy, for the calibration */
static int g_calibrating;              /* under g_busy: samples are the calibration's alone */

static long long now_ns(void);

/* Set while this thread runs a task of a job on more than one thread: a kernel called from
   it runs on this thread alone (the others are busy with their own tasks). */
static _Thread_local int t_in_task;

int fi_pool_threads(void) { return 1; }
int fi_pool_in_task(void) { return t_in_task; }

/* Claim and run tasks of generation gen until none is left. */
static void work(uint64_t gen, fi_task_fn fn, void *arg, long ntasks, int worker)
{
    uint64_t t = atomic_load_explicit(&g_ticket, memory_order_acquire);
    for (;;) {
        if ((t >> GEN_SHIFT) != (gen & ((UINT64_C(1) << (64 - GEN_SHIFT)) - 1))) return;
        const long i = (long)(t & IDX_MASK);
        if (i >= ntasks) return;
        if (!atomic_compare_exchange_weak_explicit(&g_ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* t reloaded */
        t_in_task = 1;
        fn(arg, i, worker);
        t_in_task = 0;
        atomic_fetch_add_explicit(&g_done, 1, memory_order_release);
        t = atomic_load_explicit(&g_ticket, memory_order_acquire);
    }
}

static void *helper(void *p)
{
    const int worker = (int)(intptr_t)p; /* 1.. */
    uint64_t seen = 0;
    pthread_mutex_lock(&g_mu);
    seen = g_gen;
    for (;;) {
        if (g_gen == seen) {
            g_asleep++;
            while (g_gen == seen) pthread_cond_wait(&g_wake, &g_mu);
            g_asleep--;
        }
        seen = g_gen;
        const fi_task_fn fn = g_job.fn;
        void *arg = g_job.arg;
        const long ntasks = g_job.ntasks;
        const int nt = g_job.nt;
        pthread_mutex_unlock(&g_mu);
        if (worker < nt) {
            long long none = 0;
            if (atomic_load_explicit(&g_gen_pub, memory_order_acquire) == seen)
                atomic_compare_exchange_strong(&g_arrived_ns, &none, now_ns());
            work(seen, fn, arg, ntasks, worker);
        }
        /* Poll for the next job as long as a join costs now (fi_pool_join_us): the products of
           one training step follow each other microseconds apart, and a wake-up per product
           made 2 threads slower than 1 there. Polling that long at most doubles the cost of a
           wake-up that was needed anyway; yielding between polls gives the core to any other
           runnable thread. */
        const long long spin_until = now_ns() + atomic_load_explicit(&g_join_ns, memory_order_relaxed);
        while (atomic_load_explicit(&g_gen_pub, memory_order_acquire) == seen && now_ns() < spin_until)
            sched_yield();
        pthread_mutex_lock(&g_mu);
    }
    return NULL;
}

/* A forked child (a study's pool worker) has none of the parent's helpers and may have copied
   a locked mutex: it starts from an empty pool. */
static void after_fork_child(void)
{
    pthread_mutex_init(&g_mu, NULL);
    pthread_mutex_init(&g_busy, NULL);
    pthread_cond_init(&g_wake, NULL);
    g_nhelpers = 0;
    g_asleep = 0;
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { (void)pthread_atfork(NULL, NULL, after_fork_child); }

/* Start helpers up to n (under g_busy); returns how many run. */
static int ensure_helpers(int n)
{
    pthread_once(&g_atfork_once, register_atfork);
    if (n > FI_POOL_MAX) n = FI_POOL_MAX;
    while (g_nhelpers < n) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        const int rc = pthread_create(&th, &at, helper, (void *)(intptr_t)(g_nhelpers + 1));
        pthread_attr_destroy(&at);
        if (rc != 0) break;
        g_nhelpers++;
    }
    return g_nhelpers;
}

/* One job's join time from sleep (exact), or a lower bound when no helper arrived before the
   caller had run every task (censored): the estimate steps towards it, a quarter octave at
   first and twice as far after each step the same way (up to an octave), back to a quarter at
   each turn. It settles on the median of recent jobs, follows the load as it changes, and
   mends a calibration spoilt by another process's burst in a few jobs rather than twenty. A
   lower bound below the estimate says nothing about it. Under g_busy: one writer. */
static void join_sample(long long ns, int exact)
{
    static int dir, step; /* the last step's direction (+1 up, -1 down) and size (1, 2, 4 quarters) */
    static const double up[5] = {1.0, 1.189207115, 1.414213562, 1.681792831, 2.0}; /* 2^(q/4) */
    g_sample_ns = ns;
    g_sample_exact = exact;
    if (g_calibrating) return;
    long long e = atomic_load_explicit(&g_join_ns, memory_order_relaxed);
    const int d = e <= 0 ? 0 : ns > e ? 1 : exact && ns < e ? -1 : 0;
    if (e <= 0) e = ns;
    if (d != 0) {
        step = d == dir && step < 4 ? 2 * step : d == dir ? 4 : 1;
        dir = d;
        e = d > 0 ? (long long)((double)e * up[step]) + 1 : (long long)((double)e / up[step]);
    }
    if (e < 100) e = 100;           /* 0.1 us: below any real wake-up */
    if (e > 10000000) e = 10000000; /* 10 ms: past a scheduler's time slice, the helper was not
                                       waking but waiting for a core */
    atomic_store_explicit(&g_join_ns, e, memory_order_relaxed);
}

void fi_pool_run(int nt, long ntasks, fi_task_fn fn, void *arg)
{
    if (ntasks <= 0) return;
    if (nt > ntasks) nt = (int)ntasks;
    if (nt <= 1 || ntasks > (long)IDX_MASK || pthread_mutex_trylock(&g_busy) != 0) {
        for (long i = 0; i < ntasks; i++) fn(arg, i, 0);
        return;
    }
    const int helpers = ensure_helpers(nt - 1);
    if (nt > helpers + 1) nt = helpers + 1;
    atomic_store_explicit(&g_arrived_ns, 0, memory_order_relaxed);
    const long long t0 = now_ns();
    atomic_store_explicit(&g_last_ns, t0, memory_order_relaxed);
    pthread_mutex_lock(&g_mu);
    /* Only a job that must wake its helpers measures the join: one found polling joins within
       a microsecond, which says nothing of what the next job after a pause will pay. */
    const int from_sleep = g_asleep == g_nhelpers;
    const uint64_t gen = ++g_gen;
    atomic_store_explicit(&g_gen_pub, gen, memory_order_release);
    g_job.fn = fn;
    g_job.arg = arg;
    g_job.ntasks = ntasks;
    g_job.nt = nt;
    atomic_store_explicit(&g_done, 0, memory_order_relaxed);
    atomic_store_explicit(&g_ticket, (gen & ((UINT64_C(1) << (64 - GEN_SHIFT)) - 1)) << GEN_SHIFT,
                          memory_order_release);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_mu);
    work(gen, fn, arg, ntasks, 0);
    /* Only tasks under way remain: a short spin, then yield the core to whoever holds it. */
    for (long spins = 0; atomic_load_explicit(&g_done, memory_order_acquire) < ntasks; spins++) {
        if (spins > 2000) sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
    const long long arrived = atomic_load_explicit(&g_arrived_ns, memory_order_acquire);
    if (from_sleep) join_sample(arrived ? arrived - t0 : now_ns() - t0, arrived != 0);
    pthread_mutex_unlock(&g_busy);
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

typedef struct {
    _Atomic int started;
    int nt;
    long long deadline;
} wake_job_t;

static void wake_task(void *arg, long task, int worker)
{
    (void)task, (void)worker;
    wake_job_t *j = (wake_job_t *)arg;
    atomic_fetch_add(&j->started, 1);
    while (atomic_load(&j->started) < j->nt && now_ns() < j->deadline) {
    }
}

static int cmp_ll(const void *a, const void *b)
{
    const long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

double fi_pool_wake_us(int nt)
{
    enum { REPS = 21 };
    if (nt <= 1) return 0.0;
    long long t[REPS];
    int n = 0;
    pthread_mutex_lock(&g_busy); /* no other job while the estimate is replaced */
    g_calibrating = 1;
    pthread_mutex_unlock(&g_busy);
    for (int r = 0; r <= REPS; r++) { /* r = 0 starts the helpers */
        /* 200 us apart, so the helpers have gone to sleep, as between a training step's products */
        const struct timespec gap = {0, 200000};
        nanosleep(&gap, NULL);
        wake_job_t j;
        atomic_init(&j.started, 0);
        j.nt = nt;
        /* Each task waits up to 1 ms for the others: a helper that has not come by then found
           its core taken (a busy process, another library's spinning threads), and the job
           records a lower bound, not a wake-up cost. */
        j.deadline = now_ns() + 1000000;
        fi_pool_run(nt, nt, wake_task, &j);
        if (r > 0 && g_sample_exact) t[n++] = g_sample_ns;
        g_sample_exact = 0;
    }
    pthread_mutex_lock(&g_busy);
    g_calibrating = 0;
    pthread_mutex_unlock(&g_busy);
    /* The median of the wake-ups seen; none seen in 21 tries: the core is taken, and the
       lower bound (1 ms) stands until jobs measure less. */
    qsort(t, (size_t)n, sizeof t[0], cmp_ll);
    atomic_store_explicit(&g_join_ns, n ? t[n / 2] : 1000000, memory_order_relaxed);
    return fi_pool_join_us();
}

double fi_pool_join_us(void) { return 1e-3 * (double)atomic_load_explicit(&g_join_ns, memory_order_relaxed); }

void fi_pool_set_join_us(double us)
{
    atomic_store_explicit(&g_join_ns, (long long)(us * 1e3), memory_order_relaxed);
}

int fi_pool_probe_due(void)
{
    /* A job every 100 join estimates: its cost, one join at most (less when the helper does
       not come: the caller runs every task), is 1% of the time between probes; and at least
       every 0.1 s, so that an estimate at its 10 ms cap comes down in seconds. */
    const long long last = atomic_load_explicit(&g_last_ns, memory_order_relaxed);
    const long long e = atomic_load_explicit(&g_join_ns, memory_order_relaxed);
    const long long now = now_ns();
    if (now - last < (100 * e < 100000000 ? 100 * e : 100000000)) return 0;
    atomic_store_explicit(&g_last_ns, now, memory_order_relaxed);
    return 1;
}
#endif
