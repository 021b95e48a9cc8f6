# Training engine (csrc/fi_act.h, fi_loss.h, fi_dense.h, fi_optim.h, fi_mlp.h): activation and
# loss kernels for tests and diagnostics, and _Engine, the one-call training step behind MLP.
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cdef extern from "fi_mlp.h" nogil:
    ctypedef int64_t fi_dim_t
    void fi_act_forward_s(float *y, const float *x, fi_dim_t n, int act, double param)
    void fi_act_forward_d(double *y, const double *x, fi_dim_t n, int act, double param)
    void fi_act_backward_s(float *dz, const float *dy, const float *z, const float *y, fi_dim_t n,
                           int act, double param)
    void fi_act_backward_d(double *dz, const double *dy, const double *z, const double *y,
                           fi_dim_t n, int act, double param)
    int fi_act_needs_pre(int act)
    void fi_exp_s(float *y, const float *x, fi_dim_t n)
    void fi_exp_d(double *y, const double *x, fi_dim_t n)
    int fi_act_select(const char *name)
    const char *fi_act_kernel()
    double fi_loss_xent_s(float *dz, const float *z, const int64_t *labels, fi_dim_t n, fi_dim_t c)
    double fi_loss_xent_d(double *dz, const double *z, const int64_t *labels, fi_dim_t n, fi_dim_t c)
    double fi_loss_bce_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_bce_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_mse_s(float *dz, const float *z, const float *t, fi_dim_t n, fi_dim_t c)
    double fi_loss_mse_d(double *dz, const double *z, const double *t, fi_dim_t n, fi_dim_t c)

    ctypedef struct fi_optim_t:
        int kind
        double lr, momentum
        int nesterov
        double weight_decay, beta1, beta2, eps, clip_norm
        int64_t step

    ctypedef struct fi_mlp_t:
        int nlayers
        const fi_dim_t *sizes
        const fi_act_t *acts
        const double *act_params
        int loss
        void **p
        void **g
        const fi_dim_t *count

    ctypedef struct fi_mlp_ws_t:
        fi_dim_t n
        void **a
        void **z

    int fi_mlp_ws_init(fi_mlp_ws_t *ws, const fi_mlp_t *m, fi_dim_t n, size_t elsize)
    void fi_mlp_ws_free(fi_mlp_ws_t *ws)
    void fi_mlp_forward_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, fi_dim_t n)
    void fi_mlp_forward_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, fi_dim_t n)
    double fi_mlp_backprop_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                             fi_dim_t n, double *gin_ss)
    double fi_mlp_backprop_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                             fi_dim_t n, double *gin_ss)
    double fi_mlp_step_s(const fi_mlp_t *m, fi_mlp_ws_t *ws, const float *x, const void *y,
                         fi_dim_t n, fi_optim_t *opt, float **s1, float **s2, double *gin_ss)
    double fi_mlp_step_d(const fi_mlp_t *m, fi_mlp_ws_t *ws, const double *x, const void *y,
                         fi_dim_t n, fi_optim_t *opt, double **s1, double **s2, double *gin_ss)
    int fi_all_finite_s(const float *x, fi_dim_t n)
    int fi_all_finite_d(const double *x, fi_dim_t n)


def _select_act_kernel(name):
    """Switch the float32 tanh/sigmoid kernel ("auto", "ref", "avx2", "avx512"; "neon" runs
    the portable code) for this process, as _select_kernel does for GEMM. Not thread-safe."""
    rc = fi_act_select(str(name).encode())
    if rc == -1:
        raise ValueError(f"unknown activation kernel {name!r}; choose one of: auto, ref, avx2, avx512, neon")
    if rc == -2:
        raise ValueError(f"activation kernel {name!r} needs a CPU feature this machine lacks")


def _act_kernel():
    """The float32 tanh/sigmoid kernel in use: "ref", "avx2" or "avx512"."""
    return fi_act_kernel().decode()


# FASTINIT_KERNEL picks the activation kernels too (already validated by _select_kernel).
_select_act_kernel(os.environ.get("FASTINIT_KERNEL", "auto") or "auto")


