"""The ``yeast_limits`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import harness, payload, render_section

METHODS = ["skmtl defaults", "ensemble of 8 networks", "hgb",
           "skmtl defaults, oracle thresholds"]


def test_yeast_limits_section_pairs_folds_and_bounds_the_thresholds(tmp_path):
    # hamming per (seed, fold): two seeds, two folds
    values = {"skmtl defaults": [0.200, 0.210, 0.190, 0.200],
              "ensemble of 8 networks": [0.195, 0.200, 0.188, 0.197],
              "hgb": [0.199, 0.206, 0.192, 0.199],
              "skmtl defaults, oracle thresholds": [0.190, 0.198, 0.182, 0.190]}
    records = [harness.record(m, "yeast", seed, fold=fold, metrics={"hamming": v[2 * seed + fold]},
                              fit_seconds=1.0 + fold)
               for m, v in values.items() for seed in (0, 1) for fold in (0, 1)]
    records.append(harness.record("hgb", "yeast", 1, fold=2, error="ValueError: boom"))
    config = {"target": 0.185, "folds": 2, "inner_folds": 5, "ensemble": 8, "trees": 500,
              "reference": "skmtl defaults", "methods": METHODS,
              "oracle": {"skmtl defaults, oracle thresholds": "skmtl defaults"},
              "rows": 1500, "labels": [f"Class{i}" for i in range(1, 15)],
              "citation": "Yeast"}
    text = render_section(tmp_path, "yeast_limits", payload("yeast_limits", records, config))
    # per seed the mean over folds (0.205, 0.195), then mean ± sample std over seeds
    assert "| skmtl defaults | 0.2000 ± 0.0071 | — | 1.5 (1.0–2.0) |" in text
    # paired on (seed, fold): -0.005, -0.010, -0.002, -0.003
    assert "| ensemble of 8 networks | 0.1950 ± 0.0035 | -0.0050 ± 0.0036 |" in text
    assert "| hgb (1 failed) | 0.1990 ± 0.0049 |" in text
    assert ("Lowest Hamming loss of a method (no held-out label read): *ensemble of 8 "
            "networks*, 0.1950, +0.0100 from the issue's target ≤ 0.185 (not met") in text
    assert "*ensemble of 8 networks* -0.0050; *hgb* -0.0010." in text
    assert ("*skmtl defaults, oracle thresholds*: 0.1900, -0.0100 against the same "
            "probabilities at 0.5 (0.2000)") in text
    assert "`MultiTaskNet()` on the 14 labels" in text and "about 750 training rows" in text
