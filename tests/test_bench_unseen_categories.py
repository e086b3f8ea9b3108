"""The ``unseen_categories`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import development_datasets, payload, render_section, seed_records

NONE = "skmtl, category_dropout=0"
METHODS = {NONE: {"category_dropout": 0.0},
           "skmtl, category_dropout=0.05": {"category_dropout": 0.05},
           "skmtl, category_dropout=0.1": {"category_dropout": 0.1}}
NEW = "census, new major_industry_code #1"


def test_unseen_categories_section_gives_the_new_category_splits_and_the_ordinary_ones(
        tmp_path):
    names = [*METHODS, "hgb"]
    records = seed_records(dict(zip(names, [(0.90, 0.92), (0.91, 0.93), (0.93, 0.95),
                                            (0.92, 0.92)])), NEW, "income_50k", 10.0, 20)
    records += seed_records(dict(zip(names, [(0.950, 0.952), (0.950, 0.951), (0.949, 0.950),
                                             (0.953, 0.953)])), "census", "income_50k", 40.0, 20)
    records += seed_records(dict(zip(names, [(0.10,), (0.12,), (0.15,), (0.30,)])),
                            "journals", "r", 0.5, 20)
    datasets = development_datasets("census", "journals")
    datasets = {NEW: dict(datasets["census"], train_rows=18_000, test_rows=2_000,
                          description="major_industry_code = 'Retail trade' never fitted: "
                          "its 2,000 rows held out, the other 18,000 fitted; the rows: "
                          "the training rows")} | datasets
    config = {"datasets": datasets, "small": ["journals"], "new_category": [NEW],
              "methods": METHODS, "reference": NONE, "quick": None,
              "defaults": {"category_dropout": 0.0, "min_frequency": "auto"}}
    text = render_section(tmp_path, "unseen_categories",
                          payload("unseen_categories", records, config))
    assert "category_dropout=0.0, min_frequency='auto'" in text
    assert (f"- {NEW}: major_industry_code = 'Retail trade' never fitted: its 2,000 rows "
            "held out, the other 18,000 fitted.") in text
    # the new-category split in points against no replacement: +1, +3 and hgb +1 (0, +2)
    assert f"| {NEW} | 18,000 / 2,000 | income_50k | +1.00 ± 0.00 | +3.00 ± 0.00 |" in text
    # the ordinary split: each probability's change and HGB, the new split not among them
    assert ("- census (159,618 rows fitted): income_50k 0.9510 → 0.9505 → 0.9495 "
            "(category_dropout=0.05 -0.0005; category_dropout=0.1 -0.0015; HGB 0.9530).") in text
    assert f"- {NEW} (" not in text
    assert "| journals | 144 / 36 | r | +2.00 | +5.00 | +20.00 |" in text
    assert "### New categories" in text and "### Ordinary splits" in text


def test_a_new_category_split_fits_no_row_of_the_category_and_holds_out_all_of_them():
    import datasets
    import numpy as np
    import pandas as pd

    X = pd.DataFrame({"shop": ["a"] * 50 + ["b"] * 20 + ["c"] * 20 + ["d"] * 5 + [None] * 5,
                      "x": np.arange(100.0)})
    data = datasets.Dataset("toy", X, pd.DataFrame({"r": np.arange(100.0)}), "here", "toy")
    # "a" holds half of the rows: never held out; ties ("b", "c") in sorted order
    assert datasets.new_category_values(data, "shop", 3) == ["b", "c", "d"]
    split = datasets.new_category_split(data, "shop", "c")
    assert set(X["shop"].iloc[split.test]) == {"c"} and len(split.test) == 20
    assert "c" not in set(X["shop"].iloc[split.train]) and len(split.train) == 80
    assert split.description == ("shop = 'c' never fitted: its 20 rows held out, the other 80 "
                                 "fitted; the rows: toy")
    sub = datasets.new_category_split(data, "shop", "c", rows=60)
    assert len(sub.train) + len(sub.test) == 60
    assert set(X["shop"].iloc[sub.test]) == {"c"} and "c" not in set(X["shop"].iloc[sub.train])
