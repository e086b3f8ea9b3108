"""The ``bins`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import (
    development_datasets,
    harness,
    payload,
    render_section,
    seed_records,
)

BEFORE = "skmtl, 48 bins at row quantiles"
ROWS = "skmtl, n_bins='auto' at row quantiles"
DISTINCT = "skmtl, n_bins='auto' at distinct-value quantiles"
DEFAULTS = "skmtl defaults (n_bins='auto', mass-aware)"


def test_bins_section_chains_the_three_rules_against_hgb(tmp_path):
    auc = {BEFORE: (0.940, 0.944), ROWS: (0.950, 0.952), DISTINCT: (0.950, 0.950),
           DEFAULTS: (0.952, 0.955), "hgb": (0.953, 0.953)}
    hamming = {BEFORE: (0.20, 0.21), ROWS: (0.20, 0.20), DISTINCT: (0.21, 0.21),
               DEFAULTS: (0.19, 0.20), "hgb": (0.19, 0.19)}
    records = seed_records(auc, "census", "income_50k", 40.0, 17, seconds_per_seed=1.0)
    records += seed_records(hamming, "yeast", "hamming", 2.0, 15)
    records.append(harness.record(DEFAULTS, "census", 2, error="RuntimeError: boom"))
    config = {"datasets": development_datasets("census", "yeast"),
              "methods": {BEFORE: {"n_bins": 48, "bin_edges": "quantile"},
                          ROWS: {"n_bins": "auto", "bin_edges": "quantile"},
                          DISTINCT: {"n_bins": "auto", "bin_edges": "distinct"},
                          DEFAULTS: {"n_bins": "auto", "bin_edges": "mass_aware"}},
              "auto_bins": {"census": 128, "yeast": 48}, "reference": ROWS, "quick": None}
    text = render_section(tmp_path, "bins", payload("bins", records, config))
    assert ("- census (`n_bins='auto'` = 128 bins at 159,618 rows): income_50k 0.9420 → "
            "0.9510 → 0.9500 → 0.9535 (+0.0025; HGB 0.9530).") in text
    # yeast is scored by one Hamming loss over its labels, not per task
    assert ("- yeast (`n_bins='auto'` = 48 bins at 1,200 rows): hamming 0.2050 → 0.2000 → "
            "0.2100 → 0.1950 (-0.0050; HGB 0.1900).") in text
    assert "| skmtl, n_bins='auto' at row quantiles | 0.9510 ± 0.0014 | — |" in text
    # paired by seed against the row-quantile "auto" rule: 0.952 / 0.950 - 1 and
    # 0.955 / 0.952 - 1 in % (+0.21, +0.32); seed 2 failed
    assert ("| skmtl defaults (n_bins='auto', mass-aware) (1 failed) | "
            "0.9535 ± 0.0021 | +0.26 ± 0.07 |") in text
    # lower is better: the sign flips (0.19 / 0.20 - 1 = -5 % becomes +5 %; then 0 %)
    assert "| skmtl defaults (n_bins='auto', mass-aware) | 0.1950 ± 0.0071 | " \
        "+2.50 ± 3.54 |" in text
    assert "### census\n\nthe training rows (159,618 training / 39,905 test rows)" in text


def test_bins_section_summarises_small_tables_in_points(tmp_path):
    scores = {ROWS: ({"r": 0.10, "c": 0.80}, {"r": 0.20, "c": 0.80}),
              DEFAULTS: ({"r": 0.12, "c": 0.81}, {"r": 0.18, "c": 0.80}),
              BEFORE: ({"r": 0.10, "c": 0.80}, {"r": 0.20, "c": 0.80}),
              DISTINCT: ({"r": 0.10, "c": 0.80}, {"r": 0.20, "c": 0.80}),
              "hgb": ({"r": 0.30, "c": 0.90}, {"r": 0.30, "c": 0.90})}
    records = [harness.record(m, "birthwt", s, metrics=v, fit_seconds=0.5, epochs=20)
               for m, values in scores.items() for s, v in enumerate(values)]
    records += [harness.record(m, "journals", 0, metrics={"r": 0.5}, fit_seconds=0.5, epochs=20)
                for m in scores]
    records.append(harness.record(DEFAULTS, "journals", 1, error="RuntimeError: boom"))
    config = {"datasets": {
                  "birthwt": {"citation": "MASS", "description": "d", "train_rows": 151,
                              "test_rows": 38, "tasks": ["r", "c"]},
                  "journals": {"citation": "AER", "description": "d", "train_rows": 144,
                               "test_rows": 36, "tasks": ["r"]}},
              "small": ["journals", "birthwt"],
              "methods": {BEFORE: {}, ROWS: {}, DISTINCT: {}, DEFAULTS: {}},
              "auto_bins": {"birthwt": 37, "journals": 36}, "reference": ROWS, "quick": None}
    text = render_section(tmp_path, "bins", payload("bins", records, config))
    assert "### Small tables" in text and "### birthwt" not in text
    assert "- birthwt" not in text  # no per-task verdict lines for the small tables
    # birthwt, defaults: seed 0 (+2 + 1) / 2 = +1.5 points, seed 1 (-2 + 0) / 2 = -1;
    # hgb: (20 + 10) / 2 = 15 and (10 + 10) / 2 = 10
    assert ("| birthwt | 151 / 38 | r, c | +0.00 ± 0.00 | +0.00 ± 0.00 | +0.25 ± 1.77 | +12.50 ± 3.54 |"
            in text)
    # the failed seed is left out of the pairs; the mean row counts the tables
    assert "| journals | 144 / 36 | r | +0.00 | +0.00 | +0.00 | +0.00 |" in text
    assert "(better on 1, worse on 0)" in text and "(better on 0, worse on 0)" in text
