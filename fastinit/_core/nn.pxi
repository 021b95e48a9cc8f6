# Activations, losses and _Engine, the one-call training step behind MLP (csrc/fi_act.h,
# fi_loss.h, fi_optim.h, fi_mlp.h). The C enums are exported here; Python never copies them.
import numpy as np

cimport numpy as cnp
from cython cimport floating
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from fastinit._core cimport capi
from fastinit._core.capi cimport fi_dim_t

cnp.import_array()

#: activation name -> C code (fi_act_t)
ACT_CODES = {
    "identity": capi.FI_ACT_IDENTITY, "relu": capi.FI_ACT_RELU, "leaky_relu": capi.FI_ACT_LEAKY_RELU,
    "elu": capi.FI_ACT_ELU, "selu": capi.FI_ACT_SELU, "tanh": capi.FI_ACT_TANH,
    "sigmoid": capi.FI_ACT_SIGMOID, "gelu": capi.FI_ACT_GELU, "gelu_tanh": capi.FI_ACT_GELU_TANH,
    "softplus": capi.FI_ACT_SOFTPLUS, "softsign": capi.FI_ACT_SOFTSIGN, "silu": capi.FI_ACT_SILU,
}
assert len(ACT_CODES) == capi.FI_ACT_COUNT, "csrc/fi_act.h has an activation this table lacks"
#: loss name -> C code (fi_loss_t)
LOSS_CODES = {"cross_entropy": capi.FI_LOSS_SOFTMAX_XENT, "bce": capi.FI_LOSS_BCE_LOGITS,
              "mse": capi.FI_LOSS_MSE}
#: optimizer name -> C code (fi_optim_kind_t)
OPTIM_CODES = {"sgd": capi.FI_OPT_SGD, "adam": capi.FI_OPT_ADAM, "adamw": capi.FI_OPT_ADAMW}


def act_kernel():
    """The float32 exp/tanh/sigmoid kernel in use: "ref", "avx2" or "avx512"."""
    return capi.fi_act_kernel().decode()


def act_needs_pre(int act):
    """Whether the backward of activation code `act` reads the pre-activation."""
    return bool(capi.fi_act_needs_pre(<capi.fi_act_t>act))


def act_forward(const floating[::1] x, floating[::1] y, int act, double param):
    """y = act(x) elementwise; y may be x."""
    if x.shape[0]:
        with nogil:
            capi.act_forward(&y[0], &x[0], x.shape[0], <capi.fi_act_t>act, param)


def act_backward(const floating[::1] dy, const floating[::1] z, const floating[::1] y,
                 floating[::1] dz, int act, double param):
    """dz = dy * act'(z) with y = act(z); dz may be dy."""
    if dy.shape[0]:
        with nogil:
            capi.act_backward(&dz[0], &dy[0], &z[0], &y[0], dy.shape[0], <capi.fi_act_t>act, param)


def exp(const floating[::1] x, floating[::1] y):
    """y = exp(x) elementwise with the kernel the softmax loss uses; y may be x."""
    if x.shape[0]:
        with nogil:
            capi.exp(&y[0], &x[0], x.shape[0])


def loss(int kind, const floating[:, ::1] z, cnp.ndarray y, floating[:, ::1] dz):
    """Mean loss of z (n >= 1, c >= 1) against y (int64 labels (n,) in [0, c) for
    cross-entropy, else targets of z's dtype and shape); its gradient into dz unless None."""
    cdef void *py = cnp.PyArray_DATA(y)
    cdef floating *pd = &dz[0, 0] if dz is not None else NULL
    cdef double out
    with nogil:
        out = capi.loss(<capi.fi_loss_t>kind, pd, &z[0, 0], py, z.shape[0], z.shape[1])
    return out


def all_finite(cnp.ndarray x):
    """Whether every value of x (C-contiguous float32/float64, any shape) is finite. Raw
    pointers, not a memoryview: the per-batch checks of train_step run through here."""
    cdef fi_dim_t n = cnp.PyArray_SIZE(x)
    cdef void *p = cnp.PyArray_DATA(x)
    cdef int ok = 1
    if n:
        with nogil:
            if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
                ok = capi.all_finite(<const float *>p, n)
            else:
                ok = capi.all_finite(<const double *>p, n)
    return bool(ok)


def labels_in_range(cnp.ndarray y, int64_t c):
    """Whether every label of y (C-contiguous int64) is in [0, c)."""
    cdef const int64_t *p = <const int64_t *>cnp.PyArray_DATA(y)
    cdef fi_dim_t i, n = cnp.PyArray_SIZE(y)
    cdef bint ok = True
    with nogil:
        for i in range(n):
            if p[i] < 0 or p[i] >= c:
                ok = False
                break
    return ok


cdef class _Workspace:
    """A fi_mlp_ws_t for batches of up to n rows; freed with the object."""
    cdef capi.fi_mlp_ws_t ws

    def __dealloc__(self):
        capi.fi_mlp_ws_free(&self.ws)


