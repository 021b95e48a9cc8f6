# The MLP engine (csrc/fi_mlp.h): one call per forward pass, gradient or training step, on
# workspaces allocated once per (model, batch size) by _Net.
from libc.stdlib cimport free, malloc

cdef extern from "fi_optim.h" nogil:
    ctypedef enum fi_opt_kind_t:
        FI_OPT_SGD
        FI_OPT_ADAM
        FI_OPT_ADAMW
    ctypedef struct fi_optim_t:
        fi_opt_kind_t kind
        double lr, momentum, weight_decay, beta1, beta2, eps
        int nesterov
        long long step

cdef extern from "fi_mlp.h" nogil:
    ctypedef struct fi_mlp_t:
        int nlayers
        const long long *sizes
        const fi_act_t *acts
        const double *act_params
        void **W
        void **b
        void **dW
        void **db
        void **mW
        void **vW
        void **mb
        void **vb
        void **A
        void **Z
        void *g0
        void *g1
        fi_loss_t loss
    void fi_mlp_forward_s(const fi_mlp_t *net, const float *X, long long n)
    void fi_mlp_forward_d(const fi_mlp_t *net, const double *X, long long n)
    double fi_mlp_grad_s(const fi_mlp_t *net, const float *X, const void *target, long long n)
    double fi_mlp_grad_d(const fi_mlp_t *net, const double *X, const void *target, long long n)
    double fi_mlp_step_s(const fi_mlp_t *net, const float *X, const void *target, long long n,
                         const fi_optim_t *opt, double clip_norm)
    double fi_mlp_step_d(const fi_mlp_t *net, const double *X, const void *target, long long n,
                         const fi_optim_t *opt, double clip_norm)


cdef void **_ptrs(list arrays, int n) except NULL:
    """A malloc'd array of the data pointers of `arrays` (None -> NULL)."""
    cdef void **p = <void **>malloc(max(n, 1) * sizeof(void *))
    if p == NULL:
        raise MemoryError()
    for i in range(n):
        p[i] = NULL if arrays[i] is None else cnp.PyArray_DATA(<cnp.ndarray>arrays[i])
    return p