cdef cnp.ndarray _contig_float(name, x):
    """x as a C-contiguous float32/float64 ndarray, or TypeError/ValueError naming it."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{_describe(name, x)}: expected float32 or float64")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x):
        raise ValueError(f"{_describe(name, x)} must be C-contiguous")
    return <cnp.ndarray>x


cdef _same(name, object x, object ref, bint writeable=False):
    if x.dtype != ref.dtype or x.shape != ref.shape:
        raise ValueError(f"{_describe(name, x)}: expected shape {ref.shape} and dtype {ref.dtype}")
    if writeable and not x.flags.writeable:
        raise ValueError(f"{_describe(name, x)} is read-only")


def _check_act(int act):
    if not 0 <= act < FI_ACT_COUNT:
        raise ValueError(f"act must be in [0, {FI_ACT_COUNT}), got {act}")


def act_needs_pre(int act):
    """Whether the backward of activation code `act` reads the pre-activation."""
    _check_act(act)
    return bool(fi_act_needs_pre(act))


def _act_forward(x, y, int act, double param=0.0):
    """y = act(x) elementwise (y may be x), any shape, C-contiguous float32/float64."""
    _check_act(act)
    cdef cnp.ndarray ax = _contig_float("x", x), ay = _contig_float("y", y)
    _same("y", ay, ax, True)
    cdef fi_dim_t n = cnp.PyArray_SIZE(ax)
    cdef void *px = cnp.PyArray_DATA(ax)
    cdef void *py = cnp.PyArray_DATA(ay)
    cdef bint f32 = cnp.PyArray_TYPE(ax) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            fi_act_forward_s(<float *>py, <const float *>px, n, act, param)
        else:
            fi_act_forward_d(<double *>py, <const double *>px, n, act, param)


def _exp(x, y):
    """y = exp(x) elementwise with the kernel the softmax loss uses (y may be x)."""
    cdef cnp.ndarray ax = _contig_float("x", x), ay = _contig_float("y", y)
    _same("y", ay, ax, True)
    cdef fi_dim_t n = cnp.PyArray_SIZE(ax)
    cdef void *px = cnp.PyArray_DATA(ax)
    cdef void *py = cnp.PyArray_DATA(ay)
    cdef bint f32 = cnp.PyArray_TYPE(ax) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            fi_exp_s(<float *>py, <const float *>px, n)
        else:
            fi_exp_d(<double *>py, <const double *>px, n)


def _act_backward(dy, z, y, dz, int act, double param=0.0):
    """dz = dy * act'(z) with y = act(z) (dz may be dy); all the same shape and dtype."""
    _check_act(act)
    cdef cnp.ndarray ady = _contig_float("dy", dy), az = _contig_float("z", z)
    cdef cnp.ndarray ay = _contig_float("y", y), adz = _contig_float("dz", dz)
    _same("z", az, ady)
    _same("y", ay, ady)
    _same("dz", adz, ady, True)
    cdef fi_dim_t n = cnp.PyArray_SIZE(ady)
    cdef void *p_dy = cnp.PyArray_DATA(ady)
    cdef void *p_z = cnp.PyArray_DATA(az)
    cdef void *p_y = cnp.PyArray_DATA(ay)
    cdef void *p_dz = cnp.PyArray_DATA(adz)
    cdef bint f32 = cnp.PyArray_TYPE(ady) == cnp.NPY_FLOAT32
    with nogil:
        if f32:
            fi_act_backward_s(<float *>p_dz, <const float *>p_dy, <const float *>p_z,
                              <const float *>p_y, n, act, param)
        else:
            fi_act_backward_d(<double *>p_dz, <const double *>p_dy, <const double *>p_z,
                              <const double *>p_y, n, act, param)


