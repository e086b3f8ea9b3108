"""Missing labels: masked multi-task training against per-task models on Census-Income KDD.

Run from the repository root::

    python benchmarks/missing_labels.py                  # 3 seeds, writes the report
    python benchmarks/missing_labels.py --seeds 5
    python benchmarks/missing_labels.py --quick          # 10k training rows, 1 seed, 3 epochs
    python benchmarks/missing_labels.py --single-task-epochs same  # no epoch scaling
    python benchmarks/missing_labels.py --quick --write  # ... and write the report

Data: Census-Income KDD, official train / test files, the two tasks of the MMoE
paper (income > 50K, never married), loaded and preprocessed exactly as in
``benchmarks/architectures.py`` (:func:`architectures.prepare_census`: every
transformer fitted on the training rows only).  To keep the run short, a fixed
random subsample of the training file is used (:data:`TRAIN_ROWS` rows, seed
:data:`SUBSAMPLE_SEED`, the same rows for every seed); the test file is used whole.

For every seed ``s`` and every task, a random permutation of the training rows
is drawn with ``numpy.random.default_rng((s, task_index))`` (an independent draw per
task, so the two tasks lose different rows); at missing rate ``r`` the first
``round(r * n)`` rows of that permutation lose the task's label (set to ``None``).
The masks are therefore nested: the rows missing at 50% are also missing at 90%.

Methods, per missing rate, all scored by per-task ROC AUC on the full test file:

* ``MultiTaskClassifier(architecture="shared_bottom")`` on all training rows, the
  missing labels masked out of each task's loss by skmtl;
* ``MultiTaskClassifier(architecture="separate")``, trained the same way: the
  single-task reference of Δ_MTL (same rows, same masks, no shared parameters);
* one single-task skmtl network per task (``MultiTaskClassifier`` with one target
  column), trained on that task's labelled rows only;
* one ``HistGradientBoostingClassifier`` per task on that task's labelled rows only
  (scikit-learn defaults, the feature encoding of ``architectures.HGB_ENCODING``);
* and, with every label kept (0% missing), shared_bottom and per-task
  HistGradientBoosting, to show what losing labels costs.

Every network uses the training settings of ``architectures.TRAIN`` (learning rate,
batch size, epoch budget, early stopping on 10% of its training rows) and
``random_state = s``; HistGradientBoosting uses ``random_state = s``.  The per-task
networks fitted on ``n_labelled`` of the ``n`` rows get their epoch budget and
early-stopping patience multiplied by ``n / n_labelled`` (:func:`scaled_settings`),
i.e. the same number of optimizer steps as the networks fitted on every row
(``--single-task-epochs same`` turns this off).  Δ_MTL
(``_report.delta_mtl``, AUC higher is better) is computed per seed against
"separate" at the same missing rate and seed (same masks), then averaged.

The full run writes the section ``missing_labels`` of ``docs/benchmarks.md`` (and its
figures); the quick run only prints unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
    HGB_ENCODING,
    QUICK_MAX_EPOCHS,
    TASK_LABELS,
    TASKS,
    TRAIN,
    CensusData,
    TrainSettings,
    fit_skmtl_census,
    load_census,
    make_estimator,
    positive_proba,
    prepare_census,
    skmtl_classes,
)
from architectures import _mean_std as mean_std
from architectures import _timed as timed
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from speed import IDLE_THRESHOLD, import_skmtl, same_torch_threads, warm_up_process

#: Fractions of each task's training labels removed.
MISSING_RATES: tuple[float, ...] = (0.5, 0.9)
#: Training rows of the full run: a fixed random subsample of the 199,523-row training
#: file (half of it), so that the 3-seed run (9 network fits per seed, two of them one
#: network per task) stays well inside 12 minutes on a 2-core machine shared with other
#: work; ``--train-rows 0`` uses the whole file.
TRAIN_ROWS: int = 100_000
#: Seed of the training subsample (the same rows for every seed).
SUBSAMPLE_SEED: int = 0
#: Quick run: training rows, seeds and missing rates.
QUICK_TRAIN_ROWS: int = 10_000
QUICK_RATES: tuple[float, ...] = MISSING_RATES

#: Methods, in table order: (key, label with every label kept, label with labels missing).
METHODS: tuple[tuple[str, str, str], ...] = (
    ("shared_bottom", "skmtl shared_bottom, all labels", "skmtl shared_bottom, masked (all rows)"),
    ("separate", "skmtl separate, all labels", "skmtl separate, masked (all rows)"),
    (
        "single_task_net",
        "skmtl single-task net per task",
        "skmtl single-task net per task (labelled rows)",
    ),
    (
        "hgb",
        "HistGradientBoosting per task, all labels",
        "HistGradientBoosting per task (labelled rows)",
    ),
)
#: Methods also fitted with every label kept (the cost-of-losing-labels reference).
FULL_LABEL_METHODS: tuple[str, ...] = ("shared_bottom", "hgb")
#: Methods fitted at every missing rate.
MASKED_METHODS: tuple[str, ...] = ("shared_bottom", "separate", "single_task_net", "hgb")
#: Δ_MTL reference (single-task, same masked data).
REFERENCE: str = "separate"


def method_label(method: str, rate: float) -> str:
    """Table label of ``method`` at missing rate ``rate``."""
    for key, full, masked in METHODS:
        if key == method:
            return full if rate == 0 else masked
    raise KeyError(method)


#: Short method names of the figures.
SHORT_LABELS: dict[str, str] = {
    "shared_bottom": "shared_bottom",
    "separate": "separate",
    "single_task_net": "single-task nets",
    "hgb": "HGB per task",
}


def figure_label(method: str, rate: float) -> str:
    """Figure label: ``"90%: shared_bottom"``."""
    return f"{rate_label(rate)}: {SHORT_LABELS[method]}"


def rate_label(rate: float) -> str:
    """``0.9`` -> ``"90%"``."""
    return f"{rate:.0%}"


# ------------------------------------------------------------------------------ masks
@dataclass(frozen=True)
class MaskStats:
    """Counts of one seed's masks at one rate."""

    labelled: dict[str, int]
    positives: dict[str, int]
    both_labelled: int
    none_labelled: int


