# The ensemble engine (csrc/fi_ensemble.h): K models of one architecture trained in one C call,
# per step or per N steps, each member with the solo engine's arithmetic. Members are _Engine
# views (their parameters live in the ensemble's buffers) and optimizer states _OptState
# objects, so a member trained here or through MLP.train_step continues one state. Input comes
# validated by fastinit/ensemble.py (shapes, dtypes, row indices in range, offsets increasing).
import numpy as np

cimport numpy as cnp
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc

from fastinit._core cimport capi
from fastinit._core.capi cimport fi_dim_t

cnp.import_array()


def ensemble_lane_width(bint f32):
    """Members one lane group holds in the kernel set in use (0: no lane engine)."""
    return capi.fi_ens_lane_width(4 if f32 else 8)


def lanes_plan_fixed(bint fixed):
    """Test hook: plan lane groups as if no cost were measured (every kind of group and tail on
    chosen K, whatever this machine measures), or from the measured costs again."""
    capi.fi_lanes_plan_fixed(fixed)


cdef class _EnsWorkspace:
    """A fi_ens_ws_t for K members and batches of up to n rows; freed with the object."""
    cdef capi.fi_ens_ws_t ws

    def __dealloc__(self):
        capi.fi_ens_ws_free(&self.ws)


cdef class _Ensemble:
    """The C view of an Ensemble: its members' engines (kept alive here), a pointer table to
    the optimizer states bound by bind(), and workspaces cached by batch size."""
    cdef capi.fi_ens_t e
    cdef capi.fi_mlp_t *m
    cdef capi.fi_optim_t **opt
    cdef void ***s1
    cdef void ***s2
    cdef list _engines
    cdef list _states
    cdef dict _ws
    cdef readonly int k
    cdef bint f32
    cdef size_t elsize, yrow

    def __cinit__(self, list engines):
        """engines: the members' _Engine objects, one architecture and dtype (checked by the caller)."""
        cdef int j, k = len(engines)
        cdef _Engine eng
        self.m = <capi.fi_mlp_t *>malloc(k * sizeof(capi.fi_mlp_t))
        self.opt = <capi.fi_optim_t **>malloc(k * sizeof(capi.fi_optim_t *))
        self.s1 = <void ***>malloc(k * sizeof(void **))
        self.s2 = <void ***>malloc(k * sizeof(void **))
        if not (self.m and self.opt and self.s1 and self.s2):
            raise MemoryError()
        for j in range(k):
            eng = <_Engine?>engines[j]
            self.m[j] = eng.m
            self.opt[j] = NULL
        eng = <_Engine>engines[0]
        self.f32 = eng.f32
        self.elsize = eng.dtype.itemsize
        self._engines = list(engines)
        self._states = None
        self._ws = {}
        self.k = k
        self.yrow = capi.fi_ens_y_row_bytes(&self.m[0], self.elsize)
        self.e.k = k
        self.e.m = self.m
        self.e.opt = self.opt
        self.e.s1 = self.s1
        self.e.s2 = self.s2

    def __dealloc__(self):
        free(self.m)
        free(self.opt)
        free(self.s1)
        free(self.s2)

    def lane_plan(self, fi_dim_t n):
        """For calls with batches of up to n rows: which members the last one trained in lanes,
        and the costs measured so far (seconds per step of a full and a half-width lane group,
        per member-step alone; 0: not measured); None before the first such call."""
        cdef _EnsWorkspace w = self._ws.get(n)
        if w is None:
            return None
        return ([bool(w.ws.laned[j]) for j in range(self.k)],
                {"group": w.ws.costs.seconds[0], "half_group": w.ws.costs.seconds[1],
                 "member": w.ws.costs.seconds[2]})

    def bind(self, list states):
        """Use states[j] (an _OptState made for member j) for member j from now on."""
        cdef int j
        cdef _OptState st
        for j in range(self.k):
            st = <_OptState?>states[j]
            self.opt[j] = &st.opt
            self.s1[j] = st.s1
            self.s2[j] = st.s2
        self._states = list(states)

    cdef capi.fi_ens_ws_t *_workspace(self, fi_dim_t n) except NULL:
        cdef _EnsWorkspace w = self._ws.get(n)
        if w is None:
            if len(self._ws) >= 4:
                self._ws.pop(next(iter(self._ws)))
            w = _EnsWorkspace()
            if capi.fi_ens_ws_init(&w.ws, &self.m[0], self.k, n, self.elsize) != 0:
                raise MemoryError(f"cannot allocate the workspaces of {self.k} members for {n} rows")
            self._ws[n] = w
        return &w.ws

    def step(self, cnp.ndarray x, cnp.ndarray y, double[::1] loss, const uint8_t[::1] active=None):
        """One step of every (active) member on x (rows, n_in) shared or (k, rows, n_in) per
        member, y to match; loss[j] receives member j's loss."""
        cdef bint per = x.ndim == 3
        cdef fi_dim_t n = x.shape[x.ndim - 2]
        cdef fi_dim_t xs = n * x.shape[x.ndim - 1] if per else 0
        cdef fi_dim_t ys = <fi_dim_t>(n * self.yrow) if per else 0
        cdef const uint8_t *act = &active[0] if active is not None else NULL
        cdef capi.fi_ens_ws_t *w = self._workspace(n)
        cdef void *px = cnp.PyArray_DATA(x)
        cdef void *py = cnp.PyArray_DATA(y)
        with nogil:
            if self.f32:
                capi.ens_step(&self.e, w, <const float *>px, xs, py, ys, n, act, &loss[0])
            else:
                capi.ens_step(&self.e, w, <const double *>px, xs, py, ys, n, act, &loss[0])

    def run(self, cnp.ndarray x, cnp.ndarray y, cnp.ndarray idx, const int64_t[::1] off,
            double[:, ::1] loss, int64_t[::1] done, double[::1] seconds=None,
            const uint8_t[::1] active=None, const int64_t[::1] start=None, double[::1] ceiling=None,
            double factor=0.0):
        """len(off) - 1 steps of every (active) member: step t on rows idx[..., off[t]:off[t+1]]
        (idx (total,) shared or (k, total) per member), or, idx None, on off[t+1] - off[t] rows
        from row start[t] (start None: off[t]) read in place. A member stops at a NaN/inf loss
        or parameter, and past ceiling[j] when given (a negative one is set by its next step to
        factor times that step's loss: fit's blow-up rule)."""
        cdef bint per = x.ndim == 3
        cdef fi_dim_t n = x.shape[x.ndim - 2], t, nsteps = off.shape[0] - 1, bmax = 0
        cdef fi_dim_t xs = n * x.shape[x.ndim - 1] if per else 0
        cdef fi_dim_t ys = <fi_dim_t>(n * self.yrow) if per else 0
        for t in range(nsteps):
            bmax = max(bmax, off[t + 1] - off[t])
        cdef const int64_t *pidx = <const int64_t *>cnp.PyArray_DATA(idx) if idx is not None else NULL
        cdef fi_dim_t ist = off[nsteps] if idx is not None and idx.ndim == 2 else 0
        cdef const fi_dim_t *pstart = <const fi_dim_t *>&start[0] if start is not None else NULL
        cdef const uint8_t *act = &active[0] if active is not None else NULL
        cdef double *psec = &seconds[0] if seconds is not None else NULL
        cdef double *pceil = &ceiling[0] if ceiling is not None else NULL
        cdef capi.fi_ens_ws_t *w = self._workspace(bmax)
        cdef void *px = cnp.PyArray_DATA(x)
        cdef void *py = cnp.PyArray_DATA(y)
        with nogil:
            if self.f32:
                capi.ens_run(&self.e, w, <const float *>px, xs, py, ys, pidx, ist, &off[0], pstart, nsteps,
                             act, &loss[0, 0], <fi_dim_t *>&done[0], psec, pceil, factor)
            else:
                capi.ens_run(&self.e, w, <const double *>px, xs, py, ys, pidx, ist, &off[0], pstart, nsteps,
                             act, &loss[0, 0], <fi_dim_t *>&done[0], psec, pceil, factor)