def _loss(int kind, z, y, dz=None):
    """Mean loss of logits z (n, c) against y; gradient into dz when given.

    kind 0: softmax cross-entropy, y int64 (n,) labels in [0, c); kind 1: BCE on logits and
    kind 2: MSE, y (n, c) of z's dtype.
    """
    cdef cnp.ndarray az = _contig_float("z", z)
    if az.ndim != 2 or az.shape[0] == 0 or az.shape[1] == 0:
        raise ValueError(f"{_describe('z', az)}: expected a non-empty 2-D array")
    cdef fi_dim_t n = az.shape[0], c = az.shape[1]
    cdef cnp.ndarray ay, adz = None
    if not isinstance(y, cnp.ndarray):
        raise TypeError(f"y must be a numpy.ndarray, got {type(y).__name__}")
    ay = <cnp.ndarray>y
    if kind == 0:
        if ay.dtype != np.int64 or ay.ndim != 1 or ay.shape[0] != n or not ay.flags.c_contiguous:
            raise ValueError(f"{_describe('y', ay)}: expected contiguous int64 labels of shape ({n},)")
        if n and (ay.min() < 0 or ay.max() >= c):
            raise ValueError(f"{_describe('y', ay)}: labels must be in [0, {c})")
    elif kind == 1 or kind == 2:
        ay = _contig_float("y", y)
        _same("y", ay, az)
    else:
        raise ValueError(f"unknown loss kind {kind}")
    if dz is not None:
        adz = _contig_float("dz", dz)
        _same("dz", adz, az, True)
    cdef void *pz = cnp.PyArray_DATA(az)
    cdef void *py = cnp.PyArray_DATA(ay)
    cdef void *pd = cnp.PyArray_DATA(adz) if adz is not None else NULL
    cdef bint f32 = cnp.PyArray_TYPE(az) == cnp.NPY_FLOAT32
    cdef double out
    with nogil:
        if kind == 0:
            out = fi_loss_xent_s(<float *>pd, <const float *>pz, <const int64_t *>py, n, c) if f32 \
                else fi_loss_xent_d(<double *>pd, <const double *>pz, <const int64_t *>py, n, c)
        elif kind == 1:
            out = fi_loss_bce_s(<float *>pd, <const float *>pz, <const float *>py, n, c) if f32 \
                else fi_loss_bce_d(<double *>pd, <const double *>pz, <const double *>py, n, c)
        else:
            out = fi_loss_mse_s(<float *>pd, <const float *>pz, <const float *>py, n, c) if f32 \
                else fi_loss_mse_d(<double *>pd, <const double *>pz, <const double *>py, n, c)
    return out


cdef class _Workspace:
    """A fi_mlp_ws_t for batches of up to n rows; freed with the object."""
    cdef fi_mlp_ws_t ws

    def __dealloc__(self):
        fi_mlp_ws_free(&self.ws)


cdef class _OptState:
    """Hyper-parameters, step count and state buffers of one optimizer bound to one model."""
    cdef fi_optim_t opt
    cdef void **s1
    cdef void **s2
    cdef list _refs

    def __cinit__(self, int kind, double lr, double momentum, bint nesterov, double weight_decay,
                  double beta1, double beta2, double eps, double clip_norm, list s1, list s2):
        cdef int k
        self.opt.kind = kind
        self.opt.lr = lr
        self.opt.momentum = momentum
        self.opt.nesterov = nesterov
        self.opt.weight_decay = weight_decay
        self.opt.beta1 = beta1
        self.opt.beta2 = beta2
        self.opt.eps = eps
        self.opt.clip_norm = clip_norm
        self.opt.step = 0
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