def missing_masks(n_rows: int, seed: int, rates: Sequence[float]) -> dict[float, pd.DataFrame]:
    """Boolean masks of the removed labels, ``{rate: DataFrame(n_rows x TASKS)}``.

    Each task draws its own permutation of the rows from
    ``numpy.random.default_rng((seed, task_index))``; at rate ``r`` its first
    ``round(r * n_rows)`` rows are missing, so the masks are nested across rates.
    """
    orders = {
        task: np.random.default_rng((seed, i)).permutation(n_rows) for i, task in enumerate(TASKS)
    }
    masks: dict[float, pd.DataFrame] = {}
    for rate in rates:
        columns = {}
        for task in TASKS:
            missing = np.zeros(n_rows, dtype=bool)
            missing[orders[task][: int(round(rate * n_rows))]] = True
            columns[task] = missing
        masks[rate] = pd.DataFrame(columns)
    return masks


def masked_targets(y: pd.DataFrame, missing: pd.DataFrame) -> pd.DataFrame:
    """``y`` (boolean tasks) with the entries of ``missing`` set to ``None`` (object dtype)."""
    out = y.astype(object)
    for task in TASKS:
        out[task] = out[task].where(~missing[task].to_numpy(), None)
    return out


def mask_stats(y: pd.DataFrame, missing: pd.DataFrame) -> MaskStats:
    """Labelled rows and positives per task, rows with both / no labels.

    Raises ``ValueError`` when a task is left with a single class among its labels.
    """
    labelled = {t: int((~missing[t]).sum()) for t in TASKS}
    positives = {t: int(y[t][~missing[t].to_numpy()].sum()) for t in TASKS}
    for task in TASKS:
        if not 0 < positives[task] < labelled[task]:
            raise ValueError(
                f"task {task!r} keeps {labelled[task]} labels with {positives[task]} positives: "
                "a classifier needs both classes"
            )
    any_missing = missing.any(axis=1).to_numpy()
    all_missing = missing.all(axis=1).to_numpy()
    return MaskStats(
        labelled=labelled,
        positives=positives,
        both_labelled=int((~any_missing).sum()),
        none_labelled=int(all_missing.sum()),
    )


# ------------------------------------------------------------------------------ fits
@dataclass
class MaskedRun:
    """One method at one missing rate and seed: per-task test AUC and costs."""

    method: str
    rate: float
    seed: int
    auc: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    #: ``(epochs run, best epoch)`` of each network fit (one, or one per task).
    epochs: list[tuple[int, int]] = field(default_factory=list)
    #: ``(max_epochs, n_iter_no_change)`` of each network fit.
    budgets: list[tuple[int, int]] = field(default_factory=list)
    other_load: float | None = None
    error: str | None = None


def _weighted_load(parts: Sequence[tuple[float | None, float]]) -> float | None:
    """Time-weighted mean of ``(load, seconds)`` pairs (None if no load is known)."""
    known = [(load, s) for load, s in parts if load is not None]
    total = sum(s for _, s in known)
    return sum(load * s for load, s in known) / total if known and total > 0 else None


