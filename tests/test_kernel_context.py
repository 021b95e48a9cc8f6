"""The one kernel context (csrc/fi_cpu.h): detection reported by kernel_info, one select call
for every family, and choices that follow from what was detected."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastinit
from fastinit import _core, runtime
from support import kernel_set, kernels_restored, num_threads

INFO = fastinit.kernel_info()


def test_detection_is_reported():
    cpu, caches, fma = INFO["cpu"], INFO["caches"], INFO["fma"]
    assert set(cpu) == {"vendor", "model_name", "family", "model"}
    assert caches["source"] in ("cpuid leaf 4", "cpuid leaf 0x8000001d", "sysfs", "none")
    if caches["source"] != "none":
        assert 0 < caches["l1d_bytes"] <= caches["l2_bytes"]
        assert caches["l3_bytes"] == 0 or caches["l3_bytes"] >= caches["l2_bytes"]
    if INFO["cpu_avx2_fma"]:
        assert fma["gflops_256"] > 0
    if INFO["cpu_avx512"]:
        assert fma["gflops_512"] > 0 and fma["fma512_full_rate"] in (True, False)
        assert fma["fma512_full_rate"] == (fma["gflops_512"] >= 1.5 * fma["gflops_256"])
    else:
        assert fma["fma512_full_rate"] is None


def test_blocking_follows_the_caches():
    """MC x KC of A fits half of L2 and KC x NC of B half of L3; KC is the fixed one."""
    caches = INFO["caches"]
    if caches["source"] == "none":
        pytest.skip("cache sizes unknown here")
    for dt, size in (("float32", 4), ("float64", 8)):
        b = INFO[dt]
        mr, nr = map(int, b["tile"].split("x"))
        assert b["mc"] % mr == 0 and b["nc"] % nr == 0
        assert b["mc"] * b["kc"] * size <= max(caches["l2_bytes"] // 2, mr * b["kc"] * size)
        assert (b["mc"] + mr) * b["kc"] * size > caches["l2_bytes"] // 2
        if caches["l3_bytes"]:
            assert b["kc"] * b["nc"] * size <= max(caches["l3_bytes"] // 2, nr * b["kc"] * size)
    # KC is each set's own constant (it fixes the K order), never taken from the caches
    assert INFO["float32"]["kc"] == (256 if INFO["kernel"] == "ref" else 512)
    assert INFO["float64"]["kc"] == 256


def test_large_products_follow_the_measured_fma_rate():
    choice = INFO["gemm_choice"]  # of the set this process runs (FASTINIT_KERNEL may force one)
    if INFO["kernel"] != "avx512":
        assert choice["blocked_path_set"] == INFO["kernel"]
        return
    assert choice["narrow_set"] == "avx2"
    want = "avx512" if INFO["fma"]["fma512_full_rate"] else "avx2"
    assert choice["blocked_path_set"] == want
    assert ("full rate" if want == "avx512" else "half rate") in choice["large_products"]


def test_one_select_sets_every_family():
    with kernels_restored():
        for name in INFO["available"]:
            runtime.select_kernel(name)
            info = fastinit.kernel_info()
            assert info["kernel"] == name
            assert info["activations"] == (name if name in ("avx2", "avx512") else "ref")
            assert info["kernel_choice"].startswith(f"{name}: forced")
        runtime.select_kernel("auto")
        assert fastinit.kernel_info()["kernel_choice"].endswith("auto: the widest set this CPU and build run")


@pytest.mark.parametrize("name", [k for k in INFO["available"] if k != "ref"])
def test_forced_set_reaches_activations_in_a_fresh_process(name):
    code = "import fastinit; i = fastinit.kernel_info(); print(i['kernel'], i['activations'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "FASTINIT_KERNEL": name}, cwd=os.path.dirname(os.path.dirname(fastinit.__file__)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [name, name if name != "neon" else "ref"]


@pytest.mark.skipif("avx512" not in INFO["available"], reason="CPU lacks AVX-512")
def test_large_product_bits_do_not_depend_on_the_set():
    """Whichever set the FMA rate sends large products to, the bits are those of both sets."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((300, 700), dtype=np.float32)
    b = rng.standard_normal((700, 450), dtype=np.float32)
    out = {}
    for name in ("avx2", "avx512", "auto"):
        with kernel_set(name):
            out[name] = fastinit.matmul(a, b).tobytes()
    assert out["avx2"] == out["avx512"] == out["auto"]


