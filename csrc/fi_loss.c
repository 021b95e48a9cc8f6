/* Loss kernels (see fi_loss.h): one template, two dtypes. */
#include <math.h>

#include "fi_act.h"
#include "fi_loss.h"

#define FI_DTYPE 32
#include "fi_loss_impl.h"

#define FI_DTYPE 64
#include "fi_loss_impl.h"

