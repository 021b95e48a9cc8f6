"""The binding layer: csrc's kernels for the library (fastinit/*.py), never for users.

One extension module (_ext) so that every kernel family shares csrc's one CPU-dispatch
context. Its functions assume validated input (fastinit/_validate.py checks it); the C enums
are exported as name -> code tables, never copied by hand.
"""
from fastinit._core._ext import (
    ACT_CODES, BIAS_COL, BIAS_NONE, BIAS_ROW, LOSS_CODES, OPTIM_CODES, RNG_KINDS, _Engine, _Ensemble, _OptState,
    act_backward, act_forward, act_kernel, act_needs_pre, all_finite, available_kernels, cpu_info,
    dead_units, distinct_rows, ensemble_lane_width, exp, gemm, gemm_assume_fma512, gemm_info, gemm_pin_small_limit,
    gemm_small_limit, get_num_threads, labels_in_range, lanes_plan_fixed, loss, overlaps, parallel_min_flops, parallel_min_ns, product, rng_block, rng_fill,
    select_act_kernel, select_kernel, set_num_threads, set_parallel_min_flops, set_pool_join_us, tensor_stats,
)

__all__ = [
    "ACT_CODES", "BIAS_COL", "BIAS_NONE", "BIAS_ROW", "LOSS_CODES", "OPTIM_CODES", "RNG_KINDS", "_Engine", "_Ensemble",
    "_OptState", "act_backward", "act_forward", "act_kernel", "act_needs_pre", "all_finite", "available_kernels",
    "cpu_info", "dead_units", "distinct_rows", "ensemble_lane_width", "exp", "gemm", "gemm_assume_fma512",
    "gemm_info", "gemm_pin_small_limit", "gemm_small_limit", "get_num_threads", "labels_in_range", "lanes_plan_fixed", "loss", "overlaps", "parallel_min_flops",
    "parallel_min_ns", "product", "rng_block", "rng_fill",
    "select_act_kernel", "select_kernel", "set_num_threads", "set_parallel_min_flops", "set_pool_join_us",
    "tensor_stats",
]
