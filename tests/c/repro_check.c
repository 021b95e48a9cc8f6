/* Digests of the bits of every non-GEMM kernel the training step runs (random numbers, activations
   and their gradients, losses, optimizer updates) on fixed inputs, one line each: "<name>
   <digest>". Two machines print the same lines if and only if those kernels give them the same
   bits (tests/test_rng.py compares x86 with aarch64 under qemu). No NaN goes in or comes out:
   the bits of a NaN differ between architectures by design. Usage: repro_check. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fi_act.h"
#include "fi_cpu.h"
#include "fi_loss.h"
#include "fi_optim.h"
#include "fi_rng.h"

#define N 1003 /* not a multiple of any vector width */

static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

#define PRINT(name, p, n) printf("%s %016llx\n", name, (unsigned long long)fnv(p, sizeof *(p) * (size_t)(n)))

#define DEFINE_CHECKS(SUF, T)                                                                              \
    static void checks_##SUF(void)                                                                         \
    {                                                                                                      \
        static T x[N], y[N], dy[N], dz[N], t[N], p[4][N], g[4][N], m1[4][N], m2[4][N];                     \
        static int64_t labels[N];                                                                          \
        char name[64];                                                                                     \
        fi_rng_uniform_##SUF(x, N, 42, 1, -3.0, 3.0);                                                      \
        PRINT("rng_uniform_" #SUF, x, N);                                                                  \
        fi_rng_normal_##SUF(y, N, 42, 2, 0.5, 2.0);                                                        \
        PRINT("rng_normal_" #SUF, y, N);                                                                   \
        fi_rng_truncnormal_##SUF(t, N, 7, 3, 0.0, 1.0, -2.0, 2.0);                                         \
        PRINT("rng_truncnormal_" #SUF, t, N);                                                              \
        x[0] = 0, x[1] = -0.0f, x[2] = 30, x[3] = -30, x[4] = 1e-6f, x[5] = 88, x[6] = -100;              \
        fi_rng_normal_##SUF(dy, N, 5, 4, 0.0, 1.0);                                                        \
        for (int a = 0; a < FI_ACT_COUNT; a++) {                                                           \
            const double param = a == FI_ACT_LEAKY_RELU ? 0.1 : a == FI_ACT_ELU ? 1.3 : 0.0;               \
            fi_act_forward_##SUF(y, x, N, (fi_act_t)a, param);                                             \
            snprintf(name, sizeof name, "act%d_forward_" #SUF, a);                                         \
            PRINT(name, y, N);                                                                             \
            fi_act_backward_##SUF(dz, dy, x, y, N, (fi_act_t)a, param);                                    \
            snprintf(name, sizeof name, "act%d_backward_" #SUF, a);                                        \
            PRINT(name, dz, N);                                                                            \
        }                                                                                                  \
        for (int i = 0; i < N; i++) labels[i] = i % 17;                                                    \
        fi_rng_uniform_##SUF(t, N, 9, 5, 0.0, 1.0);                                                        \
        const fi_dim_t rows = 59, cols = 17; /* 59 x 17 = 1003 */                                          \
        double v = fi_loss_xent_##SUF(dz, x, labels, rows, cols);                                          \
        PRINT("loss_xent_" #SUF, &v, 1), PRINT("loss_xent_grad_" #SUF, dz, N);                             \
        v = fi_loss_bce_##SUF(dz, x, t, rows, cols);                                                       \
        PRINT("loss_bce_" #SUF, &v, 1), PRINT("loss_bce_grad_" #SUF, dz, N);                               \
        v = fi_loss_mse_##SUF(dz, x, t, rows, cols);                                                       \
        PRINT("loss_mse_" #SUF, &v, 1), PRINT("loss_mse_grad_" #SUF, dz, N);                               \
        static const fi_optim_t opts[] = {                                                                 \
            {.kind = FI_OPT_SGD, .lr = 0.1},                                                             \
            {.kind = FI_OPT_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3},                      \
            {.kind = FI_OPT_SGD, .lr = 0.1, .momentum = 0.9, .nesterov = 1, .clip_norm = 0.5},           \
            {.kind = FI_OPT_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01}, \
            {.kind = FI_OPT_ADAMW, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01, \
             .clip_norm = 1.0},                                                                            \
        };                                                                                                 \
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {                                        \
            fi_optim_t opt = opts[o];                                                                      \
            T *pp[2] = {p[0], p[1]}, *gg[2] = {g[0], g[1]}, *s1[2] = {m1[0], m1[1]}, *s2[2] = {m2[0], m2[1]}; \
            const fi_dim_t count[2] = {N, N / 2};                                                          \
            fi_rng_normal_##SUF(p[0], N, 11, 6, 0.0, 1.0);                                                 \
            fi_rng_normal_##SUF(p[1], N, 11, 7, 0.0, 1.0);                                                 \
            for (int k = 0; k < 2; k++)                                                                    \
                for (int i = 0; i < N; i++) m1[k][i] = m2[k][i] = 0;                                       \
            for (int s = 0; s < 5; s++) {                                                                  \
                fi_rng_normal_##SUF(g[0], N, 12 + s, 8, 0.0, 0.3);                                         \
                fi_rng_normal_##SUF(g[1], N, 12 + s, 9, 0.0, 0.3);                                         \
                fi_optim_step_##SUF(&opt, 2, pp, gg, s1, s2, count);                                       \
            }                                                                                              \
            snprintf(name, sizeof name, "optim%zu_" #SUF, o);                                              \
            PRINT(name, p[0], N);                                                                          \
            snprintf(name, sizeof name, "optim%zu_second_" #SUF, o);                                       \
            PRINT(name, p[1], N / 2);                                                                      \
        }                                                                                                  \
    }

DEFINE_CHECKS(s, float)
DEFINE_CHECKS(d, double)

int main(void)
{
    fi_cpu_init();
    checks_s();
    checks_d();
    return 0;
}
