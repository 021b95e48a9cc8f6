/* Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers:
   as easy as 1, 2, 3"). Value i of a fill with (seed, stream) is a pure function of
   (seed, stream, i): key = seed (64 bits), counter = (i / per_block, stream) (64 + 64 bits).
   Fills are therefore identical whatever the thread count, the call order or which other
   streams exist; layer k of a model draws from its own stream.

   First raw words for seed 0, stream 0, block 0: 6627e8d5 e169c58d bc57ac4c 9b00dbd8 (the
   published known-answer vector for a zero key and counter).
   float32 draws use one 32-bit word per uniform; float64 draws use two (53 bits). */
#ifndef FI_RNG_H
#define FI_RNG_H

#include <stdint.h>

#include "fi_common.h"

/* The four words of block `block` of (seed, stream). */
void fi_rng_block(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t block);

/* out[i] ~ U[low, high) */
void fi_rng_uniform_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high);
void fi_rng_uniform_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double low, double high);

/* out[i] ~ N(mean, std^2), Box-Muller. float32 tails end at 5.8 sigma (24-bit uniforms),
   float64 tails at 8.6 sigma. */
void fi_rng_normal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std);
void fi_rng_normal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean, double std);

/* out[i] ~ N(mean, std^2) conditioned on [a, b] (absolute bounds, a < b), by inverse CDF. */
void fi_rng_truncnormal_s(float *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                          double std, double a, double b);
void fi_rng_truncnormal_d(double *out, fi_dim_t n, uint64_t seed, uint64_t stream, double mean,
                          double std, double a, double b);

#endif
