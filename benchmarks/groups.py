"""Grouped rows: validation on whole groups against random validation rows, on new groups.

``python benchmarks/groups.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/groups.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only groups`` renders it (prose: ``templates/groups.md``).

When an entity has several rows (a storm observed every six hours, a man every year),
random validation rows belong to entities the network trains on: early stopping then
measures how well the network remembers them. ``fit(X, y, groups=...)`` holds out whole
groups instead. This benchmark fits skmtl's defaults both ways on three tables whose test
rows are whole groups never seen in training (a fixed split by group,
:func:`datasets.storms`, :func:`datasets.males`, :func:`datasets.psid`), against one
HistGradientBoosting per task (scikit-learn's defaults: its own early stopping, on tables
of more than 10,000 rows, holds out random rows). ``--only NAME ...`` fits those datasets
and keeps the other datasets' records of the results file.
"""

from __future__ import annotations

import sys
from typing import Any

from datasets import Dataset, males, psid, storms, subsample_split
from harness import fit_hgb_table, fit_skmtl_table, import_skmtl, run_table_benchmark

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

DATASETS = ("storms", "males", "psid")
REFERENCE = "skmtl, random validation rows"
#: What each network's validation rows are: method -> how they are drawn.
VIEWS = {REFERENCE: "`fit(X, y)`: skmtl's default, 10 % of the training rows at random",
         "skmtl, validation on whole groups": "`fit(X, y, groups=...)`: about 10 % of the "
                                              "training groups, whole"}
QUICK = {"rows": 2_000, "seeds": 1, "max_epochs": 3}


def load(name: str, quick: bool) -> Dataset:
    """The grouped table ``name`` with its fixed split by group (a subsample with --quick)."""
    data = {"storms": storms, "males": males, "psid": psid}[name]()
    return subsample_split(data, QUICK["rows"]) if quick else data


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training groups; its record's fields (test metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    if method == "hgb":
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    groups = {} if method == REFERENCE else {"groups": data.groups[data.train]}
    return fit_skmtl_table(MultiTaskNet(random_state=seed, **extra), data.name, X, y, X_te,
                           y_te, **groups)


def main(argv: list[str] | None = None) -> int:
    return run_table_benchmark(
        "groups", __doc__, DATASETS, "2,000-row subsamples, 1 seed", QUICK["seeds"], load,
        lambda name: [*VIEWS, "hgb"], fit,
        lambda quick: {"reference": REFERENCE, "views": VIEWS,
                       "quick": QUICK if quick else None}, argv)


if __name__ == "__main__":
    sys.exit(main())
