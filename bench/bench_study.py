"""The init study end to end (issue 14): `fastinit compare` (the default study) and `--preset
mnist1d`, its runs trained as ensembles and with --no-ensemble, and optionally by another
checkout of fastinit (--baseline DIR: the code before ensembles), interleaved in one run.
Prints wall and CPU seconds (user + system of the CLI and its worker processes) per command,
the medians, and the load average before and after (the machine is shared).

    python bench/bench_study.py --reps 3 [--baseline ../fastinit-main] [--plots] [--case default]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {"default": [], "mnist1d": ["--preset", "mnist1d"]}


def once(root, args, out):
    """(wall, CPU) seconds of one `python -m fastinit compare ARGS` importing fastinit from root."""
    env = dict(os.environ, PYTHONPATH=root)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fastinit", "compare", *args, "--out", out], check=True, env=env,
                   cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and the workers it waited for
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--baseline", help="a fastinit checkout (built in place) to time beside this one")
    p.add_argument("--plots", action="store_true", help="with the figures and report (default: --no-plots)")
    p.add_argument("--case", choices=sorted(CASES), action="append")
    a = p.parse_args()
    variants = [("ensembles", ROOT, []), ("--no-ensemble", ROOT, ["--no-ensemble"])]
    if a.baseline:
        variants.append(("baseline", os.path.abspath(a.baseline), []))
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        for case in a.case or sorted(CASES):
            args = CASES[case] + ([] if a.plots else ["--no-plots"])
            times = {name: [] for name, _, _ in variants}
            for _ in range(a.reps):
                for name, root, extra in variants:  # interleaved: the same load for each
                    times[name].append(once(root, args + extra, tmp))
            for name, ts in times.items():
                walls, cpus = [t[0] for t in ts], [t[1] for t in ts]
                print(f"{case:8} {name:14} wall median {statistics.median(walls):6.2f} s "
                      f"({' '.join(f'{w:.2f}' for w in walls)}), CPU median {statistics.median(cpus):6.2f} s")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
