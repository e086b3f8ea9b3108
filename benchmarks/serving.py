"""Prediction throughput and peak memory at 1M rows: skmtl, its ONNX export, MLPRegressor.

Run from the repository root::

    python benchmarks/serving.py                  # 1,000,000 rows, 5 repetitions -> results/
    python benchmarks/serving.py --quick          # 100,000 rows -> build/ (about a minute)
    python benchmarks/serving.py --methods skmtl onnx --repeats 5
    python benchmarks/report.py --only serving    # render the section from the results

Each method runs in a fresh subprocess (this script with ``--method NAME``): it fits its
model briefly (one epoch on 5,000 rows; 1,000 with ``--quick``) on the synthetic 3-task table (``datasets.make_data``: 64
float32 features; regression, binary, 5-class; the fit is not measured), creates the
prediction rows (standard normal float32, 64 features), predicts 1,000 rows once (lazy
initialisations), allocates and frees one 24 MB block (glibc's malloc thresholds), resets the process's resident-memory high-water mark and then predicts
all rows ``--repeats`` times (the default-encoding row predicts 200,000 rows; 20,000
with ``--quick``). It reports the wall time of each prediction and the peak
resident memory above the level just before the first one. The methods are described in
``templates/serving.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import harness

ROWS, QUICK_ROWS, REPEATS, THREADS = 1_000_000, 100_000, 5, 2
#: Rows and epochs of the brief fits (full run, --quick): prediction speed does not
#: depend on how well the weights are trained.
FIT_ROWS, QUICK_FIT_ROWS, EPOCHS = 5_000, 1_000, 1
HIDDEN, X_SEED, MODEL_SEED = (256, 256), 1, 0
#: Rows per call of the reference row's bare forward (skmtl's own slice size on the CPU).
FORWARD_SLICE = 2_048
#: Rows of the default-encoding row (information only; its piecewise-linear embeddings
#: make it about ten times slower, so a full 1M-row run of it would take minutes).
DEFAULTS_ROWS, QUICK_DEFAULTS_ROWS = 200_000, 20_000
#: The issue's target for skmtl's own ``predict`` (main row), at 1,000,000 rows.
TARGET = {"rows": 1_000_000, "rows_per_s": 1_000_000, "memory_mb": 600}
#: The issue's measurement before this work (same model and machine size, 2 cores).
BEFORE = {"skmtl_rows_per_s": 675_000, "skmtl_memory_mb": 1354,
          "mlp_rows_per_s": 275_000, "mlp_memory_mb": 1975, "compute_limit_rows_per_s": 1_500_000}
METHODS: dict[str, str] = {
    "skmtl": "skmtl predict (plain MLP, as in the issue)",
    "skmtl-defaults": "skmtl predict (default tabular encoding)",
    "skmtl-bf16": "skmtl predict (plain MLP, precision=\"bf16\")",
    "onnx": "skmtl ONNX export, ONNX Runtime",
    "mlp": "scikit-learn MLPRegressor",
    "torch": "the same network's forward alone (reference)",
    "gemm": "the network's matrix products alone, MKL (floor)",
    "gemm-dnn": "the network's matrix products alone, oneDNN (floor)",
}
_RESULT = "SERVING-RESULT "


# ----------------------------------------------------------------------- memory readings
def _status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``), None where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the resident-memory high-water mark (Linux ``clear_refs``); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    hwm, rss = _status_kb("VmHWM"), _status_kb("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss + 1024


def _peak_kb() -> int:
    import resource

    hwm = _status_kb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ------------------------------------------------------------------------ the predictors
def _skmtl_model(defaults: bool, fit_rows: int, precision: str = "32") -> Any:
    from datasets import make_data

    from skmtl import MultiTaskNet

    data = make_data(fit_rows)
    settings = {} if defaults else {**harness.AS_BEFORE, "precision": precision}
    model = MultiTaskNet(hidden_layer_sizes=HIDDEN, max_epochs=EPOCHS, random_state=MODEL_SEED,
                         device="cpu", **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # briefly fitted on purpose: convergence warnings
        return model.fit(data.X, data.y_frame())


def _layer_weights(fit_rows: int) -> list:
    """The plain-MLP model's weight matrices, ``(out, in)``: the trunk's layers, then the
    three heads' stacked into one (the floor rows multiply by these alone)."""
    import torch

    module = _skmtl_model(False, fit_rows).net_.module_.eval()
    trunk = [m.weight.detach() for m in module.trunk if isinstance(m, torch.nn.Linear)]
    return [*trunk, torch.cat([h[-1].weight.detach() for h in module.heads])]


