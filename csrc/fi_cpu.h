/* What the CPU is, and the one kernel context every SIMD family reads.
   Owns: ISA detection, vendor/family/model, cache sizes, the measured FMA rates, the kernel set
   in use (GEMM, activations and any family to come choose from it, never on their own), and
   the thread count. Owns no kernels. */
#ifndef FI_CPU_H
#define FI_CPU_H

/* 1 if the CPU and OS support AVX2 and FMA (x86-64 only), else 0. */
int fi_cpu_has_avx2_fma(void);

/* 1 if the CPU and OS support AVX-512F (x86-64 only), else 0. */
int fi_cpu_has_avx512(void);

/* Threads used by threaded kernels (csrc/fi_pool's helpers and the caller). Initialised by
   fi_cpu_init() from OMP_NUM_THREADS, else the CPUs the process may run on; 1 without threads
   support (fi_pool_threads), and 1 inside a task of a threaded job. */
int fi_get_num_threads(void);
void fi_set_num_threads(int n);

/* Fewest flops a product needs to run on nt > 1 threads: where the time the extra threads save,
   at the measured FMA peak, exceeds what threading costs now (fi_pool_join_us: seeded by the
   calibration at fi_cpu_init, then kept by every job the pool runs). The peak overstates the
   rate, so this errs towards one thread. Callers below it still run on the pool when
   fi_pool_probe_due says so, which keeps the estimate measured. */
double fi_parallel_min_flops(int nt);
/* The same rule for any work: the fewest nanoseconds of one-thread work worth running on nt > 1
   threads (the join estimate over the 1 - 1/nt share the extra threads take). */
double fi_parallel_min_ns(int nt);
/* This thread's CPU time in seconds (wall time where the platform has no thread clock): for
   calibrations that must not count time the OS gave to other processes. */
double fi_thread_seconds(void);
/* For tests: use `flops` (>= 0) as the threshold for every nt > 1, or the measured one again
   (flops < 0), so that threaded paths run on any machine and load. */
void fi_set_parallel_min_flops(double flops);

/* What was detected, filled once by fi_cpu_init (fi_cpu_info() runs it if needed). */
typedef struct fi_cpu_info {
    char vendor[13];          /* CPUID vendor, e.g. "AuthenticAMD"; "" off x86 */
    char brand[49];           /* CPUID brand string, e.g. "AMD EPYC"; "" if none */
    int family, model;        /* display family and model as lscpu shows them; -1 off x86 */
    int has_avx2_fma, has_avx512;
    /* Data/unified caches in bytes: L1d and L2 of one core, L3 of the core's complex (0 if
       unknown), how many logical CPUs share that L3, and where the sizes came from: "cpuid leaf
       4", "cpuid leaf 0x8000001d", "sysfs" or "none" (then the blocking keeps its defaults). */
    long long l1d, l2, l3;
    int l3_sharing;
    int l1d_ways; /* L1d associativity (0 if unknown): l1d / l1d_ways bytes apart share a set */
    const char *cache_source;
    /* One core's float32 FMA throughput, measured at fi_cpu_init (fi_cpu_fma.h): 256-bit and
       512-bit, GFLOP/s, 0 where not measured. fma512_full_rate: 1 if 512-bit FMAs retire at
       least 1.5x the flops of 256-bit ones (full rate gives 2x, a core that splits them into
       two halves 1x: 1.5 is the midpoint, not a tuned value), 0 if not, -1 without AVX-512. */
    double fma256_gflops, fma512_gflops;
    int fma512_full_rate;
    /* Median microseconds for the task pool's helpers to join a job on parallel_threads
       threads, calibrated at fi_cpu_init (fi_pool_wake_us; 0: not measured, e.g. no threads
       support): the join estimate's start; fi_pool_join_us is its value now. */
    double parallel_overhead_us;
    int parallel_threads;
} fi_cpu_info_t;
const fi_cpu_info_t *fi_cpu_info(void);

/* The kernel sets. Every family maps the set to its own kernels: GEMM has all four;
   the activations run AVX2/AVX-512 kernels and the portable code for ref and neon. All sets
   give the same bits except ref for GEMM (its K blocking differs; within rounding). */
typedef enum fi_kernel_set {
    FI_KERNEL_REF = 0,
    FI_KERNEL_AVX2 = 1,
    FI_KERNEL_AVX512 = 2,
    FI_KERNEL_NEON = 3
} fi_kernel_set_t;

/* Select the set for every family: "auto" (the widest the CPU runs), "ref", "avx2", "avx512"
   or "neon". 0 on success, -1 for an unknown name, -2 if the CPU or build lacks the set.
   Call under the GIL (the Python module does it once at import from FASTINIT_KERNEL). */
int fi_kernel_select(const char *name);
/* The set in use ("auto" at first use if never selected), its name, and whether a name
   forced it (1) or "auto" chose it (0). */
fi_kernel_set_t fi_kernel_set(void);
const char *fi_kernel_name(fi_kernel_set_t set);
int fi_kernel_forced(void);
/* The families that read the context. A test may override one family's set to compare its
   kernels while the others stay fixed (fi_kernel_override); fi_kernel_select clears that. */
typedef enum fi_kernel_family {
    FI_FAMILY_GEMM = 0,
    FI_FAMILY_ACT = 1,
    FI_FAMILY_COUNT
} fi_kernel_family_t;
/* The set `family` runs: its override if any, else fi_kernel_set(). */
fi_kernel_set_t fi_kernel_set_for(fi_kernel_family_t family);
/* For tests: set one family's set by name ("auto" clears the override); codes as
   fi_kernel_select. */
int fi_kernel_override(fi_kernel_family_t family, const char *name);
/* 1 if this CPU and build run `set`. */
int fi_kernel_usable(fi_kernel_set_t set);
/* Names of the usable sets, NULL-terminated, narrowest first ("ref" first). */
const char *const *fi_kernel_available(void);

/* Call once before any kernel (the Python module does it at import): detection, calibration
   (a few milliseconds where AVX-512 exists), thread count. Idempotent. */
void fi_cpu_init(void);

/* Compiler flags the extension was built with, for kernel_info(). */
const char *fi_build_flags(void);

#endif
