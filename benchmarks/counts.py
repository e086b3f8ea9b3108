"""Counts: a count target fitted with the Poisson deviance against squared error.

``python benchmarks/counts.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/counts.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only counts`` renders it (prose: ``templates/counts.md``).

Three public tables whose targets include counts (doctor visits, hospital stays) beside a
binary or multiclass target: COUNT's rwm5yr and Ecdat's DoctorContacts (people over years,
split by person) and AER's NMES1988. Per dataset and seed, on the fixed split: skmtl's
defaults (squared error on every regression: the reference), the same network with
``Regression(loss="poisson")`` on the counts, its ``architecture="separate"`` twin (the
Δ_MTL reference), the Poisson network with the deviance not divided by the null deviance
(an ablation of that scaling), and one HistGradientBoosting per task with squared error and with
``loss="poisson"`` on the counts. Grouped tables pass ``groups`` to skmtl's ``fit`` (whole
people in its validation rows). Metrics on the test rows: each count's mean Poisson
deviance (lower is better), R² and share of negative predictions; ROC AUC (binary) or
accuracy (more than two classes) of the other task. ``--only NAME ...`` fits those
datasets and keeps the other datasets' records of the results file.
"""

from __future__ import annotations

import sys
from typing import Any

from datasets import Dataset, doctor_contacts, nmes1988, rwm5yr, subsample_split
from harness import fit_hgb_table, fit_skmtl_table, import_skmtl, run_table_benchmark

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl.losses import PoissonLoss  # noqa: E402
from skmtl.tasks import Regression  # noqa: E402

DATASETS = ("rwm5yr", "doctor_contacts", "nmes1988")
#: The count targets of each table.
COUNTS = {"rwm5yr": ["docvis", "hospvis"], "doctor_contacts": ["mdu"],
          "nmes1988": ["visits", "hospital"]}
REFERENCE = "skmtl, squared error (the defaults)"
UNSCALED = "skmtl, Poisson deviance unscaled"
#: The skmtl methods: name -> what the network is.
VIEWS = {REFERENCE: "`MultiTaskNet()`: squared error on the standardised counts",
         "skmtl, Poisson deviance": "`MultiTaskNet(tasks={count: Regression(loss=\"poisson\"), "
                                    "...})`: the counts with a log link",
         "skmtl separate, Poisson deviance": "the same with `architecture=\"separate\"`",
         UNSCALED: "`MultiTaskNet` with the counts' Poisson deviance not divided by the "
                   "training targets' (`null_deviance_` = 1: `counts.UnscaledPoisson`)"}
HGB = {"hgb, squared error": False, "hgb, Poisson deviance": True}
QUICK = {"rows": 4_000, "seeds": 1, "max_epochs": 3}


def load(name: str, quick: bool) -> Dataset:
    """Dataset ``name`` (a 4,000-row subsample of both splits with ``quick``)."""
    data = {"rwm5yr": rwm5yr, "doctor_contacts": doctor_contacts, "nmes1988": nmes1988}[name]()
    return subsample_split(data, QUICK["rows"]) if quick else data


class UnscaledPoisson(PoissonLoss):
    """skmtl's Poisson deviance without its division by the null deviance (the ablation of
    *skmtl, Poisson deviance unscaled*)."""

    def fit(self, target, n_outputs):
        fitted = super().fit(target, n_outputs)
        fitted.null_deviance_ = 1.0
        return fitted


def task_specs(y: Any, counts: list[str], unscaled: bool = False) -> dict[str, Any]:
    """The ``tasks`` of the Poisson networks: the counts with the Poisson deviance
    (``unscaled``: :class:`UnscaledPoisson`), the other columns as classifications."""
    loss = UnscaledPoisson() if unscaled else "poisson"
    return {column: Regression(loss=loss) if column in counts else "classification"
            for column in y.columns}


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training rows; its record's fields (test metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    counts = COUNTS[data.name]
    if method in HGB:
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed, counts, poisson=HGB[method])
    settings: dict[str, Any] = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    if method != REFERENCE:
        settings["tasks"] = task_specs(y, counts, unscaled=method == UNSCALED)
    if method.startswith("skmtl separate"):
        settings["architecture"] = "separate"
    groups = None if data.groups is None else data.groups[data.train]
    return fit_skmtl_table(MultiTaskNet(random_state=seed, **settings), data.name, X, y, X_te,
                           y_te, counts, **({} if groups is None else {"groups": groups}))


def main(argv: list[str] | None = None) -> int:
    return run_table_benchmark(
        "counts", __doc__, DATASETS, "4,000-row subsamples, 1 seed", QUICK["seeds"], load,
        lambda name: [*VIEWS, *HGB], fit,
        lambda quick: {"reference": REFERENCE, "views": VIEWS, "counts": COUNTS,
                       "hgb": {m: ("loss='poisson' on the counts" if p else "squared error")
                               for m, p in HGB.items()},
                       "quick": QUICK if quick else None}, argv)


if __name__ == "__main__":
    sys.exit(main())