def test_threaded_products_from_several_python_threads_keep_their_bits():
    """The task pool serves one product at a time; a caller that finds it busy runs its tasks
    itself. Either way the bits are those of one thread."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    ops = [(rng.standard_normal((m, 300), dtype=np.float32), rng.standard_normal((300, n), dtype=np.float32))
           for m, n in ((97, 130), (256, 256), (33, 700), (500, 64))]
    with num_threads(1):
        want = [fastinit.matmul(a, b).tobytes() for a, b in ops]
    with num_threads(2), ThreadPoolExecutor(4) as ex:
        for _ in range(5):
            got = list(ex.map(lambda ab: fastinit.matmul(*ab).tobytes(), ops))
            assert got == want


def test_threading_threshold_is_reported():
    t = fastinit.kernel_info()["threading"]
    assert t["join_us"] > 0 and t["join_us_at_import"] > 0 and t["measured_on_threads"] >= 2
    assert t["min_work_us_for_2_threads"] == pytest.approx(2 * t["join_us"], rel=0.02, abs=0.2)


def test_a_spoilt_join_estimate_mends_itself():
    """A calibration taken while another thread held the second core (OpenBLAS's workers spin
    ~0.1 s after each call) left 1 ms per join, and with it every product below 230 MFLOP on
    one thread for the life of the process. Now jobs keep the estimate current, and probes
    below the threshold measure it again: from the 10 ms cap it must come down to what a
    wake-up costs here within seconds of products, with the bits of one thread."""
    if not INFO["threads_supported"]:
        pytest.skip("built without threads")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((256, 256), dtype=np.float32), rng.standard_normal((256, 256), dtype=np.float32)
    with num_threads(1):
        want = fastinit.matmul(a, b).tobytes()
    _core.set_parallel_min_flops(-1)  # the measured threshold, not the suite's "thread everything"
    try:
        with num_threads(2):
            _core.set_pool_join_us(10000.0)
            assert fastinit.kernel_info()["threading"]["min_flops_for_2_threads"] > 2 * 256 ** 3
            deadline = time.monotonic() + 30
            while _core.cpu_info()["join_us"] > 1000 and time.monotonic() < deadline:
                assert fastinit.matmul(a, b).tobytes() == want
            assert _core.cpu_info()["join_us"] <= 1000, "the join estimate stayed at the cap"
    finally:
        _core.set_parallel_min_flops(0)


@pytest.mark.skipif(INFO["kernel"] != "avx512", reason="runs where the AVX-512 set is in use")
@pytest.mark.parametrize("nt", [1, 2])
def test_both_large_product_choices_give_the_same_bits(nt):
    """A full-rate core (Zen 5) runs the blocked path on AVX-512, a half-rate one (Zen 4) on
    AVX2: both choices are exercised here, whatever this CPU measured, and agree bit for bit."""
    rng = np.random.default_rng(5)
    cases = [(600, 530, 700), (256, 1024, 1024), (97, 33, 1031)]
    ops = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32))
           for m, n, k in cases]
    ops += [(a.astype(np.float64), b.astype(np.float64)) for a, b in ops]
    got = {}
    with num_threads(nt):
        try:
            for full in (True, False):
                _core.gemm_assume_fma512(int(bool(full)))
                choice = fastinit.kernel_info()["gemm_choice"]
                assert choice["blocked_path_set"] == ("avx512" if full else "avx2")
                assert "assumed by a test" in choice["large_products"]
                got[full] = [fastinit.matmul(a, b).tobytes() for a, b in ops]
        finally:
            _core.gemm_assume_fma512(-1)
    assert got[True] == got[False]
    assert "assumed" not in fastinit.kernel_info()["gemm_choice"]["large_products"]
