"""Raw tables: skmtl's defaults against per-task gradient boosting, in one run.

``python benchmarks/tabular.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/tabular.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only tabular`` renders it (prose: ``templates/tabular.md``).

Every network gets the raw DataFrame (no user transformer) and skmtl's default settings,
with ``random_state`` the seed.  Per dataset and seed: ``MultiTaskNet()`` (one network,
shared_bottom), ``MultiTaskNet(architecture="separate")`` (one network per task on the
same input layer: the Δ_MTL reference), and one ``HistGradientBoosting`` per task
(scikit-learn defaults, native categorical columns; columns with more than 255
categories as ordinal codes) on that task's labelled rows.  Census-Income KDD also has
the one-hot encoding (``datasets.prepare_census``) and settings of the architectures benchmark (skmtl before raw
tables), and versions with 50 % / 90 % of each task's training labels removed.  Yeast
(14 labels as binary tasks) adds ``threshold="accuracy"`` (per-label thresholds chosen on
the validation rows).  Metrics: ROC AUC (binary), R² (regression), Hamming loss (yeast).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
from datasets import (
    CATEGORICAL_COLUMNS,
    Dataset,
    census,
    flights,
    movies,
    prepare_census,
    yeast,
)
from harness import (
    Run,
    epoch_seconds,
    fit_grid,
    import_skmtl,
    is_regression,
    table_metrics,
    timed,
    warm_up_process,
)
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

DATASETS = ("census", "census_missing_50", "census_missing_90", "yeast", "movies", "flights")
#: The one-hot pipeline's settings (those of benchmarks/architectures.py).
ONE_HOT = {"lr": 3e-3, "batch_size": 1024, "max_epochs": 30, "early_stopping": True,
           "n_iter_no_change": 5}
QUICK = {"rows": 4_000, "seeds": 1, "max_epochs": 3}
TARGETS = {"census_auc": "at or above per-task HistGradientBoosting on both tasks",
           "census_time": 10.0, "yeast_hamming": 0.185}


def load(name: str, quick: bool) -> Dataset:
    """The dataset ``name``; census with labels removed for ``census_missing_<percent>``."""
    data = {"yeast": yeast, "movies": movies, "flights": flights}.get(name, census)()
    if data.name == "census":  # the raw table: coded columns as categories
        X = data.X.astype({c: "category" for c in CATEGORICAL_COLUMNS})
        data = Dataset(data.name, X, data.y, data.citation, data.description, data.train,
                       data.test)
    if quick:  # a subsample of both splits
        rng = np.random.default_rng(0)
        train = np.sort(rng.choice(data.train, min(QUICK["rows"], len(data.train)), False))
        test = np.sort(rng.choice(data.test, min(QUICK["rows"], len(data.test)), False))
        data = Dataset(data.name, data.X, data.y, data.citation, data.description, train, test)
    if name.startswith("census_missing_"):
        rate, y = int(name.rsplit("_", 1)[1]) / 100, data.y.astype(object)
        for i, task in enumerate(y.columns):  # each task its own rows, seed fixed per task
            order = np.random.default_rng((0, i)).permutation(data.train)
            y.loc[y.index[order[: int(round(rate * len(order)))]], task] = np.nan
        data = Dataset(name, data.X, y, data.citation, f"{data.description}; {rate:.0%} of each "
                       "task's training labels removed", data.train, data.test)
    return data


def hgb_frame(X: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Object columns as categories of the training rows (``reference``); > 255 as codes."""
    X = X.copy()
    for col in [c for c in X.columns if X[c].dtype == object]:
        cats = pd.Categorical(reference[col].dropna().astype(str)).categories
        X[col] = pd.Categorical(X[col].astype(str).where(X[col].notna()), categories=cats)
        if len(cats) > 255:
            X[col] = X[col].cat.codes.replace(-1, np.nan).astype(float)
    return X


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training rows; its record's fields (test metrics, timing)."""
    X, y = data.X.iloc[data.train], data.y.iloc[data.train]
    X_te, y_te = data.X.iloc[data.test], data.y.iloc[data.test]
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    out: dict[str, Any] = {}
    if method == "hgb":
        Xh, Xh_te, models = hgb_frame(X, X), hgb_frame(X_te, X), {}

        def fit_all() -> None:
            for task in y.columns:
                keep = y[task].notna().to_numpy()
                if is_regression(y[task]):
                    models[task] = HistGradientBoostingRegressor(
                        categorical_features="from_dtype", random_state=seed)
                    models[task].fit(Xh[keep], y[task][keep].astype(float))
                else:
                    models[task] = HistGradientBoostingClassifier(
                        categorical_features="from_dtype", random_state=seed)
                    models[task].fit(Xh[keep], y[task][keep].astype(bool))

        _, out["fit_seconds"], out["other_load"] = timed(fit_all)
        out["metrics"] = table_metrics(data.name, y_te, lambda t: (
            models[t].predict(Xh_te) if is_regression(y[t]) else
            models[t].predict_proba(Xh_te)[:, 1]))
        return out
    params = {"architecture": "separate"} if method == "skmtl separate" else {}
    if method == "skmtl threshold=accuracy":
        params = {"threshold": "accuracy"}
    if method == "skmtl one-hot MLP (before)":  # one-hot features fitted on the training rows
        c = prepare_census(data)
        X, X_te = c.X_train, c.X_test
        est = MultiTaskNet(random_state=seed, numeric_transform="none", numeric_embedding=None,
                           **{**ONE_HOT, **extra})
    else:
        est = MultiTaskNet(random_state=seed, **params, **extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        _, out["fit_seconds"], out["other_load"] = timed(lambda: est.fit(X, y))
    out["convergence_warning"] = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    net = est
    out |= {"epoch_seconds": epoch_seconds(net), "epochs": int(net.n_epochs_),
            "batch_size": int(net.batch_size_)}
    pred, proba = est.predict(X_te), est.predict_proba(X_te)
    probas = dict(zip([t.name_ for t in net.tasks_ if t.is_classification],
                      proba if isinstance(proba, list) else [proba]))
    positive = {t.name_: list(t.classes_).index(True) if True in list(t.classes_) else 1
                for t in net.tasks_ if t.is_classification}
    if data.name == "yeast":  # the decisions (thresholds apply to predict)
        out["metrics"] = table_metrics(data.name, y_te, lambda t: pred[t].to_numpy())
    else:
        out["metrics"] = table_metrics(data.name, y_te, lambda t: (
            probas[t][:, positive[t]] if t in probas else pred[t].to_numpy(dtype=float)))
    return out


def methods(name: str) -> list[str]:
    extra = {"census": ["skmtl one-hot MLP (before)"], "yeast": ["skmtl threshold=accuracy"]}
    return ["skmtl defaults", "skmtl separate", *extra.get(name, []), "hgb"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000-row subsamples, 1 seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("tabular", args.quick, argv)
    warm_up_process()
    described = {}

    def load_and_describe(name: str) -> Dataset:
        data = load(name, args.quick)
        described[name] = {"citation": data.citation, "description": data.description,
                           "train_rows": len(data.train), "test_rows": len(data.test),
                           "tasks": list(data.y.columns)}
        return data

    records = fit_grid(args.only, QUICK["seeds"] if args.quick else args.seeds, load_and_describe,
                       methods,
                       lambda method, data, seed: fit(method, data, seed, args.quick))
    config = {"one_hot": ONE_HOT, "quick": QUICK if args.quick else None, "targets": TARGETS,
              "datasets": described, "defaults": {k: v for k, v in MultiTaskNet().get_params()
                                                  .items() if k not in ("tasks", "callbacks")}}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
