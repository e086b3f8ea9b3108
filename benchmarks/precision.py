"""Mixed precision (``precision=``) and ``torch.compile`` (``compile=``) on the speed table.

Run from the repository root::

    python benchmarks/precision.py                 # N = 20000 (+5000 test), 10 epochs, 3 seeds
    python benchmarks/precision.py --quick         # N = 2000, 3 epochs, 1 seed, compile backend
                                                   # "aot_eager" (no code generation) -> build/
    python benchmarks/report.py --only precision   # render the section from the results

Every method fits ``skmtl.MultiTaskNet`` with the speed benchmark's network (trunk
64-256-256, heads 1 / 2 / 5, Adam lr 1e-3, batch 256, ``harness.AS_BEFORE``) on the
synthetic 3-task table (``datasets.make_data``) on the CPU, per seed (the estimator's
``random_state``): float32 (the reference), ``precision="bf16"``, ``compile=True`` (the
module's forward compiled by inductor) and the whole training step compiled
(:func:`skmtl._training.train_step`: forward, masked losses and the balancer's backward;
dynamo breaks the graph where it cannot trace).  The methods of one seed run one after
the other, so their paired ratios share the machine's state.  A record keeps the raw
per-epoch times (the first epoch of a compiled fit includes the compilation), the final
training loss and the test metrics.  The run starts with an empty inductor cache, so
seed 0's compiled fits pay the whole compilation; later seeds may reuse its caches.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import warnings
from functools import partial

import harness
import numpy as np
import torch
from datasets import DATA_SEED, LATENT_SEED, make_data

harness.import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl._training import _neuralnet  # noqa: E402

HIDDEN, BATCH_SIZE, LR = 256, 256, 1e-3
N_TRAIN, N_TEST, EPOCHS, SEEDS = 20_000, 5_000, 10, 3
QUICK_N_TRAIN, QUICK_N_TEST, QUICK_EPOCHS, QUICK_SEEDS = 2_000, 1_000, 3, 1
#: torch.compile keyword arguments of the compiled methods (quick: no code generation).
COMPILE, QUICK_COMPILE = {}, {"backend": "aot_eager"}
METHODS: dict[str, str] = {"float32": "float32", "bf16": "bf16", "compile": "compile module",
                           "compile-step": "compile step"}


@contextlib.contextmanager
def compiled_step(options: dict):
    """Within the block, the training step function is ``torch.compile(train_step)``."""
    original = _neuralnet.train_step
    _neuralnet.train_step = torch.compile(original, **options)
    try:
        yield
    finally:
        _neuralnet.train_step = original


def fit_one(method: str, seed: int, data, epochs: int, options: dict) -> dict:
    """Fit one method on the training rows; the record's timing, loss and test metrics."""
    params = {"precision": "bf16"} if method == "bf16" else {}
    if method == "compile module":
        params["compile"] = options or True
    est = MultiTaskNet(hidden_layer_sizes=(HIDDEN, HIDDEN), head_layer_sizes=(),
                       batch_size=BATCH_SIZE, max_epochs=epochs, lr=LR, random_state=seed,
                       device="cpu", early_stopping=False, **harness.AS_BEFORE, **params)
    X, y = data["X_train"], data["y_train"]
    torch._dynamo.reset()  # every compiled fit pays its own compilation
    context = compiled_step(options) if method == "compile step" else contextlib.nullcontext()
    with context, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # under-training at max_epochs is expected here
        _, seconds, load = harness.timed(lambda: est.fit(X, y))
        predicted = est.predict(data["X_test"])
    y_test = data["y_test"]
    metrics = {
        "reg_r2": float(1 - np.mean((predicted["reg"] - y_test["reg"]) ** 2)
                        / np.var(y_test["reg"])),
        "binary_acc": float(np.mean(predicted["binary"] == y_test["binary"])),
        "multiclass_acc": float(np.mean(predicted["multiclass"] == y_test["multiclass"])),
    }
    return {"metrics": metrics, "fit_seconds": seconds, "other_load": load,
            "epoch_seconds": harness.epoch_seconds(est),
            "train_loss": float(est.history_[-1, "train_loss"])}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: N=2000, 3 epochs, 1 seed, compile backend aot_eager")
    parser.add_argument("--seeds", type=int, help=f"repetitions (default {SEEDS})")
    parser.add_argument("--epochs", type=int, help=f"epochs per fit (default {EPOCHS})")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: all")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    q = args.quick
    args.seeds = args.seeds or (QUICK_SEEDS if q else SEEDS)
    args.epochs = args.epochs or (QUICK_EPOCHS if q else EPOCHS)
    args.methods = [METHODS[k] for k in METHODS if args.methods is None or k in args.methods]
    if args.seeds < 1 or args.epochs < 2:
        parser.error("--seeds must be >= 1 and --epochs >= 2 (the first epoch is set apart)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # an empty inductor cache: the first compiled fit pays the whole compilation, whatever
    # earlier runs left in the default cache (later seeds may reuse this run's)
    with tempfile.TemporaryDirectory(prefix="skmtl-precision-inductor-",
                                     ignore_cleanup_errors=True) as cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        return measure(args, argv)


def measure(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Fit every method for every seed and save the results file."""
    run = harness.Run("precision", args.quick, argv)
    harness.warm_up_process()
    n_train, n_test = (QUICK_N_TRAIN, QUICK_N_TEST) if args.quick else (N_TRAIN, N_TEST)
    options = QUICK_COMPILE if args.quick else COMPILE
    table = make_data(n_train + n_test)
    y = table.y_frame()
    data = {"X_train": table.X[:n_train], "y_train": y.iloc[:n_train],
            "X_test": table.X[n_train:], "y_test": y.iloc[n_train:].reset_index(drop=True)}
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads}; N = {n_train:,} + {n_test:,} test rows",
          flush=True)
    records = []
    for seed in harness.seeds(args.seeds):
        for method in args.methods:
            print(f"seed {seed}  {method:<15} ...", end=" ", flush=True)
            rec = harness.record(method, "synthetic", seed, n=n_train)
            with harness.same_torch_threads(threads, method):
                harness.guarded(rec, partial(fit_one, method, seed, data, args.epochs, options))
            records.append(rec)
            print(rec["error"] or f"epochs {rec['epoch_seconds']} s, loss "
                  f"{rec['train_loss']:.4f}, other load {rec['other_load']}", flush=True)
    config = {
        "n_train": n_train, "n_test": n_test, "epochs": args.epochs, "seeds": args.seeds,
        "methods": args.methods, "threads": threads, "data_seed": DATA_SEED,
        "latent_seed": LATENT_SEED, "hidden": HIDDEN, "batch_size": BATCH_SIZE, "lr": LR,
        "compile_options": {k: str(v) for k, v in options.items()},
        "as_before": harness.AS_BEFORE, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    path = run.save(records, config, folder=args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
