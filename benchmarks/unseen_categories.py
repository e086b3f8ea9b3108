"""Unseen categories: what ``category_dropout`` buys on rows of a category that ``fit``
never saw, and what it costs on the others (training rows only).

``python benchmarks/unseen_categories.py [--quick] [--seeds N] [--only DATASET ...]``
writes ``benchmarks/results/unseen_categories.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only unseen_categories`` renders it (prose:
``templates/unseen_categories.md``).

A category that ``fit`` never saw (a new store, carrier or county) reads its column's
shared code of rare categories when the column has one, and otherwise the missing value's
code, which no training row reaches unless the column had missing values: its embedding
keeps its random initial value, and the network's prediction for such a row is arbitrary.
``category_dropout=p`` replaces each categorical code by that code with probability p
during training, so the network learns what to predict without the category.

Two kinds of splits, of the **training rows only** of each table
(:func:`datasets.development_table`; test rows never read):

- *new category*: for one column of each of six tables, each of its (up to three) most
  frequent categories that hold at most a quarter of the rows
  (:func:`datasets.new_category_values`) in turn: every row of that category held out, the other rows fitted
  (:func:`datasets.new_category_split`; census, flights and movies on 20,000 of their rows);
- *ordinary*: the 80 % / 20 % development split of the defaults benchmarks (census,
  flights, movies, yeast and the nine small tables), where a held-out row's categories were
  seen in fit: the cost of the replacement.

Per split and seed: ``MultiTaskNet(category_dropout=p)`` for each p of :data:`RATES` (0,
the reference, is the behaviour before), every other setting at the package defaults, and
one HistGradientBoosting per task on the same rows (which sends an unseen category to its
missing-value branch).
"""

from __future__ import annotations

import sys
from functools import cache

from datasets import (
    DEVELOPMENT_TABLES,
    SMALL_TABLES,
    development_table,
    new_category_split,
    new_category_values,
)
from harness import import_skmtl, run_development_suite

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
#: Per table, the column whose categories are held out (each in turn), the rows subsampled
#: (None: all) and how many of its categories (those of cps1985 and carseats: each one that
#: holds at most a quarter of the rows).
NEW_CATEGORY = {"census": ("major_industry_code", 20_000, 3), "flights": ("carrier", 20_000, 3),
                "movies": ("mpaa", 20_000, 3), "cps1985": ("sector", None, 2),
                "carseats": ("ShelveLoc", None, 2), "caschools": ("county", None, 3)}
NEW = tuple(f"{table}, new {column} #{k + 1}" for table, (column, _, n) in NEW_CATEGORY.items()
            for k in range(n))
DATASETS = NEW + DEVELOPMENT_TABLES
#: The replacement probabilities measured (0: the reference).
RATES = (0.0, 0.02, 0.05, 0.1)
REFERENCE = "skmtl, category_dropout=0"
METHODS = {(REFERENCE if p == 0 else f"skmtl, category_dropout={p}"): {"category_dropout": p}
           for p in RATES}


@cache
def _rows(table: str):
    return development_table(table)


def load(name: str, quick_rows: int | None = None):
    """The split ``name``: a development table, or a table with one category held out."""
    if name not in NEW:
        return development_table(name, quick_rows)
    table, rest = name.split(", new ", 1)
    column, rows, n = NEW_CATEGORY[table]
    k = int(rest.rsplit("#", 1)[1]) - 1
    data = _rows(table)
    value = new_category_values(data, column, n)[k]
    rows = quick_rows if quick_rows and (rows is None or quick_rows < rows) else rows
    return new_category_split(data, column, value, rows)


def config(described: dict) -> dict:
    """The results' config: each method's settings, the splits of each kind, and the
    package defaults of the run."""
    defaults = MultiTaskNet().get_params()
    return {"small": list(SMALL), "new_category": list(NEW), "reference": REFERENCE,
            "methods": {m: dict(s) for m, s in METHODS.items()},
            "defaults": {k: defaults[k] for k in ("category_dropout", "min_frequency")}}


def main(argv: list[str] | None = None) -> int:
    return run_development_suite("unseen_categories", __doc__, METHODS, MultiTaskNet, load,
                                 DATASETS, config, argv)


if __name__ == "__main__":
    sys.exit(main())
