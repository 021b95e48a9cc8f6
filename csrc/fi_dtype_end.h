/* Closes a dtype template body (see fi_dtype_begin.h): undefines what it defined. */
#undef T
#undef SUF
#undef FI_LIBM
#undef FI_GEMM
#undef FI_DT
#undef FI_CTX
#undef FI_DTYPE
