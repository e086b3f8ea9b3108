"""The ``weight_decay`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import development_datasets, payload, render_section, seed_records

NONE = "skmtl, Adam without weight decay"
METHODS = {NONE: {"optimizer": "adam", "weight_decay": 0.0},
           "skmtl, AdamW weight_decay=0.1": {"optimizer": "adamw", "weight_decay": 0.1},
           "skmtl, AdamW weight_decay=0.3": {"optimizer": "adamw", "weight_decay": 0.3}}


def test_weight_decay_section_gives_every_decays_change_and_the_small_tables(tmp_path):
    names = list(METHODS)
    auc = {names[0]: (0.950, 0.952), names[1]: (0.951, 0.953), names[2]: (0.954, 0.956),
           "hgb": (0.953, 0.953)}
    records = seed_records(auc, "census", "income_50k", 40.0, 20)
    records += seed_records(dict(zip([*names, "hgb"], [(0.20,), (0.19,), (0.21,), (0.19,)])),
                            "yeast", "hamming", 2.0, 15)
    records += seed_records(dict(zip([*names, "hgb"], [(0.10,), (0.12,), (0.15,), (0.30,)])),
                            "journals", "r", 0.5, 20)
    config = {"datasets": development_datasets("census", "yeast", "journals"),
              "small": ["journals"], "methods": METHODS, "reference": NONE, "quick": None,
              "defaults": {"optimizer": "adamw", "weight_decay": "auto", "lr": 0.001}}
    text = render_section(tmp_path, "weight_decay", payload("weight_decay", records, config))
    assert "optimizer='adamw', weight_decay='auto', lr=0.001" in text
    assert ("- census (159,618 rows fitted): income_50k 0.9510 → 0.9520 → 0.9550 (0.1 +0.0010; "
            "0.3 +0.0040; HGB 0.9530).") in text
    assert ("- yeast (1,200 rows fitted): hamming 0.2000 → 0.1900 → 0.2100 (0.1 -0.0100; "
            "0.3 +0.0100; HGB 0.1900).") in text
    # paired by seed against no decay: 0.954 / 0.950 - 1 and 0.956 / 0.952 - 1, in %
    assert "| skmtl, AdamW weight_decay=0.3 | 0.9550 ± 0.0014 | +0.42 ± 0.00 |" in text
    # small tables in points against no decay: +2, +5 and hgb +20
    assert "| journals | 144 / 36 | r | +2.00 | +5.00 | +20.00 |" in text
    assert "### Small tables" in text and "Weight decay" in text
