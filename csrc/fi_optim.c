/* Optimizer kernels (see fi_optim.h): one template, two dtypes. */
#include <math.h>

#include "fi_optim.h"

#define FI_DTYPE 32
#include "fi_optim_impl.h"

#define FI_DTYPE 64
#include "fi_optim_impl.h"

