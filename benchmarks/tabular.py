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
the validation rows), and a 5-fold cross-fitted ``MultiTaskEnsemble`` of the defaults
without and with thresholds chosen on its out-of-fold probabilities of the training rows
(``cv=5, threshold="accuracy"``).  Diamonds and hotel_rates add tasks of more than two
classes.  Metrics: ROC AUC (binary), accuracy (more than two classes), R² (regression),
Hamming loss (yeast).

``--only NAME ...`` fits those datasets and keeps the other datasets' records of the
results file.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from datasets import (
    CATEGORICAL_COLUMNS,
    Dataset,
    census,
    diamonds,
    flights,
    hotel_rates,
    movies,
    prepare_census,
    subsample_split,
    yeast,
)
from harness import (
    fit_hgb_table,
    fit_skmtl_table,
    import_skmtl,
    run_table_benchmark,
)

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskEnsemble, MultiTaskNet  # noqa: E402

DATASETS = ("census", "census_missing_50", "census_missing_90", "yeast", "movies", "flights",
            "diamonds", "hotel_rates")
#: The one-hot pipeline's settings (those of benchmarks/architectures.py).
ONE_HOT = {"lr": 3e-3, "batch_size": 1024, "max_epochs": 30, "early_stopping": True,
           "n_iter_no_change": 5}
QUICK = {"rows": 4_000, "seeds": 1, "max_epochs": 3}
#: Yeast's cross-fitted ensembles: method name to MultiTaskEnsemble settings.
CROSS_FITTED = {"skmtl 5-fold ensemble": {"cv": 5},
                "skmtl 5-fold ensemble, out-of-fold thresholds": {"cv": 5,
                                                                  "threshold": "accuracy"}}
TARGETS = {"census_auc": "at or above per-task HistGradientBoosting on both tasks",
           "census_time": 10.0, "yeast_hamming": 0.185}


def load(name: str, quick: bool) -> Dataset:
    """The dataset ``name``; census with labels removed for ``census_missing_<percent>``."""
    data = {"yeast": yeast, "movies": movies, "flights": flights, "diamonds": diamonds,
            "hotel_rates": hotel_rates}.get(name, census)()
    if data.name == "census":  # the raw table: coded columns as categories
        X = data.X.astype({c: "category" for c in CATEGORICAL_COLUMNS})
        data = Dataset(data.name, X, data.y, data.citation, data.description, data.train,
                       data.test)
    if quick:  # a subsample of both splits
        data = subsample_split(data, QUICK["rows"])
    if name.startswith("census_missing_"):
        rate, y = int(name.rsplit("_", 1)[1]) / 100, data.y.astype(object)
        for i, task in enumerate(y.columns):  # each task its own rows, seed fixed per task
            order = np.random.default_rng((0, i)).permutation(data.train)
            y.loc[y.index[order[: int(round(rate * len(order)))]], task] = np.nan
        data = Dataset(name, data.X, y, data.citation, f"{data.description}; {rate:.0%} of each "
                       "task's training labels removed", data.train, data.test)
    return data


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training rows; its record's fields (test metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    if method == "hgb":
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
    params = {"architecture": "separate"} if method == "skmtl separate" else {}
    if method == "skmtl threshold=accuracy":
        params = {"threshold": "accuracy"}
    if method == "skmtl one-hot MLP (before)":  # one-hot features fitted on the training rows
        c = prepare_census(data)
        X, X_te = c.X_train, c.X_test
        est = MultiTaskNet(random_state=seed, numeric_transform="none", numeric_embedding=None,
                           **{**ONE_HOT, **extra})
    elif method in CROSS_FITTED:
        est = MultiTaskEnsemble([MultiTaskNet(**extra)], random_state=seed,
                                **CROSS_FITTED[method])
    else:
        est = MultiTaskNet(random_state=seed, **params, **extra)
    return fit_skmtl_table(est, data.name, X, y, X_te, y_te)


def methods(name: str) -> list[str]:
    extra = {"census": ["skmtl one-hot MLP (before)"],
             "yeast": ["skmtl threshold=accuracy", *CROSS_FITTED]}
    return ["skmtl defaults", "skmtl separate", *extra.get(name, []), "hgb"]


def main(argv: list[str] | None = None) -> int:
    return run_table_benchmark(
        "tabular", __doc__, DATASETS, "4,000-row subsamples, 1 seed", QUICK["seeds"], load,
        methods, fit,
        lambda quick: {"one_hot": ONE_HOT, "quick": QUICK if quick else None,
                       "targets": TARGETS, "cross_fitted": CROSS_FITTED,
                       "defaults": {k: v for k, v in MultiTaskNet().get_params().items()
                                    if k not in ("tasks", "callbacks")}}, argv)


if __name__ == "__main__":
    sys.exit(main())
