/* Task pool (see fi_pool.h): pthreads and C11 atomics. One job at a time: the caller publishes
   it under the mutex with a new generation, wakes the helpers and claims tasks itself. A claim
   is a compare-and-swap on one word holding (generation, next task), so a helper still holding
   an old job can never take a task of the next one. Helpers sleep on a condition variable
   between jobs (no spinning); the caller spins briefly, then yields, for tasks under way. */
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
double fi_pool_spin_us(void) { return 0.0; }
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
static _Atomic long g_spin_ns;     /* how long a helper polls for the next job before sleeping */

static double now_us(void);

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
        fn(arg, i, worker);
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
        while (g_gen == seen) pthread_cond_wait(&g_wake, &g_mu);
        seen = g_gen;
        const fi_task_fn fn = g_job.fn;
        void *arg = g_job.arg;
        const long ntasks = g_job.ntasks;
        const int nt = g_job.nt;
        pthread_mutex_unlock(&g_mu);
        if (worker < nt) work(seen, fn, arg, ntasks, worker);
        /* Poll for the next job as long as being woken from sleep costs (fi_pool_spin_us):
           the products of one training step follow each other microseconds apart, and a
           wake-up per product made 2 threads slower than 1 there. Polling that long at most
           doubles the cost of a wake-up that was needed anyway; yielding between polls gives
           the core to any other runnable thread. */
        const double spin_until = now_us() + 1e-3 * (double)atomic_load_explicit(&g_spin_ns, memory_order_relaxed);
        while (atomic_load_explicit(&g_gen_pub, memory_order_acquire) == seen && now_us() < spin_until)
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
    pthread_mutex_lock(&g_mu);
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
    pthread_mutex_unlock(&g_busy);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

typedef struct {
    _Atomic int started;
    int nt;
    double deadline;
} wake_job_t;

static void wake_task(void *arg, long task, int worker)
{
    (void)task, (void)worker;
    wake_job_t *j = (wake_job_t *)arg;
    atomic_fetch_add(&j->started, 1);
    while (atomic_load(&j->started) < j->nt && now_us() < j->deadline) {
    }
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double fi_pool_wake_us(int nt)
{
    enum { REPS = 21 };
    if (nt <= 1) return 0.0;
    double t[REPS + 1];
    for (int r = 0; r <= REPS; r++) { /* r = 0 starts the helpers */
        /* 200 us apart, so the helpers have gone to sleep, as between a training step's products */
        const struct timespec gap = {0, 200000};
        nanosleep(&gap, NULL);
        wake_job_t j;
        atomic_init(&j.started, 0);
        j.nt = nt;
        const double t0 = now_us();
        j.deadline = t0 + 1000.0;
        fi_pool_run(nt, nt, wake_task, &j);
        t[r] = now_us() - t0;
    }
    qsort(t + 1, REPS, sizeof t[0], cmp_double);
    /* The poll lasts as long as the fastest wake-up: what the OS path costs with the core
       free. The median, which the threading rule uses, also counts waits for a core that other
       processes hold; polling longer would not shorten those. */
    atomic_store_explicit(&g_spin_ns, (long)(t[1] * 1e3), memory_order_relaxed);
    return t[1 + REPS / 2];
}

double fi_pool_spin_us(void) { return 1e-3 * (double)atomic_load_explicit(&g_spin_ns, memory_order_relaxed); }
#endif