cdef class _Net:
    """Workspace and C view of an MLP for batches of up to n_max rows.

    Holds references to the model's parameter arrays (their buffers must not be replaced:
    Dense assigns into them in place) and owns gradients, activations and scratch space.
    """
    cdef fi_mlp_t net
    cdef long long *sizes
    cdef fi_act_t *acts
    cdef double *params
    cdef readonly long long n_max
    cdef readonly int typenum
    cdef readonly list dW, db, A, Z
    cdef list _keep

    def __cinit__(self, list Ws, list bs, list acts, list act_params, int loss, long long n_max,
                  bint keep_z=False):
        cdef int L = len(Ws), l
        if L < 1 or len(bs) != L or len(acts) != L or len(act_params) != L or n_max < 1:
            raise ValueError("_Net needs one W, b, activation and parameter per layer and n_max >= 1")
        if loss not in (0, 1, 2):
            raise ValueError(f"loss must be 0, 1 or 2, got {loss}")
        self.typenum = cnp.PyArray_TYPE(<cnp.ndarray>_float_array("W[0]", Ws[0]))
        self.n_max = n_max
        self.sizes = <long long *>malloc((L + 1) * sizeof(long long))
        self.acts = <fi_act_t *>malloc(L * sizeof(fi_act_t))
        self.params = <double *>malloc(L * sizeof(double))
        if not self.sizes or not self.acts or not self.params:
            raise MemoryError()
        dtype = Ws[0].dtype
        self.sizes[0] = Ws[0].shape[1]
        for l in range(L):
            W = _float_array(f"W[{l}]", Ws[l], self.typenum)
            b = _float_array(f"b[{l}]", bs[l], self.typenum)
            if W.ndim != 2 or W.shape[1] != self.sizes[l] or (<object>b).shape != ((<object>W).shape[0],):
                raise ValueError(f"layer {l}: W {(<object>W).shape} and b {(<object>b).shape} do not chain from width {self.sizes[l]}")
            self.sizes[l + 1] = W.shape[0]
            self.acts[l] = <fi_act_t>_act_id(acts[l])
            self.params[l] = act_params[l]
        width = max(self.sizes[l] for l in range(L + 1))
        self.dW = [np.empty_like(W) for W in Ws]
        self.db = [np.empty_like(b) for b in bs]
        self.A = [np.empty((n_max, self.sizes[l + 1]), dtype) for l in range(L)]
        self.Z = [np.empty((n_max, self.sizes[l + 1]), dtype)
                  if keep_z or fi_act_needs_input(self.acts[l]) else None for l in range(L)]
        g = [np.empty(n_max * width, dtype), np.empty(n_max * width, dtype)]
        self._keep = [list(Ws), list(bs), g]
        self.net.nlayers = L
        self.net.sizes = self.sizes
        self.net.acts = self.acts
        self.net.act_params = self.params
        self.net.W = _ptrs(Ws, L)
        self.net.b = _ptrs(bs, L)
        self.net.dW = _ptrs(self.dW, L)
        self.net.db = _ptrs(self.db, L)
        self.net.A = _ptrs(self.A, L)
        self.net.Z = _ptrs(self.Z, L)
        self.net.mW = self.net.vW = self.net.mb = self.net.vb = NULL
        self.net.g0 = cnp.PyArray_DATA(<cnp.ndarray>g[0])
        self.net.g1 = cnp.PyArray_DATA(<cnp.ndarray>g[1])
        self.net.loss = <fi_loss_t>loss

    def __dealloc__(self):
        free(self.net.W)
        free(self.net.b)
        free(self.net.dW)
        free(self.net.db)
        free(self.net.A)
        free(self.net.Z)
        self._free_state()
        free(self.sizes)
        free(self.acts)
        free(self.params)

    cdef void _free_state(self):
        free(self.net.mW)
        free(self.net.vW)
        free(self.net.mb)
        free(self.net.vb)
        self.net.mW = self.net.vW = self.net.mb = self.net.vb = NULL

    def set_state(self, list mW, list vW, list mb, list vb):
        """Optimizer state buffers (lists of arrays shaped like W and b, or None entries)."""
        cdef int L = self.net.nlayers
        for name, arrays, ref in (("mW", mW, self._keep[0]), ("vW", vW, self._keep[0]),
                                  ("mb", mb, self._keep[1]), ("vb", vb, self._keep[1])):
            if len(arrays) != L:
                raise ValueError(f"{name} needs {L} arrays")
            for a, r in zip(arrays, ref):
                if a is not None and ((<object>_float_array(name, a, self.typenum)).shape != r.shape):
                    raise ValueError(f"{name}: shape {a.shape} differs from the parameter's {r.shape}")
        self._free_state()
        self.net.mW = _ptrs(mW, L)
        self.net.vW = _ptrs(vW, L)
        self.net.mb = _ptrs(mb, L)
        self.net.vb = _ptrs(vb, L)
        self._keep[3:] = [mW, vW, mb, vb]

    cdef long long _check(self, X, target) except -1:
        cdef cnp.ndarray x = _float_array("X", X, self.typenum)
        cdef long long n = x.shape[0] if x.ndim == 2 else -1
        if x.ndim != 2 or x.shape[1] != self.sizes[0] or n > self.n_max:
            raise ValueError(f"{_describe('X', x)}: expected at most {self.n_max} rows of {self.sizes[0]} features")
        if target is None:
            return n
        cdef long long k = self.sizes[self.net.nlayers], i
        cdef cnp.ndarray t = <cnp.ndarray>target
        cdef const int64_t *lab
        if self.net.loss == FI_LOSS_SOFTMAX_CE:
            if not isinstance(target, cnp.ndarray) or cnp.PyArray_TYPE(t) != cnp.NPY_INT64 or (<object>t).shape != (n,) \
                    or not cnp.PyArray_IS_C_CONTIGUOUS(t):
                raise TypeError(f"labels must be a contiguous int64 array of shape ({n},)")
            lab = <const int64_t *>cnp.PyArray_DATA(t)
            for i in range(n):
                if lab[i] < 0 or lab[i] >= k:
                    raise ValueError(f"label {lab[i]} at row {i} is outside [0, {k})")
        elif (<object>_float_array("y", target, self.typenum)).shape != (n, k):
            raise ValueError(f"{_describe('y', target)}: expected shape ({n}, {k})")
        return n

    def forward(self, X):
        """Logits of X (a view into the workspace, valid until the next call)."""
        cdef long long n = self._check(X, None)
        cdef void *px = cnp.PyArray_DATA(<cnp.ndarray>X)
        with nogil:
            if self.typenum == cnp.NPY_FLOAT32:
                fi_mlp_forward_s(&self.net, <const float *>px, n)
            else:
                fi_mlp_forward_d(&self.net, <const double *>px, n)
        return self.A[len(self.A) - 1][:n]

    def grad(self, X, target):
        """Mean loss; fills self.dW and self.db with its gradient."""
        cdef long long n = self._check(X, target)
        cdef void *px = cnp.PyArray_DATA(<cnp.ndarray>X)
        cdef void *pt = cnp.PyArray_DATA(<cnp.ndarray>target)
        cdef double loss
        with nogil:
            if self.typenum == cnp.NPY_FLOAT32:
                loss = fi_mlp_grad_s(&self.net, <const float *>px, pt, n)
            else:
                loss = fi_mlp_grad_d(&self.net, <const double *>px, pt, n)
        return loss

    def step(self, X, target, int kind, double lr, double momentum, double weight_decay,
             double beta1, double beta2, double eps, bint nesterov, long long step, double clip_norm):
        """One training step (see fi_mlp_step); returns the loss before the update."""
        cdef long long n = self._check(X, target)
        if self.net.mW == NULL:
            raise RuntimeError("set_state must be called before step")
        if kind != FI_OPT_SGD and self.net.vW == NULL:
            raise RuntimeError("Adam needs second-moment state")
        cdef fi_optim_t o
        o.kind = <fi_opt_kind_t>kind
        o.lr, o.momentum, o.weight_decay = lr, momentum, weight_decay
        o.beta1, o.beta2, o.eps, o.nesterov, o.step = beta1, beta2, eps, nesterov, step
        cdef void *px = cnp.PyArray_DATA(<cnp.ndarray>X)
        cdef void *pt = cnp.PyArray_DATA(<cnp.ndarray>target)
        cdef double loss
        with nogil:
            if self.typenum == cnp.NPY_FLOAT32:
                loss = fi_mlp_step_s(&self.net, <const float *>px, pt, n, &o, clip_norm)
            else:
                loss = fi_mlp_step_d(&self.net, <const double *>px, pt, n, &o, clip_norm)
        return loss
