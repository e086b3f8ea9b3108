"""Weight averaging: how ``ema_decay`` was chosen (training rows only).

``python benchmarks/averaging.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/averaging.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only averaging`` renders it (prose: ``templates/averaging.md``).

On Census's training rows the network over-fits after about ten epochs, and early stopping
keeps the best epoch's weights; an exponential moving average (EMA) of the weights
(:class:`skmtl.callbacks.WeightAveraging`) smooths the last few epochs' steps into one
network. This benchmark asks whether that helps and which decay to use, on the same
**training rows only** as the bins benchmark (:func:`datasets.development_table`: 80 %
fitted, 20 % held out; test rows never read): census, flights, movies, yeast and the nine
small tables of the defaults benchmark's round 4 (summarised in one table).

``--only NAME ...`` fits those datasets and keeps the other datasets' records of the
results file.

Per dataset and seed: ``MultiTaskNet(ema_decay=None)`` (no averaging, the behaviour
before; the reference), ``MultiTaskNet(ema_decay=0.99)`` (a shorter average),
``MultiTaskNet()`` (the defaults, ``ema_decay=0.999``) and one HistGradientBoosting per
task on the same rows.  The decay's warm-up, ``min(ema_decay, (1 + t) / (10 + t))`` at the
t-th update, reaches 0.999 only after 8,990 updates, more than most of these fits take, so
until then the average spans about the last tenth of the steps whatever the cap; 0.99 caps
it at about the last 100 steps from the 890th update on.
"""

from __future__ import annotations

import sys

from datasets import DEVELOPMENT_TABLES, SMALL_TABLES, development_table
from harness import import_skmtl, run_development_suite

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
DATASETS = DEVELOPMENT_TABLES
NONE = "skmtl, no averaging (ema_decay=None)"
DEFAULTS = "skmtl defaults (ema_decay=0.999)"
METHODS = {NONE: {"ema_decay": None}, "skmtl, ema_decay=0.99": {"ema_decay": 0.99},
           DEFAULTS: {}}


def config(described: dict) -> dict:
    """The results' config: each method's ``ema_decay``."""
    default = MultiTaskNet().ema_decay
    return {"small": list(SMALL), "reference": NONE,
            "methods": {m: s.get("ema_decay", default) for m, s in METHODS.items()}}


def main(argv: list[str] | None = None) -> int:
    return run_development_suite("averaging", __doc__, METHODS, MultiTaskNet,
                                 development_table, DATASETS, config, argv)


if __name__ == "__main__":
    sys.exit(main())