def _predictor(method: str, fit_rows: int) -> Any:
    """A fitted model's ``predict(X)`` for ``method`` (one call on all rows)."""
    if method in ("skmtl", "skmtl-defaults", "skmtl-bf16"):
        return _skmtl_model(method == "skmtl-defaults", fit_rows,
                            "bf16" if method == "skmtl-bf16" else "32").predict
    if method == "onnx":
        import numpy as np
        import onnxruntime as ort

        from skmtl.export import to_onnx

        model = _skmtl_model(False, fit_rows)
        sample = np.zeros((16, 64), dtype=np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
        session = ort.InferenceSession(to_onnx(model, sample).SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda X: session.run(None, {name: X})
    if method == "mlp":
        from datasets import make_data
        from sklearn.neural_network import MLPRegressor

        data = make_data(fit_rows)
        model = MLPRegressor(hidden_layer_sizes=HIDDEN, max_iter=EPOCHS, random_state=MODEL_SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data.X, data.y_float3())
        return model.predict
    if method == "torch":  # the ceiling: the plain-MLP module on slices, nothing else
        import torch

        module = _skmtl_model(False, fit_rows).net_.module_.eval()

        def forward(X: Any) -> list:
            x = torch.from_numpy(X)
            with torch.inference_mode():
                return [module(x[i:i + FORWARD_SLICE]) for i in range(0, len(x), FORWARD_SLICE)]

        return forward
    if method == "gemm":  # the floor: the three matrix products, nothing else
        import torch

        chain = [w.T for w in _layer_weights(fit_rows)]
        buffers = [torch.empty(FORWARD_SLICE, w.shape[1]) for w in chain]

        def products(X: Any) -> None:
            x = torch.from_numpy(X)
            with torch.inference_mode():
                for i in range(0, len(x), FORWARD_SLICE):
                    h = x[i:i + FORWARD_SLICE]
                    for w, out in zip(chain, buffers):
                        h = torch.mm(h, w, out=out[:len(h)])

        return products
    if method == "gemm-dnn":  # the same floor through oneDNN's kernel (skmtl's fused path)
        import torch

        weights = _layer_weights(fit_rows)
        kernel = torch.ops.mkldnn._linear_pointwise

        def dnn_products(X: Any) -> None:
            x = torch.from_numpy(X)
            with torch.inference_mode():
                for i in range(0, len(x), FORWARD_SLICE):
                    h = x[i:i + FORWARD_SLICE]
                    for w in weights:
                        h = kernel(h, w, None, "none", [], "")

        return dnn_products
    raise ValueError(f"unknown method {method!r}; use one of {list(METHODS)}")


def measure_here(method: str, rows: int, repeats: int, fit_rows: int) -> dict[str, Any]:
    """Fit ``method``'s model, then time ``repeats`` predictions of ``rows`` rows and read
    the peak memory growth; run in a fresh process (this script's ``--method``)."""
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    harness.import_skmtl()  # this checkout's skmtl
    torch.set_num_threads(THREADS)
    with threadpool_limits(limits=THREADS):
        predict = _predictor(method, fit_rows)
        X = np.random.default_rng(X_SEED).standard_normal((rows, 64), dtype=np.float32)
        predict(X[:1000])  # lazy initialisations, outside the measurement
        # one 24 MB block allocated and freed: glibc's malloc thresholds raised as after any
        # large array freed (skmtl's predict does it itself, see skmtl._chunks.settle_heap),
        # so that no method's first call maps and faults in its slices' buffers afresh
        np.empty(24 << 20, dtype=np.uint8)
        gc.collect()
        reset = _reset_peak()
        base_kb = _status_kb("VmRSS") or _peak_kb()
        start = harness.cpu_snapshot()
        seconds = []
        for _ in range(repeats):
            out = None  # the previous result is freed before the next call
            t0 = time.perf_counter()
            out = predict(X)
            seconds.append(time.perf_counter() - t0)
        peak_kb = _peak_kb()
        del out
    return {"seconds": [round(s, 6) for s in seconds],
            "rows_per_s": [rows / s for s in seconds],
            "memory_mb": (peak_kb - base_kb) / 1024, "baseline_mb": base_kb / 1024,
            "x_mb": X.nbytes / 2**20, "peak_reset": reset,
            "other_load": harness.other_cpu_load(start, harness.cpu_snapshot()),
            "threads": torch.get_num_threads()}


def measure(method: str, rows: int, repeats: int, fit_rows: int) -> dict[str, Any]:
    """:func:`measure_here` in a fresh subprocess; its fields, or an error it raised."""
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS))
    command = [sys.executable, str(Path(__file__).resolve()), "--method", method,
               "--rows", str(rows), "--repeats", str(repeats), "--fit-rows", str(fit_rows)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = [line for line in done.stdout.splitlines() if line.startswith(_RESULT)]
    if done.returncode != 0 or not found:
        sys.stderr.write(done.stderr)
        last = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(f"{method} subprocess exited with {done.returncode}: "
                           f"{last[-1] if last else 'no output'}")
    return json.loads(found[-1][len(_RESULT):])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help=f"rows predicted (default {ROWS:,}; "
                                                  f"{QUICK_ROWS:,} with --quick)")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help=f"timed predictions per method (default {REPEATS})")
    parser.add_argument("--defaults-rows", type=int, help=(
        f"rows of the default-encoding row (default {DEFAULTS_ROWS:,}; "
        f"{QUICK_DEFAULTS_ROWS:,} with --quick)"))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: all")
    parser.add_argument("--method", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--fit-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_ROWS:,} rows")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    args.rows = args.rows or (QUICK_ROWS if args.quick else ROWS)
    args.fit_rows = args.fit_rows or (QUICK_FIT_ROWS if args.quick else FIT_ROWS)
    args.defaults_rows = args.defaults_rows or (QUICK_DEFAULTS_ROWS if args.quick
                                                else DEFAULTS_ROWS)
    args.methods = [m for m in METHODS if args.methods is None or m in args.methods]
    if args.rows < 1000 or args.repeats < 1:
        parser.error("--rows must be at least 1000 and --repeats positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.method:  # the subprocess of one method
        result = measure_here(args.method, args.rows, args.repeats, args.fit_rows)
        print(_RESULT + json.dumps(result), flush=True)
        return 0
    run = harness.Run("serving", args.quick, argv)
    records = []
    for method in args.methods:
        print(f"{METHODS[method]:<45} ...", end=" ", flush=True)
        rows = args.rows if method != "skmtl-defaults" else min(args.rows, args.defaults_rows)
        rec = harness.record(METHODS[method], "synthetic", X_SEED, key=method, rows=rows)
        harness.guarded(rec, lambda m=method, r=rows: measure(m, r, args.repeats, args.fit_rows))
        records.append(rec)
        print(rec["error"] or (f"{max(rec['rows_per_s']):,.0f} rows/s (best), "
                               f"+{rec['memory_mb']:,.0f} MB"), flush=True)
    config = {"rows": args.rows, "defaults_rows": min(args.rows, args.defaults_rows),
              "features": 64, "repeats": args.repeats, "threads": THREADS,
              "hidden": list(HIDDEN), "fit_rows": args.fit_rows, "epochs": EPOCHS,
              "x_seed": X_SEED, "model_seed": MODEL_SEED, "methods": METHODS,
              "as_before": harness.AS_BEFORE, "target": TARGET, "before": BEFORE,
              **_chunk_sizes()}
    path = run.save(records, config, folder=args.results_dir)
    print(f"wrote {path}")
    return 0


def _chunk_sizes() -> dict[str, int | None]:
    """skmtl's prediction chunk sizes (None where this skmtl has none)."""
    try:
        from skmtl import _chunks
    except ImportError:
        return {"chunk_rows": None, "forward_rows": None, "fused_forward_rows": None}
    return {"chunk_rows": _chunks.CHUNK_ROWS,
            "forward_rows": getattr(_chunks, "FORWARD_ROWS", None),
            "fused_forward_rows": getattr(_chunks, "FUSED_FORWARD_ROWS", None)}


if __name__ == "__main__":
    sys.exit(main())
