/* Template body of the SIMD float32 exp, tanh and sigmoid (formula in fi_act_kernels.h),
   included by fi_act_avx2.c and fi_act_avx512.c on vectors of doubles. The includer defines
   VINLINE (attributes of an inlined helper), VD (the vector type) and the operations VSET1,
   VZERO, VADD, VSUB, VMUL, VDIV, VMIN, VMAX, VFMADD(a, b, c) = a*b + c, VFNMADD = c - a*b,
   VABS, VORSIGN(t, x) (t >= 0 with the sign of x) and VPOW2(t) (2^n, n in the low mantissa
   bits of t). Every set runs the same operations in the same order, so gives the same bits. */

/* p with e^y = s (1 + p). */
VINLINE VD exp_red(VD y, VD *s)
{
    const VD magic = VSET1(FI_EXP_MAGIC);
    const VD t = VFMADD(y, VSET1(FI_LOG2E), magic);
    const VD r = VFNMADD(VSUB(t, magic), VSET1(FI_LN2), y);
    VD p = VSET1(fi_expm1_coef[0]);
    for (int k = 1; k < FI_EXPM1_NCOEF; k++) p = VFMADD(p, r, VSET1(fi_expm1_coef[k]));
    *s = VPOW2(t);
    return VMUL(p, r);
}

VINLINE VD tanh_v(VD x)
{
    /* vminpd returns its second operand when either is NaN: keep |x| there. */
    const VD a = VMIN(VSET1(FI_TANH_CLAMP), VABS(x));
    VD s;
    const VD p = exp_red(VADD(a, a), &s);
    const VD em1 = VFMADD(s, p, VSUB(s, VSET1(1.0)));
    return VORSIGN(VDIV(em1, VADD(em1, VSET1(2.0))), x);
}

VINLINE VD exp_v(VD x)
{
    const VD c = VSET1(FI_EXP_CLAMP);
    const VD v = VMAX(VSUB(VZERO(), c), VMIN(c, x));
    VD s;
    const VD p = exp_red(v, &s);
    return VFMADD(s, p, s);
}

VINLINE VD sigmoid_v(VD x)
{
    const VD one = VSET1(1.0);
    return VDIV(one, VADD(one, exp_v(VSUB(VZERO(), x))));
}
