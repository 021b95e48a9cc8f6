/* Activation kernels (see fi_act.h), one template for both dtypes. */
#include <math.h>

#include "fi_act.h"

#ifndef M_SQRT1_2
#define M_SQRT1_2 0.70710678118654752440
#endif
#define SELU_L 1.0507009873554804934193349852946
#define SELU_A 1.6732632423543772848170429916717
#define GELU_K 0.79788456080286535588 /* sqrt(2/pi) */
#define INV_SQRT_2PI 0.39894228040143267794

int fi_act_needs_input(fi_act_t act)
{
    return act == FI_ACT_GELU || act == FI_ACT_GELU_TANH || act == FI_ACT_SOFTPLUS;
}

#define T float
#define SUF s
#define EXP expf
#define EXPM1 expm1f
#define LOG1P log1pf
#define TANH tanhf
#define ERF erff
#include "fi_act_impl.h"
#undef T
#undef SUF
#undef EXP
#undef EXPM1
#undef LOG1P
#undef TANH
#undef ERF

#define T double
#define SUF d
#define EXP exp
#define EXPM1 expm1
#define LOG1P log1p
#define TANH tanh
#define ERF erf
#include "fi_act_impl.h"