def fit_multitask(
    architecture: str,
    rate: float,
    seed: int,
    data: CensusData,
    y_fit: pd.DataFrame,
    settings: TrainSettings,
) -> MaskedRun:
    """Two-task ``MultiTaskClassifier`` on every training row (missing labels masked)."""
    r = fit_skmtl_census(
        architecture, seed, data.X_train, y_fit, data.X_test, data.y_test, settings
    )
    run = MaskedRun(
        method=architecture,
        rate=rate,
        seed=seed,
        auc=dict(r.auc),
        fit_seconds=r.fit_seconds,
        other_load=r.other_load,
        error=r.error,
    )
    if r.n_epochs is not None and r.best_epoch is not None:
        run.epochs.append((r.n_epochs, r.best_epoch))
        run.budgets.append((settings.max_epochs, settings.n_iter_no_change))
    return run


def scaled_settings(settings: TrainSettings, n_rows: int, n_labelled: int) -> TrainSettings:
    """``settings`` with the epoch budget and patience multiplied by ``n_rows / n_labelled``.

    A network fitted on ``n_labelled`` of the ``n_rows`` training rows takes
    ``n_labelled / n_rows`` as many optimizer steps per epoch as one fitted on every
    row; scaling both counts (rounded up) gives it the same budget of steps and the
    same early-stopping patience measured in steps.
    """
    factor = n_rows / n_labelled
    return replace(
        settings,
        max_epochs=math.ceil(settings.max_epochs * factor),
        n_iter_no_change=math.ceil(settings.n_iter_no_change * factor),
    )


def fit_single_task_nets(
    rate: float,
    seed: int,
    data: CensusData,
    missing: pd.DataFrame,
    settings: TrainSettings,
    scale_epochs: bool = True,
) -> MaskedRun:
    """One single-task ``MultiTaskClassifier`` per task on its labelled rows only.

    The settings of the two-task networks (its early-stopping split is 10% of the
    task's labelled rows); with ``scale_epochs`` the epoch budget and patience are
    scaled by :func:`scaled_settings`.  The fit time is the sum over the tasks.
    """
    run = MaskedRun(method="single_task_net", rate=rate, seed=seed, fit_seconds=0.0)
    loads: list[tuple[float | None, float]] = []
    try:
        clf_cls, _ = skmtl_classes()
        for task in TASKS:
            keep = ~missing[task].to_numpy()
            X, y = data.X_train[keep], data.y_train.loc[keep, [task]].reset_index(drop=True)
            task_settings = (
                scaled_settings(settings, len(keep), int(keep.sum())) if scale_epochs else settings
            )
            run.budgets.append((task_settings.max_epochs, task_settings.n_iter_no_change))
            est = make_estimator(
                clf_cls,
                "shared_bottom",
                lr=task_settings.lr,
                batch_size=task_settings.batch_size,
                max_epochs=task_settings.max_epochs,
                early_stopping=True,
                n_iter_no_change=task_settings.n_iter_no_change,
                random_state=seed,
                device="cpu",
            )
            _, seconds, load = timed(lambda est=est, X=X, y=y: est.fit(X, y))
            run.fit_seconds += seconds
            loads.append((load, seconds))
            score = positive_proba(est.predict_proba(data.X_test), est.classes_)
            run.auc[task] = float(roc_auc_score(data.y_test[task], score))
            valid = [float(v) for v in est.history_[:, "valid_loss"]]
            run.epochs.append((int(est.n_epochs_), int(np.argmin(valid)) + 1))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    run.other_load = _weighted_load(loads)
    return run


def fit_hgb_labelled(rate: float, seed: int, data: CensusData, missing: pd.DataFrame) -> MaskedRun:
    """One ``HistGradientBoostingClassifier`` per task on its labelled rows only.

    scikit-learn defaults except ``random_state=seed``; features encoded as in
    ``architectures.py`` (``HGB_ENCODING``; with ``"ordinal"`` the leading
    categorical columns are declared as ``categorical_features``).  Fit time summed
    over the tasks.
    """
    run = MaskedRun(method="hgb", rate=rate, seed=seed, fit_seconds=0.0)
    X_train, X_test = data.hgb_features(HGB_ENCODING)
    categorical = (
        np.arange(X_train.shape[1]) < data.n_categorical if HGB_ENCODING == "ordinal" else None
    )
    loads: list[tuple[float | None, float]] = []
    try:
        for task in TASKS:
            keep = ~missing[task].to_numpy()
            X, y = X_train[keep], data.y_train[task].to_numpy()[keep]
            est = HistGradientBoostingClassifier(
                random_state=seed, categorical_features=categorical
            )
            _, seconds, load = timed(lambda est=est, X=X, y=y: est.fit(X, y))
            run.fit_seconds += seconds
            loads.append((load, seconds))
            score = positive_proba(est.predict_proba(X_test), est.classes_)
            run.auc[task] = float(roc_auc_score(data.y_test[task], score))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    run.other_load = _weighted_load(loads)
    return run


