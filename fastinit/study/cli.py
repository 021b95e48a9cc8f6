"""Command line: `fastinit compare` (the init study), `fastinit info`. Also `python -m fastinit`."""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings

from fastinit import runtime
from fastinit._version import __version__
from fastinit.study import executor, gains, isometry, journal, phase, plot, presets, report
from fastinit.study.presets import PRESETS

__all__ = ["main"]

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, never a traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _ints(text):
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not vals:  # --sizes '' ended in an IndexError
        raise argparse.ArgumentTypeError("expected comma-separated integers, got nothing")
    return vals


def _floats(text):
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError("expected comma-separated numbers, got nothing")
    return vals if len(vals) > 1 else vals[0]


def _names(text):
    vals = [x.strip() for x in text.split(",") if x.strip()]
    if not vals:
        raise argparse.ArgumentTypeError("expected comma-separated names, got nothing")
    return vals if len(vals) > 1 else vals[0]


def _parser():
    p = _Parser(prog="fastinit", description="Measure what weight initialization does to how a network learns.")
    p.add_argument("--version", action="version", version=f"fastinit {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("compare", help="train one network from several inits and seeds; table, JSON, CSV, plots",
                       description="Train the same network from several initializations and seeds and report, "
                                   "measured: symmetry, gradient flow, saturated/dead units, steps and seconds "
                                   "to a target, final accuracy. Without options: circles data, a small ReLU net, "
                                   "five classic inits, three seeds.")
    d = executor.DEFAULTS  # the study's defaults, the same as compare()'s
    c.add_argument("--preset", choices=sorted([*PRESETS, *phase.PRESETS, *gains.PRESETS, *isometry.PRESETS]), help="a study reproducing a published finding "
                   "(docs/presets.md); the options below change it")
    c.add_argument("--dataset", help="circles, course_circles, moons, spirals, xor, blobs, digits, mnist1d, or a file: .csv "
                   "(numeric features, the label in the last column as a number or class name, a header row "
                   "skipped), .npz (arrays X, y or X_train, y_train[, X_test, y_test]) or an MNIST IDX images "
                   f"file beside its labels file (default: {d['dataset']})")
    c.add_argument("--inits", type=_names, help="comma-separated init schemes, name or name:param=value "
                   f"(default: {','.join(d['inits'])})")
    c.add_argument("--sizes", type=_ints, help="hidden layer widths, e.g. 64,64 (inputs/outputs from the data); "
                   "instead of --depth/--width")
    c.add_argument("--depth", type=_ints, help=f"number of hidden layers (comma-separated: a grid) (default: {d['depth']})")
    c.add_argument("--width", type=_ints, help=f"units per hidden layer (default: {d['width']})")
    c.add_argument("--activation", type=_names, help="relu, tanh, sigmoid, leaky_relu:0.2, ... (comma-separated: "
                   f"a grid) (default: {d['activation']})")
    c.add_argument("--optimizer", type=_names, help=f"sgd, momentum, nesterov, adam, adamw (default: {d['optimizer']})")
    c.add_argument("--lr", type=_floats, help=f"learning rate (comma-separated: a grid) (default: {d['lr']})")
    c.add_argument("--batch-size", type=int, help="batch size (0: full batch) (default: full batch)")
    c.add_argument("--steps", type=int, help=f"training steps per run (default: {d['steps']})")
    c.add_argument("--epochs", type=int, help="training epochs per run, instead of --steps")
    c.add_argument("--seeds", type=int, help=f"number of seeds per configuration (default: {d['seeds']})")
    c.add_argument("--target", type=float, help=f"test accuracy to reach, 0 < target <= 1 (default: {d['target']})")
    c.add_argument("--eval-every", type=int, help=f"steps between evaluations (default: {d['eval_every']})")
    c.add_argument("--jobs", type=int, help="worker processes (default: all cores)")
    c.add_argument("--scheduler", help="address of a Dask scheduler to run on (tcp://host:8786)")
    c.add_argument("--out", default="fastinit_results", help="results folder (default: %(default)s); each "
                   "finished run is written there at once (runs.jsonl)")
    c.add_argument("--resume", metavar="FOLDER", help="finish the study whose runs.jsonl is in FOLDER: the runs "
                   "there are kept, the others run (give the same study options); results go to FOLDER")
    c.add_argument("--no-ensemble", action="store_true", help="train each run alone (fit), not as a member of an "
                   "ensemble of the runs that share the network and the batches (same numbers, slower)")
    c.add_argument("--no-plots", action="store_true", help="skip the PNG figures and HTML report")
    sub.add_parser("info", help="version, kernel, threads, optional extras found")
    return p


def _info():
    k = runtime.kernel_info(measure=True)
    print(f"fastinit {__version__}")
    print(f"kernel    {k['kernel']} (available: {', '.join(k['available'])}); float32 {k['float32']['micro_kernel']}"
          f" {k['float32']['tile']}")
    t = k["threading"]
    min_flops = next(v for key, v in t.items() if key.startswith("min_flops_for_"))
    print(f"threads   {k['threads']} (from {k['threads_default_from']}; a product of "
          f"{min_flops / 1e6:.3g} MFLOP or more uses them: a join costs {t['join_us']} us now)"
          if k["threads_supported"] else f"threads   1 (this build has no thread support)")
    sp = k["small_path"]
    print(f"small     one-thread float32 products up to {sp['max_mnk']['float32']:.3g} = m*n*k read operands "
          f"in place ({sp['why']['float32']})")
    if runtime.KERNEL_REQUEST_ERROR:
        print(f"error     {runtime.KERNEL_REQUEST_ERROR}")
    print(f"build     {k['compiler_flags']}")
    for extra, mods in [("plot", ["matplotlib"]), ("progress", ["tqdm"]), ("data", ["sklearn", "mnist1d"]),
                        ("dask", ["distributed"]), ("torch", ["torch"])]:
        found = [m for m in mods if importlib.util.find_spec(m) is not None]
        print(f"{extra:<10}{', '.join(found) if found else 'not installed'}")
    return 0


