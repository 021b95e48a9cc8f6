/* The one template convention of csrc: how a body written once is instantiated per dtype
   (float32/float64) and per ISA. Owns macros only.

   Dtype. A template body lives in <name>_impl.h, has no include guard, and opens with
   `#include "fi_dtype_begin.h"` and closes with `#include "fi_dtype_end.h"`. Its includer
   defines ONE macro, FI_DTYPE, as 32 or 64, before each inclusion:

       #define FI_DTYPE 32
       #include "fi_loss_impl.h"
       #define FI_DTYPE 64
       #include "fi_loss_impl.h"

   fi_dtype_begin.h derives from it T (float|double), SUF (s|d), FI_DT(name) -> name_s|name_d
   (the public names: fi_act_forward_s), FI_LIBM(f) -> f##f|f (expf|exp), FI_CTX(member) ->
   s_member|d_member (a per-dtype member of a context struct: s_ukr); fi_dtype_end.h undefines
   all of it and FI_DTYPE. Anything else a body needs per dtype is named by these rules
   (fi_tanh_n_s/_d, fi_sgemm/fi_dgemm through FI_GEMM), never passed in by its includer.

   ISA. A kernel file (gemm/ukr_avx2.c, fi_act_avx512.c...) compiles every function with its
   target attribute and defines the vector operations (VT, VL, VFMA, ...) before including the
   ISA template; the set template (gemm/ukr_vec_set.h) undefines them after use, so the next
   dtype or ISA starts clean.

   Names. FI_PASTE(a, b) and FI_PASTE3(a, b, c) paste after expanding their arguments; nothing
   else in csrc defines a pasting macro. */
#ifndef FI_TEMPLATE_H
#define FI_TEMPLATE_H

#define FI_PASTE_(a, b) a##b
#define FI_PASTE(a, b) FI_PASTE_(a, b)
#define FI_PASTE3_(a, b, c) a##b##c
#define FI_PASTE3(a, b, c) FI_PASTE3_(a, b, c)

#endif