def _print_run(r: MaskedRun) -> None:
    if r.error:
        print(f"FAILED: {r.error}", flush=True)
        return
    aucs = ", ".join(f"{TASK_LABELS[t]} {r.auc[t]:.4f}" for t in TASKS)
    epochs = (
        "; epochs (best) / max "
        + ", ".join(f"{e} ({b}) / {m}" for (e, b), (m, _) in zip(r.epochs, r.budgets))
        if r.epochs
        else ""
    )
    load = "?" if r.other_load is None else f"{r.other_load:.2f}"
    print(f"AUC {aucs}; fit {r.fit_seconds:.1f} s{epochs} (other load {load})", flush=True)


# ------------------------------------------------------------------------------- run
@dataclass
class Results:
    """Everything measured by one run."""

    runs: list[MaskedRun]
    stats: dict[tuple[float, int], MaskStats]
    data_description: str
    n_train: int
    settings: TrainSettings
    single_task_epochs: str
    notes: list[str]


def run_benchmark(args: argparse.Namespace) -> Results:
    """Prepare the data, then fit every method for every seed and missing rate."""
    notes: list[str] = []
    settings = replace(TRAIN, max_epochs=args.max_epochs)
    if args.quick:
        notes.append(f"quick run: max_epochs={settings.max_epochs}")
    elif settings.max_epochs != TRAIN.max_epochs:
        notes.append(f"max_epochs={settings.max_epochs} (command line; default {TRAIN.max_epochs})")
    warm_up_process()
    threads = torch.get_num_threads()
    print(f"torch.get_num_threads() = {threads}", flush=True)

    t0 = time.perf_counter()
    train, test = load_census("train"), load_census("test")
    n_file = len(train)
    if args.train_rows < n_file:
        train = train.sample(n=args.train_rows, random_state=SUBSAMPLE_SEED)
        notes.append(
            f"training rows: random subsample of {args.train_rows:,} of the {n_file:,} rows of "
            f"the training file (seed {SUBSAMPLE_SEED}, the same rows for every seed); full "
            "test file"
        )
    data = prepare_census(train, test)
    n_train = len(data.y_train)
    print(f"census prepared in {time.perf_counter() - t0:.1f} s: {data.description}", flush=True)

    runs: list[MaskedRun] = []
    stats: dict[tuple[float, int], MaskStats] = {}
    no_mask = pd.DataFrame({t: np.zeros(n_train, dtype=bool) for t in TASKS})
    for seed in args.seeds:
        masks = missing_masks(n_train, seed, args.rates)
        plan: list[tuple[float, str]] = [(0.0, m) for m in FULL_LABEL_METHODS]
        plan += [(rate, m) for rate in args.rates for m in MASKED_METHODS]
        for rate, method in plan:
            missing = no_mask if rate == 0 else masks[rate]
            if (rate, seed) not in stats:
                stats[(rate, seed)] = mask_stats(data.y_train, missing)
            y_fit = data.y_train if rate == 0 else masked_targets(data.y_train, missing)
            print(
                f"seed {seed}  missing {rate_label(rate):>4}  {method:<16} ...", end=" ", flush=True
            )
            with same_torch_threads(threads, method):
                if method in ("shared_bottom", "separate"):
                    r = fit_multitask(method, rate, seed, data, y_fit, settings)
                elif method == "single_task_net":
                    r = fit_single_task_nets(
                        rate, seed, data, missing, settings, args.single_task_epochs == "scaled"
                    )
                else:
                    r = fit_hgb_labelled(rate, seed, data, missing)
            runs.append(r)
            _print_run(r)
    capped = [
        r
        for r in runs
        for (e, _), (budget, _) in zip(r.epochs, r.budgets)
        if e >= budget and not args.quick
    ]
    if capped:
        notes.append(
            f"{len(capped)} network fit(s) used their whole epoch budget (early stopping did "
            "not trigger): "
            + ", ".join(
                sorted(
                    {f"{method_label(r.method, r.rate)} at {rate_label(r.rate)}" for r in capped}
                )
            )
        )
    busy = [r for r in runs if r.other_load is not None and r.other_load >= IDLE_THRESHOLD]
    if busy:
        notes.append(
            f"{len(busy)} of {len(runs)} fits ran while other processes used ≥ {IDLE_THRESHOLD} "
            "cores on average (column *other load*): their fit times are inflated, which is why "
            "the median fit time is shown next to the mean; AUCs are not affected"
        )
    return Results(runs, stats, data.description, n_train, settings, args.single_task_epochs, notes)


