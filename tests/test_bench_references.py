"""The ``references`` section renders from a results file alone."""

from __future__ import annotations

from bench_results import harness, payload, render_section


def test_references_section_gives_the_yeast_verdicts_and_flights_differences(tmp_path):
    hamming = {"skmtl defaults": (0.196, 0.198), "hgb": (0.192, 0.192),
               "RealMLP (pytabkit)": (0.184, 0.186)}
    records = [harness.record(m, "yeast", s, metrics={"hamming": h}, fit_seconds=2.0 + s)
               for m, hs in hamming.items() for s, h in enumerate(hs)]
    records.append(harness.record("TabM (pytabkit)", "yeast", 0,
                                  error="ImportError: No module named 'pytabkit'"))
    tasks = ["dep_delay", "late_arrival"]
    for name, mtl in (("flights", (0.07, 0.68)), ("flights_date", (0.15, 0.73))):
        records += [harness.record("skmtl defaults", name, 0, metrics=dict(zip(tasks, mtl)),
                                   fit_seconds=4.0, epochs=14),
                    harness.record("hgb", name, 0, metrics=dict(zip(tasks, (0.12, 0.72))),
                                   fit_seconds=1.0)]
    described = {name: {"citation": "somewhere", "description": name, "train_rows": 10,
                        "test_rows": 5, "tasks": t}
                 for name, t in (("yeast", ["Class1"]), ("flights", tasks),
                                 ("flights_date", tasks))}
    config = {"targets": {"yeast_hamming": 0.185}, "threads": 2, "datasets": described,
              "pytabkit": "1.8.0",
              "pytabkit_methods": {"RealMLP (pytabkit)": ["RealMLP_TD_Classifier",
                                                          "RealMLP_TD_Regressor"]}}
    text = render_section(tmp_path, "references", payload("references", records, config))
    assert "| skmtl defaults | 0.1970 ± 0.0014 |" in text
    assert "TabM (pytabkit) (1 failed)" in text
    # paired by seed, signs flipped (lower is better): (1 - 0.184/0.192), (1 - 0.186/0.192)
    assert "| RealMLP (pytabkit) | 0.1850 ± 0.0014 | +3.65 ± 0.74 |" in text
    assert "yeast Hamming loss, RealMLP (pytabkit): 0.1850 (the issue's target ≤ 0.185: " \
           "reached)" in text
    assert "yeast Hamming loss, hgb: 0.1920 (the issue's target ≤ 0.185: not reached)" in text
    assert ("flights_date, skmtl defaults vs per-task HGB: dep_delay 0.1500 vs 0.1200 "
            "(+0.0300); late_arrival 0.7300 vs 0.7200 (+0.0100).") in text
    # no relative change of R² (near 0) on flights
    flights = text[text.index("### flights\n"):]
    assert "Δ vs per-task HGB" not in flights
    assert "`RealMLP_TD_Classifier` / `RealMLP_TD_Regressor`" in text
