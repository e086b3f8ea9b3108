"""Weight decay: how ``optimizer`` and ``weight_decay`` were chosen (training rows only).

``python benchmarks/weight_decay.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/weight_decay.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only weight_decay`` renders it (prose: ``templates/weight_decay.md``).

On Census's training rows the network over-fits after about ten epochs; early stopping and
weight averaging limit the damage but do not regularise the weights themselves. This
benchmark measures decoupled weight decay (AdamW, Loshchilov and Hutter, ICLR 2019) at
several strengths against Adam without decay, on the same **training rows only** as the
bins and averaging benchmarks (:func:`datasets.development_table`: 80 % fitted, 20 % held
out; test rows never read): census, flights, movies, yeast and the nine small tables of the
defaults benchmark's round 4 (summarised in one table).

``--only NAME ...`` fits those datasets and keeps the other datasets' records of the
results file.

Per dataset and seed: ``MultiTaskNet(optimizer="adam", weight_decay=0)`` (the reference:
no decay), ``MultiTaskNet(optimizer="adamw", weight_decay=w)`` for each w of
:data:`DECAYS`, every other setting at the package defaults, and one HistGradientBoosting
per task on the same rows.  AdamW multiplies every network weight by ``1 - lr * w`` at each
step; the learned parameters of the loss weightings are not decayed.
"""

from __future__ import annotations

import sys

from datasets import DEVELOPMENT_TABLES, SMALL_TABLES, development_table
from harness import import_skmtl, run_development_suite

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

SMALL = tuple(load.__name__ for load in SMALL_TABLES)
DATASETS = DEVELOPMENT_TABLES
#: The decoupled weight decays measured.
DECAYS = (0.1, 0.3, 1.0)
REFERENCE = "skmtl, Adam without weight decay"
METHODS = {REFERENCE: {"optimizer": "adam", "weight_decay": 0.0}} | {
    f"skmtl, AdamW weight_decay={w}": {"optimizer": "adamw", "weight_decay": w} for w in DECAYS}


def config(described: dict) -> dict:
    """The results' config: each method's settings, and the package defaults of the run."""
    defaults = MultiTaskNet().get_params()
    return {"small": list(SMALL), "reference": REFERENCE,
            "methods": {m: dict(s) for m, s in METHODS.items()},
            "defaults": {k: defaults[k] for k in ("optimizer", "weight_decay", "lr")}}


def main(argv: list[str] | None = None) -> int:
    return run_development_suite("weight_decay", __doc__, METHODS, MultiTaskNet,
                                 development_table, DATASETS, config, argv)


if __name__ == "__main__":
    sys.exit(main())
