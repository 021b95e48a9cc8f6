/* GEMM frame instantiated for float and double, plus the per-thread packing buffers. */
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fi_cpu.h"
#include "fi_pool.h"
#include "gemm/fi_gemm.h"
#include "gemm/gemm_kernels.h"


/* Threads one product uses at most (per-worker state in the blocked path). */
#define FI_GEMM_MAX_THREADS 64

/* One growing, 64-byte aligned buffer per calling thread, freed when the thread exits, so no
   call allocates once sizes are stable and concurrent callers never share a buffer. */
#if defined(_WIN32)
static __declspec(thread) void *tls_buf;
static __declspec(thread) size_t tls_cap;
static void *aligned_grow(size_t bytes)
{
    _aligned_free(tls_buf);
    tls_buf = _aligned_malloc(bytes, 64);
    tls_cap = tls_buf ? bytes : 0;
    return tls_buf;
}
static void *fi_gemm_buffer(size_t bytes) { return bytes <= tls_cap ? tls_buf : aligned_grow(bytes); }
#else
#include <pthread.h>
typedef struct { void *ptr; size_t cap; } tls_slot_t;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static void tls_free(void *p)
{
    tls_slot_t *s = (tls_slot_t *)p;
    free(s->ptr);
    free(s);
}
static void tls_init(void) { (void)pthread_key_create(&tls_key, tls_free); }
static void *fi_gemm_buffer(size_t bytes)
{
    pthread_once(&tls_once, tls_init);
    tls_slot_t *s = (tls_slot_t *)pthread_getspecific(tls_key);
    if (!s) {
        s = (tls_slot_t *)calloc(1, sizeof *s);
        if (!s || pthread_setspecific(tls_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (bytes > s->cap) {
        void *p = NULL;
        bytes = bytes + bytes / 4; /* headroom: a slightly larger call does not reallocate */
        if (posix_memalign(&p, 64, bytes) != 0) return NULL;
        free(s->ptr);
        s->ptr = p;
        s->cap = bytes;
    }
    return s->ptr;
}
#endif

#define FI_DTYPE 32
#include "gemm/frame_impl.h"

#define FI_DTYPE 64
#include "gemm/frame_impl.h"

long long fi_gemm_small_limit(int f64)
{
    return f64 ? small_limit_d(fi_gemm_ctx(), 1) : small_limit_s(fi_gemm_ctx(), 1);
}
