"""fastinit.matmul and the GEMM kernels against a float64 NumPy reference."""
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import kernel_set, kernels_restored, num_threads, python_env

import fastinit
from fastinit import linalg, runtime

INFO = fastinit.kernel_info()
S, D = INFO["float32"], INFO["float64"]
MR, NR = (int(x) for x in S["tile"].split("x"))
DTYPES = [np.float32, np.float64]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def ref(a, b, ta=False, tb=False):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a.T if ta else a) @ (b.T if tb else b)


def assert_close(got, want, dtype, k):
    scale = max(1.0, np.sqrt(max(k, 1))) * max(1.0, float(np.abs(want).max(initial=0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL[dtype] * scale)


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


EDGE = sorted({0, 1, 2, 3, 7, 13, 31, MR - 1, MR + 1, NR - 1, NR + 1, 97})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", EDGE)
@pytest.mark.parametrize("n", [0, 1, NR - 1, NR + 1, 37])
@pytest.mark.parametrize("k", [0, 1, 5, 64])
def test_edge_sizes(rng, dtype, m, n, k):
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    got = fastinit.matmul(a, b)
    assert got.shape == (m, n) and got.dtype == dtype
    assert_close(got, ref(a, b), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["mc", "kc", "nc"])
def test_block_boundaries(rng, dtype, which):
    """One more than each cache block size, so every loop runs a full and a partial block."""
    blk = (S if dtype == np.float32 else D)[which] + 1
    m, n, k = {"mc": (blk, 19, 33), "kc": (23, 29, blk), "nc": (9, blk, 17)}[which]
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    assert_close(fastinit.matmul(a, b), ref(a, b), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_transposes(rng, dtype, ta, tb):
    m, n, k = 41, 53, 67
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (n, k) if tb else (k, n), dtype)
    assert_close(fastinit.matmul(a, b, trans_a=ta, trans_b=tb), ref(a, b, ta, tb), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [3, 4, 5, 7, 8, 9, 17])
@pytest.mark.parametrize("n", [5, 10, NR - 1, NR, 2 * NR + 1])
def test_transposed_b_packing(rng, dtype, k, n):
    """B stored transposed is packed through block transposes (8x8 float, 4x4 double) where
    whole blocks fit, also in edge panels, scalar elsewhere: k around the block size, full and
    edge panels, narrow products (the AVX2 set under AVX-512)."""
    m = MR + 1
    a, b = rand(rng, (m, k), dtype), rand(rng, (n, k + 3), dtype)[:, :k]
    assert_close(fastinit.matmul(a, b, trans_b=True), ref(a, b, tb=True), dtype, k)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(0, 70), n=st.integers(0, 70), k=st.integers(0, 70),
       ta=st.booleans(), tb=st.booleans(), f64=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_random_shapes(m, n, k, ta, tb, f64, seed):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(seed)
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (n, k) if tb else (k, n), dtype)
    assert_close(fastinit.matmul(a, b, trans_a=ta, trans_b=tb), ref(a, b, ta, tb), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (2.5, 0.0), (1.0, 1.0), (-0.5, 2.0), (0.0, 3.0)])
def test_alpha_beta(rng, dtype, alpha, beta):
    m, n, k = 29, 35, 300
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    c0 = rand(rng, (m, n), dtype)
    c = c0.copy()
    linalg.gemm(a, b, c, alpha=alpha, beta=beta)
    assert_close(c, alpha * ref(a, b) + beta * c0.astype(np.float64), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 17, 300])
