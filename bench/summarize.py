"""Turn a pytest-benchmark JSON file into the Markdown table of bench/RESULTS.md.

Rows pair fastinit with its peer(s) of the same case and thread count, timed in the same run:
median time, GFLOP/s when the benchmark records flops, and the speed ratio to each peer.
Usage: python bench/summarize.py results.json
"""
import json
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        data = json.load(f)
    groups = defaultdict(dict)
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        groups[(info["case"], info["threads"])][info["impl"]] = (bench["stats"]["median"], info.get("flops"))
    peers = sorted({impl for g in groups.values() for impl in g if impl != "fastinit"})
    has_flops = any(v[1] for g in groups.values() for v in g.values())
    head = ["case", "threads", "fastinit median"] + [f"{p} median" for p in peers]
    head += (["fastinit GFLOP/s"] + [f"{p} GFLOP/s" for p in peers] if has_flops else [])
    head += [f"speed vs {p}" for p in peers]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for (case, threads), g in groups.items():
        t0, flops = g["fastinit"]
        row = [case, str(threads), _fmt_time(t0)]
        row += [_fmt_time(g[p][0]) if p in g else "-" for p in peers]
        if has_flops:
            row += [f"{flops / t0 / 1e9:.1f}" if flops else "-"]
            row += [f"{flops / g[p][0] / 1e9:.1f}" if flops and p in g else "-" for p in peers]
        row += [f"{g[p][0] / t0:.2f}x" if p in g else "-" for p in peers]
        print("| " + " | ".join(row) + " |")


def _fmt_time(t):
    return f"{t * 1e6:.1f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"


if __name__ == "__main__":
    main(sys.argv[1])
