# Activations and losses (csrc/fi_act.h, csrc/fi_loss.h): kernels exposed for tests and the
# diagnostics; the training step calls them from C.
from libc.stdint cimport int64_t

cdef extern from "fi_act.h" nogil:
    ctypedef enum fi_act_t:
        FI_ACT_IDENTITY
        FI_ACT_COUNT
    void fi_act_forward_s(float *y, const float *x, long long n, fi_act_t act, double param)
    void fi_act_forward_d(double *y, const double *x, long long n, fi_act_t act, double param)
    void fi_act_backward_s(float *dx, const float *dy, const float *x, const float *y, long long n,
                           fi_act_t act, double param)
    void fi_act_backward_d(double *dx, const double *dy, const double *x, const double *y, long long n,
                           fi_act_t act, double param)
    int fi_act_needs_input(fi_act_t act)

cdef extern from "fi_loss.h" nogil:
    ctypedef enum fi_loss_t:
        FI_LOSS_SOFTMAX_CE
        FI_LOSS_BCE_LOGITS
        FI_LOSS_MSE
    double fi_loss_s(float *dz, const float *z, const void *target, long long n, long long k, fi_loss_t loss)
    double fi_loss_d(double *dz, const double *z, const void *target, long long n, long long k, fi_loss_t loss)


cdef cnp.ndarray _float_array(name, x, int typenum=-1):
    """x as a C-contiguous float32/float64 ndarray (of dtype typenum if given), or an error."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int t = cnp.PyArray_TYPE(a)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64 or (typenum >= 0 and t != typenum):
        raise TypeError(f"{_describe(name, a)}: expected "
                        + ("float32 or float64" if typenum < 0 else str(np.dtype(cnp.PyArray_DescrFromType(typenum)))))
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{_describe(name, a)} must be C-contiguous")
    return a


cdef int _act_id(int act) except -1:
    if not 0 <= act < FI_ACT_COUNT:
        raise ValueError(f"act must be in [0, {FI_ACT_COUNT}), got {act}")
    return act


def _act_needs_input(int act):
    return bool(fi_act_needs_input(<fi_act_t>_act_id(act)))


def _act_forward(x, int act, double param=0.0):
    """act(x) elementwise, a new array."""
    cdef cnp.ndarray a = _float_array("x", x)
    cdef cnp.ndarray y = np.empty_like(a)
    cdef long long n = cnp.PyArray_SIZE(a)
    cdef fi_act_t k = <fi_act_t>_act_id(act)
    with nogil:
        if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32:
            fi_act_forward_s(<float *>cnp.PyArray_DATA(y), <const float *>cnp.PyArray_DATA(a), n, k, param)
        else:
            fi_act_forward_d(<double *>cnp.PyArray_DATA(y), <const double *>cnp.PyArray_DATA(a), n, k, param)
    return y


def _act_backward(dy, x, y, int act, double param=0.0):
    """dy * act'(.), from the pre-activation x and the output y, a new array."""
    cdef cnp.ndarray g = _float_array("dy", dy)
    cdef int t = cnp.PyArray_TYPE(g)
    cdef cnp.ndarray a = _float_array("x", x, t), o = _float_array("y", y, t)
    if (<object>a).shape != (<object>g).shape or (<object>o).shape != (<object>g).shape:
        raise ValueError(f"dy, x and y must have one shape, got {(<object>g).shape}, {(<object>a).shape}, {(<object>o).shape}")
    cdef cnp.ndarray dx = np.empty_like(g)
    cdef long long n = cnp.PyArray_SIZE(g)
    cdef fi_act_t k = <fi_act_t>_act_id(act)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fi_act_backward_s(<float *>cnp.PyArray_DATA(dx), <const float *>cnp.PyArray_DATA(g),
                              <const float *>cnp.PyArray_DATA(a), <const float *>cnp.PyArray_DATA(o), n, k, param)
        else:
            fi_act_backward_d(<double *>cnp.PyArray_DATA(dx), <const double *>cnp.PyArray_DATA(g),
                              <const double *>cnp.PyArray_DATA(a), <const double *>cnp.PyArray_DATA(o), n, k, param)
    return dx


def _loss(z, target, int kind):
    """(mean loss, d loss / d z) of logits z:(n, k). kind 0: softmax cross-entropy with int64
    labels (n,) in [0, k); 1: BCE on logits, 2: MSE, with targets of z's shape and dtype."""
    cdef cnp.ndarray zz = _float_array("z", z)
    if zz.ndim != 2:
        raise ValueError(f"{_describe('z', zz)}: expected (n, k)")
    cdef long long n = zz.shape[0], k = zz.shape[1]
    cdef cnp.ndarray t
    if kind == 0:
        if not isinstance(target, cnp.ndarray) or target.dtype != np.int64 or target.shape != (n,):
            raise TypeError(f"softmax cross-entropy needs int64 labels of shape ({n},)")
        t = np.ascontiguousarray(target)
        if n and (t.min() < 0 or t.max() >= k):
            raise ValueError(f"labels must be in [0, {k}), got [{t.min()}, {t.max()}]")
    elif kind in (1, 2):
        t = _float_array("target", target, cnp.PyArray_TYPE(zz))
        if (<object>t).shape != (<object>zz).shape:
            raise ValueError(f"{_describe('target', t)}: expected shape {(<object>zz).shape}")
    else:
        raise ValueError(f"kind must be 0, 1 or 2, got {kind}")
    cdef cnp.ndarray dz = np.empty_like(zz)
    cdef double value
    with nogil:
        if cnp.PyArray_TYPE(zz) == cnp.NPY_FLOAT32:
            value = fi_loss_s(<float *>cnp.PyArray_DATA(dz), <const float *>cnp.PyArray_DATA(zz),
                              cnp.PyArray_DATA(t), n, k, <fi_loss_t>kind)
        else:
            value = fi_loss_d(<double *>cnp.PyArray_DATA(dz), <const double *>cnp.PyArray_DATA(zz),
                              cnp.PyArray_DATA(t), n, k, <fi_loss_t>kind)
    return value, dz
