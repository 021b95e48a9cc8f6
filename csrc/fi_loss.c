/* Loss kernels (see fi_loss.h): one template, two dtypes. */
#include <math.h>

#include "fi_act.h"
#include "fi_loss.h"

#define T float
#define SUF s
#define EXP expf
#define EXP_N fi_exp_s
#define LOG1P log1pf
#include "fi_loss_impl.h"
#undef T
#undef SUF
#undef EXP
#undef EXP_N
#undef LOG1P

#define T double
#define SUF d
#define EXP exp
#define EXP_N fi_exp_d
#define LOG1P log1p
#include "fi_loss_impl.h"
