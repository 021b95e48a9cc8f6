/* Optimizer kernels (see fi_optim.h): one template, two dtypes. */
#include <math.h>

#include "fi_optim.h"

#define T float
#define SUF s
#define SQRT sqrtf
#include "fi_optim_impl.h"
#undef T
#undef SUF
#undef SQRT

#define T double
#define SUF d
#define SQRT sqrt
#include "fi_optim_impl.h"
