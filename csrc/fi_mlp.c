/* MLP forward/backward/step for both dtypes (see fi_mlp.h). */
#include <math.h>

#include "fi_mlp.h"
#include "gemm/fi_gemm.h"

#define T float
#define SUF s
#define GEMM fi_sgemm
#define ACT_FORWARD fi_act_forward_s
#define ACT_BACKWARD fi_act_backward_s
#define LOSS fi_loss_s
#define UPDATE fi_optim_update_s
#define SUMSQ fi_sumsq_s
#include "fi_mlp_impl.h"
#undef T
#undef SUF
#undef GEMM
#undef ACT_FORWARD
#undef ACT_BACKWARD
#undef LOSS
#undef UPDATE
#undef SUMSQ

#define T double
#define SUF d
#define GEMM fi_dgemm
#define ACT_FORWARD fi_act_forward_d
#define ACT_BACKWARD fi_act_backward_d
#define LOSS fi_loss_d
#define UPDATE fi_optim_update_d
#define SUMSQ fi_sumsq_d
#include "fi_mlp_impl.h"
