"""The ``bins`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import harness, payload, render_section

BEFORE, AUTO = "skmtl, n_bins=48 (before)", "skmtl defaults (n_bins='auto')"


def test_bins_section_compares_auto_with_48_bins_and_hgb(tmp_path):
    auc = {BEFORE: (0.940, 0.944), AUTO: (0.950, 0.952), "hgb": (0.953, 0.953)}
    records = [harness.record(m, "census", s, metrics={"income_50k": a}, fit_seconds=40.0 + s,
                              epochs=17)
               for m, values in auc.items() for s, a in enumerate(values)]
    records.append(harness.record(AUTO, "census", 2, error="RuntimeError: boom"))
    config = {"datasets": {"census": {"citation": "UCI", "description": "the training rows",
                                      "train_rows": 159_618, "test_rows": 39_905,
                                      "tasks": ["income_50k"]}},
              "methods": {BEFORE: {"n_bins": 48}, AUTO: {"n_bins": "auto"}},
              "auto_bins": {"census": 128}, "reference": BEFORE, "quick": None}
    text = render_section(tmp_path, "bins", payload("bins", records, config))
    assert ("- census (`n_bins='auto'` = 128 bins at 159,618 rows): income_50k 0.9420 → "
            "0.9510 (+0.0090; HGB 0.9530).") in text
    assert "| skmtl, n_bins=48 (before) | 0.9420 ± 0.0028 | — |" in text
    # paired by seed: 0.950 / 0.940 - 1 and 0.952 / 0.944 - 1, in %
    assert "| skmtl defaults (n_bins='auto') (1 failed) | 0.9510 ± 0.0014 | +0.96 ± 0.15 |" \
        in text
    assert "### census\n\nthe training rows (159,618 training / 39,905 test rows)" in text