def _own_runner(args, study_fn, summary, plot, figure, takes_steps=True):
    """A preset with a runner of its own (phase diagram, gains, isometry): its study with
    --steps/--seeds applied, the summary printed, its figure written unless --no-plots."""
    kw = {}
    if takes_steps and args.steps is not None:
        kw["steps"] = args.steps
    if args.seeds is not None:
        kw["seeds"] = tuple(range(args.seeds))
    result = study_fn(**kw)
    print(summary(result))
    if not args.no_plots:
        os.makedirs(args.out, exist_ok=True)
        try:
            print("\nwrote " + plot(result, os.path.join(args.out, figure)))
        except ImportError as e:
            print(f"\nno figure: {e}")
    return 0


def _phase(args):
    """A phase-diagram preset (fastinit.study.phase): its grid, its figure; --steps and --seeds change it."""
    return _own_runner(args, lambda **kw: phase.run_preset(args.preset, **kw), phase.summary, phase.plot_phase,
                       f"{args.preset}_phase.png")


def _gains(args):
    """The gains preset (fastinit.study.gains): per-layer variance at init; --seeds changes it."""
    return _own_runner(args, lambda **kw: gains.gain_study(**{**gains.PRESETS[args.preset], **kw}), gains.summary,
                       gains.plot_gains, "gains_variance.png", takes_steps=False)


def _isometry(args):
    """The isometry preset (fastinit.study.isometry): Jacobian spectra and steps to a target;
    --steps and --seeds change it."""
    return _own_runner(args, lambda **kw: isometry.isometry_study(**{**isometry.PRESETS[args.preset], **kw}),
                       isometry.summary, isometry.plot_isometry, "isometry_spectra.png")


def _compare(args):
    if runtime.KERNEL_REQUEST_ERROR:
        raise ValueError(runtime.KERNEL_REQUEST_ERROR)
    if args.preset in isometry.PRESETS:
        return _isometry(args)
    if args.preset in phase.PRESETS:
        return _phase(args)
    if args.preset in gains.PRESETS:
        return _gains(args)
    if args.resume is not None:
        args.out = args.resume
    journal.check_folder(args.out, "--resume" if args.resume is not None else "--out")  # before any run
    kw = dict(PRESETS[args.preset]) if args.preset else {}
    if args.epochs is not None:
        kw.pop("steps", None)
    for opt in ("dataset", "inits", "depth", "width", "activation", "optimizer", "lr", "steps", "epochs", "seeds",
                "target", "eval_every"):
        v = getattr(args, opt)
        if v is not None:
            kw[opt] = v[0] if isinstance(v, list) and len(v) == 1 and opt in ("depth", "width") else v
    if args.sizes is not None and (args.depth is not None or args.width is not None):
        raise ValueError("give --sizes or --depth/--width, not both")
    if args.sizes is not None:
        kw.pop("depth", None)
        kw.pop("width", None)
        kw["sizes"] = args.sizes
    elif args.depth is not None or args.width is not None:
        kw.pop("sizes", None)
    if args.batch_size is not None:
        kw["batch_size"] = None if args.batch_size == 0 else args.batch_size
    pool = client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise SystemExit("fastinit: --scheduler needs dask.distributed: pip install 'fastinit[dask]'")
        client = Client(args.scheduler)
        pool = client.get_executor(pure=False)
    inits = kw.pop("inits", executor.DEFAULTS["inits"])
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # said below, in the CLI's words
            warnings.filterwarnings("ignore", message="fastinit.study.compare: interrupted")
            warnings.filterwarnings("ignore", message=r"fastinit.study.compare: \d+ warning")
            where = {"resume": args.resume} if args.resume is not None else {"journal": args.out}
            result = executor.compare(inits=inits, executor=pool, n_jobs=args.jobs, ensemble=not args.no_ensemble,
                                      **where, **kw)
    finally:
        if client is not None:
            client.close()
    elapsed = time.perf_counter() - t0
    print(f"{result.settings['dataset']}; target: test accuracy {result.settings['target']}; "
          f"{len(result.runs)} runs in {elapsed:.1f} s\n")
    print(result.format_table())
    if args.preset:
        result.settings["preset"] = args.preset  # recorded in results.json and the report
        result.settings["source"] = presets.beside(args.preset, result)
        print("\n" + result.settings["source"])
    said = result.warnings()
    if said:  # after the table, never inside it
        print(f"\n{len(said)} warning(s) from the runs:\n" + "\n".join(f"  {w}" for w in said))
    paths = result.save(args.out)
    written = [paths["json"], paths["csv"]]
    if not args.no_plots:
        try:
            figures = plot.save_all(result, args.out)
            page = os.path.join(args.out, "report.html")
            report.write_html(result, figures, page)
            written += list(figures.values()) + [page]
        except ImportError as e:
            print(f"\n(no plots: {e})")
    print("\nwrote " + ", ".join(written))
    stale = os.path.join(args.out, "report.html")
    if stale not in written and os.path.exists(stale):
        print(f"note: {stale} and its figures are from an earlier run, not this one")
    if "interrupted" in result.settings:
        print(f"fastinit: interrupted: {result.settings['interrupted']}, kept above", file=sys.stderr)
        return 130
    return 0


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _info() if args.command == "info" else _compare(args)
    except BrokenPipeError:  # output piped into a pager or `head` that closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, ImportError, OSError) as e:
        print(f"fastinit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastinit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
