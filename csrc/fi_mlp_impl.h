/* MLP step template, included by fi_mlp.c per dtype with T, SUF, GEMM, ACT_FORWARD,
   ACT_BACKWARD, LOSS, UPDATE, SUMSQ defined. */
#define FI_CAT_(a, b) a##b
#define FI_CAT(a, b) FI_CAT_(a, b)
#define FN(name) FI_CAT(name, SUF)

void FN(fi_mlp_forward_)(const fi_mlp_t *net, const T *X, fi_dim_t n)
{
    const T *in = X;
    for (int l = 0; l < net->nlayers; l++) {
        const fi_dim_t fin = net->sizes[l], fout = net->sizes[l + 1];
        T *a = (T *)net->A[l];
        if (net->Z[l]) {
            const fi_epilogue_t ep = {net->b[l], FI_BIAS_COL, FI_ACT_IDENTITY, 0.0};
            GEMM(0, 1, n, fout, fin, 1, in, fin, (const T *)net->W[l], fin, 0, (T *)net->Z[l], fout, &ep);
            ACT_FORWARD(a, (const T *)net->Z[l], n * fout, net->acts[l], net->act_params[l]);
        } else {
            const fi_epilogue_t ep = {net->b[l], FI_BIAS_COL, net->acts[l], net->act_params[l]};
            GEMM(0, 1, n, fout, fin, 1, in, fin, (const T *)net->W[l], fin, 0, a, fout, &ep);
        }
        in = a;
    }
}

double FN(fi_mlp_grad_)(const fi_mlp_t *net, const T *X, const void *target, fi_dim_t n)
{
    const int L = net->nlayers;
    FN(fi_mlp_forward_)(net, X, n);
    T *dz = (T *)net->g0, *other = (T *)net->g1;
    const double loss = LOSS(dz, (const T *)net->A[L - 1], target, n, net->sizes[L], net->loss);
    for (int l = L - 1; l >= 0; l--) {
        const fi_dim_t fin = net->sizes[l], fout = net->sizes[l + 1];
        const T *in = l ? (const T *)net->A[l - 1] : X;
        /* dW = dZ^T @ input; db = column sums of dZ, rows in order (deterministic) */
        GEMM(1, 0, fout, fin, n, 1, dz, fout, in, fin, 0, (T *)net->dW[l], fin, NULL);
        T *db = (T *)net->db[l];
        for (fi_dim_t j = 0; j < fout; j++) db[j] = 0;
        for (fi_dim_t i = 0; i < n; i++)
            for (fi_dim_t j = 0; j < fout; j++) db[j] += dz[i * fout + j];
        if (l > 0) {
            /* dA_{l-1} = dZ @ W, then through the previous activation, in place */
            GEMM(0, 0, n, fin, fout, 1, dz, fout, (const T *)net->W[l], fin, 0, other, fin, NULL);
            ACT_BACKWARD(other, other, (const T *)net->Z[l - 1], (const T *)net->A[l - 1], n * fin,
                         net->acts[l - 1], net->act_params[l - 1]);
            T *t = dz;
            dz = other;
            other = t;
        }
    }
    return loss;
}

double FN(fi_mlp_step_)(const fi_mlp_t *net, const T *X, const void *target, fi_dim_t n,
                        const fi_optim_t *opt, double clip_norm)
{
    const double loss = FN(fi_mlp_grad_)(net, X, target, n);
    double scale = 1.0;
    if (clip_norm > 0) {
        double ss = 0.0;
        for (int l = 0; l < net->nlayers; l++) {
            const fi_dim_t fin = net->sizes[l], fout = net->sizes[l + 1];
            ss += SUMSQ((const T *)net->dW[l], fin * fout) + SUMSQ((const T *)net->db[l], fout);
        }
        const double norm = sqrt(ss);
        if (norm > clip_norm) scale = clip_norm / (norm + 1e-6);
    }
    for (int l = 0; l < net->nlayers; l++) {
        const fi_dim_t fin = net->sizes[l], fout = net->sizes[l + 1];
        UPDATE((T *)net->W[l], (const T *)net->dW[l], (T *)net->mW[l], (T *)net->vW[l], fin * fout, opt, scale);
        UPDATE((T *)net->b[l], (const T *)net->db[l], (T *)net->mb[l], (T *)net->vb[l], fout, opt, scale);
    }
    return loss;
}

#undef FN
#undef FI_CAT
#undef FI_CAT_
