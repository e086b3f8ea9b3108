"""Rare categories: how ``min_frequency`` and ``max_categories`` were chosen (training rows
only).

``python benchmarks/rare_categories.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/rare_categories.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only rare_categories`` renders it (prose:
``templates/rare_categories.md``).

A categorical column with thousands of values (an aircraft's tail number, a flight number
as text) gives most of its categories a few rows each. Each has its own learned embedding,
which the network can fit to those rows' labels; the held-out loss then stops improving
early, before the network has learned what the other columns say. With ``min_frequency``,
the categories with fewer rows share one code (and its embedding) with the categories
unseen in fit; with ``max_categories``, all but a column's most frequent categories do.
This benchmark measures several thresholds and limits against every category having its
own code, on the same **training rows only** as the bins, averaging and weight decay
benchmarks (:func:`datasets.development_table`: 80 % fitted, 20 % held out; test rows never
read): census, flights, movies, yeast and the nine small tables of the defaults
benchmark's round 4.

``--only NAME ...`` fits those datasets and keeps the other datasets' records of the
results file.

Per dataset and seed: ``MultiTaskNet(min_frequency=None, max_categories=None)`` (the
reference), ``min_frequency=m`` for each m of :data:`THRESHOLDS` (an int: rows; a float: a
fraction of the fitted rows; ``"auto"``: 0.002 in the columns with more than 64
categories only), ``max_categories=k`` for each k of :data:`LIMITS`, every
other setting at the package defaults, and one HistGradientBoosting per task on the same
rows.
"""

from __future__ import annotations

import sys

from datasets import DEVELOPMENT_TABLES, SMALL_TABLES, development_table
from harness import import_skmtl, run_development_suite

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
DATASETS = DEVELOPMENT_TABLES
#: The thresholds measured: rows (int), a fraction of the fitted rows (float), or "auto"
#: (0.002 in the columns with more than 64 categories only).
THRESHOLDS = (10, 100, 0.002, "auto")
#: The limits on a column's codes measured.
LIMITS = (64,)
REFERENCE = "skmtl, every category its own code"
NONE = {"min_frequency": None, "max_categories": None}
METHODS = ({REFERENCE: dict(NONE)}
           | {f"skmtl, min_frequency={m}": NONE | {"min_frequency": m} for m in THRESHOLDS}
           | {f"skmtl, max_categories={k}": NONE | {"max_categories": k} for k in LIMITS})


def config(described: dict) -> dict:
    """The results' config: each method's settings, and the package defaults of the run."""
    defaults = MultiTaskNet().get_params()
    return {"small": list(SMALL), "reference": REFERENCE,
            "methods": {m: dict(s) for m, s in METHODS.items()},
            "defaults": {k: defaults[k] for k in ("min_frequency", "max_categories",
                                                  "categorical_features")}}


def main(argv: list[str] | None = None) -> int:
    return run_development_suite("rare_categories", __doc__, METHODS, MultiTaskNet,
                                 development_table, DATASETS, config, argv)


if __name__ == "__main__":
    sys.exit(main())
