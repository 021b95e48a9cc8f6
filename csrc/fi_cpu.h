/* CPU feature detection and the thread count every kernel uses. Owns no kernels. */
#ifndef FI_CPU_H
#define FI_CPU_H

/* 1 if the CPU and OS support AVX2 and FMA (x86-64 only), else 0. */
int fi_cpu_has_avx2_fma(void);

/* 1 if the CPU and OS support AVX-512F (x86-64 only), else 0. */
int fi_cpu_has_avx512(void);

/* 1 if built with OpenMP, else 0. */
int fi_openmp_enabled(void);

/* Threads used by threaded kernels. Initialised by fi_cpu_init() from OMP_NUM_THREADS
   (or the OpenMP default); 1 without OpenMP, and 1 inside an OpenMP parallel region. */
int fi_get_num_threads(void);
void fi_set_num_threads(int n);

/* Call once before any kernel (the Python module does it at import). */
void fi_cpu_init(void);

/* Compiler flags the extension was built with, for kernel_info(). */
const char *fi_build_flags(void);

#endif
