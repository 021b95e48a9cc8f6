/* Undefines one dtype's vector operations of fi_lanes_vec_impl.h, ready for the next. */
#undef T
#undef V
#undef VT
#undef LN
#undef VZERO
#undef VLOAD
#undef VSTORE
#undef VSET1
#undef VFMA
#undef VADD
#undef VSUB
#undef VMUL
#undef VDIV
#undef VSQRT
#undef VRELU
#undef VMASK
#undef VMASK_FINITE