# ---------------------------------------------------------------------------- report
def _cells(rate: float, method: str, runs: Sequence[MaskedRun]) -> list[MaskedRun]:
    return [r for r in runs if r.rate == rate and r.method == method and not r.error]


def _paired_delta(
    runs: Sequence[MaskedRun], rate: float, method: str, ref_rate: float, ref_method: str
) -> list[float]:
    """Per-seed Δ_MTL (%) of ``method`` at ``rate`` against ``ref_method`` at ``ref_rate``."""
    ref = {r.seed: r for r in _cells(ref_rate, ref_method, runs)}
    return [delta_mtl(r.auc, ref[r.seed].auc) for r in _cells(rate, method, runs) if r.seed in ref]


def table_order(runs: Sequence[MaskedRun]) -> list[tuple[float, str]]:
    """``(rate, method)`` pairs in table order (rate, then :data:`METHODS` order)."""
    keys = {(r.rate, r.method) for r in runs}
    order = [m for m, _, _ in METHODS]
    return sorted(keys, key=lambda k: (k[0], order.index(k[1])))


def summary_rows(runs: Sequence[MaskedRun]) -> list[dict[str, Any]]:
    """Mean ± std over seeds per (rate, method), with Δ_MTL and the cost of lost labels."""
    rows = []
    for rate, method in table_order(runs):
        ok = _cells(rate, method, runs)
        failed = [r for r in runs if r.rate == rate and r.method == method and r.error]
        label = method_label(method, rate)
        row: dict[str, Any] = {
            "missing labels": rate_label(rate),
            "method": label if not failed else f"{label} (failed on {len(failed)} seed(s))",
            "seeds": len(ok),
        }
        for task in TASKS:
            row[f"AUC {TASK_LABELS[task]}"] = mean_std([r.auc[task] for r in ok], ".4f")
        if method == REFERENCE:
            row["Δ_MTL vs separate (%)"] = "reference"
        elif rate > 0:
            row["Δ_MTL vs separate (%)"] = signed_mean_std(
                _paired_delta(runs, rate, method, rate, REFERENCE)
            )
        if rate > 0 and method in FULL_LABEL_METHODS:
            row["Δ vs same method, all labels (%)"] = signed_mean_std(
                _paired_delta(runs, rate, method, 0.0, method)
            )
        seconds = [r.fit_seconds for r in ok if r.fit_seconds]
        row["fit time (s)"] = mean_std(seconds, ".1f")
        row["median fit time (s)"] = statistics.median(seconds) if seconds else None
        per_seed = ["/".join(f"{e} ({b})" for e, b in r.epochs) for r in ok if r.epochs]
        row["epochs run (best), per seed"] = "; ".join(per_seed) or None
        loads = [r.other_load for r in ok if r.other_load is not None]
        row["other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    return rows


SUMMARY_COLUMNS: list[str] = [
    "missing labels",
    "method",
    "seeds",
    "AUC income > 50K",
    "AUC never married",
    "Δ_MTL vs separate (%)",
    "Δ vs same method, all labels (%)",
    "fit time (s)",
    "median fit time (s)",
    "epochs run (best), per seed",
    "other load (cores)",
]


def signed_mean_std(values: Sequence[float]) -> str | None:
    """``"+0.12 ± 0.05"`` (sample std; just the value for one seed)."""
    if not values:
        return None
    if len(values) == 1:
        return f"{values[0]:+.2f}"
    return f"{statistics.mean(values):+.2f} ± {statistics.stdev(values):.2f}"


def per_seed_counts(values: Sequence[int]) -> str:
    """``"633 / 590 / 630"``, or one value when all seeds agree."""
    if len(set(values)) == 1:
        return f"{values[0]:,}"
    return " / ".join(f"{v:,}" for v in values)


def mask_rows(stats: dict[tuple[float, int], MaskStats]) -> list[dict[str, Any]]:
    """One row per missing rate: labelled rows per task, rows with both / no labels."""
    rows = []
    for rate in sorted({rate for rate, _ in stats}):
        per_seed = [s for (r, _), s in sorted(stats.items()) if r == rate]
        row: dict[str, Any] = {"missing labels": rate_label(rate)}
        for task in TASKS:
            row[f"labelled rows, {TASK_LABELS[task]}"] = per_seed_counts(
                [s.labelled[task] for s in per_seed]
            )
            row[f"positives, {TASK_LABELS[task]}"] = per_seed_counts(
                [s.positives[task] for s in per_seed]
            )
        row["rows with both labels"] = per_seed_counts([s.both_labelled for s in per_seed])
        row["rows with no label"] = per_seed_counts([s.none_labelled for s in per_seed])
        rows.append(row)
    return rows


def mask_columns() -> list[str]:
    """Columns of :func:`mask_rows`."""
    cols = ["missing labels"]
    for task in TASKS:
        cols += [f"labelled rows, {TASK_LABELS[task]}", f"positives, {TASK_LABELS[task]}"]
    return cols + ["rows with both labels", "rows with no label"]


def detail_rows(runs: Sequence[MaskedRun]) -> list[dict[str, Any]]:
    """One row per fit (rate, method, seed)."""
    rows = []
    for r in runs:
        rows.append(
            {
                "missing labels": rate_label(r.rate),
                "method": method_label(r.method, r.rate),
                "seed": r.seed,
                "AUC income > 50K": r.auc.get("income_50k"),
                "AUC never married": r.auc.get("never_married"),
                "fit time (s)": r.fit_seconds,
                "epochs run (best)": "/".join(f"{e} ({b})" for e, b in r.epochs) or None,
                "other load (cores)": r.other_load,
                "error": r.error,
            }
        )
    return rows


DETAIL_COLUMNS: list[str] = [
    "missing labels",
    "method",
    "seed",
    "AUC income > 50K",
    "AUC never married",
    "fit time (s)",
    "epochs run (best)",
    "other load (cores)",
    "error",
]
DETAIL_FLOATFMT: dict[str, str] = {
    "AUC income > 50K": ".4f",
    "AUC never married": ".4f",
    "fit time (s)": ".1f",
    "other load (cores)": ".2f",
}


def _means(runs: Sequence[MaskedRun], rate: float, method: str) -> dict[str, float] | None:
    ok = _cells(rate, method, runs)
    if not ok:
        return None
    return {t: statistics.mean(r.auc[t] for r in ok) for t in TASKS}


def findings(runs: Sequence[MaskedRun]) -> str:
    """Sentences computed from the measured means (nothing is hard-coded)."""
    lines = []
    for rate in sorted({r.rate for r in runs if r.rate > 0}):
        means = {m: v for m in MASKED_METHODS if (v := _means(runs, rate, m)) is not None}
        if not means:
            continue
        best = [
            f"{TASK_LABELS[t]}: {method_label(max(means, key=lambda m, t=t: means[m][t]), rate)} "
            f"({max(v[t] for v in means.values()):.4f})"
            for t in TASKS
        ]
        line = f"- {rate_label(rate)} missing, highest mean test AUC per task: " + "; ".join(best)
        deltas = _paired_delta(runs, rate, "shared_bottom", rate, REFERENCE)
        if deltas:
            line += (
                f". Δ_MTL of masked shared_bottom vs masked separate: "
                f"{statistics.mean(deltas):+.2f}% (mean over {len(deltas)} seed(s))"
            )
        lines.append(line + ".")
    return "\n".join(lines) + ("\n" if lines else "")


def make_figures(runs: Sequence[MaskedRun], rates: Sequence[float]) -> list[str]:
    """Save the figures next to the report; return their markdown links."""
    links = []
    for rate in rates:
        keys = [(0.0, m) for m in FULL_LABEL_METHODS] + [(rate, m) for m in MASKED_METHODS]
        means: dict[str, dict[str, float]] = {}
        stds: dict[str, dict[str, float]] = {}
        for key_rate, method in keys:
            ok = _cells(key_rate, method, runs)
            if not ok:
                continue
            name = figure_label(method, key_rate)
            means[name] = {TASK_LABELS[t]: statistics.mean(r.auc[t] for r in ok) for t in TASKS}
            stds[name] = {
                TASK_LABELS[t]: statistics.stdev(r.auc[t] for r in ok) if len(ok) > 1 else 0.0
                for t in TASKS
            }
        if not means:
            continue
        fig = plot_metric_by_method(
            means,
            stds,
            metric="test ROC AUC",
            title=f"Census-Income KDD, {rate_label(rate)} of each task's labels missing "
            "(mean ± std over seeds)",
        )
        stem = f"missing_labels_auc_{round(rate * 100)}"
        alt = (
            f"Per-task test ROC AUC on Census-Income KDD with {rate_label(rate)} of each task's "
            "training labels missing, by method, with the all-labels references"
        )
        links.append(save_figure(fig, stem, alt))
    points: dict[str, tuple[float, float]] = {}
    for rate, method in table_order(runs):
        ok = [r for r in _cells(rate, method, runs) if r.fit_seconds]
        if ok:
            points[figure_label(method, rate)] = (
                statistics.median(r.fit_seconds for r in ok),
                statistics.mean(statistics.mean(r.auc[t] for t in TASKS) for r in ok),
            )
    if points:
        fig = plot_time_vs_quality(
            points,
            xlabel="fit time (s), median over seeds",
            ylabel="test ROC AUC, mean of the two tasks",
            title="Fit time vs quality",
        )
        alt = "Fit time against mean test ROC AUC of every method and missing rate"
        links.append(save_figure(fig, "missing_labels_time", alt))
    return links


def single_task_budget(results: Results) -> str:
    """How the per-task networks' epoch budget was set, with the budgets used."""
    used = sorted(
        {
            (r.rate, budget)
            for r in results.runs
            if r.method == "single_task_net"
            for budget in r.budgets
        }
    )
    listed = ", ".join(
        f"{rate_label(rate)} missing: max_epochs={m}, n_iter_no_change={p}" for rate, (m, p) in used
    )
    if results.single_task_epochs == "scaled":
        how = (
            "as it sees n_labelled of the n training rows, an epoch is n_labelled / n as many "
            "optimizer steps, so its epoch budget and early-stopping patience are those of "
            "`architectures.TRAIN` multiplied by n / n_labelled (rounded up): the same budget of "
            "optimizer steps and the same patience in steps as the networks fitted on every row "
            "(`--single-task-epochs same` keeps TRAIN's epoch counts)"
        )
    else:
        how = "epoch budget and patience of `architectures.TRAIN` unchanged (fewer optimizer steps)"
    return how + (f" ({listed})" if listed else "")


def section_body(
    results: Results,
    *,
    command: str,
    info: dict[str, Any],
    seeds: Sequence[int],
    total_seconds: float,
    figures: Sequence[str] = (),
) -> str:
    """Markdown body of the ``missing_labels`` section."""
    _, skmtl_note = import_skmtl()
    runs = results.runs
    extra = "".join(f"- {note}\n" for note in results.notes)
    hgb_how = (
        "ordinal-encoded categoricals declared as `categorical_features` plus the raw numeric "
        "columns"
        if HGB_ENCODING == "ordinal"
        else "the networks' one-hot / standardised inputs"
    )
    figure_block = (
        "Figures: per-task test AUC (mean ± std over seeds) at each missing rate next to the "
        "all-labels references, and median fit time against the mean AUC of the two tasks "
        "(mean over seeds). Labels "
        "are *rate: method*; the shared_bottom and separate networks with labels missing are "
        "the masked ones (all rows), the single-task nets and HGB (HistGradientBoosting) per "
        "task are fitted on each task's labelled rows.\n\n"
        + "".join(f"{link}\n\n" for link in figures)
        if figures
        else ""
    )
    return (
        "## Missing labels: masked multi-task training on Census-Income KDD\n\n"
        "Written by `benchmarks/missing_labels.py`.\n\n"
        + provenance(
            command=command,
            seeds=(
                f"seed s in {{{', '.join(map(str, seeds))}}}: label masks drawn with "
                "`numpy.random.default_rng((s, task_index))` and `random_state=s` for every "
                f"network and HistGradientBoosting; training subsample seed {SUBSAMPLE_SEED}"
            ),
            repetitions=(
                "one fit per method, missing rate and seed; mean ± sample std (ddof=1) over "
                f"the {len(seeds)} seed(s); Δ_MTL computed per seed, then averaged"
            ),
            info=info,
        )
        + f"- skmtl measured: {skmtl_note.replace(str(REPO_ROOT) + '/', '')}\n"
        + f"- Total run time: {total_seconds / 60:.1f} min\n"
        + extra
        + "\n"
        "Data: Census-Income KDD, official train / test files, tasks income > 50K and never "
        "married, features and preprocessing of `benchmarks/architectures.py` "
        f"(`prepare_census`, fitted on the training rows only); {results.data_description}.\n\n"
        "Missing labels: for each seed and each task, an independent random permutation of "
        "the training rows; at missing rate r the first round(r·n) rows of the task's "
        "permutation lose that task's label (`None` in y), so the two tasks lose different "
        "rows and the 90% masks contain the 50% masks. Per rate and seed:\n\n"
        + markdown_table(mask_rows(results.stats), mask_columns())
        + "\n(`a / b / c`: one value per seed, in seed order; one value when every seed has "
        "the same.)\n\n"
        "Methods, all scored by per-task ROC AUC on the full test file:\n\n"
        '- *skmtl shared_bottom, masked*: `MultiTaskClassifier(architecture="shared_bottom")` '
        "on every training row; each task's loss is averaged over the rows that have its "
        "label (skmtl masks missing labels).\n"
        '- *skmtl separate, masked*: `MultiTaskClassifier(architecture="separate")` trained '
        "the same way (one independent network per task, joint early stopping): the "
        "single-task reference of Δ_MTL, on exactly the same data.\n"
        "- *skmtl single-task net per task*: one `MultiTaskClassifier` per task with a single "
        "target column, fitted on that task's labelled rows only; "
        + single_task_budget(results)
        + ".\n"
        f"- *HistGradientBoosting per task*: `HistGradientBoostingClassifier` (scikit-learn "
        f"defaults, `random_state=seed`) on {hgb_how}, fitted on the task's labelled rows "
        "only (its default early stopping is on only when a fit has more than 10,000 rows).\n"
        "- 0% rows: shared_bottom and per-task HistGradientBoosting with every label, the "
        "cost-of-losing-labels reference (no Δ_MTL: separate is not fitted with every label "
        "here; the `architectures` section compares the two with all labels).\n\n"
        f"Every network: default hyperparameters and the training settings of "
        f"`architectures.TRAIN`: {results.settings.describe()}; the early-stopping rows are "
        "drawn from the rows each network is fitted on (for the masked networks their "
        "validation loss is also masked). Nothing was tuned for this benchmark and the test "
        "file is used for scoring only. *Δ_MTL vs separate* = `_report.delta_mtl` (mean "
        "relative AUC gain over the two tasks, in %) against masked *separate* of the same "
        "seed and rate; *Δ vs same method, all labels* = the same measure against that "
        "method's 0% fit of the same seed. *fit time* = wall time of `fit` (summed over the "
        "tasks for per-task models), mean ± std and median over seeds; *epochs run (best)* "
        "= epochs trained (epoch with the lowest validation loss, whose weights are kept), "
        "`a/b` for the two per-task networks; *other load* = the highest average number of cores used by other "
        "processes during a fit (well above 0 means inflated fit times).\n\n"
        + markdown_table(
            summary_rows(runs),
            SUMMARY_COLUMNS,
            {"other load (cores)": ".2f", "median fit time (s)": ".1f"},
        )
        + "\n"
        + findings(runs)
        + "\n"
        + figure_block
        + "<details><summary>Per-seed results</summary>\n\n"
        + markdown_table(detail_rows(runs), DETAIL_COLUMNS, DETAIL_FLOATFMT)
        + "\n</details>\n"
    )


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
        "--rates",
        type=float,
        nargs="+",
        default=None,
        help="missing-label rates in (0, 1) (default 0.5 0.9, also with --quick)",
    )
    parser.add_argument(
        "--train-rows",
        type=int,
        default=None,
        help=f"training subsample size (default {TRAIN_ROWS:,}; {QUICK_TRAIN_ROWS:,} with "
        "--quick; 0 = the whole training file)",
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help=f"epoch budget of every network (default {TRAIN.max_epochs}; "
        f"{QUICK_MAX_EPOCHS} with --quick)",
    )
    parser.add_argument(
        "--single-task-epochs",
        choices=("scaled", "same"),
        default="scaled",
        help="epoch budget and patience of the per-task networks fitted on the labelled rows "
        "only: 'scaled' (default) multiplies both by n_rows / n_labelled, the same number of "
        "optimizer steps as a network fitted on every row; 'same' keeps TRAIN's",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_TRAIN_ROWS:,} training rows, 1 seed, {QUICK_MAX_EPOCHS} "
        f"epochs, missing rate(s) {', '.join(map(str, QUICK_RATES))}; report not "
        "written unless --write",
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    if n_seeds < 1:
        parser.error("--seeds must be >= 1")
    args.seeds = list(range(n_seeds))
    if args.rates is None:
        args.rates = list(QUICK_RATES if args.quick else MISSING_RATES)
    if any(not 0 < r < 1 for r in args.rates):
        parser.error("--rates must lie strictly between 0 and 1")
    args.rates = sorted(set(args.rates))
    if args.train_rows is None:
        args.train_rows = QUICK_TRAIN_ROWS if args.quick else TRAIN_ROWS
    if args.train_rows < 0:
        parser.error("--train-rows must be >= 0")
    if args.train_rows == 0:
        args.train_rows = sys.maxsize
    if args.max_epochs is None:
        args.max_epochs = QUICK_MAX_EPOCHS if args.quick else TRAIN.max_epochs
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    command = command_line(None if argv is None else [sys.argv[0], *argv])
    info = machine_info()
    t0 = time.perf_counter()
    results = run_benchmark(args)
    total = time.perf_counter() - t0
    write = args.write or not (args.quick or args.no_write)
    figures = make_figures(results.runs, args.rates) if write else []
    body = section_body(
        results, command=command, info=info, seeds=args.seeds, total_seconds=total, figures=figures
    )
    print()
    print(body)
    print(f"total run time {total / 60:.1f} min")
    if write:
        path = write_section("missing_labels", body)
        print(f"wrote section 'missing_labels' of {path}")
    else:
        print("(report not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