cdef class _OptState:
    """Hyper-parameters, step count and state buffers of one optimizer bound to one model."""
    cdef capi.fi_optim_t opt
    cdef void **s1
    cdef void **s2
    cdef list _refs

    def __cinit__(self, int kind, double lr, double momentum, bint nesterov, double weight_decay,
                  double beta1, double beta2, double eps, double clip_norm, list s1, list s2):
        cdef int k
        self.opt.kind = <capi.fi_optim_kind_t>kind
        self.opt.lr = lr
        self.opt.momentum = momentum
        self.opt.nesterov = nesterov
        self.opt.weight_decay = weight_decay
        self.opt.beta1 = beta1
        self.opt.beta2 = beta2
        self.opt.eps = eps
        self.opt.clip_norm = clip_norm
        self.opt.step = 0
        self.opt.finite = 1
        self._refs = list(s1) + list(s2)
        self.s1 = <void **>malloc(max(len(s1), 1) * sizeof(void *))
        self.s2 = <void **>malloc(max(len(s2), 1) * sizeof(void *))
        if self.s1 == NULL or self.s2 == NULL:
            raise MemoryError()
        for k in range(len(s1)):
            self.s1[k] = cnp.PyArray_DATA(<cnp.ndarray>s1[k]) if s1[k] is not None else NULL
        for k in range(len(s2)):
            self.s2[k] = cnp.PyArray_DATA(<cnp.ndarray>s2[k]) if s2[k] is not None else NULL

    def __dealloc__(self):
        free(self.s1)
        free(self.s2)

    @property
    def lr(self):
        return self.opt.lr

    @lr.setter
    def lr(self, double v):
        self.opt.lr = v

    @property
    def step(self):
        return self.opt.step

    @property
    def finite(self):
        """Whether every parameter was finite after the last step (flagged by the C update)."""
        return bool(self.opt.finite)


