/* One core's float32 FMA peak with 256-bit and with 512-bit vectors, the yardstick of the
   training benchmark's large-net target. The loops are the library's own calibration
   (csrc/fi_cpu_fma.c: 12 independent FMA chains, thread CPU time, best of the runs), run here
   for longer; whether 512-bit FMAs run at full rate is their ratio (2x full, 1x split in halves).
   Build and run: gcc -O2 -Icsrc bench/fma_peak.c csrc/fi_cpu_fma.c -o /tmp/fma_peak && /tmp/fma_peak */
#include <stdio.h>

#include "fi_cpu_fma.h"

int main(void)
{
    const long iters = 5000000; /* 60M FMAs a run: ~0.1-0.3 s */
    const double g256 = fi_fma_gflops(256, iters, 5), g512 = fi_fma_gflops(512, iters, 5);
    printf("one core float32 FMA peak, 256-bit: %.1f GFLOP/s\n", g256);
    if (g512 > 0)
        printf("one core float32 FMA peak, 512-bit: %.1f GFLOP/s (%.2fx the 256-bit: %s)\n", g512,
               g512 / g256, g512 >= 1.5 * g256 ? "full rate" : "half rate, split into two halves");
    else
        printf("one core float32 FMA peak, 512-bit: not available (no AVX-512)\n");
    return 0;
}
