"""Turn a pytest-benchmark JSON file into the Markdown table of bench/RESULTS.md.

Rows pair fastinit with its peer(s) of the same case and thread count, timed in the same run:
median time, GFLOP/s when the benchmark records flops, and the speed ratio to each peer.
Convergence runs (bench_convergence.py) get their own table: per case, over seeds, the runs
that reached the target, median steps and seconds to it, test accuracy, the time ratio.
Usage: python bench/summarize.py results.json
"""
import json
import statistics
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        data = json.load(f)
    if any("steps_to_target" in b["extra_info"] for b in data["benchmarks"]):
        return convergence(data)
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
        # A selection (-k) may leave a case with peers only: its fastinit cells stay empty.
        t0, flops = g.get("fastinit", (None, None))
        flops = flops or next((v[1] for v in g.values() if v[1]), None)
        row = [case, str(threads), _fmt_time(t0) if t0 else "-"]
        row += [_fmt_time(g[p][0]) if p in g else "-" for p in peers]
        if has_flops:
            row += [f"{flops / t0 / 1e9:.1f}" if flops and t0 else "-"]
            row += [f"{flops / g[p][0] / 1e9:.1f}" if flops and p in g else "-" for p in peers]
        row += [f"{g[p][0] / t0:.2f}x" if p in g and t0 else "-" for p in peers]
        print("| " + " | ".join(row) + " |")


def convergence(data):
    runs = defaultdict(lambda: defaultdict(list))
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        runs[info["case"]][info["impl"]].append((info, bench["stats"]["median"]))
    impls = sorted({impl for g in runs.values() for impl in g}, key=lambda i: i != "fastinit")
    peers = [i for i in impls if i != "fastinit"]
    head = ["case"] + [f"{i} {col}" for col in ("reached", "steps", "s to target", "test acc") for i in impls]
    head += [f"{p} / fastinit, s to target" for p in peers] + [f"{p} / fastinit, whole run" for p in peers]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case, g in runs.items():
        med = {}
        for i in impls:
            hit = [info for info, _ in g.get(i, []) if info["steps_to_target"] is not None]
            med[i] = {"reached": f"{len(hit)}/{len(g.get(i, []))}",
                      "steps": _median([h["steps_to_target"] for h in hit]),
                      "secs": _median([h["seconds_to_target"] for h in hit]),
                      "acc": _median([info["test_acc"] for info, _ in g.get(i, [])]),
                      "wall": _median([t for _, t in g.get(i, [])])}
        row = [case] + [med[i]["reached"] for i in impls]
        row += [f"{med[i]['steps']:g}" if med[i]["steps"] is not None else "never" for i in impls]
        row += [f"{med[i]['secs']:.3f}" if med[i]["secs"] is not None else "never" for i in impls]
        row += [f"{100 * med[i]['acc']:.1f}%" if med[i]["acc"] is not None else "-" for i in impls]
        f = med.get("fastinit", {})
        row += [f"{med[p]['secs'] / f['secs']:.1f}x" if med[p]["secs"] and f.get("secs") else "-" for p in peers]
        row += [f"{med[p]['wall'] / f['wall']:.1f}x" if med[p]["wall"] and f.get("wall") else "-" for p in peers]
        print("| " + " | ".join(row) + " |")


def _median(xs):
    return statistics.median(xs) if xs else None


def _fmt_time(t):
    return f"{t * 1e6:.1f} us" if t < 1e-3 else f"{t * 1e3:.2f} ms"


if __name__ == "__main__":
    main(sys.argv[1])
