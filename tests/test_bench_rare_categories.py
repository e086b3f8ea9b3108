"""The ``rare_categories`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import development_datasets, payload, render_section, seed_records

NONE = "skmtl, every category its own code"
METHODS = {NONE: {"min_frequency": None, "max_categories": None},
           "skmtl, min_frequency=10": {"min_frequency": 10, "max_categories": None},
           "skmtl, max_categories=64": {"min_frequency": None, "max_categories": 64}}


def test_rare_categories_section_gives_every_settings_change_and_the_small_tables(tmp_path):
    names = list(METHODS)
    auc = {names[0]: (0.950, 0.952), names[1]: (0.953, 0.955), names[2]: (0.951, 0.953),
           "hgb": (0.952, 0.952)}
    records = seed_records(auc, "census", "income_50k", 30.0, 20)
    records += seed_records(dict(zip([*names, "hgb"], [(0.20,), (0.20,), (0.20,), (0.19,)])),
                            "yeast", "hamming", 2.0, 15)
    records += seed_records(dict(zip([*names, "hgb"], [(0.40,), (0.38,), (0.41,), (0.30,)])),
                            "journals", "r", 0.5, 20)
    config = {"datasets": development_datasets("census", "yeast", "journals"),
              "small": ["journals"], "methods": METHODS, "reference": NONE, "quick": None,
              "defaults": {"min_frequency": "auto", "max_categories": None,
                           "categorical_features": "from_dtype"}}
    text = render_section(tmp_path, "rare_categories",
                          payload("rare_categories", records, config))
    assert ("min_frequency='auto', max_categories=None, categorical_features='from_dtype'"
            in text)
    assert ("- census (159,618 rows fitted): income_50k 0.9510 → 0.9540 → 0.9520 "
            "(min_frequency=10 +0.0030; max_categories=64 +0.0010; HGB 0.9520).") in text
    assert ("hamming 0.2000 → 0.2000 → 0.2000 (min_frequency=10 +0.0000; max_categories=64 "
            "+0.0000; HGB 0.1900).") in text
    # paired by seed against the reference: 0.953 / 0.950 - 1 and 0.955 / 0.952 - 1, in %
    assert "| skmtl, min_frequency=10 | 0.9540 ± 0.0014 | +0.32 ± 0.00 |" in text
    # small tables in points against the reference: -2, +1 and hgb -10
    assert "| journals | 144 / 36 | r | -2.00 | +1.00 | -10.00 |" in text
    assert "### Small tables" in text and "Rare categories" in text
