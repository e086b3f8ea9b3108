"""Raw tables, second part: published tabular deep-learning references, and a date column.

``python benchmarks/references.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/references.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only references`` renders it (prose: ``templates/references.md``).

In one run, per dataset and seed:

* ``yeast`` (14 labels as 14 binary tasks): skmtl's defaults (``MultiTaskNet()`` on the raw
  table), one HistGradientBoosting per label, and pytabkit's RealMLP (``RealMLP_TD_Classifier``)
  and TabM (``TabM_D_Classifier``), single-task, with their published defaults
  (Holzmüller et al., NeurIPS 2024; Gorishniy et al., ICLR 2025): one model per label.
* ``flights`` and ``flights_date`` (the same rows, plus the day of the flight as one text
  column of 365 values): skmtl's defaults against per-task HistGradientBoosting.

pytabkit is an optional package (the ``benchmarks`` extra); without it its rows record an
ImportError.  Its models get ``device="cpu"`` and ``n_threads=2``, nothing else.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace
from typing import Any

from datasets import Dataset, flights, subsample_split, yeast
from harness import (
    fit_hgb_table,
    fit_skmtl_table,
    import_skmtl,
    is_regression,
    per_task_scores,
    run_table_benchmark,
    table_metrics,
    timed,
)

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

DATASETS = ("yeast", "flights", "flights_date")
#: pytabkit's estimators per method: (classifier, regressor) class names.
PYTABKIT = {"RealMLP (pytabkit)": ("RealMLP_TD_Classifier", "RealMLP_TD_Regressor"),
            "TabM (pytabkit)": ("TabM_D_Classifier", "TabM_D_Regressor")}
QUICK = {"rows": 2_000, "seeds": 1, "max_epochs": 3, "labels": 3}
THREADS = 2
TARGETS = {"yeast_hamming": 0.185}


def load(name: str, quick: bool) -> Dataset:
    """The dataset ``name`` (``--quick``: a subsample of both splits, 3 yeast labels)."""
    data = yeast() if name == "yeast" else flights(date=name == "flights_date")
    if quick:
        data = subsample_split(data, QUICK["rows"])
        if name == "yeast":
            data = replace(data, y=data.y.iloc[:, :QUICK["labels"]])
    return data


def methods(name: str) -> list[str]:
    return ["skmtl defaults", "hgb", *(PYTABKIT if name == "yeast" else ())]


def _pytabkit(method: str, X: Any, y: Any, seed: int, quick: bool) -> dict[str, Any]:
    """One pytabkit model per task of ``y`` (its defaults), on that task's labelled rows."""
    import pytabkit

    classifier, regressor = PYTABKIT[method]
    extra = {"n_epochs": QUICK["max_epochs"]} if quick else {}
    models = {}
    for task in y.columns:
        keep = y[task].notna().to_numpy()
        cls = getattr(pytabkit, regressor if is_regression(y[task]) else classifier)
        model = cls(random_state=seed, device="cpu", n_threads=THREADS, verbosity=0, **extra)
        target = y[task][keep]
        models[task] = model.fit(X[keep], target.astype(float if is_regression(y[task])
                                                          else bool))
    return models


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training rows; its record's fields (test metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    out: dict[str, Any] = {}
    if method == "hgb":
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
    if method in PYTABKIT:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lightning's notices
            models, out["fit_seconds"], out["other_load"] = timed(
                lambda: _pytabkit(method, X, y, seed, quick))
            out["metrics"] = table_metrics(data.name, y_te, per_task_scores(models, X_te, y))
        return out
    est = MultiTaskNet(random_state=seed, **({"max_epochs": QUICK["max_epochs"]} if quick else {}))
    return fit_skmtl_table(est, data.name, X, y, X_te, y_te)


def main(argv: list[str] | None = None) -> int:
    return run_table_benchmark(
        "references", __doc__, DATASETS, "2,000-row subsamples, 3 yeast labels, 1 seed, 3 epochs",
        QUICK["seeds"], load, methods, fit,
        lambda quick: {"quick": QUICK if quick else None, "targets": TARGETS,
                       "threads": THREADS, "pytabkit": _version("pytabkit"),
                       "pytabkit_methods": PYTABKIT}, argv)


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