def test_beta_zero_never_reads_c(rng, dtype, k):
    m, n = 23, 45
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    c = np.full((m, n), np.nan, dtype)
    linalg.gemm(a, b, c, alpha=1.0, beta=0.0)
    assert np.isfinite(c).all()
    assert_close(c, ref(a, b), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_leading_dimensions_larger_than_width(rng, dtype, ta, tb):
    m, n, k, pad = 19, 27, 45, 7
    sa = (k, m) if ta else (m, k)
    sb = (n, k) if tb else (k, n)
    big_a = rand(rng, (sa[0], sa[1] + pad), dtype)
    big_b = rand(rng, (sb[0], sb[1] + pad + 3), dtype)
    big_c = np.full((m, n + pad), 7.0, dtype)
    a, b, c = big_a[:, : sa[1]], big_b[:, : sb[1]], big_c[:, :n]
    linalg.gemm(a, b, c, ta, tb)
    assert_close(c, ref(a, b, ta, tb), dtype, k)
    assert (big_c[:, n:] == 7.0).all(), "wrote outside the leading-dimension window"


ACTS = {0: lambda z: z, 1: lambda z: np.maximum(z, 0), 5: np.tanh, 6: lambda z: 1 / (1 + np.exp(-z))}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("bias_kind", [0, 1, 2])
def test_epilogue_bias_and_activation(rng, dtype, act, bias_kind):
    m, n, k = 37, 43, 29
    a, b = rand(rng, (m, k), dtype), rand(rng, (n, k), dtype)  # b stored as W (out, in)
    bias = rand(rng, (m if bias_kind == 1 else n,), dtype) if bias_kind else None
    c = np.full((m, n), np.nan, dtype)
    linalg.gemm(a, b, c, False, True, bias=bias, bias_kind=bias_kind, act=act)
    z = ref(a, b, tb=True)
    if bias_kind == 1:
        z = z + bias.astype(np.float64)[:, None]
    elif bias_kind == 2:
        z = z + bias.astype(np.float64)[None, :]
    assert_close(c, ACTS[act](z), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias_kind", [0, 1, 2])
@pytest.mark.parametrize("act", [0, 1, 5])
@pytest.mark.parametrize("threads,k", [(1, 29), (2, 3000)], ids=["small", "blocked"], indirect=["threads"])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_fused_epilogue_bit_identical_to_separate_steps(rng, kernel, dtype, bias_kind, act, threads, k, beta):
    """Tiles add the bias and apply relu as they store C: the same bits as the plain product
    followed by C += bias, C = act(C) in C's dtype, on full and edge tiles, with and without
    beta, NaN rows (relu keeps NaN) and -0.0 (relu gives +0)."""
    m, n = 2 * MR + 1, 3 * NR + 5
    a, b = rand(rng, (m, k), dtype), rand(rng, (n, k), dtype)
    a[1] = np.nan
    a[2] = 0.0
    bias = rand(rng, (m if bias_kind == 1 else n,), dtype) if bias_kind else None
    if bias_kind == 2:
        bias[3] = -0.0
    c0 = rand(rng, (m, n), dtype)
    c0[2] = -0.0
    plain, fused = c0.copy(), c0.copy()
    linalg.gemm(a, b, plain, False, True, alpha=1.5, beta=beta)
    linalg.gemm(a, b, fused, False, True, alpha=1.5, beta=beta, bias=bias, bias_kind=bias_kind, act=act)
    want = plain.copy()
    if bias_kind:
        want += bias[:, None] if bias_kind == 1 else bias[None, :]
    if act == 1:
        want = np.where(want <= 0, dtype(0), want)
    elif act == 5:
        linalg.gemm(a[:, :0], b[:, :0], want, False, True, beta=1.0, act=5)  # k = 0: act(C)
    assert np.isnan(plain[1]).all() and np.isnan(fused[1]).all()  # relu keeps NaN (issue 12)
    assert fused.tobytes() == want.tobytes()


SMALL = INFO["small_path"]["max_mnk"]["float32"]
assert INFO["small_path"]["max_mnk"]["float64"] == SMALL  # pinned for the suite (conftest.py)
SMALL_LDB = INFO["small_path"]["b_in_place_below_bytes"]


def _around_small(inside):
    """(m, n, k) with m, n off the MR/NR grid and m*n*k just inside or just outside SMALL."""
    m, n = 6 * MR + 1, 5 * NR - 1
    k = SMALL // (m * n) + (0 if inside else 1)
    assert (m * n * k <= SMALL) == inside
    return m, n, k


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("inside", [True, False], ids=["small", "blocked"])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_small_path_threshold(rng, dtype, ta, tb, inside, beta):
    """Products just inside / outside the no-packing small path: padded leading dimensions,
    edge tiles in both directions, alpha/beta, and beta == 0 never reading C."""
    m, n, k = _around_small(inside)
    pad = 5
    sa, sb = ((k, m) if ta else (m, k)), ((n, k) if tb else (k, n))
    a = rand(rng, (sa[0], sa[1] + pad), dtype)[:, : sa[1]]
    b = rand(rng, (sb[0], sb[1] + pad), dtype)[:, : sb[1]]
    big_c = rand(rng, (m, n + pad), dtype)
    if beta == 0.0:
        big_c[:, :n] = np.nan
    c0 = big_c.copy()
    c = big_c[:, :n]
    with num_threads(1):
        linalg.gemm(a, b, c, ta, tb, alpha=1.5, beta=beta)
    want = 1.5 * ref(a, b, ta, tb) + (beta * c0[:, :n].astype(np.float64) if beta else 0.0)
    assert_close(c, want, dtype, k)
    assert (big_c[:, n:] == c0[:, n:]).all(), "wrote outside the leading-dimension window"


@pytest.mark.parametrize("inside", [True, False], ids=["small", "blocked"])
def test_small_path_epilogue(rng, inside):
    m, n, k = _around_small(inside)
    a, b = rand(rng, (m, k), np.float32), rand(rng, (n, k), np.float32)
    bias = rand(rng, (n,), np.float32)
    c = np.full((m, n), np.nan, np.float32)
    linalg.gemm(a, b, c, False, True, bias=bias, bias_kind=2, act=1)
    assert_close(c, np.maximum(ref(a, b, tb=True) + bias.astype(np.float64), 0), np.float32, k)


# (threads, n, k): the small path; the blocked path (2 threads need m*n*k >= 2e6) with A read
# in place (n <= 32, A not transposed) or packed.
PATHS = {"small": (1, NR + 3, 300), "blocked-a-in-place": (2, 2 * NR - 1, 2_100_000 // (2 * NR - 1)),
         "blocked-packed": (2, 600, 3500)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("m", [1, MR - 1, MR + 1, 2 * MR + 3])
@pytest.mark.parametrize("path", PATHS)
def test_short_row_blocks_stay_inside_c(rng, dtype, ta, m, path):
    """Kernels compute only the rows left in the last row block: C is a window of a larger
    array whose surrounding rows and columns must not change, on every path."""
    nt, n, k = PATHS[path]
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (k, n), dtype)
    big = np.full((m + 2 * MR, n + 3), 7.0, dtype)
    c = big[MR : MR + m, :n]
    with num_threads(nt):
        linalg.gemm(a, b, c, ta, False, beta=0.5)
    assert_close(c, ref(a, b, ta) + 3.5, dtype, k)
    rest = big.copy()
    rest[MR : MR + m, :n] = 7.0
    assert (rest == 7.0).all(), "wrote outside C"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ldb_bytes", [SMALL_LDB - 64, SMALL_LDB, 2 * SMALL_LDB])
@pytest.mark.parametrize("n", [NR - 1, 3 * NR + 2])
def test_small_path_wide_b(rng, dtype, ldb_bytes, n):
    """B read in place with rows just under the spacing limit, packed whole at and above it."""
    itemsize = np.dtype(dtype).itemsize
    m, k, ldb = 2 * MR + 1, 37, ldb_bytes // itemsize
    a = rand(rng, (m, k), dtype)
    b = rand(rng, (k, ldb), dtype)[:, :n]
    assert b.strides[0] == ldb_bytes and m * n * k <= SMALL
    assert_close(fastinit.matmul(a, b), ref(a, b), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
def test_small_path_bit_identical_to_threaded_path(rng, dtype, ta):
    """One thread takes the small path, two the blocked one; K > KC so both split K."""
    kc = (S if dtype == np.float32 else D)["kc"]
    m, n, k = 61, 77, 2 * kc + 29
    assert 2e6 < m * n * k <= SMALL  # 2 threads pay from 2e6 (FI_GEMM_MIN_FLOPS_PER_THREAD)
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (k, n), dtype)
    assert_close(same_on_1_and_2_threads(a, b, ta), ref(a, b, ta), dtype, k)


def same_on_1_and_2_threads(a, b, ta):
    """fastinit.matmul on 1 and on 2 threads, asserted bit-identical; the product."""
    out = []
    for t in (1, 2):
        with num_threads(t):
            out.append(fastinit.matmul(a, b, trans_a=ta))
    assert out[0].tobytes() == out[1].tobytes()
    return out[0]


STREAM_A = INFO["streaming_path"]["a_max_bytes"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("threads", [1, 2], indirect=True)
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_streaming_path_bit_identical_to_blocked_path(rng, dtype, ta, tb, threads, beta):
    """Rows of a product too tall for the streaming path (it takes the blocked one) against the
    same rows alone, which stream (all of A's rows for a K block within the budget): the same
    bits, with K split in two blocks, beta, a column bias and relu, edge tiles both ways."""
    kc = (S if dtype == np.float32 else D)["kc"]
    k = 2 * kc  # two full K blocks of KC
    rows = STREAM_A // (kc * np.dtype(dtype).itemsize)
    m_tall, m_low = rows + MR + 1, rows - MR - 3
    n = max(3 * NR, SMALL // (m_low * k)) + 5  # beyond the small path on 1 thread
    a = rand(rng, (k, m_tall) if ta else (m_tall, k), dtype)
    b = rand(rng, (n, k) if tb else (k, n), dtype)
    bias, c0 = rand(rng, (n,), dtype), rand(rng, (m_tall, n), dtype)
    tall, low = c0.copy(), c0[:m_low].copy()
    linalg.gemm(a, b, tall, ta, tb, alpha=0.75, beta=beta, bias=bias, bias_kind=2, act=1)
    a_low = a[:, :m_low] if ta else a[:m_low]
    linalg.gemm(np.ascontiguousarray(a_low), b, low, ta, tb, alpha=0.75, beta=beta, bias=bias,
                bias_kind=2, act=1)
    assert tall[:m_low].tobytes() == low.tobytes()
    want = np.maximum(0.75 * ref(a_low, b, ta, tb) + beta * c0[:m_low] + bias, 0)
    assert_close(low, want, dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("side", [0, 1], ids=["a-in-place", "a-packed"])
def test_a_in_place_limit_bit_identical(rng, dtype, ta, side):
    """C as wide as the blocked path reads A in place (a_in_place_max_n) and one column more
    (A packed, or the streaming path): on 2 threads (the blocked paths) the same bits as on 1
    (the small path), with K split in two blocks."""
    limit = INFO["packing"]["a_in_place_max_n"][np.dtype(dtype).name]
    kc = (S if dtype == np.float32 else D)["kc"]
    m, n, k = 3 * MR + 5, limit + side, 2 * kc + 7
    a = rand(rng, (k, m) if ta else (m, k), dtype)
    b = rand(rng, (k, n), dtype)
    assert_close(same_on_1_and_2_threads(a, b, ta), ref(a, b, ta), dtype, k)


@pytest.mark.parametrize("kernel", INFO["available"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_kernel_matches_reference_kernel(kernel, dtype):
    shapes = [(1, 1, 1), (MR + 1, NR + 1, 3), (70, 90, 300), (150, 20, 513)]
    results = {}
    for name in ("ref", kernel):
        with kernel_set(name):
            results[name] = []
            for m, n, k in shapes:
                r = np.random.default_rng(m * 1000 + n)
                a, b = rand(r, (m, k), dtype), rand(r, (k, n), dtype)
                results[name].append(fastinit.matmul(a, b))
    for (m, n, k), got, want in zip(shapes, results[kernel], results["ref"]):
        assert_close(got, want.astype(np.float64), dtype, k)


WIDE = ("avx2", "avx512")


@pytest.mark.skipif(not set(WIDE) <= set(INFO["available"]), reason="CPU lacks AVX-512")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("threads", [1, 2], indirect=True)
def test_avx512_bit_identical_to_avx2(rng, dtype, ta, tb, threads):
    """Each C value is the same FMA chain in both kernel sets (the AVX-512 one also hands
    products at most half its tile wide to AVX2): the same bits on 0, 1, primes and sizes
    around both tiles, with beta, bias and relu, on the small and blocked paths."""
    sizes = [(0, 5, 3), (1, 1, 1), (7, 13, 5), (6, 16, 64), (13, 17, 31), (64, 10, 64), (64, 64, 10),
             (97, 31, 33), (5, 33, 2), (61, 47, 1031), (150, 65, 300), (37, 97, 700), (300, 10, 800)]
    for m, n, k in sizes:
        a = rand(rng, (k, m) if ta else (m, k), dtype)
        b = rand(rng, (n, k) if tb else (k, n), dtype)
        bias, c0 = rand(rng, (n,), dtype), rand(rng, (m, n), dtype)
        got = {}
        for kernel in WIDE:
            with kernel_set(kernel):
                c = c0.copy()
                linalg.gemm(a, b, c, ta, tb, alpha=0.75, beta=0.5, bias=bias, bias_kind=2, act=1)
                got[kernel] = (c, fastinit.matmul(a, b, trans_a=ta, trans_b=tb))
        for x, y in zip(*got.values()):
            assert x.tobytes() == y.tobytes(), (m, n, k)
        want = np.maximum(0.75 * ref(a, b, ta, tb) + 0.5 * c0 + bias, 0)
        assert_close(got["avx512"][0], want, dtype, k)


def test_kernel_selection_needs_the_cpu_feature():
    """Each SIMD set is offered exactly where the CPU runs it; asking for it elsewhere is a
    clear error, and "auto" takes the widest one available."""
    have = {"avx2": INFO["cpu_avx2_fma"], "avx512": INFO["cpu_avx2_fma"] and INFO["cpu_avx512"]}
    with kernels_restored():
        for name, ok in have.items():
            assert (name in INFO["available"]) == ok
            if ok:
                runtime.select_kernel(name)
                assert fastinit.kernel_info()["kernel"] == name
            else:
                with pytest.raises(ValueError, match="needs a CPU feature"):
                    runtime.select_kernel(name)
        runtime.select_kernel("auto")
        assert fastinit.kernel_info()["kernel"] == INFO["available"][-1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_identical_for_any_thread_count(rng, dtype):
    a, b = rand(rng, (301, 257), dtype), rand(rng, (257, 399), dtype)
    out = []
    for t in (1, 2, 3):
        with num_threads(t):
            out.append(fastinit.matmul(a, b))
    assert out[0].tobytes() == out[1].tobytes() == out[2].tobytes()


def test_concurrent_calls_from_python_threads(rng):
    inputs = [(rand(rng, (97 + i, 130), np.float32), rand(rng, (130, 61 + i), np.float32)) for i in range(8)]
    want = [fastinit.matmul(a, b) for a, b in inputs]
    got = [None] * 8
    errors = []

    def work(i):
        try:
            for _ in range(20):
                got[i] = fastinit.matmul(*inputs[i])
                assert got[i].tobytes() == want[i].tobytes()
        except Exception as e:  # collected and re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(g.tobytes() == w.tobytes() for g, w in zip(got, want))


def test_noncontiguous_inputs(rng):
    a = rand(rng, (40, 60), np.float64)
    b = rand(rng, (60, 30), np.float64)
    cases = [(a[::2], b), (np.asfortranarray(a), b), (a, b[:, ::2].T.T), (a[:, ::-1], b[::-1])]
    for x, y in cases:
        assert_close(fastinit.matmul(x, y), ref(x, y), np.float64, x.shape[1])


def test_out_is_used(rng):
    a, b = rand(rng, (5, 6), np.float32), rand(rng, (6, 7), np.float32)
    out = np.empty((5, 7), np.float32)
    assert fastinit.matmul(a, b, out=out) is out
    assert_close(out, ref(a, b), np.float32, 6)


@pytest.mark.parametrize("a,b,err,match", [
    (np.ones((2, 3), np.float32), np.ones((3, 2), np.float64), TypeError, "same dtype"),
    (np.ones((2, 3), np.int64), np.ones((3, 2), np.int64), TypeError, r"a \(shape \(2, 3\), dtype int64\)"),
    (np.ones((2, 3), np.complex128), np.ones((3, 2)), TypeError, "complex128"),
    (np.ones((2, 3), object), np.ones((3, 2)), TypeError, "object"),
    (np.ones((2, 3)), np.ones((3, 2), np.float16), TypeError, r"b \(shape \(3, 2\), dtype float16\)"),
    (np.ones(3), np.ones((3, 2)), ValueError, "2-D"),
    (np.ones((2, 3)), np.ones((1, 3, 2)), ValueError, "2-D"),
    (np.ones((2, 3)), np.ones((4, 2)), ValueError, "inner dimensions"),
    ([[1.0, 2.0]], np.ones((2, 2)), TypeError, "numpy.ndarray, got list"),
])
def test_bad_inputs(a, b, err, match):
    with pytest.raises(err, match=match):
        fastinit.matmul(a, b)


def test_bad_out():
    a, b = np.ones((4, 3)), np.ones((3, 5))
    with pytest.raises(ValueError, match=r"out \(shape \(5, 4\).*expected shape \(4, 5\)"):
        fastinit.matmul(a, b, out=np.empty((5, 4)))
    with pytest.raises(TypeError, match="expected dtype float64"):
        fastinit.matmul(a, b, out=np.empty((4, 5), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        fastinit.matmul(a, b, out=np.empty((5, 4)).T)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        fastinit.matmul(a, b, out=[[0.0] * 5] * 4)
    sq = np.ones((4, 4))
    with pytest.raises(ValueError, match="overlaps an input"):
        fastinit.matmul(sq, sq, out=sq)


def test_private_hook_rejects_bad_shapes():
    a, b, c = np.ones((4, 3)), np.ones((3, 5)), np.empty((4, 6))
    with pytest.raises(ValueError, match="do not chain"):
        linalg.gemm(a, b, c)
    with pytest.raises(ValueError, match=r"bias \(shape \(3,\).*expected a contiguous \(5,\)"):
        linalg.gemm(a, b, np.empty((4, 5)), bias=np.ones(3), bias_kind=2)
    with pytest.raises(ValueError, match="contiguous rows"):
        linalg.gemm(a[:, ::2], np.ones((2, 5)), np.empty((4, 5)))


def test_small_path_limit_is_measured_at_first_use():
    """No constant: the first one-thread product in the band times both paths on cubes, and
    kernel_info reports the limit and the figures it came from; the product's bits are those
    of either path. In a process of its own (the suite pins the limit, conftest.py)."""
    import json
    import subprocess
    import sys

    code = """if True:
        import json, numpy as np, fastinit
        from fastinit import _core
        fastinit.set_num_threads(1)
        sp = fastinit.kernel_info()["small_path"]
        out = {"before": sp["max_mnk"], "band": sp["measured_between"]["float64"]}
        lo, hi = out["band"]
        n = round(lo ** (1 / 3)) + 1
        rng = np.random.default_rng(1)
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        c = fastinit.matmul(a, b)
        sp = fastinit.kernel_info()["small_path"]
        out.update(after=sp["max_mnk"], why=sp["why"]["float64"], table=sp["measured"]["float64"])
        out["same_bits"] = []
        for pin in (0, hi):  # every product in the band blocked, then every one small
            _core.gemm_pin_small_limit(pin)
            out["same_bits"].append(fastinit.matmul(a, b).tobytes() == c.tobytes())
        _core.gemm_pin_small_limit(-1)  # forgotten: kernel_info(measure=True) measures both now
        out["on_request"] = fastinit.kernel_info(measure=True)["small_path"]["max_mnk"]
        _core.gemm_pin_small_limit(-1)  # forgotten again: one thread measures, the others go on
        import threading
        got = [None] * 4
        def work(i):
            got[i] = fastinit.matmul(a, b).tobytes()
        ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        out["threads_same_bits"] = all(g == c.tobytes() for g in got)
        out["after_threads"] = fastinit.kernel_info()["small_path"]["max_mnk"]["float64"]
        print(json.dumps(out))
    """
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=python_env())
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    lo, hi = out["band"]
    assert out["before"] == {"float32": None, "float64": None}
    assert out["after"]["float32"] is None and lo <= out["after"]["float64"] <= hi
    assert out["why"].startswith("measured") and out["same_bits"] == [True, True]
    assert all(lo <= v <= hi for v in out["on_request"].values()) and len(out["on_request"]) == 2
    assert out["threads_same_bits"] and lo <= out["after_threads"] <= hi
    # the rule, again: half octaves up from lo, stopping after two losses in a row or at hi
    sizes = [t[0] for t in out["table"]]
    wins = [t[1] <= t[2] for t in out["table"]]
    assert sizes == [round(lo ** (1 / 3) * 2 ** (i / 2)) for i in range(len(sizes))]
    assert all(x ** 3 <= hi for x in sizes) and (wins[-2:] == [False, False] or (sizes[-1] * 2 ** 0.5) ** 3 > hi)
    assert not any(not w and not v for w, v in zip(wins[:-2], wins[1:-1]))
    last = max((i for i, w in enumerate(wins) if w), default=None)
    want = lo if last is None else hi if last == len(wins) - 1 else int((sizes[last] * sizes[last + 1]) ** 1.5)
    assert abs(out["after"]["float64"] - want) <= 1


def test_kernel_info_and_selection():
    info = fastinit.kernel_info()
    assert info["kernel"] in info["available"] and "ref" in info["available"]
    assert info["threads"] == fastinit.get_num_threads()
    with pytest.raises(ValueError, match="unknown kernel 'nope'; choose one of: auto, ref"):
        runtime.select_kernel("nope")


def test_unknown_kernel_env_warns_at_import_and_is_reported():
    # Issue 12 item 19: the import failed, so even `fastinit info` ended in a traceback.
    import subprocess
    import sys

    code = "import fastinit; from fastinit import runtime; print(runtime.KERNEL_REQUEST_ERROR)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=python_env(FASTINIT_KERNEL="sse9"))
    assert r.returncode == 0 and "RuntimeWarning" in r.stderr
    assert "unknown kernel 'sse9'; choose one of: auto, ref" in r.stderr
    assert "unknown kernel 'sse9'" in r.stdout


def test_forced_kernel_env_is_used():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", "import fastinit; print(fastinit.kernel_info()['kernel'])"],
                       capture_output=True, text=True, env=python_env(FASTINIT_KERNEL="ref"))
    assert r.stdout.strip() == "ref", r.stderr



# ---------------------------------------------------------------- issue 12, item 3
@pytest.mark.parametrize("dt", ["f4", "f8"])
def test_matmul_reads_byte_swapped_operands_by_value(dt):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 7)).astype(dt), rng.standard_normal((7, 3)).astype(dt)
    ref = fastinit.matmul(a, b)
    got = fastinit.matmul(a.astype(">" + dt), b.astype(">" + dt))
    assert got.dtype == np.dtype(dt) and np.array_equal(got, ref)


@pytest.mark.parametrize("dt", ["f4", "f8"])
def test_matmul_refuses_a_byte_swapped_out(dt):
    a = np.ones((3, 3), dt)
    out = np.zeros((3, 3), ">" + dt)
    with pytest.raises(TypeError, match="out .*native byte order"):
        fastinit.matmul(a, a, out=out)
    assert (out == 0).all()


class _Sub(np.ndarray):
    pass


def _unaligned(shape, dtype):
    buf = np.zeros(np.prod(shape) * np.dtype(dtype).itemsize + 1, np.uint8)
    return buf[1:].view(dtype).reshape(shape)


@pytest.mark.parametrize("case", ["subclass", "swapped", "unaligned", "strided", "k", "dtypes", "int"])
def test_matmul_common_case_checks_fall_back_to_the_checked_path(rng, case):
    """matmul's common case is recognized in C (linalg.matmul, _core.product); anything else
    goes to the checked path, which computes it by value or says what is wrong."""
    a, b = rand(rng, (9, 7), np.float32), rand(rng, (7, 5), np.float32)
    want = ref(a, b)
    from fastinit import _core

    if case == "subclass":
        a2 = a.view(_Sub)
    elif case == "swapped":
        a2 = a.astype(">f4")
    elif case == "unaligned":
        a2 = _unaligned(a.shape, np.float32)
        a2[...] = a
    elif case == "strided":
        a2 = np.repeat(a, 2, axis=1)[:, ::2]
    else:
        a2 = {"k": np.ascontiguousarray(a[:, :6]), "dtypes": a.astype(np.float64), "int": a.astype(np.int32)}[case]
    assert _core.product(a2, b) is None
    if case in ("k", "dtypes", "int"):
        with pytest.raises((ValueError, TypeError), match="inner dimensions|same dtype|float32 or float64"):
            fastinit.matmul(a2, b)
    else:
        assert_close(fastinit.matmul(a2, b), want, np.float32, 7)


@pytest.mark.parametrize("case", ["readonly", "overlap", "shape", "dtype", "unaligned", "ok"])
def test_matmul_out_checks(rng, case):
    a, b = rand(rng, (6, 4), np.float32), rand(rng, (4, 6), np.float32)
    from fastinit import _core

    out = {"readonly": np.zeros((6, 6), np.float32), "overlap": a, "shape": np.zeros((6, 5), np.float32),
           "dtype": np.zeros((6, 6)), "unaligned": _unaligned((6, 6), np.float32),
           "ok": np.zeros((6, 6), np.float32)}[case]
    if case == "readonly":
        out.flags.writeable = False
    if case == "overlap":
        a = np.zeros((6, 6), np.float32)
        out = a
        b = rand(rng, (6, 6), np.float32)
    assert (_core.product(a, b, out) is None) == (case != "ok")
    if case == "ok":
        got = fastinit.matmul(a, b, out=out)
        assert got is out and np.allclose(out, ref(a, b), atol=1e-5)
    else:  # an unaligned out cannot be written through float pointers (UBSan: misaligned store)
        message = {"readonly": "read-only", "overlap": "overlaps", "shape": "expected shape",
                   "dtype": "expected dtype", "unaligned": "aligned to its 4-byte items"}[case]
        with pytest.raises((ValueError, TypeError), match=message):
            fastinit.matmul(a, b, out=out)
