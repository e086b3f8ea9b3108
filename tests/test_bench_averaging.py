"""The ``averaging`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import (
    development_datasets,
    harness,
    payload,
    render_section,
    seed_records,
)

NONE = "skmtl, no averaging (ema_decay=None)"
SHORT = "skmtl, ema_decay=0.99"
DEFAULTS = "skmtl defaults (ema_decay=0.999)"
LONG = "skmtl, ema_decay=0.9995"
METHODS = {NONE: None, SHORT: 0.99, DEFAULTS: 0.999, LONG: 0.9995}


def test_averaging_section_chains_the_decays_against_hgb_and_sums_up_small_tables(tmp_path):
    auc = {NONE: (0.950, 0.952), SHORT: (0.951, 0.953), DEFAULTS: (0.952, 0.955),
           LONG: (0.949, 0.951), "hgb": (0.953, 0.953)}
    hamming = {NONE: (0.20, 0.20), SHORT: (0.21, 0.21), DEFAULTS: (0.19, 0.20),
               LONG: (0.20, 0.22), "hgb": (0.19, 0.19)}
    records = seed_records(auc, "census", "income_50k", 40.0, 17, seconds_per_seed=1.0)
    records += seed_records(hamming, "yeast", "hamming", 2.0, 15)
    small = {NONE: {"r": 0.10}, SHORT: {"r": 0.11}, DEFAULTS: {"r": 0.13}, LONG: {"r": 0.09},
             "hgb": {"r": 0.30}}
    records += [harness.record(m, "journals", 0, metrics=v, fit_seconds=0.5, epochs=20)
                for m, v in small.items()]
    records.append(harness.record(DEFAULTS, "census", 2, error="RuntimeError: boom"))
    config = {"datasets": development_datasets("census", "yeast", "journals"),
              "small": ["journals"], "methods": METHODS, "reference": NONE, "quick": None}
    text = render_section(tmp_path, "averaging", payload("averaging", records, config))
    assert ("- census (159,618 rows fitted): income_50k 0.9510 → 0.9520 → 0.9535 → 0.9500 "
            "(defaults +0.0025; HGB 0.9530).") in text
    # yeast is scored by one Hamming loss over its labels, not per task
    assert ("- yeast (1,200 rows fitted): hamming 0.2000 → 0.2100 → 0.1950 → 0.2100 "
            "(defaults -0.0050; HGB 0.1900).") in text
    assert "- journals" not in text and "### journals" not in text
    assert "| skmtl, no averaging (ema_decay=None) | 0.9510 ± 0.0014 | — |" in text
    # paired by seed against no averaging: 0.952 / 0.950 - 1 and 0.955 / 0.952 - 1 in %
    # (+0.21, +0.32); seed 2 failed
    assert "| skmtl defaults (ema_decay=0.999) (1 failed) | 0.9535 ± 0.0021 | +0.26 ± 0.07 |" \
        in text
    # lower is better: the sign flips (0.19 / 0.20 - 1 = -5 % becomes +5 %; then 0 %)
    assert "| skmtl defaults (ema_decay=0.999) | 0.1950 ± 0.0071 | +2.50 ± 3.54 |" in text
    # small tables in points against no averaging: +1, +3, -1 and hgb +20
    assert "| journals | 144 / 36 | r | +1.00 | +3.00 | -1.00 | +20.00 |" in text
    assert "### Small tables" in text and "Weight averaging" in text