cdef class _Engine:
    """The C view of an MLP: pointers to its parameter and gradient arrays (kept alive here),
    and workspaces cached by batch size. Parameters must never be reallocated: callers copy
    into them (MLP does)."""
    cdef fi_mlp_t m
    cdef fi_dim_t *sizes
    cdef int *acts
    cdef double *act_params
    cdef fi_dim_t *count
    cdef void **p
    cdef void **g
    cdef list _refs
    cdef dict _ws
    cdef _Workspace _last
    cdef fi_dim_t _rows  # rows of the last batch (or chunk) through _last
    cdef fi_dim_t n_in, n_out
    cdef int dtype_num
    cdef readonly object dtype

    def __cinit__(self, sizes, acts, act_params, int loss, params, grads):
        cdef int L = len(sizes) - 1, l, k
        self.sizes = <fi_dim_t *>malloc((L + 1) * sizeof(fi_dim_t))
        self.acts = <int *>malloc(L * sizeof(int))
        self.act_params = <double *>malloc(L * sizeof(double))
        self.count = <fi_dim_t *>malloc(2 * L * sizeof(fi_dim_t))
        self.p = <void **>malloc(2 * L * sizeof(void *))
        self.g = <void **>malloc(2 * L * sizeof(void *))
        if not (self.sizes and self.acts and self.act_params and self.count and self.p and self.g):
            raise MemoryError()
        self._refs = list(params) + list(grads)
        first = <cnp.ndarray>params[0]
        self.dtype = first.dtype
        self.dtype_num = cnp.PyArray_TYPE(first)
        for l in range(L + 1):
            self.sizes[l] = sizes[l]
        for l in range(L):
            _check_act(acts[l])
            self.acts[l] = acts[l]
            self.act_params[l] = act_params[l]
        for k in range(2 * L):
            pa = params[k]
            ga = grads[k]
            want = (sizes[k // 2 + 1], sizes[k // 2]) if k % 2 == 0 else (sizes[k // 2 + 1],)
            for name, a in (("params", pa), ("grads", ga)):
                if a.shape != want or a.dtype != self.dtype or not a.flags.c_contiguous:
                    raise ValueError(f"{_describe(name + f'[{k}]', a)}: expected a contiguous "
                                     f"{want} {self.dtype} array")
            self.p[k] = cnp.PyArray_DATA(<cnp.ndarray>pa)
            self.g[k] = cnp.PyArray_DATA(<cnp.ndarray>ga)
            self.count[k] = cnp.PyArray_SIZE(<cnp.ndarray>pa)
        self.m.nlayers = L
        self.m.sizes = self.sizes
        self.m.acts = <const fi_act_t *>self.acts
        self.m.act_params = self.act_params
        self.m.loss = loss
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
            if fi_mlp_ws_init(&w.ws, &self.m, n, cnp.PyArray_ITEMSIZE(<cnp.ndarray>self._refs[0])) != 0:
                raise MemoryError(f"cannot allocate the workspace for a batch of {n} rows")
            self._ws[n] = w
        self._last = w
        return w

    def clear_workspaces(self):
        self._ws.clear()
        self._last = None

    cdef bint _x_ok(self, x):
        """Fast check: x is a C-contiguous (n >= 1, n_in) array of the model's dtype, all finite."""
        if type(x) is not np.ndarray:
            return False
        cdef cnp.ndarray a = <cnp.ndarray>x
        if (cnp.PyArray_TYPE(a) != self.dtype_num or cnp.PyArray_NDIM(a) != 2
                or not cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_DIMS(a)[1] != self.n_in
                or cnp.PyArray_DIMS(a)[0] < 1):
            return False
        cdef fi_dim_t size = cnp.PyArray_SIZE(a)
        cdef void *p = cnp.PyArray_DATA(a)
        cdef int ok
        with nogil:
            ok = fi_all_finite_s(<const float *>p, size) if self.dtype_num == cnp.NPY_FLOAT32 \
                else fi_all_finite_d(<const double *>p, size)
        return ok

    cdef bint _y_ok(self, y, fi_dim_t n):
        """Fast check of y against the loss: int64 labels in range, or finite targets."""
        if type(y) is not np.ndarray:
            return False
        cdef cnp.ndarray a = <cnp.ndarray>y
        cdef const int64_t *lab
        cdef fi_dim_t i, c = self.n_out
        cdef bint ok = True
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            return False
        if self.m.loss == 0:
            if cnp.PyArray_TYPE(a) != cnp.NPY_INT64 or cnp.PyArray_NDIM(a) != 1 or cnp.PyArray_DIMS(a)[0] != n:
                return False
            lab = <const int64_t *>cnp.PyArray_DATA(a)
            with nogil:
                for i in range(n):
                    if lab[i] < 0 or lab[i] >= c:
                        ok = False
                        break
            return ok
        return (cnp.PyArray_TYPE(a) == self.dtype_num and cnp.PyArray_NDIM(a) == 2
                and cnp.PyArray_DIMS(a)[0] == n and cnp.PyArray_DIMS(a)[1] == c)

    def forward(self, x, out=None, fi_dim_t chunk=2048):
        """Logits of x (n, n_in) as a new (n, n_out) array; None if x fails the fast checks."""
        if not self._x_ok(x):
            return None
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef fi_dim_t n = cnp.PyArray_DIMS(a)[0], start, rows
        cdef cnp.ndarray res = np.empty((n, self.n_out), dtype=self.dtype)
        cdef _Workspace w = self._workspace(min(n, chunk))
        cdef size_t isz = cnp.PyArray_ITEMSIZE(a)
        cdef char *px = <char *>cnp.PyArray_DATA(a)
        cdef char *pr = <char *>cnp.PyArray_DATA(res)
        cdef bint f32 = self.dtype_num == cnp.NPY_FLOAT32
        cdef int L = self.m.nlayers
        with nogil:
            start = 0
            while start < n:
                rows = min(chunk, n - start)
                if f32:
                    fi_mlp_forward_s(&self.m, &w.ws, <const float *>(px + start * self.n_in * isz), rows)
                else:
                    fi_mlp_forward_d(&self.m, &w.ws, <const double *>(px + start * self.n_in * isz), rows)
                memcpy(pr + start * self.n_out * isz, w.ws.a[L - 1], rows * self.n_out * isz)
                start += rows
        self._rows = rows
        return res

    def backprop(self, x, y, double[::1] gin_ss=None):
        """Forward + loss + backward into the gradient arrays; the loss, or None if x or y
        fail the fast checks. gin_ss: as in step."""
        if not self._x_ok(x):
            return None
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef fi_dim_t n = cnp.PyArray_DIMS(a)[0]
        if not self._y_ok(y, n):
            return None
        cdef double *pss = self._gin_ss_ptr(gin_ss)
        cdef _Workspace w = self._workspace(n)
        cdef void *px = cnp.PyArray_DATA(a)
        cdef void *py = cnp.PyArray_DATA(<cnp.ndarray>y)
        cdef double loss
        with nogil:
            if self.dtype_num == cnp.NPY_FLOAT32:
                loss = fi_mlp_backprop_s(&self.m, &w.ws, <const float *>px, py, n, pss)
            else:
                loss = fi_mlp_backprop_d(&self.m, &w.ws, <const double *>px, py, n, pss)
        self._rows = n
        return loss

    cdef double *_gin_ss_ptr(self, double[::1] gin_ss) except? NULL:
        if gin_ss is None:
            return NULL
        if gin_ss.shape[0] != self.m.nlayers:
            raise ValueError(f"gin_ss has {gin_ss.shape[0]} values, expected one per layer ({self.m.nlayers})")
        return &gin_ss[0]

    def step(self, x, y, _OptState st, double[::1] gin_ss=None):
        """One training step (forward, loss, backward, update); the loss before the update,
        or None if x or y fail the fast checks (nothing is changed then). gin_ss, a float64
        array of one value per layer, receives the sum of squares of each layer's input
        gradient (the first layer's is computed for it)."""
        if not self._x_ok(x):
            return None
        cdef cnp.ndarray a = <cnp.ndarray>x
        cdef fi_dim_t n = cnp.PyArray_DIMS(a)[0]
        if not self._y_ok(y, n):
            return None
        cdef double *pss = self._gin_ss_ptr(gin_ss)
        cdef _Workspace w = self._workspace(n)
        cdef void *px = cnp.PyArray_DATA(a)
        cdef void *py = cnp.PyArray_DATA(<cnp.ndarray>y)
        cdef double loss
        with nogil:
            if self.dtype_num == cnp.NPY_FLOAT32:
                loss = fi_mlp_step_s(&self.m, &w.ws, <const float *>px, py, n, &st.opt,
                                     <float **>st.s1, <float **>st.s2, pss)
            else:
                loss = fi_mlp_step_d(&self.m, &w.ws, <const double *>px, py, n, &st.opt,
                                     <double **>st.s1, <double **>st.s2, pss)
        self._rows = n
        return loss

    def outputs(self):
        """Copies of each layer's output (activation; logits for the last) on the last batch
        through step or backprop (or the last chunk of forward)."""
        if self._last is None:
            raise RuntimeError("no batch has gone through the model yet")
        cdef _Workspace w = self._last
        cdef size_t isz = cnp.PyArray_ITEMSIZE(<cnp.ndarray>self._refs[0])
        cdef cnp.ndarray out
        res = []
        for l in range(self.m.nlayers):
            out = np.empty((self._rows, self.sizes[l + 1]), dtype=self.dtype)
            memcpy(cnp.PyArray_DATA(out), w.ws.a[l], self._rows * self.sizes[l + 1] * isz)
            res.append(out)
        return res
