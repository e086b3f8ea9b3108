"""Data-parallel training: 1 process (2 threads) against 2 processes (1 thread each).

Run from the repository root::

    python benchmarks/data_parallel.py             # N = 20000, 5 epochs, 3 seeds -> results/
    python benchmarks/data_parallel.py --quick     # N = 2000, 2 epochs, 1 seed -> build/
    python benchmarks/report.py --only data_parallel

Both settings train ``skmtl.MultiTaskNet`` on the speed benchmark's synthetic 3-task
table (``datasets.make_data``, the network of ``speed.py``) with the same global batch,
each launched by ``python -m torch.distributed.run --standalone --nproc_per_node P`` on
this script in worker mode: with P = 2, skmtl joins the launcher's gloo process group
and trains data-parallel (each process takes its half of every batch, gradients are
averaged). Rank 0 times the epochs (the ``dur`` of the history) and scores the test
rows; one record per setting x seed. No timing is asserted; the settings are
described in ``templates/data_parallel.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
from datasets import DATA_SEED, LATENT_SEED, make_data

HIDDEN, BATCH_SIZE, LR = 256, 256, 1e-3
N, EPOCHS, REPEATS = 20_000, 5, 3
QUICK_N, QUICK_EPOCHS, QUICK_REPEATS = 2_000, 2, 1
TEST_FRACTION = 0.2
#: setting -> (processes, torch threads per process): 2 cores in both
SETTINGS: dict[str, tuple[int, int]] = {"1 process × 2 threads": (1, 2),
                                        "2 processes × 1 thread": (2, 1)}


def _snapshot() -> harness.CpuSnapshot | None:
    """:func:`harness.cpu_snapshot` counting the finished launches (children) as our own."""
    snap = harness.cpu_snapshot()
    if snap is None:
        return None
    times = os.times()
    return snap._replace(own=snap.own + times.children_user + times.children_system)


def worker(n: int, seed: int, epochs: int, threads: int, out: str) -> None:
    """One fit (in each launched process); rank 0 writes the timings and test scores."""
    import torch

    torch.set_num_threads(threads)
    harness.import_skmtl()
    from sklearn.metrics import accuracy_score, r2_score

    from skmtl import MultiTaskNet

    data = make_data(n)
    cut = int(round(n * (1 - TEST_FRACTION)))
    X, y = data.X, data.y_frame()
    est = MultiTaskNet(hidden_layer_sizes=(HIDDEN, HIDDEN), head_layer_sizes=(),
                       batch_size=BATCH_SIZE, max_epochs=epochs, lr=LR, random_state=seed,
                       device="cpu", early_stopping=False, **harness.AS_BEFORE)
    t0 = time.perf_counter()
    est.fit(X[:cut], y[:cut])
    seconds = time.perf_counter() - t0
    dist = torch.distributed
    processes = dist.get_world_size() if dist.is_initialized() else 1
    if processes > 1 and dist.get_rank() != 0:
        return
    pred = est.predict(X[cut:])
    truth = y[cut:]
    metrics = {"reg_r2": float(r2_score(truth["reg"], pred["reg"])),
               "binary_acc": float(accuracy_score(truth["binary"], pred["binary"])),
               "multiclass_acc": float(accuracy_score(truth["multiclass"], pred["multiclass"]))}
    Path(out).write_text(json.dumps({
        "epoch_seconds": [round(float(d), 6) for d in est.history_[:, "dur"]],
        "fit_seconds": seconds, "metrics": metrics, "processes": processes,
        "threads": torch.get_num_threads(), "train_loss": float(est.history_[-1, "train_loss"]),
    }))


def launch(processes: int, threads: int, n: int, seed: int, epochs: int) -> dict:
    """Run the workers under torch.distributed.run; rank 0's record fields."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "rank0.json")
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(key, None)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc_per_node", str(processes), __file__, "--worker", "--rows", str(n),
                   "--seed", str(seed), "--epochs", str(epochs), "--threads", str(threads),
                   "--out", out]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the launch failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(Path(out).read_text())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", dest="n", type=int, help=f"rows, train and test (default {N:,})")
    parser.add_argument("--epochs", type=int, help=f"epochs per fit (default {EPOCHS})")
    parser.add_argument("--repeats", type=int, help=f"seeds (default {REPEATS})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: N={QUICK_N}, {QUICK_EPOCHS} epochs, {QUICK_REPEATS} seeds")
    parser.add_argument("--results-dir", help="folder of the results file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    q = args.quick
    args.n = args.n or (QUICK_N if q else N)
    args.epochs = args.epochs or (QUICK_EPOCHS if q else EPOCHS)
    args.repeats = args.repeats or (QUICK_REPEATS if q else REPEATS)
    if min(args.n, args.epochs, args.repeats) < 1:
        parser.error("--rows, --epochs and --repeats must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.n, args.seed, args.epochs, args.threads, args.out)
        return 0
    run = harness.Run("data_parallel", args.quick, argv)
    records = []
    for seed in harness.seeds(args.repeats):
        for setting, (processes, threads) in SETTINGS.items():
            print(f"seed {seed}  {setting:<24} ...", end=" ", flush=True)
            rec = harness.record(setting, "synthetic", seed, n=args.n, processes=processes,
                                 threads=threads)
            before = _snapshot()
            harness.guarded(rec, lambda p=processes, t=threads, s=seed: launch(
                p, t, args.n, s, args.epochs))
            rec["other_load"] = harness.other_cpu_load(before, _snapshot())
            records.append(rec)
            print(rec["error"] or f"epochs {rec['epoch_seconds']} s, test {rec['metrics']}",
                  flush=True)
    config = {"n": args.n, "epochs": args.epochs, "repeats": args.repeats,
              "settings": {k: list(v) for k, v in SETTINGS.items()}, "hidden": HIDDEN,
              "batch_size": BATCH_SIZE, "lr": LR, "test_fraction": TEST_FRACTION,
              "data_seed": DATA_SEED, "latent_seed": LATENT_SEED,
              "as_before": harness.AS_BEFORE, "cpu_count": os.cpu_count()}
    path = run.save(records, config, folder=args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
