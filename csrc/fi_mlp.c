/* Whole-step MLP engine (see fi_mlp.h): workspace management plus one template, two dtypes. */
#include <stdint.h>
#include <stdlib.h>

#include "fi_dense.h"
#include "fi_mlp.h"

#define FI_ALIGN 64

void fi_mlp_ws_free(fi_mlp_ws_t *ws)
{
    free(ws->raw);
    free(ws->a); /* z shares the block of a */
    ws->raw = NULL;
    ws->a = ws->z = NULL;
    ws->g0 = ws->g1 = NULL;
    ws->n = 0;
    ws->nlayers = 0;
}

static size_t fi_round_up(size_t b) { return (b + FI_ALIGN - 1) / FI_ALIGN * FI_ALIGN; }

int fi_mlp_ws_init(fi_mlp_ws_t *ws, const fi_mlp_t *m, fi_dim_t n, size_t elsize)
{
    const int L = m->nlayers;
    ws->raw = NULL;
    ws->a = ws->z = NULL;
    ws->g0 = ws->g1 = NULL;
    ws->n = 0;
    ws->nlayers = 0;
    if (n <= 0 || L <= 0) return -1;
    fi_dim_t width = m->sizes[0]; /* the first layer's input gradient, when asked for */
    size_t total = 0;
    const size_t cap = SIZE_MAX / 4;
    for (int l = 0; l < L; l++) {
        const fi_dim_t w = m->sizes[l + 1];
        width = w > width ? w : width;
        if ((size_t)w > cap / elsize / (size_t)n) return -1;
        const size_t b = fi_round_up((size_t)n * (size_t)w * elsize);
        total += fi_act_needs_pre(m->acts[l]) ? 2 * b : b;
        if (total > cap) return -1;
    }
    if ((size_t)width > cap / elsize / (size_t)n) return -1;
    const size_t gb = fi_round_up((size_t)n * (size_t)width * elsize);
    total += 2 * gb;
    if (total > cap) return -1;
    ws->a = (void **)calloc(2 * (size_t)L, sizeof(void *));
    ws->raw = malloc(total + FI_ALIGN);
    if (!ws->a || !ws->raw) {
        fi_mlp_ws_free(ws);
        return -1;
    }
    ws->z = ws->a + L;
    char *p = (char *)(((uintptr_t)ws->raw + FI_ALIGN - 1) / FI_ALIGN * FI_ALIGN);
    for (int l = 0; l < L; l++) {
        const size_t b = fi_round_up((size_t)n * (size_t)m->sizes[l + 1] * elsize);
        ws->a[l] = p;
        p += b;
        if (fi_act_needs_pre(m->acts[l])) {
            ws->z[l] = p;
            p += b;
        }
    }
    ws->g0 = p;
    ws->g1 = p + gb;
    ws->n = n;
    ws->nlayers = L;
    return 0;
}

#define FI_DTYPE 32
#include "fi_mlp_impl.h"

#define FI_DTYPE 64
#include "fi_mlp_impl.h"

