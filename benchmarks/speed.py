"""Seconds per training epoch of skmtl against a hand-written PyTorch floor.

Run from the repository root::

    python benchmarks/speed.py                      # N = 20000 and 200000, 3 epochs
    python benchmarks/speed.py --sizes 20000 --repeats 5
    python benchmarks/speed.py --quick              # N = 2000, 2 epochs, no report
    python benchmarks/speed.py --quick --write      # ... and write the report
    python benchmarks/speed.py --methods floor skmtl --no-write

All methods train the same network on the same synthetic 3-task table
(regression + binary + 5-class, 64 float32 features) with Adam (lr 1e-3),
batch size 256, a fresh shuffle every epoch, float32 on the CPU:

``floor``
    A hand-written PyTorch loop over tensors built once; the fastest a
    mini-batch loop over this network can reasonably be.
``skorch default``
    ``skorch.NeuralNet`` with its default Dataset / DataLoader (rows are
    fetched one by one and collated), ``train_split=None``.
``MLPRegressor``
    scikit-learn's MLP on an 8-column float target (same output width),
    one ``fit`` call per epoch with ``warm_start=True, max_iter=1``.
``skmtl``
    ``skmtl.MultiTaskNet`` fitted on a pandas DataFrame of the three targets.

For each method the MEDIAN of the per-epoch wall times is reported (no
warm-up epoch is discarded).  "incl. setup" is the wall time of building the
model / estimator plus the whole training call(s), divided by the number of
epochs, so the one-off set-up cost is visible.  No timing is asserted.

The machine may be shared: the CPU time used by *other* processes while each
method runs is measured (from ``/proc/stat``) and reported next to its timing.
A full run waits for an idle machine before each measurement
(``--wait-idle``) and re-measures a method whose run overlapped with other
work (``--retry-busy``); that decision looks only at the other processes'
load, never at the timing.  ``--quick`` does neither.

The full run writes the section ``speed`` of ``docs/benchmarks.md``; the
quick run only prints unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from _report import (
    REPO_ROOT,
    command_line,
    cpu_snapshot,
    machine_info,
    markdown_table,
    other_cpu_load,
    provenance,
    write_section,
)
from torch import nn

N_FEATURES: int = 64
N_LATENT: int = 8
N_CLASSES: int = 5
HIDDEN: int = 256
BATCH_SIZE: int = 256
LR: float = 1e-3
DATA_SEED: int = 0
LATENT_SEED: int = 1234
TORCH_SEED: int = 0

IDLE_THRESHOLD: float = 0.1
DEFAULT_WAIT_IDLE: float = 300.0
DEFAULT_RETRY_BUSY: int = 3

TARGET_N: int = 200_000
TARGET_FLOOR_RATIO: float = 1.05
TARGET_SKORCH_SPEEDUP: float = 2.0

DEFAULT_SIZES: tuple[int, ...] = (20_000, 200_000)
DEFAULT_REPEATS: int = 3
QUICK_SIZES: tuple[int, ...] = (2_000,)
QUICK_REPEATS: int = 2

METHODS: tuple[str, ...] = ("floor", "floor + fused Adam", "skorch default", "MLPRegressor", "skmtl")
_METHOD_KEYS: dict[str, str] = {
    "floor": "floor",
    "floor-fused": "floor + fused Adam",
    "skorch": "skorch default",
    "mlp": "MLPRegressor",
    "skmtl": "skmtl",
}


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class SyntheticData:
    """The synthetic 3-task table.

    Attributes
    ----------
    X
        ``(N, 64)`` float32 features, standard normal.
    reg
        ``(N,)`` float32 regression target, standardised (mean 0, std 1).
    binary
        ``(N,)`` int64 binary target in ``{0, 1}``.
    multiclass
        ``(N,)`` int64 5-class target in ``{0, ..., 4}``.
    """

    X: np.ndarray
    reg: np.ndarray
    binary: np.ndarray
    multiclass: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    def y_float3(self) -> np.ndarray:
        """Targets as one ``(N, 3)`` float32 array: reg, binary, multiclass."""
        return np.column_stack([self.reg, self.binary, self.multiclass]).astype(np.float32)

    def y_onehot8(self) -> np.ndarray:
        """Targets as ``(N, 8)`` float32: reg, one-hot binary, one-hot 5-class."""
        eye2 = np.eye(2, dtype=np.float32)
        eye5 = np.eye(N_CLASSES, dtype=np.float32)
        return np.column_stack([self.reg, eye2[self.binary], eye5[self.multiclass]]).astype(
            np.float32
        )

    def y_frame(self) -> pd.DataFrame:
        """Targets as the DataFrame skmtl expects (float64 / int64 / int64)."""
        return pd.DataFrame(
            {
                "reg": self.reg.astype(np.float64),
                "binary": self.binary.astype(np.int64),
                "multiclass": self.multiclass.astype(np.int64),
            }
        )


def make_data(n: int, seed: int = DATA_SEED) -> SyntheticData:
    """Build the synthetic table with ``n`` rows.

    ``X ~ N(0, 1)``; a shared latent ``z = X @ W`` (``W`` 64x8, fixed seed
    :data:`LATENT_SEED`, independent of ``n``) drives all three targets:

    * regression: linear in ``z`` plus ``sin`` and interaction terms plus
      noise, then standardised;
    * binary: ``z_3 + tanh(z_4 z_5) + noise > 0``;
    * 5-class: ``argmax(z @ B + noise)`` with ``B`` 8x5 (fixed seed).
    """
    latent_rng = np.random.default_rng(LATENT_SEED)
    W = latent_rng.standard_normal((N_FEATURES, N_LATENT)) / np.sqrt(N_FEATURES)
    a = latent_rng.standard_normal(N_LATENT) / np.sqrt(N_LATENT)
    B = latent_rng.standard_normal((N_LATENT, N_CLASSES))

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES)).astype(np.float32)
    z = X.astype(np.float64) @ W

    reg = (
        z @ a
        + 0.5 * np.sin(2.0 * z[:, 0])
        + 0.25 * z[:, 1] * z[:, 2]
        + 0.1 * rng.standard_normal(n)
    )
    reg = ((reg - reg.mean()) / reg.std()).astype(np.float32)
    binary = (z[:, 3] + np.tanh(z[:, 4] * z[:, 5]) + 0.3 * rng.standard_normal(n) > 0).astype(
        np.int64
    )
    multiclass = np.argmax(z @ B + 0.5 * rng.standard_normal((n, N_CLASSES)), axis=1).astype(
        np.int64
    )
    return SyntheticData(X=X, reg=reg, binary=binary, multiclass=multiclass)


# ------------------------------------------------------------------------ network
class MultiHeadMLP(nn.Module):
    """Shared trunk 64-256-256 (ReLU) and three linear heads (1, 2, 5 outputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(N_FEATURES, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
        )
        self.head_reg = nn.Linear(HIDDEN, 1)
        self.head_binary = nn.Linear(HIDDEN, 2)
        self.head_multiclass = nn.Linear(HIDDEN, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return the three head outputs ``(reg (B,1), binary (B,2), multi (B,5))``."""
        h = self.trunk(x)
        return self.head_reg(h), self.head_binary(h), self.head_multiclass(h)


class SummedLoss(nn.Module):
    """MSE (regression) + cross-entropy (binary) + cross-entropy (5-class).

    ``y_true`` is a ``(B, 3)`` float tensor: regression target, binary label,
    5-class label (labels are cast to ``long``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mse = nn.MSELoss()
        self.ce = nn.CrossEntropyLoss()

    def forward(
        self,
        y_pred: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        y_true: torch.Tensor,
    ) -> torch.Tensor:
        """Return the sum of the three task losses (each a batch mean)."""
        out_reg, out_bin, out_multi = y_pred
        return (
            self.mse(out_reg.squeeze(1), y_true[:, 0])
            + self.ce(out_bin, y_true[:, 1].long())
            + self.ce(out_multi, y_true[:, 2].long())
        )


# -------------------------------------------------------------------- measurement
@dataclass
class Measurement:
    """Timings of one method at one N."""

    method: str
    n: int
    epoch_seconds: list[float] = field(default_factory=list)
    total_seconds: float | None = None
    other_load: float | None = None
    attempts: int = 1
    error: str | None = None

    @property
    def median(self) -> float | None:
        """Median seconds per epoch, or ``None`` if nothing was measured."""
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else None

    @property
    def incl_setup(self) -> float | None:
        """Total wall time (set-up + training) divided by the number of epochs."""
        if self.total_seconds is None or not self.epoch_seconds:
            return None
        return self.total_seconds / len(self.epoch_seconds)


@contextmanager
def same_torch_threads(expected: int, label: str) -> Iterator[None]:
    """Check that ``torch.get_num_threads()`` is ``expected`` before and after.

    If the code inside changed it, a warning is printed and it is restored so
    that every method runs with the same thread count.
    """
    if torch.get_num_threads() != expected:
        torch.set_num_threads(expected)
    try:
        yield
    finally:
        now = torch.get_num_threads()
        if now != expected:
            print(
                f"  WARNING: {label} changed torch threads {expected} -> {now}; restored",
                flush=True,
            )
            torch.set_num_threads(expected)


def measure_floor(data: SyntheticData, epochs: int, fused: bool = False) -> Measurement:
    """Hand-written PyTorch loop over tensors created once (the speed floor).

    With ``fused=True`` the same loop uses ``torch.optim.Adam(fused=True)``, the optimizer
    implementation skmtl selects by default, so the table separates the data-path overhead
    (skmtl vs this row) from the optimizer's speed-up (this row vs the plain floor).
    """
    res = Measurement("floor + fused Adam" if fused else "floor", data.n)
    y_np = data.y_float3()
    t_start = time.perf_counter()
    torch.manual_seed(TORCH_SEED)
    X = torch.from_numpy(data.X)
    Y = torch.from_numpy(y_np)
    model = MultiHeadMLP()
    criterion = SummedLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    model.train()
    n = X.shape[0]
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, BATCH_SIZE):
            idx = perm[i : i + BATCH_SIZE]
            xb, yb = X[idx], Y[idx]
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        res.epoch_seconds.append(time.perf_counter() - t0)
    res.total_seconds = time.perf_counter() - t_start
    return res


def measure_skorch_default(data: SyntheticData, epochs: int) -> Measurement:
    """``skorch.NeuralNet`` with its default Dataset and DataLoader."""
    from skorch import NeuralNet

    res = Measurement("skorch default", data.n)
    y_np = data.y_float3()
    t_start = time.perf_counter()
    torch.manual_seed(TORCH_SEED)
    net = NeuralNet(
        module=MultiHeadMLP,
        criterion=SummedLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        batch_size=BATCH_SIZE,
        max_epochs=epochs,
        train_split=None,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
    )
    net.fit(data.X, y_np)
    res.total_seconds = time.perf_counter() - t_start
    res.epoch_seconds = [float(d) for d in net.history[:, "dur"]]
    return res


def measure_mlp(data: SyntheticData, epochs: int) -> Measurement:
    """scikit-learn ``MLPRegressor`` on the 8-column target, one fit per epoch.

    numpy's BLAS is limited to ``torch.get_num_threads()`` threads while it
    runs so that it uses as many threads as the torch methods.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    res = Measurement("MLPRegressor", data.n)
    y8 = data.y_onehot8()
    with threadpool_limits(limits=torch.get_num_threads(), user_api="blas"):
        t_start = time.perf_counter()
        est = MLPRegressor(
            hidden_layer_sizes=(HIDDEN, HIDDEN),
            batch_size=BATCH_SIZE,
            solver="adam",
            learning_rate_init=LR,
            max_iter=1,
            shuffle=True,
            tol=0,
            n_iter_no_change=10**9,
            warm_start=True,
            random_state=TORCH_SEED,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            for _ in range(epochs):
                t0 = time.perf_counter()
                est.fit(data.X, y8)
                res.epoch_seconds.append(time.perf_counter() - t0)
        res.total_seconds = time.perf_counter() - t_start
    return res


def import_skmtl() -> tuple[type | None, str]:
    """Import ``skmtl.MultiTaskNet`` from this checkout.

    Returns ``(MultiTaskNet, description)`` or ``(None, reason)`` if the
    import fails (the package may not exist yet).
    """
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(1, root)
    try:
        import skmtl
        from skmtl import MultiTaskNet
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return None, f"`import skmtl` failed: {type(exc).__name__}: {exc}"
    version = getattr(skmtl, "__version__", "unknown version")
    return MultiTaskNet, f"skmtl {version} from {getattr(skmtl, '__file__', '?')}"


def measure_skmtl(data: SyntheticData, epochs: int) -> Measurement:
    """``skmtl.MultiTaskNet`` on a DataFrame of the three targets.

    Errors (import or fit) are recorded in :attr:`Measurement.error` with the
    full traceback printed, so the other methods still run.
    """
    res = Measurement("skmtl", data.n)
    MultiTaskNet, note = import_skmtl()
    if MultiTaskNet is None:
        res.error = note
        return res
    Y = data.y_frame()
    try:
        t_start = time.perf_counter()
        est = MultiTaskNet(
            hidden_layer_sizes=(HIDDEN, HIDDEN),
            head_layer_sizes=(),
            batch_size=BATCH_SIZE,
            max_epochs=epochs,
            lr=LR,
            random_state=TORCH_SEED,
            device="cpu",
            early_stopping=False,
        )
        est.fit(data.X, Y)
        res.total_seconds = time.perf_counter() - t_start
        res.epoch_seconds = [float(d) for d in est.history_[:, "dur"]]
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        res.error = f"{type(exc).__name__}: {exc}"
        res.epoch_seconds = []
        res.total_seconds = None
    if res.epoch_seconds and len(res.epoch_seconds) != epochs:
        res.error = f"history_ has {len(res.epoch_seconds)} epochs, expected {epochs}"
    return res


MEASURERS: dict[str, Callable[[SyntheticData, int], Measurement]] = {
    "floor": measure_floor,
    "floor + fused Adam": lambda data, epochs: measure_floor(data, epochs, fused=True),
    "skorch default": measure_skorch_default,
    "MLPRegressor": measure_mlp,
    "skmtl": measure_skmtl,
}


def warm_up_process() -> None:
    """Pay the one-off, process-wide import costs before anything is timed.

    The first ``torch.optim.Adam(...)`` in a process lazily imports
    ``torch._dynamo`` (over a second here); without this, whichever method
    runs first would be charged for it in its "incl. setup" column.  This is
    not a warm-up epoch: no method's model is trained.
    """
    import sklearn.neural_network  # noqa: F401
    import skorch  # noqa: F401

    param = nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.Adam([param], lr=LR)
    (param**2).sum().backward()
    optimizer.step()


def _fmt_load(load: float | None) -> str:
    """Format an other-CPU-load value for printing."""
    return "?" if load is None else f"{load:.2f}"


def wait_until_idle(max_wait: float, threshold: float = IDLE_THRESHOLD) -> None:
    """Wait (up to ``max_wait`` s) until other processes use < ``threshold`` cores.

    The load of other processes is sampled over 2-second windows.  After
    ``max_wait`` seconds the benchmark goes on anyway; the measured load is
    reported next to every timing.
    """
    t0 = time.perf_counter()
    waited = False
    while True:
        start = cpu_snapshot()
        time.sleep(2.0)
        load = other_cpu_load(start, cpu_snapshot())
        elapsed = time.perf_counter() - t0
        if load is None or load < threshold:
            if waited:
                print(f"[idle after {elapsed:.0f} s]", end=" ", flush=True)
            return
        if elapsed >= max_wait:
            print(f"[still busy after {elapsed:.0f} s: going on]", end=" ", flush=True)
            return
        if not waited:
            print(f"[other load {load:.2f} cores: waiting]", end=" ", flush=True)
            waited = True
        time.sleep(3.0)


def run(
    sizes: Sequence[int],
    repeats: int,
    methods: Sequence[str],
    wait_idle: float = 0.0,
    retry_busy: int = 0,
) -> list[Measurement]:
    """Measure every method in ``methods`` at every N in ``sizes``.

    If ``wait_idle`` > 0, wait up to that many seconds before each attempt for
    the machine to be idle (see :func:`wait_until_idle`).  If other processes
    used ``>= IDLE_THRESHOLD`` cores on average during an attempt, it is
    discarded and re-measured, at most ``retry_busy`` times; the decision
    depends only on the other processes' load, never on the timing itself.
    The last attempt is kept and the number of attempts is reported.
    """
    warm_up_process()
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads} (used by every method)", flush=True)
    results: list[Measurement] = []
    for n in sizes:
        data = make_data(n)
        for method in methods:
            print(f"N={n:>8,}  {method:<15} ...", end=" ", flush=True)
            for attempt in range(1, retry_busy + 2):
                if wait_idle > 0:
                    wait_until_idle(wait_idle)
                before = cpu_snapshot()
                with same_torch_threads(threads, method):
                    res = MEASURERS[method](data, repeats)
                res.other_load = other_cpu_load(before, cpu_snapshot())
                res.attempts = attempt
                busy = res.other_load is not None and res.other_load >= IDLE_THRESHOLD
                if res.error or not busy or attempt > retry_busy:
                    break
                print(
                    f"[other load {res.other_load:.2f} cores during attempt {attempt}: "
                    "discarded, re-measuring]",
                    end=" ",
                    flush=True,
                )
            results.append(res)
            if res.error:
                print(f"NOT MEASURED: {res.error}", flush=True)
            else:
                epochs = ", ".join(f"{s:.3f}" for s in res.epoch_seconds)
                print(
                    f"median {res.median:.3f} s/epoch (epochs: {epochs}; "
                    f"incl. setup {res.incl_setup:.3f}; other CPU load "
                    f"{_fmt_load(res.other_load)} cores)",
                    flush=True,
                )
    return results


# ------------------------------------------------------------------------- report
def _find(results: Sequence[Measurement], method: str, n: int) -> Measurement | None:
    """Return the successful measurement of ``method`` at ``n``, if any."""
    for res in results:
        if res.method == method and res.n == n and not res.error and res.median:
            return res
    return None


def table_rows(results: Sequence[Measurement]) -> list[dict[str, object]]:
    """One table row per measurement, with the ratio to the floor at the same N."""
    rows: list[dict[str, object]] = []
    for res in results:
        floor = _find(results, "floor", res.n)
        ratio = (
            res.median / floor.median
            if floor is not None and floor.median and res.median is not None
            else None
        )
        rows.append(
            {
                "method": res.method if not res.error else f"{res.method} (not measured)",
                "N": f"{res.n:,}",
                "median s/epoch": res.median,
                "ratio to floor": ratio,
                "incl. setup s/epoch": res.incl_setup,
                "other load (cores)": res.other_load,
                "attempts": res.attempts,
                "all epochs (s)": ", ".join(f"{s:.3f}" for s in res.epoch_seconds) or None,
            }
        )
    return rows


TABLE_COLUMNS: list[str] = [
    "method",
    "N",
    "median s/epoch",
    "ratio to floor",
    "incl. setup s/epoch",
    "other load (cores)",
    "attempts",
    "all epochs (s)",
]
TABLE_FLOATFMT: dict[str, str] = {
    "median s/epoch": ".3f",
    "ratio to floor": ".2f",
    "incl. setup s/epoch": ".3f",
    "other load (cores)": ".2f",
}


def target_verdict(results: Sequence[Measurement]) -> str:
    """State the issue's speed target and whether the measured numbers meet it."""
    lines = [
        f"Target at N={TARGET_N // 1000}k: skmtl ≤ {TARGET_FLOOR_RATIO:.2f}× the "
        f"floor and ≥ {TARGET_SKORCH_SPEEDUP:.0f}× faster than default skorch "
        "(median s/epoch)."
    ]
    sizes = sorted({res.n for res in results})
    skmtl_errors = {res.n: res.error for res in results if res.method == "skmtl" and res.error}
    for n in sizes:
        label = "target" if n == TARGET_N else "reference only"
        floor = _find(results, "floor", n)
        skorch = _find(results, "skorch default", n)
        mtl = _find(results, "skmtl", n)
        context = ""
        if floor is not None and skorch is not None:
            # How fast skmtl must be, relative to the floor, to be >= 2x faster
            # than default skorch: the two targets interact through the floor.
            need = skorch.median / TARGET_SKORCH_SPEEDUP / floor.median
            context = (
                f" For context: default skorch / floor = "
                f"{skorch.median / floor.median:.2f}×, so being "
                f"{TARGET_SKORCH_SPEEDUP:.0f}× faster than default skorch requires "
                f"skmtl ≤ {need:.2f}× the floor."
            )
        if mtl is None:
            why = skmtl_errors.get(n, "skmtl was not in this run")
            lines.append(
                f"- N={n:,} ({label}): cannot be evaluated, skmtl not measured ({why})." + context
            )
            continue
        parts = []
        if floor is not None:
            r = mtl.median / floor.median
            ok = "met" if r <= TARGET_FLOOR_RATIO else "NOT met"
            parts.append(f"skmtl / floor = {r:.2f}× ({ok})")
        else:
            parts.append("floor not measured")
        if skorch is not None:
            s = skorch.median / mtl.median
            ok = "met" if s >= TARGET_SKORCH_SPEEDUP else "NOT met"
            parts.append(f"default skorch / skmtl = {s:.2f}× ({ok})")
        else:
            parts.append("default skorch not measured")
        lines.append(f"- N={n:,} ({label}): " + "; ".join(parts) + "." + context)
    if TARGET_N not in sizes:
        lines.append(f"- This run did not include N={TARGET_N:,}, so the target is not evaluated.")
    return "\n".join(lines) + "\n"


def section_body(
    results: Sequence[Measurement],
    repeats: int,
    command: str,
    info: dict[str, object],
    retry_busy: int = 0,
) -> str:
    """Markdown body of the ``speed`` section."""
    notes = []
    mtl_ok = [r for r in results if r.method == "skmtl" and not r.error]
    if mtl_ok:
        _, desc = import_skmtl()
        notes.append(f"- skmtl measured: {desc.replace(str(REPO_ROOT) + '/', '')}\n")
    return (
        "## Training speed (seconds per epoch)\n\n"
        "Written by `benchmarks/speed.py`.\n\n"
        + provenance(
            command=command,
            seeds=(
                f"data seed {DATA_SEED} (latent map seed {LATENT_SEED}); torch "
                f"seed {TORCH_SEED} before building each model; MLPRegressor / "
                f"skmtl random_state={TORCH_SEED}"
            ),
            repetitions=(
                f"{repeats} epochs per method and N, one run each; the median "
                "epoch time is reported (no warm-up epoch discarded)"
            ),
            info=info,
        )
        + "".join(notes)
        + "\n"
        "Synthetic table: 64 float32 features, 3 targets sharing an 8-d latent "
        "(standardised regression, binary, 5-class). Network: trunk "
        "64-256-256 (ReLU), heads 1 / 2 / 5; loss = MSE + CE + CE; Adam "
        f"lr={LR:g}, batch size {BATCH_SIZE}, shuffled every epoch, float32, CPU. "
        "MLPRegressor uses the same trunk on an 8-column float target (squared "
        "error on all 8 columns), one `fit` per epoch, numpy BLAS limited to the "
        "torch thread count. *incl. setup* = wall time of building the model / "
        "estimator plus all training calls, divided by the number of epochs. "
        "*other load* = average number of cores busy with other processes "
        "while the method ran (system-wide CPU time from /proc/stat minus this "
        "process's own); values well above 0 mean that row's timing is "
        f"inflated by competing work. *attempts* = measurements made; earlier "
        f"ones were discarded only because other processes used ≥ "
        f"{IDLE_THRESHOLD} cores during them (retries allowed: {retry_busy}).\n\n"
        + markdown_table(table_rows(results), TABLE_COLUMNS, TABLE_FLOATFMT)
        + "\n"
        + target_verdict(results)
    )


# ---------------------------------------------------------------------------- cli
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help=f"numbers of rows (default {' '.join(map(str, DEFAULT_SIZES))}; "
        f"{QUICK_SIZES[0]} with --quick)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"epochs timed per method (default {DEFAULT_REPEATS}; {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=sorted(_METHOD_KEYS),
        default=None,
        help="subset of methods to run (default: all)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before each measurement, wait up to SECONDS for other processes to "
        f"use < {IDLE_THRESHOLD} cores (default {DEFAULT_WAIT_IDLE:g}; 0 with --quick)",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=None,
        metavar="K",
        help=f"re-measure a method at most K times when other processes used >= "
        f"{IDLE_THRESHOLD} cores during it (default {DEFAULT_RETRY_BUSY}; 0 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small N, 2 epochs, report not written unless --write",
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.wait_idle is None:
        args.wait_idle = 0.0 if args.quick else DEFAULT_WAIT_IDLE
    if args.retry_busy is None:
        args.retry_busy = 0 if args.quick else DEFAULT_RETRY_BUSY
    if args.repeats < 1 or any(n < 1 for n in args.sizes):
        parser.error("--repeats and --sizes must be positive")
    if args.wait_idle < 0 or args.retry_busy < 0:
        parser.error("--wait-idle and --retry-busy must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    command = command_line()
    methods = (
        list(METHODS)
        if args.methods is None
        else [m for m in METHODS if m in {_METHOD_KEYS[k] for k in args.methods}]
    )
    info = machine_info()
    results = run(
        args.sizes,
        args.repeats,
        methods,
        wait_idle=args.wait_idle,
        retry_busy=args.retry_busy,
    )
    body = section_body(results, args.repeats, command, info, retry_busy=args.retry_busy)
    print()
    print(body)
    do_write = args.write or not (args.quick or args.no_write)
    if do_write:
        path = write_section("speed", body)
        print(f"wrote section 'speed' of {path}")
    else:
        print("(report not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
