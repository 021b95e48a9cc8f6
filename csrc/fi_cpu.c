/* CPU detection, the kernel context and the thread count (see fi_cpu.h). The thread count is a
   relaxed atomic global set under the GIL at import or by set_num_threads, so the setting holds
   for calls from any Python thread. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#include "fi_common.h"

#include "fi_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fi_cpu_fma.h"
#include "fi_pool.h"

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#ifndef FI_BUILD_FLAGS
#define FI_BUILD_FLAGS "unknown"
#endif

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define FI_X86_GNU 1
#include <cpuid.h>
#else
#define FI_X86_GNU 0
#endif

/* The SIMD sets compiled in: the same conditions as the kernel files (gemm/ukr_*.c, fi_act_*.c). */
#define FI_BUILT_AVX FI_X86_GNU
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define FI_BUILT_NEON 1
#else
#define FI_BUILT_NEON 0
#endif

static int g_num_threads = 1;

int fi_cpu_has_avx2_fma(void)
{
#if FI_X86_GNU
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fi_cpu_has_avx512(void)
{
#if FI_X86_GNU
    __builtin_cpu_init(); /* libgcc/compiler-rt also check that the OS saves the zmm state */
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}


/* ---- detection ---------------------------------------------------------------------------- */

static fi_cpu_info_t g_info;
static int g_info_done = 0;

#if FI_X86_GNU
static void cpuid_identity(fi_cpu_info_t *ci)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(ci->vendor, &b, 4);
    memcpy(ci->vendor + 4, &d, 4);
    memcpy(ci->vendor + 8, &c, 4);
    ci->vendor[12] = '\0';
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        const int fam = (int)((a >> 8) & 0xf), model = (int)((a >> 4) & 0xf);
        const int xfam = (int)((a >> 20) & 0xff), xmodel = (int)((a >> 16) & 0xf);
        ci->family = fam == 0xf ? fam + xfam : fam;
        ci->model = fam == 0x6 || fam == 0xf ? (xmodel << 4) + model : model;
    }
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000004u) {
        unsigned w[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &w[4 * i], &w[4 * i + 1], &w[4 * i + 2], &w[4 * i + 3]);
        memcpy(ci->brand, w, 48);
        ci->brand[48] = '\0';
        /* trim the padding spaces */
        char *s = ci->brand;
        while (*s == ' ') s++;
        memmove(ci->brand, s, strlen(s) + 1);
        for (size_t n = strlen(ci->brand); n > 0 && ci->brand[n - 1] == ' '; n--) ci->brand[n - 1] = '\0';
    }
}

/* Deterministic cache parameters, Intel leaf 4 or AMD leaf 0x8000001D (same layout). 1 if any
   data or unified cache was found. */
