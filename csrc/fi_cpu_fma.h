/* FMA throughput calibration: how many float32 FMAs per second one core retires with 256-bit
   and with 512-bit vectors. Whether a 512-bit FMA runs at full rate (Zen 5, Intel server cores
   with two 512-bit units) or as two halves (Zen 4, Zen 5 mobile parts) is not in any CPUID
   bit, and a hypervisor may report an older family than the silicon's, so it is measured.
   Owns the measurement only; fi_cpu decides from it. */
#ifndef FI_CPU_FMA_H
#define FI_CPU_FMA_H

/* float32 GFLOP/s of one core for 256-bit (bits 256) or 512-bit (bits 512) FMAs: 12 independent
   chains (enough to cover the FMA latency of two pipes), best of `reps` runs of `iters`
   iterations, timed in this thread's CPU time so that losing the core to another process does
   not count. 0 where the CPU or the build lacks the ISA (check fi_cpu_has_* first). */
double fi_fma_gflops(int bits, long iters, int reps);

#endif