cdef class _Engine:
    """The C view of an MLP: pointers to its parameter and gradient arrays (kept alive here,
    never reallocated: MLP copies into them), and workspaces cached by batch size. Batches
    come validated (fastinit._validate): C-contiguous rows of the model's dtype, finite."""
    cdef capi.fi_mlp_t m
    cdef fi_dim_t *sizes
    cdef capi.fi_act_t *acts
    cdef double *act_params
    cdef fi_dim_t *count
    cdef void **p
    cdef void **g
    cdef list _refs
    cdef dict _ws
    cdef _Workspace _last
    cdef fi_dim_t _rows  # rows of the last batch (or chunk) through _last
    cdef fi_dim_t n_in, n_out
    cdef bint f32
    cdef readonly object dtype

    def __cinit__(self, sizes, acts, act_params, int loss, params, grads):
        cdef int L = len(sizes) - 1, l, k
        self.sizes = <fi_dim_t *>malloc((L + 1) * sizeof(fi_dim_t))
        self.acts = <capi.fi_act_t *>malloc(L * sizeof(capi.fi_act_t))
        self.act_params = <double *>malloc(L * sizeof(double))
        self.count = <fi_dim_t *>malloc(2 * L * sizeof(fi_dim_t))
        self.p = <void **>malloc(2 * L * sizeof(void *))
        self.g = <void **>malloc(2 * L * sizeof(void *))
        if not (self.sizes and self.acts and self.act_params and self.count and self.p and self.g):
            raise MemoryError()
        self._refs = list(params) + list(grads)
        self.dtype = params[0].dtype
        self.f32 = self.dtype == np.float32
        for l in range(L + 1):
            self.sizes[l] = sizes[l]
        for l in range(L):
            self.acts[l] = <capi.fi_act_t>acts[l]
            self.act_params[l] = act_params[l]
        for k in range(2 * L):
            self.p[k] = cnp.PyArray_DATA(<cnp.ndarray>params[k])
            self.g[k] = cnp.PyArray_DATA(<cnp.ndarray>grads[k])
            self.count[k] = cnp.PyArray_SIZE(<cnp.ndarray>params[k])
        self.m.nlayers = L
        self.m.sizes = self.sizes
        self.m.acts = self.acts
        self.m.act_params = self.act_params
        self.m.loss = <capi.fi_loss_t>loss
        self.m.p = self.p
        self.m.g = self.g
        self.m.count = self.count
        self.n_in = sizes[0]
        self.n_out = sizes[L]
        self._ws = {}
        self._last = None

    def __dealloc__(self):
        free(self.sizes)
        free(self.acts)
        free(self.act_params)
        free(self.count)
        free(self.p)
        free(self.g)

    cdef _Workspace _workspace(self, fi_dim_t n):
        """The workspace for batches of n rows (allocated once per n; a few sizes are kept)."""
        cdef _Workspace w = self._last
        if w is not None and w.ws.n == n:
            return w
        w = self._ws.get(n)
        if w is None:
            if len(self._ws) >= 4:
                self._ws.pop(next(iter(self._ws)))
            w = _Workspace()
            if capi.fi_mlp_ws_init(&w.ws, &self.m, n, self.dtype.itemsize) != 0:
                raise MemoryError(f"cannot allocate the workspace for a batch of {n} rows")
            self._ws[n] = w
        self._last = w
        return w

    def clear_workspaces(self):
        self._ws.clear()
        self._last = None

    def forward(self, cnp.ndarray x, fi_dim_t chunk=2048):
        """Logits of x (n >= 1, n_in) as a new (n, n_out) array, in chunks of rows."""
        cdef fi_dim_t n = cnp.PyArray_DIMS(x)[0], start, rows = 0
        cdef cnp.ndarray res = np.empty((n, self.n_out), dtype=self.dtype)
        cdef _Workspace w = self._workspace(min(n, chunk))
        cdef size_t isz = cnp.PyArray_ITEMSIZE(x)
        cdef char *px = <char *>cnp.PyArray_DATA(x)
        cdef char *pr = <char *>cnp.PyArray_DATA(res)
        cdef int L = self.m.nlayers
        with nogil:
            start = 0
            while start < n:
                rows = min(chunk, n - start)
                if self.f32:
                    capi.mlp_forward(&self.m, &w.ws, <const float *>(px + start * self.n_in * isz), rows)
                else:
                    capi.mlp_forward(&self.m, &w.ws, <const double *>(px + start * self.n_in * isz), rows)
                memcpy(pr + start * self.n_out * isz, w.ws.a[L - 1], rows * self.n_out * isz)
                start += rows
        self._rows = rows
        return res

    cdef double *_gin_ss_ptr(self, double[::1] gin_ss):
        return &gin_ss[0] if gin_ss is not None else NULL

    def backprop(self, cnp.ndarray x, cnp.ndarray y, double[::1] gin_ss=None):
        """Forward + loss + backward into the gradient arrays; returns the loss. gin_ss: as in
        step."""
        cdef fi_dim_t n = cnp.PyArray_DIMS(x)[0]
        cdef double *pss = self._gin_ss_ptr(gin_ss)
        cdef _Workspace w = self._workspace(n)
        cdef void *px = cnp.PyArray_DATA(x)
        cdef void *py = cnp.PyArray_DATA(y)
        cdef double out
        with nogil:
            if self.f32:
                out = capi.mlp_backprop(&self.m, &w.ws, <const float *>px, py, n, pss)
            else:
                out = capi.mlp_backprop(&self.m, &w.ws, <const double *>px, py, n, pss)
        self._rows = n
        return out

    def step(self, cnp.ndarray x, cnp.ndarray y, _OptState st, double[::1] gin_ss=None):
        """One training step (forward, loss, backward, update); the loss before the update.
        gin_ss (one float64 per layer, or None) receives the sum of squares of each layer's
        input gradient (the first layer's is computed for it)."""
        cdef fi_dim_t n = cnp.PyArray_DIMS(x)[0]
        cdef double *pss = self._gin_ss_ptr(gin_ss)
        cdef _Workspace w = self._workspace(n)
        cdef void *px = cnp.PyArray_DATA(x)
        cdef void *py = cnp.PyArray_DATA(y)
        cdef double out
        with nogil:
            if self.f32:
                out = capi.mlp_step(&self.m, &w.ws, <const float *>px, py, n, &st.opt, st.s1, st.s2, pss)
            else:
                out = capi.mlp_step(&self.m, &w.ws, <const double *>px, py, n, &st.opt, st.s1, st.s2, pss)
        self._rows = n
        return out

    def outputs(self):
        """Copies of each layer's output (activation; logits for the last) on the last batch
        through step or backprop (or the last chunk of forward)."""
        if self._last is None:
            raise RuntimeError("no batch has gone through the model yet")
        cdef _Workspace w = self._last
        cdef size_t isz = self.dtype.itemsize
        cdef cnp.ndarray out
        res = []
        for l in range(self.m.nlayers):
            out = np.empty((self._rows, self.sizes[l + 1]), dtype=self.dtype)
            memcpy(cnp.PyArray_DATA(out), w.ws.a[l], self._rows * self.sizes[l + 1] * isz)
            res.append(out)
        return res


def select_act_kernel(str name):
    """Test hook: switch the activation family alone ("auto", "ref", "avx2", "avx512"; "neon"
    runs the portable code), to compare its kernels under one GEMM. runtime.select_kernel
    switches every family together."""
    rc = capi.fi_kernel_override(capi.FI_FAMILY_ACT, name.encode())
    if rc == -1:
        raise ValueError(f"unknown activation kernel {name!r}; choose one of: auto, ref, avx2, avx512, neon")
    if rc == -2:
        raise ValueError(f"activation kernel {name!r} needs a CPU feature this machine lacks")