static int cpuid_caches(fi_cpu_info_t *ci, unsigned leaf)
{
    unsigned a, b, c, d, max;
    __cpuid(leaf & 0x80000000u, max, b, c, d);
    if (max < leaf) return 0;
    int found = 0;
    for (unsigned i = 0; i < 16; i++) {
        __cpuid_count(leaf, i, a, b, c, d);
        const unsigned type = a & 0x1f, level = (a >> 5) & 0x7;
        if (type == 0) break;
        if (type == 2) continue; /* instruction cache */
        const long long size = (long long)(((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1) *
                               ((b & 0xfff) + 1) * ((long long)c + 1);
        if (level == 1) {
            ci->l1d = size;
            ci->l1d_ways = (int)((b >> 22) & 0x3ff) + 1;
        }
        if (level == 2) ci->l2 = size;
        if (level == 3) {
            ci->l3 = size;
            ci->l3_sharing = (int)((a >> 14) & 0xfff) + 1;
        }
        found = 1;
    }
    return found && ci->l2 > 0;
}
#endif

/* Linux sysfs, for CPUs whose CPUID lacks the leaves (or non-x86). */
static int sysfs_caches(fi_cpu_info_t *ci)
{
    int found = 0;
    for (int i = 0; i < 8; i++) {
        char path[96], buf[64];
        int level = 0;
        long long size = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        const int is_instr = fgets(buf, sizeof buf, f) && !strncmp(buf, "Instruction", 11);
        fclose(f);
        if (is_instr) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%d", &level) != 1) level = 0;
            fclose(f);
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if ((f = fopen(path, "r"))) {
            char unit = 'K';
            if (fscanf(f, "%lld%c", &size, &unit) >= 1)
                size *= unit == 'M' ? 1024 * 1024 : unit == 'K' ? 1024 : 1;
            fclose(f);
        }
        if (level == 1) {
            ci->l1d = size;
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/ways_of_associativity", i);
            if ((f = fopen(path, "r"))) {
                if (fscanf(f, "%d", &ci->l1d_ways) != 1) ci->l1d_ways = 0;
                fclose(f);
            }
        }
        if (level == 2) ci->l2 = size;
        if (level == 3) ci->l3 = size;
        found |= size > 0;
    }
    return found && ci->l2 > 0;
}

static void detect(fi_cpu_info_t *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->family = ci->model = -1;
    ci->l3_sharing = 0;
    ci->has_avx2_fma = fi_cpu_has_avx2_fma();
    ci->has_avx512 = fi_cpu_has_avx512();
    ci->cache_source = "none";
#if FI_X86_GNU
    cpuid_identity(ci);
    if (!strcmp(ci->vendor, "AuthenticAMD") || !strcmp(ci->vendor, "HygonGenuine")) {
        if (cpuid_caches(ci, 0x8000001du)) ci->cache_source = "cpuid leaf 0x8000001d";
    } else if (cpuid_caches(ci, 4)) {
        ci->cache_source = "cpuid leaf 4";
    }
#endif
    if (!strcmp(ci->cache_source, "none")) {
        ci->l1d = ci->l2 = ci->l3 = 0;
        ci->l1d_ways = 0;
        if (sysfs_caches(ci)) ci->cache_source = "sysfs";
    }
    /* FMA rates: 20000 iterations (~0.2 ms) per run, best of 5, each width: a few ms in all. */
    ci->fma256_gflops = ci->has_avx2_fma ? fi_fma_gflops(256, 20000, 5) : 0.0;
    ci->fma512_gflops = ci->has_avx512 ? fi_fma_gflops(512, 20000, 5) : 0.0;
    ci->fma512_full_rate = !ci->has_avx512 || ci->fma256_gflops <= 0 ? -1
                           : ci->fma512_gflops >= 1.5 * ci->fma256_gflops;
}

const fi_cpu_info_t *fi_cpu_info(void)
{
    if (!g_info_done) {
        detect(&g_info);
        g_info_done = 1;
    }
    return &g_info;
}

/* ---- the kernel context ------------------------------------------------------------------- */

static int g_set = -1; /* fi_kernel_set_t, -1 until selected */
static int g_forced = 0;

int fi_kernel_usable(fi_kernel_set_t set)
{
    switch (set) {
    case FI_KERNEL_REF: return 1;
    case FI_KERNEL_AVX2: return FI_BUILT_AVX && fi_cpu_has_avx2_fma();
    case FI_KERNEL_AVX512: return FI_BUILT_AVX && fi_cpu_has_avx2_fma() && fi_cpu_has_avx512();
    case FI_KERNEL_NEON: return FI_BUILT_NEON;
    }
    return 0;
}

static fi_kernel_set_t widest(void)
{
    if (fi_kernel_usable(FI_KERNEL_AVX512)) return FI_KERNEL_AVX512;
    if (fi_kernel_usable(FI_KERNEL_AVX2)) return FI_KERNEL_AVX2;
    return fi_kernel_usable(FI_KERNEL_NEON) ? FI_KERNEL_NEON : FI_KERNEL_REF;
}

static const char *const g_names[] = {"ref", "avx2", "avx512", "neon"};

const char *fi_kernel_name(fi_kernel_set_t set)
{
    return (unsigned)set < 4 ? g_names[set] : "?";
}

static int g_override[FI_FAMILY_COUNT] = {-1, -1};

/* The set `name` means: >= 0, or -1 unknown, -2 not usable. "auto": the widest. */
static int parse(const char *name)
{
    if (!name || !strcmp(name, "auto")) return (int)widest();
    for (int s = 0; s < 4; s++)
        if (!strcmp(name, g_names[s])) return fi_kernel_usable((fi_kernel_set_t)s) ? s : -2;
    return -1;
}

int fi_kernel_select(const char *name)
{
    const int s = parse(name);
    if (s < 0) return s;
    g_set = s;
    g_forced = name && strcmp(name, "auto") != 0;
    for (int f = 0; f < FI_FAMILY_COUNT; f++) g_override[f] = -1;
    return 0;
}

int fi_kernel_override(fi_kernel_family_t family, const char *name)
{
    if ((unsigned)family >= FI_FAMILY_COUNT) return -1;
    const int s = parse(name);
    if (s < 0) return s;
    g_override[family] = name && strcmp(name, "auto") != 0 ? s : -1;
    return 0;
}

fi_kernel_set_t fi_kernel_set_for(fi_kernel_family_t family)
{
    const int o = (unsigned)family < FI_FAMILY_COUNT ? g_override[family] : -1;
    return o >= 0 ? (fi_kernel_set_t)o : fi_kernel_set();
}

fi_kernel_set_t fi_kernel_set(void)
{
    if (g_set < 0) g_set = (int)widest();
    return (fi_kernel_set_t)g_set;
}

int fi_kernel_forced(void) { return g_forced; }

const char *const *fi_kernel_available(void)
{
    static const char *list[5];
    int n = 0;
    list[n++] = "ref";
    for (int s = FI_KERNEL_AVX2; s <= FI_KERNEL_NEON; s++)
        if (fi_kernel_usable((fi_kernel_set_t)s)) list[n++] = g_names[s];
    list[n] = NULL;
    return list;
}

/* ---- threads ------------------------------------------------------------------------------ */

/* The default thread count: OMP_NUM_THREADS (its first entry), the variable every threaded
   numeric library honours, else the CPUs this process may run on. */
static int default_threads(void)
{
    const char *env = getenv("OMP_NUM_THREADS");
    if (env && *env) {
        char *end;
        const long v = strtol(env, &end, 10);
        if (end != env && v >= 1) return v > 1000000 ? 1000000 : (int)v;
    }
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
#if defined(_SC_NPROCESSORS_ONLN)
    const long c = sysconf(_SC_NPROCESSORS_ONLN);
    if (c > 0) return c > 1000000 ? 1000000 : (int)c;
#endif
    return 1;
}

void fi_cpu_init(void)
{
    static int done = 0;
    (void)fi_cpu_info();
    FI_STORE_INT(&g_num_threads, fi_pool_threads() ? default_threads() : 1);
    if (!done) {
        /* at least 2 threads, so a later set_num_threads(2) on a 1-thread default has a figure */
        const int nt = FI_LOAD_INT(&g_num_threads);
        g_info.parallel_threads = nt > 1 ? nt : 2;
        g_info.parallel_overhead_us = fi_pool_threads() ? fi_pool_wake_us(g_info.parallel_threads) : 0.0;
        done = 1;
    }
}

static double g_min_flops_override = -1.0;

void fi_set_parallel_min_flops(double flops) { g_min_flops_override = flops; }

double fi_parallel_min_flops(int nt)
{
    if (nt <= 1) return 0.0;
    if (g_min_flops_override >= 0) return g_min_flops_override;
    const double rate = g_info.fma256_gflops > 0 ? g_info.fma256_gflops * 1e9 : 0.0;
    if (rate <= 0 || fi_pool_join_us() <= 0)
        return 2.0e6 * nt; /* nothing measured (no AVX2 or no timing): 2 MFLOP per thread */
    return fi_parallel_min_ns(nt) * 1e-9 * rate;
}

double fi_parallel_min_ns(int nt)
{
    if (nt <= 1) return 0.0;
    /* the pool's join estimate, as it is now; not measured (no threads support or no timing):
       a futex wake-up's typical 20 us */
    const double join = fi_pool_join_us();
    const double us = join > 0 ? join : 20.0;
    /* saved = work * (1 - 1/nt) >= overhead */
    return us * 1e3 / (1.0 - 1.0 / nt);
}

double fi_thread_seconds(void)
{
#if defined(CLOCK_THREAD_CPUTIME_ID)
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

/* Inside a task of a threaded job (the ensemble's threads over members) kernels run on the
   calling thread: the other threads are busy with tasks of their own. */
int fi_get_num_threads(void)
{
    if (fi_pool_in_task()) return 1;
    return FI_LOAD_INT(&g_num_threads);
}

void fi_set_num_threads(int n)
{
    FI_STORE_INT(&g_num_threads, n < 1 || !fi_pool_threads() ? 1 : n);
}

const char *fi_build_flags(void) { return FI_BUILD_FLAGS; }
