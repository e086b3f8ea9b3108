"""Palmer penguins: species, sex and body mass, multi-task networks against per-task models.

Run from the repository root::

    python benchmarks/penguins.py                  # 5 folds x 3 repeats, writes the report
    python benchmarks/penguins.py --repeats 5
    python benchmarks/penguins.py --quick          # 2 folds x 1 repeat, 20 epochs; prints only
    python benchmarks/penguins.py --quick --write  # ... and write the report
    python benchmarks/penguins.py --threads 1      # one torch / BLAS thread (busy machine)

Data: the Palmer penguins (Gorman, Williams and Fraser, PLoS ONE 2014; the copy
shipped in the ``palmerpenguins`` package, no download).  Rows without a body
mass (or without any feature) are dropped; rows without a ``sex`` label are kept.
Features: ``island`` (one-hot) and ``bill_length_mm``, ``bill_depth_mm``,
``flipper_length_mm`` (standardised); the ``ColumnTransformer`` is fitted on the
rows each model is fitted on.  Three tasks of different types: ``species``
(3 classes), ``sex`` (binary, some labels missing) and ``body_mass_g``
(regression, in grams).

Evaluation: repeated stratified K-fold cross-validation, stratified by species,
``StratifiedKFold(5, shuffle=True, random_state=seed)`` for seeds 0, 1, 2; every
method is fitted on the same training folds and scored on the same test fold.
Metrics: species accuracy, sex accuracy (on the test rows that have a sex label),
body-mass R² and RMSE (grams).  Tables give mean ± sample standard deviation over
all folds x repeats (the fold scores are not independent: the std describes the
spread of the folds, it is not a standard error).

Methods, all measured in the same run:

* skmtl ``MultiTaskNet`` fitted on the three columns at once, missing ``sex``
  labels masked: ``architecture="shared_bottom"`` (default), ``"separate"`` (one
  tower per task, nothing shared: the single-task reference), ``"mmoe"``, and
  shared_bottom with ``weighting="uncertainty"`` and ``weighting="upgrad"``.
  The network settings (hidden layers, learning rate) are chosen for every outer
  split separately, by an inner stratified 3-fold cross-validation of
  shared_bottom on that split's training folds only (nested CV: the test fold is
  never used to choose anything); the chosen settings are used for every skmtl
  row of that split and for the per-task scikit-learn MLPs.
* scikit-learn, one model per task, each fitted on the rows labelled for its task:
  ``LogisticRegression`` / ``RidgeCV``; ``HistGradientBoostingClassifier`` /
  ``HistGradientBoostingRegressor`` (defaults); ``MLPClassifier`` /
  ``MLPRegressor`` (standardised target) with the split's chosen network settings.

Δ_MTL (Maninis et al., CVPR 2019; ``_report.delta_mtl``) compares every method
with skmtl ``"separate"`` on the same split over species accuracy, sex accuracy
(higher is better) and body-mass RMSE (lower is better); it is computed per split
and then averaged.  Fit time is the wall time of ``fit`` (all three models for the
per-task baselines; the inner CV is not included and is reported separately).
Torch's and the libraries' thread counts are left at their defaults unless
``--threads`` is given: the networks are tiny, and on a machine whose cores are
busy with other work several torch threads make every fit many times slower.

The full run writes the section ``penguins`` of ``docs/benchmarks.md`` and two
figures; the quick run only prints unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

if str(REPO_ROOT) not in sys.path:  # measure the skmtl of this checkout
    sys.path.insert(1, str(REPO_ROOT))

import skmtl
from skmtl import MultiTaskNet

# ================================================================================ data
NUMERIC: list[str] = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
CATEGORICAL: list[str] = ["island"]
FEATURES: list[str] = CATEGORICAL + NUMERIC
TARGETS: list[str] = ["species", "sex", "body_mass_g"]

#: Outer cross-validation (full run): folds per repeat, and the repeats' seeds 0..n-1.
FOLDS: int = 5
REPEATS: int = 3
#: Inner cross-validation that chooses the network settings on the training folds.
INNER_FOLDS: int = 3
#: ``--quick``: outer folds, repeats, inner folds and epochs.
QUICK_FOLDS: int = 2
QUICK_REPEATS: int = 1
QUICK_INNER_FOLDS: int = 2
QUICK_EPOCHS: int = 20

#: The Δ_MTL tasks: {task: (metric key, lower is better)}.
DELTA_TASKS: dict[str, tuple[str, bool]] = {
    "species": ("species_acc", False),
    "sex": ("sex_acc", False),
    "body_mass_g": ("mass_rmse", True),
}


@dataclass(frozen=True)
class Penguins:
    """Features, targets and a description of the data used."""

    X: pd.DataFrame
    y: pd.DataFrame
    description: str


def load_data() -> Penguins:
    """Load the penguins; drop rows without body mass or without a feature, keep missing sex."""
    from palmerpenguins import load_penguins

    raw = load_penguins()
    keep = raw[["body_mass_g", *FEATURES]].notna().all(axis=1)
    data = raw[keep].reset_index(drop=True)
    X = data[FEATURES].copy()
    y = data[TARGETS].copy()
    y["body_mass_g"] = y["body_mass_g"].astype(np.float64)
    species = y["species"].value_counts().sort_index()
    description = (
        f"{len(raw)} rows in `palmerpenguins.load_penguins()`, {int((~keep).sum())} dropped "
        f"(no body mass / features), {len(data)} used; species "
        + ", ".join(f"{name} {count}" for name, count in species.items())
        + f"; sex missing in {int(y['sex'].isna().sum())} rows (kept: masked by skmtl, "
        f"left out of the per-task sex baselines and of the sex accuracy); body mass "
        f"{y['body_mass_g'].mean():.0f} ± {y['body_mass_g'].std():.0f} g"
    )
    return Penguins(X=X, y=y, description=description)


def preprocessor() -> ColumnTransformer:
    """One-hot ``island``, standardise the three measurements."""
    return ColumnTransformer(
        [
            ("island", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
            ("num", StandardScaler(), NUMERIC),
        ]
    )


# ============================================================================ settings
@dataclass(frozen=True)
class NetSettings:
    """Network and training settings shared by every skmtl row (and the sklearn MLPs)."""

    hidden_layer_sizes: tuple[int, ...] = (64, 64)
    lr: float = 3e-3
    max_epochs: int = 100
    batch_size: int = 32
    weight_decay: float = 1e-4

    def params(self) -> dict[str, Any]:
        """Keyword arguments of ``MultiTaskNet``."""
        return {
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "weight_decay": self.weight_decay,
        }

    def short(self) -> str:
        """The searched settings, compactly."""
        return f"hidden={self.hidden_layer_sizes}, lr={self.lr:g}"


def settings_grid(quick: bool) -> list[NetSettings]:
    """The settings the inner CV chooses from (fixed in advance, same for every split).

    Every setting: Adam, ``batch_size=32``, ``weight_decay=1e-4``, no dropout,
    ReLU, ``max_epochs=100`` (``--quick``: 20), no early stopping.
    """
    epochs = QUICK_EPOCHS if quick else 100
    grid = [
        NetSettings(hidden_layer_sizes=(32,), lr=3e-3, max_epochs=epochs),
        NetSettings(hidden_layer_sizes=(64, 64), lr=1e-3, max_epochs=epochs),
        NetSettings(hidden_layer_sizes=(64, 64), lr=3e-3, max_epochs=epochs),
    ]
    return grid[1:] if quick else grid


# ============================================================================= methods
@dataclass(frozen=True)
class Method:
    """One compared method: a name, how many models it fits and how it fits / predicts."""

    name: str
    models: int
    kind: str  # "skmtl" or "per-task"
    skmtl_params: dict[str, Any] = field(default_factory=dict)
    per_task: Callable[[str, NetSettings, int], Any] | None = None


def _linear(task: str, settings: NetSettings, seed: int) -> Any:
    if task == "body_mass_g":
        return RidgeCV(alphas=np.logspace(-3, 3, 13))
    return LogisticRegression(max_iter=5000)


def _hgb(task: str, settings: NetSettings, seed: int) -> Any:
    if task == "body_mass_g":
        return HistGradientBoostingRegressor(random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


def _mlp(task: str, settings: NetSettings, seed: int) -> Any:
    common = {
        "hidden_layer_sizes": settings.hidden_layer_sizes,
        "learning_rate_init": settings.lr,
        "batch_size": settings.batch_size,
        "max_iter": settings.max_epochs,
        "random_state": seed,
    }
    if task == "body_mass_g":
        return TransformedTargetRegressor(MLPRegressor(**common), transformer=StandardScaler())
    return MLPClassifier(**common)


def methods(quick: bool) -> list[Method]:
    """The compared methods, in table order (``--quick``: all of them too)."""
    del quick  # every method is cheap enough for the quick run
    skmtl_rows = [
        ("skmtl shared_bottom", {"architecture": "shared_bottom"}),
        ("skmtl separate (single-task)", {"architecture": "separate"}),
        ("skmtl mmoe", {"architecture": "mmoe"}),
        ("skmtl shared_bottom + uncertainty", {"weighting": "uncertainty"}),
        ("skmtl shared_bottom + upgrad", {"weighting": "upgrad"}),
    ]
    out = [Method(name, 1, "skmtl", skmtl_params=params) for name, params in skmtl_rows]
    out += [
        Method("sklearn LogisticRegression / RidgeCV", 3, "per-task", per_task=_linear),
        Method("sklearn HistGradientBoosting", 3, "per-task", per_task=_hgb),
        Method("sklearn MLP per task", 3, "per-task", per_task=_mlp),
    ]
    return out


#: The single-task reference of Δ_MTL.
REFERENCE: str = "skmtl separate (single-task)"


def skmtl_model(settings: NetSettings, seed: int, **params: Any) -> Pipeline:
    """Preprocessing + ``MultiTaskNet`` on the three target columns."""
    net = MultiTaskNet(random_state=seed, device="cpu", **settings.params(), **params)
    return make_pipeline(preprocessor(), net)


def fit_predict(
    method: Method,
    settings: NetSettings,
    seed: int,
    X_fit: pd.DataFrame,
    y_fit: pd.DataFrame,
    X_eval: pd.DataFrame,
) -> tuple[pd.DataFrame, float]:
    """Fit ``method`` on ``(X_fit, y_fit)``; return its predictions on ``X_eval`` and fit time.

    Per-task models are fitted on the rows labelled for their task only.
    """
    if method.kind == "skmtl":
        model = skmtl_model(settings, seed, **method.skmtl_params)
        t0 = time.perf_counter()
        model.fit(X_fit, y_fit)
        seconds = time.perf_counter() - t0
        pred = pd.DataFrame(model.predict(X_eval))[TARGETS]
        pred.index = X_eval.index  # positional: the pipeline passes numpy to the net
        return pred, seconds
    assert method.per_task is not None
    preds: dict[str, np.ndarray] = {}
    seconds = 0.0
    for task in TARGETS:
        labelled = y_fit[task].notna().to_numpy()
        model = make_pipeline(preprocessor(), method.per_task(task, settings, seed))
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_fit[labelled], y_fit[task][labelled])
        seconds += time.perf_counter() - t0
        preds[task] = np.asarray(model.predict(X_eval))
    return pd.DataFrame(preds, index=X_eval.index), seconds


def task_metrics(y_true: pd.DataFrame, y_pred: pd.DataFrame) -> dict[str, float]:
    """Species / sex accuracy and body-mass R² / RMSE, on the labelled rows of each task."""
    out = {}
    for task in ("species", "sex"):
        labelled = y_true[task].notna().to_numpy()
        out[f"{task}_acc"] = float(
            accuracy_score(y_true[task][labelled].astype(str), y_pred[task][labelled].astype(str))
        )
    labelled = y_true["body_mass_g"].notna().to_numpy()
    truth = y_true["body_mass_g"][labelled].to_numpy(np.float64)
    pred = y_pred["body_mass_g"][labelled].to_numpy(np.float64)
    out["mass_r2"] = float(r2_score(truth, pred))
    out["mass_rmse"] = float(np.sqrt(mean_squared_error(truth, pred)))
    return out


def mean_task_score(m: dict[str, float]) -> float:
    """Mean of species accuracy, sex accuracy and body-mass R² (the inner-CV criterion)."""
    return (m["species_acc"] + m["sex_acc"] + m["mass_r2"]) / 3.0


# ============================================================================ the runs
@dataclass
class TuneResult:
    """Inner-CV scores of every grid setting on one outer split."""

    scores: list[float]
    chosen: int
    seconds: float


@dataclass
class FoldRun:
    """One method on one outer split."""

    method: str
    repeat: int
    fold: int
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = float("nan")
    delta: float | None = None
    error: str | None = None


def tune(
    grid: Sequence[NetSettings], X: pd.DataFrame, y: pd.DataFrame, seed: int, inner_folds: int
) -> TuneResult:
    """Choose the settings for one outer split by inner CV of shared_bottom on its training rows.

    Highest mean inner-validation :func:`mean_task_score` wins (first in grid order on ties).
    """
    t0 = time.perf_counter()
    if len(grid) == 1:
        return TuneResult(scores=[float("nan")], chosen=0, seconds=0.0)
    splitter = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
    folds = list(splitter.split(X, y["species"]))
    shared = Method("skmtl shared_bottom", 1, "skmtl", skmtl_params={})
    scores = []
    for settings in grid:
        values = []
        for fit_idx, val_idx in folds:
            pred, _ = fit_predict(
                shared, settings, seed, X.iloc[fit_idx], y.iloc[fit_idx], X.iloc[val_idx]
            )
            values.append(mean_task_score(task_metrics(y.iloc[val_idx], pred)))
        scores.append(statistics.mean(values))
    chosen = int(np.argmax(scores))
    return TuneResult(scores=scores, chosen=chosen, seconds=time.perf_counter() - t0)


def run_split(
    data: Penguins,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    repeat: int,
    fold: int,
    args: argparse.Namespace,
) -> tuple[list[FoldRun], TuneResult]:
    """Tune on the training folds, then fit and score every method on one outer split."""
    seed = repeat
    X_train, y_train = data.X.iloc[train_idx], data.y.iloc[train_idx]
    X_test, y_test = data.X.iloc[test_idx], data.y.iloc[test_idx]
    tuned = tune(args.grid, X_train, y_train, seed, args.inner_folds)
    settings = args.grid[tuned.chosen]
    tag = f"[repeat {repeat} fold {fold}]"
    if len(args.grid) > 1:
        cv = ", ".join(f"{s.short()}: {v:.4f}" for s, v in zip(args.grid, tuned.scores))
        print(f"{tag} inner CV ({tuned.seconds:.1f} s) {cv} -> {settings.short()}", flush=True)
    runs = []
    for method in args.methods:
        run = FoldRun(method.name, repeat, fold)
        try:
            pred, run.seconds = fit_predict(method, settings, seed, X_train, y_train, X_test)
            run.metrics = task_metrics(y_test, pred)
            m = run.metrics
            print(
                f"{tag} {method.name}: species acc {m['species_acc']:.4f}, sex acc "
                f"{m['sex_acc']:.4f}, body mass R² {m['mass_r2']:.4f} / RMSE "
                f"{m['mass_rmse']:.1f} g ({run.seconds:.2f} s)",
                flush=True,
            )
        except Exception as exc:  # noqa: BLE001 - report, never work around
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            run.error = f"{type(exc).__name__}: {exc}"
            print(f"{tag} {method.name}: FAILED {run.error}", flush=True)
        runs.append(run)
    reference = next((r for r in runs if r.method == REFERENCE and not r.error), None)
    if reference is not None:
        single = {t: reference.metrics[k] for t, (k, _) in DELTA_TASKS.items()}
        lower = [t for t, (_, low) in DELTA_TASKS.items() if low]
        for run in runs:
            if not run.error:
                scores = {t: run.metrics[k] for t, (k, _) in DELTA_TASKS.items()}
                run.delta = delta_mtl(scores, single, lower_is_better=lower)
    return runs, tuned


def warm_up(data: Penguins) -> None:
    """Pay the process's one-off costs (lazy imports of the first Adam step) before timing.

    A 2-epoch fit that is thrown away; no method's model is warmed up.
    """
    net = MultiTaskNet(max_epochs=2, random_state=0, device="cpu", weighting="upgrad")
    make_pipeline(preprocessor(), net).fit(data.X, data.y)


# ============================================================================= report
METRIC_COLUMNS: list[tuple[str, str, str]] = [
    ("species_acc", "species accuracy ↑", ".3f"),
    ("sex_acc", "sex accuracy ↑", ".3f"),
    ("mass_r2", "body mass R² ↑", ".3f"),
    ("mass_rmse", "body mass RMSE (g) ↓", ".0f"),
]


def _mean_std(values: Sequence[float], fmt: str) -> str | None:
    """``"mean ± std"`` (sample std); just the value for one number; None for none."""
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return None
    if len(values) == 1:
        return format(values[0], fmt)
    spread = format(statistics.stdev(values), fmt.lstrip("+"))
    return f"{statistics.mean(values):{fmt}} ± {spread}"


def _ok(runs: Sequence[FoldRun], method: str) -> list[FoldRun]:
    return [r for r in runs if r.method == method and not r.error]


def _mean(values: Sequence[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def result_rows(runs: Sequence[FoldRun], method_list: Sequence[Method]) -> list[dict[str, Any]]:
    """One table row per method: mean ± std over the outer splits."""
    rows = []
    for method in method_list:
        ok = _ok(runs, method.name)
        failed = sum(1 for r in runs if r.method == method.name and r.error)
        row: dict[str, Any] = {
            "method": method.name,
            "models": method.models,
            "splits": len(ok) if not failed else f"{len(ok)} ({failed} failed)",
        }
        for key, column, fmt in METRIC_COLUMNS:
            row[column] = _mean_std([r.metrics[key] for r in ok], fmt)
        deltas = [r.delta for r in ok if r.delta is not None]
        row["Δ_MTL vs separate (%) ↑"] = _mean_std(deltas, "+.2f")
        row["Δ_MTL > 0"] = (
            "—"
            if method.name == REFERENCE or not deltas
            else f"{sum(d > 0 for d in deltas)}/{len(deltas)}"
        )
        row["fit time (s)"] = _mean_std([r.seconds for r in ok], ".2f")
        rows.append(row)
    return rows


def best_note(runs: Sequence[FoldRun], method_list: Sequence[Method]) -> str:
    """The best and second-best mean per metric (computed, not written by hand)."""
    parts = []
    for key, column, _ in METRIC_COLUMNS + [("delta", "Δ_MTL vs separate (%)", "")]:
        means = {}
        for method in method_list:
            ok = _ok(runs, method.name)
            if key == "delta":
                if method.name == REFERENCE:
                    continue
                values = [r.delta for r in ok if r.delta is not None]
            else:
                values = [r.metrics[key] for r in ok]
            if values:
                means[method.name] = _mean(values)
        if len(means) < 2:
            continue
        ranked = sorted(means, key=means.get, reverse=key != "mass_rmse")
        label = column.rstrip(" ↑↓")
        parts.append(
            f"{label}: **{ranked[0]}** ({means[ranked[0]]:.4g}), then {ranked[1]} "
            f"({means[ranked[1]]:.4g})"
        )
    return (
        "Best mean per metric (differences far below the fold-to-fold std in the table are "
        "not meaningful):\n\n" + "".join(f"- {p}\n" for p in parts) + "\n"
    )


def tuning_block(tunes: Sequence[tuple[int, int, TuneResult]], grid: Sequence[NetSettings]) -> str:
    """How often each setting was chosen, and its mean inner-CV score over the splits."""
    rows = []
    for i, settings in enumerate(grid):
        scores = [t.scores[i] for _, _, t in tunes]
        rows.append(
            {
                "setting": settings.short(),
                "chosen in splits": sum(t.chosen == i for _, _, t in tunes),
                "inner-CV mean task score": _mean_std(scores, ".4f"),
            }
        )
    per_split = ", ".join(f"r{rep}f{fold}: {grid[t.chosen].short()}" for rep, fold, t in tunes)
    return (
        markdown_table(rows, ["setting", "chosen in splits", "inner-CV mean task score"])
        + f"\nChosen per split: {per_split}.\n"
    )


def figures(runs: Sequence[FoldRun], method_list: Sequence[Method]) -> str:
    """Save the two figures next to the report; return their markdown."""
    names = [m.name for m in method_list if _ok(runs, m.name)]
    short = {n: n.replace("skmtl ", "").replace("sklearn ", "sk ") for n in names}
    panels = {
        "species accuracy": "species_acc",
        "sex accuracy": "sex_acc",
        "body mass RMSE (g)": "mass_rmse",
    }
    means = {
        short[n]: {p: _mean([r.metrics[k] for r in _ok(runs, n)]) for p, k in panels.items()}
        for n in names
    }
    stds = {
        short[n]: {p: _std([r.metrics[k] for r in _ok(runs, n)]) for p, k in panels.items()}
        for n in names
    }
    fig = plot_metric_by_method(
        means,
        stds,
        metric={
            "species accuracy": "accuracy ↑",
            "sex accuracy": "accuracy ↑",
            "body mass RMSE (g)": "RMSE (g) ↓",
        },
        title="Palmer penguins: test metrics, mean ± std over the CV splits",
    )
    metrics_md = save_figure(
        fig,
        "penguins_metrics",
        "Species accuracy, sex accuracy and body-mass RMSE of every method on the penguins",
    )
    points = {}
    for n in names:
        ok = _ok(runs, n)
        deltas = [r.delta for r in ok if r.delta is not None]
        if deltas:
            points[short[n]] = (_mean([r.seconds for r in ok]), _mean(deltas))
    fig = plot_time_vs_quality(
        points,
        xlabel="fit time per split (s, log scale)",
        ylabel="Δ_MTL vs skmtl separate (%)",
        title="Palmer penguins: cost vs multi-task gain",
    )
    time_md = save_figure(
        fig,
        "penguins_time_quality",
        "Fit time against Δ_MTL of every method on the penguins",
    )
    return f"{metrics_md}\n\n{time_md}\n\n"


def details_block(runs: Sequence[FoldRun], method_list: Sequence[Method]) -> str:
    """Per-repeat means (mean over the folds of one repeat), per method."""
    rows = []
    repeats = sorted({r.repeat for r in runs})
    for method in method_list:
        for rep in repeats:
            ok = [r for r in _ok(runs, method.name) if r.repeat == rep]
            if not ok:
                continue
            row: dict[str, Any] = {"method": method.name, "repeat (seed)": rep}
            for key, column, _ in METRIC_COLUMNS:
                row[column] = _mean([r.metrics[key] for r in ok])
            deltas = [r.delta for r in ok if r.delta is not None]
            row["Δ_MTL (%)"] = _mean(deltas) if deltas else None
            rows.append(row)
    fmt = {c: f for _, c, f in METRIC_COLUMNS}
    fmt["Δ_MTL (%)"] = "+.2f"
    return markdown_table(
        rows, ["method", "repeat (seed)", *(c for _, c, _ in METRIC_COLUMNS), "Δ_MTL (%)"], fmt
    )


def section_body(
    args: argparse.Namespace,
    *,
    command: str,
    info: dict[str, Any],
    data: Penguins,
    runs: Sequence[FoldRun],
    tunes: Sequence[tuple[int, int, TuneResult]],
    seconds: dict[str, float],
    total: float,
    other_load: float | None,
    with_figures: bool,
) -> str:
    """The markdown of the ``penguins`` section."""
    n_splits = args.folds * len(args.seeds)
    seeds = ", ".join(map(str, args.seeds))
    grid = args.grid
    base = grid[0]
    load = "unavailable" if other_load is None else f"{other_load:.2f} cores"
    errors = [r for r in runs if r.error]
    body = [
        "## Palmer penguins: species, sex and body mass (mixed task types, missing labels)\n\n",
        "Written by `benchmarks/penguins.py`.\n\n",
        provenance(
            command,
            seeds=(
                f"{seeds}: repeat *r* uses `StratifiedKFold({args.folds}, shuffle=True, "
                f"random_state=r)` (stratified by species), inner CV `StratifiedKFold("
                f"{args.inner_folds}, shuffle=True, random_state=r)`, and `random_state=r` "
                "for every skmtl network, MLP and gradient-boosting model"
            ),
            repetitions=(
                f"{args.folds} folds x {len(args.seeds)} repeat(s) = {n_splits} outer splits "
                "per method; tables give mean ± sample std over all the splits (folds are "
                "not independent: the std is the spread of the fold scores, not a standard "
                "error)"
            ),
            info=info,
        ),
        f"- skmtl measured: skmtl {skmtl.__version__} from "
        f"{skmtl.__file__.replace(str(REPO_ROOT) + '/', '')}\n",
        f"- Total run time: {total / 60:.1f} min (of which "
        + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + f"); other processes used {load} on average during the run (timings are "
        "indicative only: the machine is shared)\n\n",
        f"Data: {data.description}. Features: `island` one-hot, bill length, bill depth and "
        "flipper length standardised (`ColumnTransformer` fitted on the rows each model is "
        "fitted on). Tasks: species (3 classes), sex (binary; its missing labels are masked "
        "by skmtl, and the per-task baselines are fitted on the labelled rows only) and body "
        "mass (regression, grams). Sex accuracy is computed on the labelled test rows only.\n\n",
        "**skmtl settings, chosen per outer split by nested CV** (the test fold is never "
        f"used): inner {args.inner_folds}-fold CV of `MultiTaskNet(architecture="
        '"shared_bottom")` on the split\'s training rows over '
        f"{len(grid)} settings ({'; '.join(s.short() for s in grid)}), highest mean over the "
        "inner folds of (species accuracy + sex accuracy + body-mass R²) / 3 wins (first in "
        f"grid order on ties). Fixed for every setting: ReLU, Adam, `batch_size="
        f"{base.batch_size}`, `weight_decay={base.weight_decay:g}`, no dropout, `max_epochs="
        f'{base.max_epochs}`, no early stopping, `device="cpu"`, `random_state=seed`. The '
        "chosen settings are used for all five skmtl rows of that split (they were chosen "
        "for shared_bottom, which may favour it slightly over the other architectures, "
        "including the `separate` reference); `mmoe` uses its default experts, each with the "
        "chosen hidden layers.\n\n",
        "Baselines, one model per task, inside the same `ColumnTransformer` pipeline: "
        "`LogisticRegression(max_iter=5000)` (C=1) / `RidgeCV(alphas=logspace(-3, 3, 13))`; "
        "`HistGradientBoostingClassifier` / `HistGradientBoostingRegressor` (scikit-learn "
        "defaults, `random_state=seed`); `MLPClassifier` / `MLPRegressor` (target "
        "standardised with `TransformedTargetRegressor`) with the split's chosen hidden "
        "layers and learning rate, `batch_size`, `max_iter` = the skmtl epochs, "
        "`random_state=seed`, other parameters default (L2 `alpha=1e-4`; it stops when the "
        "training loss stalls; convergence warnings silenced).\n\n",
        "Δ_MTL (Maninis et al., CVPR 2019) = mean over the three tasks of the relative "
        "improvement over skmtl `separate` on the same split: species accuracy and sex "
        "accuracy (higher is better), body-mass RMSE (lower is better); computed per split, "
        "then averaged; *Δ_MTL > 0* counts the splits where the method beats `separate`. "
        "*fit time* is the wall time of `fit` on one split's training rows (the three models "
        "for the per-task baselines; the inner CV is not included), with "
        f"{info['torch_threads']} torch thread(s) ("
        + ("torch's default" if args.threads is None else f"`--threads {args.threads}`")
        + ").\n\n",
        markdown_table(
            result_rows(runs, args.methods),
            [
                "method",
                "models",
                "splits",
                *(c for _, c, _ in METRIC_COLUMNS),
                "Δ_MTL vs separate (%) ↑",
                "Δ_MTL > 0",
                "fit time (s)",
            ],
        ),
        "\n",
        best_note(runs, args.methods),
    ]
    if errors:
        body.append(
            "Failed fits (left out of the means): "
            + "; ".join(f"{r.method} r{r.repeat}f{r.fold}: {r.error}" for r in errors)
            + "\n\n"
        )
    if with_figures:
        body.append(figures(runs, args.methods))
    if len(grid) > 1:
        body += [
            "<details><summary>Nested CV behind the skmtl settings (training folds only)"
            "</summary>\n\n",
            tuning_block(tunes, grid),
            "\n</details>\n\n",
        ]
    body += [
        "<details><summary>Per-repeat means (mean over the folds of each repeat)</summary>\n\n",
        details_block(runs, args.methods),
        "\n</details>\n",
    ]
    return "".join(body)


# ================================================================================= cli
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--folds",
        type=int,
        default=None,
        help=f"outer folds per repeat (default {FOLDS}; {QUICK_FOLDS} with --quick)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"outer repeats, seeds 0..n-1 (default {REPEATS}; {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_FOLDS} folds x {QUICK_REPEATS} repeat, 2 settings searched by "
        f"{QUICK_INNER_FOLDS}-fold inner CV, {QUICK_EPOCHS} epochs; report not written "
        "unless --write",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch and BLAS / OpenMP threads (default: leave torch's and the libraries' "
        "defaults alone)",
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    args.folds = args.folds if args.folds is not None else (QUICK_FOLDS if args.quick else FOLDS)
    repeats = (
        args.repeats if args.repeats is not None else (QUICK_REPEATS if args.quick else REPEATS)
    )
    if args.folds < 2:
        parser.error("--folds must be >= 2")
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    args.seeds = list(range(repeats))
    args.inner_folds = QUICK_INNER_FOLDS if args.quick else INNER_FOLDS
    args.grid = settings_grid(args.quick)
    args.methods = methods(args.quick)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    command = command_line(None if argv is None else [sys.argv[0], *argv])
    t_start = time.perf_counter()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    info = machine_info()
    start = cpu_snapshot()
    data = load_data()
    print(f"Palmer penguins: {data.description}", flush=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    warm_up(data)
    seconds["warm-up"] = time.perf_counter() - t0
    runs: list[FoldRun] = []
    tunes: list[tuple[int, int, TuneResult]] = []
    for repeat in args.seeds:
        splitter = StratifiedKFold(args.folds, shuffle=True, random_state=repeat)
        for fold, (train_idx, test_idx) in enumerate(splitter.split(data.X, data.y["species"])):
            split_runs, tuned = run_split(data, train_idx, test_idx, repeat, fold, args)
            runs += split_runs
            tunes.append((repeat, fold, tuned))
    seconds["inner CV"] = sum(t.seconds for _, _, t in tunes)
    seconds["outer fits"] = sum(r.seconds for r in runs if np.isfinite(r.seconds))
    other_load = other_cpu_load(start, cpu_snapshot())
    write = args.write or not (args.quick or args.no_write)
    body = section_body(
        args,
        command=command,
        info=info,
        data=data,
        runs=runs,
        tunes=tunes,
        seconds=seconds,
        total=time.perf_counter() - t_start,
        other_load=other_load,
        with_figures=write,
    )
    print()
    print(body)
    print(f"total run time {time.perf_counter() - t_start:.1f} s")
    if write:
        path = write_section("penguins", body)
        print(f"wrote section 'penguins' of {path}")
    else:
        print("(report not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
