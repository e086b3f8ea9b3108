"""Seconds per training epoch of skmtl against a hand-written PyTorch floor and its peers.

Run from the repository root::

    python benchmarks/speed.py                   # N = 20000 and 200000, 3 epochs -> results/
    python benchmarks/speed.py --quick           # N = 2000, 2 epochs -> build/
    python benchmarks/speed.py --sizes 20000 --repeats 5 --methods floor skmtl
    python benchmarks/report.py --only speed     # render the section from the results

Every method trains the same network on the synthetic 3-task table
(``datasets.make_data``): a hand-written PyTorch floor (with and without fused Adam),
default skorch, ``MLPRegressor`` and ``skmtl.MultiTaskNet``; one record per method x N
with the raw per-epoch times.  A full run waits for an idle machine and re-measures a
timing that overlapped with other work; ``--quick`` does neither.  The methods are
described in ``templates/speed.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from collections.abc import Callable

import harness
import sklearn.neural_network  # noqa: F401 - imported before anything is timed
import skorch  # noqa: F401 - imported before anything is timed
import torch
from datasets import DATA_SEED, LATENT_SEED, N_CLASSES, N_FEATURES, SyntheticData, make_data
from torch import nn

harness.import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

HIDDEN, BATCH_SIZE, LR, TORCH_SEED = 256, 256, 1e-3, 0
SIZES, REPEATS, QUICK_SIZES, QUICK_REPEATS = (20_000, 200_000), 3, (2_000,), 2
WAIT_IDLE, RETRY_BUSY = 300.0, 3
#: The target of the speed issue, evaluated by the renderer.
TARGET = {"n": 200_000, "floor_ratio": 1.05, "skorch_speedup": 2.0}
METHODS: dict[str, str] = {"floor": "floor", "floor-fused": "floor + fused Adam",
                           "skorch": "skorch default", "mlp": "MLPRegressor", "skmtl": "skmtl"}


class MultiHeadMLP(nn.Module):
    """Shared trunk 64-256-256 (ReLU) and three linear heads (1, 2, 5 outputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(N_FEATURES, HIDDEN), nn.ReLU(),
                                   nn.Linear(HIDDEN, HIDDEN), nn.ReLU())
        self.head_reg = nn.Linear(HIDDEN, 1)
        self.head_binary = nn.Linear(HIDDEN, 2)
        self.head_multiclass = nn.Linear(HIDDEN, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.head_reg(h), self.head_binary(h), self.head_multiclass(h)


class SummedLoss(nn.Module):
    """MSE + CE (binary) + CE (5-class); ``y_true`` is ``(B, 3)`` float (labels cast to long)."""

    def __init__(self) -> None:
        super().__init__()
        self.mse, self.ce = nn.MSELoss(), nn.CrossEntropyLoss()

    def forward(self, y_pred: tuple[torch.Tensor, ...], y_true: torch.Tensor) -> torch.Tensor:
        out_reg, out_bin, out_multi = y_pred
        return (self.mse(out_reg.squeeze(1), y_true[:, 0]) + self.ce(out_bin, y_true[:, 1].long())
                + self.ce(out_multi, y_true[:, 2].long()))


def floor(data: SyntheticData, epochs: int, fused: bool = False) -> list[float]:
    """Hand-written loop over tensors built once; ``fused``: ``Adam(fused=True)`` as skmtl."""
    torch.manual_seed(TORCH_SEED)
    X, Y = torch.from_numpy(data.X), torch.from_numpy(data.y_float3())
    model, criterion = MultiHeadMLP(), SummedLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    model.train()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(data.n)
        for i in range(0, data.n, BATCH_SIZE):
            idx = perm[i : i + BATCH_SIZE]
            optimizer.zero_grad()
            criterion(model(X[idx]), Y[idx]).backward()
            optimizer.step()
        times.append(time.perf_counter() - t0)
    return times


def skorch_default(data: SyntheticData, epochs: int) -> list[float]:
    """``skorch.NeuralNet`` with its default Dataset and DataLoader, no validation split."""
    torch.manual_seed(TORCH_SEED)
    net = skorch.NeuralNet(module=MultiHeadMLP, criterion=SummedLoss, optimizer=torch.optim.Adam,
                           lr=LR, batch_size=BATCH_SIZE, max_epochs=epochs, train_split=None,
                           iterator_train__shuffle=True, device="cpu", verbose=0)
    net.fit(data.X, data.y_float3())
    return [float(d) for d in net.history[:, "dur"]]


def mlp(data: SyntheticData, epochs: int) -> list[float]:
    """``MLPRegressor`` on the 8-column target, one fit per epoch, BLAS at the torch threads."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    y8, times = data.y_onehot8(), []
    with threadpool_limits(limits=torch.get_num_threads(), user_api="blas"):
        est = sklearn.neural_network.MLPRegressor(
            hidden_layer_sizes=(HIDDEN, HIDDEN), batch_size=BATCH_SIZE, solver="adam",
            learning_rate_init=LR, max_iter=1, shuffle=True, tol=0, n_iter_no_change=10**9,
            warm_start=True, random_state=TORCH_SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            for _ in range(epochs):
                t0 = time.perf_counter()
                est.fit(data.X, y8)
                times.append(time.perf_counter() - t0)
    return times


def skmtl(data: SyntheticData, epochs: int) -> list[float]:
    """``skmtl.MultiTaskNet`` on a DataFrame of the three targets."""
    est = MultiTaskNet(hidden_layer_sizes=(HIDDEN, HIDDEN), head_layer_sizes=(),
                       batch_size=BATCH_SIZE, max_epochs=epochs, lr=LR, random_state=TORCH_SEED,
                       device="cpu", early_stopping=False, **harness.AS_BEFORE)
    est.fit(data.X, data.y_frame())
    times = [float(d) for d in est.history_[:, "dur"]]
    if len(times) != epochs:
        raise RuntimeError(f"history_ has {len(times)} epochs, expected {epochs}")
    return times


MEASURERS: dict[str, Callable[[SyntheticData, int], list[float]]] = {
    "floor": floor, "floor + fused Adam": lambda d, e: floor(d, e, fused=True),
    "skorch default": skorch_default, "MLPRegressor": mlp, "skmtl": skmtl}


def measure(method: str, data: SyntheticData, epochs: int, threads: int) -> dict:
    """One attempt: per-epoch times, set-up + training wall time, other processes' load."""
    rec = harness.record(method, "synthetic", DATA_SEED, n=data.n)
    before, t0 = harness.cpu_snapshot(), time.perf_counter()
    try:
        with harness.same_torch_threads(threads, method):
            times = MEASURERS[method](data, epochs)
        rec["fit_seconds"] = time.perf_counter() - t0
        rec["epoch_seconds"] = [round(s, 6) for s in times]
    except Exception as exc:  # noqa: BLE001 - recorded, never worked around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        rec["error"] = f"{type(exc).__name__}: {exc}"
    rec["other_load"] = harness.other_cpu_load(before, harness.cpu_snapshot())
    return rec


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help=f"rows (default {SIZES})")
    parser.add_argument("--repeats", type=int, help=f"epochs timed per method ({REPEATS})")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: all")
    parser.add_argument("--wait-idle", type=float, metavar="S", help=(
        f"wait up to S s for other processes to use < {harness.IDLE_THRESHOLD} cores before each "
        f"measurement (default {WAIT_IDLE:g}; 0 with --quick)"))
    parser.add_argument("--retry-busy", type=int, metavar="K", help=(
        f"re-measure at most K times when other processes used >= {harness.IDLE_THRESHOLD} cores "
        f"(default {RETRY_BUSY}; 0 with --quick)"))
    parser.add_argument("--quick", action="store_true", help="smoke run: N=2000, 2 epochs")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    q = args.quick
    args.sizes = args.sizes or list(QUICK_SIZES if q else SIZES)
    args.repeats = args.repeats or (QUICK_REPEATS if q else REPEATS)
    args.wait_idle = (0.0 if q else WAIT_IDLE) if args.wait_idle is None else args.wait_idle
    args.retry_busy = (0 if q else RETRY_BUSY) if args.retry_busy is None else args.retry_busy
    args.methods = [METHODS[k] for k in METHODS if args.methods is None or k in args.methods]
    if args.repeats < 1 or min(args.sizes) < 1 or args.wait_idle < 0 or args.retry_busy < 0:
        parser.error("--repeats, --sizes must be positive; --wait-idle, --retry-busy >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = harness.Run("speed", args.quick, argv)
    harness.warm_up_process()  # the first Adam step imports torch._dynamo: not charged to a method
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads} (used by every method)", flush=True)
    records = []
    for n in args.sizes:
        data = make_data(n)
        for method in args.methods:
            print(f"N={n:>8,}  {method:<18} ...", end=" ", flush=True)
            for attempt in range(1, args.retry_busy + 2):
                if args.wait_idle > 0:
                    harness.wait_until_idle(args.wait_idle)
                rec = measure(method, data, args.repeats, threads)
                rec["attempts"] = attempt
                load = rec["other_load"]
                if rec["error"] or load is None or load < harness.IDLE_THRESHOLD or (
                        attempt > args.retry_busy):
                    break
                print(f"[other load {load:.2f} cores: re-measuring]", end=" ", flush=True)
            records.append(rec)
            print(rec["error"] or f"epochs {rec['epoch_seconds']} s, other load {load}",
                  flush=True)
    config = {
        "sizes": args.sizes, "epochs": args.repeats, "methods": args.methods,
        "wait_idle": args.wait_idle, "retry_busy": args.retry_busy, "threads": threads,
        "data_seed": DATA_SEED, "latent_seed": LATENT_SEED, "torch_seed": TORCH_SEED,
        "hidden": HIDDEN, "batch_size": BATCH_SIZE, "lr": LR, "target": TARGET,
        "as_before": harness.AS_BEFORE,
    }
    path = run.save(records, config, folder=args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
