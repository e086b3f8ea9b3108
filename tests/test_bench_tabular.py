"""The ``tabular`` and ``defaults`` sections render from results files alone."""

from __future__ import annotations

import pytest
from bench_results import harness, payload, render_section


def _payload(name: str, records: list, config: dict) -> dict:
    return payload(name, records, config, total_seconds=120.0)


def test_tabular_section_gives_mean_std_delta_and_the_target_verdicts(tmp_path):
    tasks = ["income_50k", "never_married"]
    aucs = {"skmtl defaults": [(0.950, 0.994), (0.952, 0.996)],
            "skmtl separate": [(0.948, 0.994), (0.948, 0.994)],
            "hgb": [(0.955, 0.995), (0.955, 0.995)]}
    records = [harness.record(m, "census", s, metrics=dict(zip(tasks, a)),
                              fit_seconds={"hgb": 10.0}.get(m, 60.0 + s), epochs=20)
               for m, runs in aucs.items() for s, a in enumerate(runs)]
    records.append(harness.record("skmtl one-hot MLP (before)", "census", 0,
                                  error="RuntimeError: boom"))
    records += [harness.record(m, "yeast", 0, metrics={"hamming": h}, fit_seconds=1.0)
                for m, h in (("skmtl separate", 0.20), ("skmtl threshold=accuracy", 0.19),
                             ("skmtl 5-fold ensemble, out-of-fold thresholds", 0.184))]
    datasets = {"census": {"citation": "UCI", "description": "raw", "train_rows": 100,
                           "test_rows": 50, "tasks": tasks},
                "yeast": {"citation": "river", "description": "yeast", "train_rows": 10,
                          "test_rows": 5, "tasks": ["Class1"]}}
    config = {"one_hot": {"lr": 3e-3}, "targets": {"census_time": 10.0, "yeast_hamming": 0.185},
              "datasets": datasets, "defaults": {"batch_size": "auto", "lr": 1e-3}}
    res = _payload("tabular", records, config)
    res["extra"] = {"earlier_runs": [{"command": "python benchmarks/tabular.py",
                                      "date_utc": "2026-11-30T16:19:43+00:00",
                                      "total_seconds": 1758.0, "other_load": 0.02,
                                      "datasets": ["census"]}]}
    text = render_section(tmp_path, "tabular", res)
    assert ("- Records of census: kept from an earlier run, `python benchmarks/tabular.py` on "
            "2026-11-30T16:19:43+00:00 (29.3 min; other processes used 0.02 cores).") in text
    # mean ± std over the seeds, and the failure shown
    assert "| skmtl defaults | 0.9510 ± 0.0014 | 0.9950 ± 0.0014 |" in text
    assert "skmtl one-hot MLP (before) (1 failed)" in text
    # Δ_MTL vs separate per seed: seed 0 (0.950/0.948 - 1 + 0) / 2 = +0.105 %
    # seed 1 ((0.952/0.948 - 1) + (0.996/0.994 - 1)) / 2 = +0.311 %
    assert "+0.21 ± 0.15" in text
    # the verdicts, with the gaps
    assert "census, income_50k: skmtl 0.95100 vs per-task HGB 0.95500 (-0.00400): NOT met" in text
    assert "census fit time: skmtl / HGB = 6.0× (target ≤ 10×): met" in text
    assert ("yeast Hamming loss with thresholds chosen on validation rows (*skmtl "
            "threshold=accuracy*): 0.1900 (target ≤ 0.185): NOT met") in text
    assert ("yeast Hamming loss with thresholds chosen on out-of-fold rows (*skmtl 5-fold "
            "ensemble, out-of-fold thresholds*): 0.1840 (target ≤ 0.185): met") in text
    # yeast's lower-is-better Hamming loss: Δ_MTL is positive when it is lower
    assert "| skmtl threshold=accuracy | 0.1900 | +5.00 |" in text
    # every task against HGB (yeast has no HGB record here: left out); a tie counts for neither
    assert ("- census: income_50k 0.9510 vs 0.9550 (-0.0040); never_married 0.9950 vs 0.9950 "
            "(+0.0000).") in text
    assert ("- skmtl's defaults score better than per-task HGB on 0 of these 1 tasks (means "
            "over seeds), worse on 1.") in text


def test_defaults_section_ranks_candidates_per_dataset(tmp_path):
    scores = {("before", "a"): 0.80, ("before", "b"): 0.50, ("x", "a"): 0.90, ("x", "b"): 0.40,
              ("y", "a"): 0.85, ("y", "b"): 0.60}
    records = [harness.record(c, d, fold, metrics={"t": s + fold / 100}, settings={},
                              fit_seconds=1.0, epochs=10)
               for (c, d), s in scores.items() for fold in range(2)]
    config = {"before": {"lr": 1e-3}, "rounds": {}, "rows": 100, "folds": 2,
              "datasets": {"a": {"rows": 10, "tasks": ["t"]}, "b": {"rows": 10, "tasks": ["t"]}}}
    text = render_section(tmp_path, "defaults", _payload("defaults", records, config))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "rank" not in line]
    # y: ranks 2 (a) and 1 (b) -> 1.50; x: 1 and 3 -> 2.00; before: 3 and 2 -> 2.50
    assert [r.split("|")[1].strip() for r in rows] == ["y", "x", "before"]
    assert rows[0].split("|")[2].strip() == "1.50"
    assert "+7.50 ± 2.89" in rows[0]  # (+5, +5, +10, +10) points
    assert "Best candidate by mean rank: y (mean rank 1.50)." in text


def test_ensembles_section_gives_paired_quality_and_time_against_one_network(tmp_path):
    tasks = ["a", "b"]
    runs = {"one network": [((0.90, 0.80), 10.0), ((0.92, 0.80), 12.0)],
            "TabM k=8": [((0.909, 0.808), 50.0), ((0.92, 0.82), 72.0)]}
    records = [harness.record(m, "census", s, metrics=dict(zip(tasks, a)), fit_seconds=t,
                              predict_seconds=0.5, parameters=1000, epochs=20)
               for m, rs in runs.items() for s, (a, t) in enumerate(rs)]
    records.append(harness.record("ensemble of 8 networks", "census", 0, error="OSError: x"))
    records += [harness.record(m, "yeast", 0, metrics={"hamming": h}, fit_seconds=1.0,
                               predict_seconds=0.1, parameters=10, epochs=5)
                for m, h in (("one network", 0.20), ("TabM k=8", 0.19))]
    config = {"reference": "one network", "quick": None,
              "methods": {"one network": "MultiTaskNet()", "TabM k=8": "TabM(k=8)"},
              "datasets": {"census": {"citation": "UCI", "train_rows": 100, "test_rows": 50,
                                      "tasks": tasks},
                           "yeast": {"citation": "river", "train_rows": 10, "test_rows": 5,
                                     "tasks": ["Class1"]}}}
    text = render_section(tmp_path, "ensembles", _payload("ensembles", records, config))
    row = next(line for line in text.splitlines() if line.startswith("| TabM k=8 | 0.9145"))
    # Δ per seed: (+1 % + 1 %) / 2 = +1.00; (0 % + 2.5 %) / 2 = +1.25
    assert "+1.12 ± 0.18" in row
    assert "| 5.5 ± 0.7 |" in row  # fit ratios 5.0 and 6.0
    assert "ensemble of 8 networks (1 failed)" in text
    assert "| TabM k=8 | 0.1900 | +5.00 |" in text  # Hamming: lower is better
    assert "- *TabM k=8*: `TabM(k=8)`" in text


def test_table_metrics_scores_labelled_rows_and_yeast_hamming():
    import numpy as np
    import pandas as pd

    y = pd.DataFrame({"r": [1.0, 2.0, np.nan, 4.0], "c": [True, False, True, None]})
    pred = {"r": np.array([1.0, 2.0, 99.0, 4.0]), "c": np.array([0.9, 0.1, 0.8, 0.5])}
    out = harness.table_metrics("t", y, pred.__getitem__)
    assert out == {"r": 1.0, "c": 1.0}  # the NaN row of r and the None row of c are skipped
    labels = pd.DataFrame({"x": [1, 0], "z": [1, 1]})
    got = harness.table_metrics("yeast", labels, {"x": [0.7, 0.6], "z": [1, 1]}.__getitem__)
    assert got == {"hamming": 0.25}



def test_table_metrics_scores_tasks_of_more_than_two_classes_by_accuracy():
    import numpy as np
    import pandas as pd

    y = pd.DataFrame({"grade": ["a", "b", "c", None, "a"], "flag": [True, False, True, False, None]})
    pred = {"grade": np.array(["a", "c", "c", "b", "b"], dtype=object),
            "flag": np.array([0.9, 0.2, 0.4, 0.3, 0.5])}
    out = harness.table_metrics("t", y, pred.__getitem__)
    assert out["grade"] == pytest.approx(2 / 4)  # the None row is skipped
    assert out["flag"] == 1.0  # a binary task stays an AUC
    assert harness.is_multiclass(y["grade"]) and not harness.is_multiclass(y["flag"])
    assert not harness.is_multiclass(pd.Series([0.5, 1.5, 2.5]))  # a regression


def test_per_task_hgb_and_skmtl_score_a_multiclass_task_on_its_labels():
    import numpy as np
    import pandas as pd

    from skmtl import MultiTaskNet

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["u", "v"], 300)})
    grade = np.where(X["a"] > 0.5, "high", np.where(X["a"] < -0.5, "low", "mid"))
    y = pd.DataFrame({"grade": pd.Series(grade, dtype=object), "r": X["a"] * 2})
    y.loc[::7, "grade"] = None
    out = harness.fit_hgb_table("t", X[:200], y[:200], X[200:], y[200:], seed=0)
    models = harness.fit_per_task_hgb(harness.hgb_frame(X[:200], X[:200]), y[:200], 0)
    assert sorted(models["grade"].classes_) == ["high", "low", "mid"]  # labels, not bools
    keep = y["grade"][200:].notna().to_numpy()
    truth = y["grade"][200:][keep].to_numpy()
    expected = np.mean(models["grade"].predict(harness.hgb_frame(X[200:], X[:200]))[keep] == truth)
    assert out["metrics"]["grade"] == pytest.approx(expected) and expected > 0.9
    est = MultiTaskNet(max_epochs=30, early_stopping=False, random_state=0)
    net = harness.fit_skmtl_table(est, "t", X[:200], y[:200], X[200:], y[200:])
    labels = est.predict(X[200:])["grade"].to_numpy()[keep]
    assert net["metrics"]["grade"] == pytest.approx(np.mean(labels == truth))


def test_fit_skmtl_table_scores_a_table_of_regressions_only():
    import numpy as np
    import pandas as pd

    from skmtl import MultiTaskNet

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = pd.DataFrame({"r": 2 * X["a"], "s": X["b"] - X["a"]})
    est = MultiTaskNet(max_epochs=2, early_stopping=False, random_state=0)
    out = harness.fit_skmtl_table(est, "t", X[:90], y[:90], X[90:], y[90:])
    # no predict_proba for regressions only (it raises AttributeError): R² per task
    assert set(out["metrics"]) == {"r", "s"}
    assert out["metrics"]["r"] == pytest.approx(
        float(1 - ((est.predict(X[90:])["r"] - y["r"][90:]) ** 2).sum()
              / ((y["r"][90:] - y["r"][90:].mean()) ** 2).sum()))

def _small_records() -> list:
    """Round 4 on two small tables: (candidate, dataset) -> score, + seed / 100 per seed."""
    scores = {("defaults", "s1"): 0.50, ("defaults", "s2"): 0.70, ("es", "s1"): 0.60,
              ("es", "s2"): 0.65, ("thirty", "s1"): 0.55, ("thirty", "s2"): 0.72}
    settings = {"defaults": {}, "es": {"early_stopping": True}, "thirty": {"max_epochs": 30}}
    return [harness.record(c, d, seed, metrics={"t": s + seed / 100, "u": s + seed / 100},
                           settings=settings[c], fit_seconds=1.0, epochs=10, round=4,
                           early_stopping=c == "es")
            for (c, d), s in scores.items() for seed in range(2)]


def test_defaults_section_shows_round_4_on_small_tables_apart(tmp_path):
    main = {("before", "a"): 0.80, ("before", "b"): 0.50, ("x", "a"): 0.90, ("x", "b"): 0.40}
    records = [harness.record(c, d, 0, metrics={"t": s}, settings={}, fit_seconds=1.0,
                              epochs=10) for (c, d), s in main.items()]
    small = {"round": 4, "folds": 5, "repeats": 2, "early_stopping_rows": 1000,
             "datasets": {"s1": {"rows": 300, "tasks": ["t", "u"]},
                          "s2": {"rows": 600, "tasks": ["t", "u"]}}}
    config = {"before": {"lr": 1e-3}, "rounds": {}, "rows": 100, "folds": 3, "small": small,
              "datasets": {"a": {"rows": 10, "tasks": ["t"]}, "b": {"rows": 10, "tasks": ["t"]}}}
    text = render_section(tmp_path, "defaults",
                   _payload("defaults", records + _small_records(), config))
    first, second = text.split("### Round 4")
    # rounds 1 - 3: the small tables' candidates stay out of the first table
    assert "| x | 1.50 | +0.00 ± 14.14 |" in first and "thirty" not in first
    rows = {line.split("|")[1].strip(): line for line in second.splitlines()
            if line.startswith("| ") and "rank" not in line and "dataset" not in line}
    # ranks: s1 es 1, thirty 2, defaults 3; s2 thirty 1, defaults 2, es 3
    assert rows["thirty"].startswith("| thirty | 1.50 | +3.50 ± 1.73 | 2 / 0 | 0.5550 ± 0.0071")
    assert rows["es"].startswith("| es | 2.00 | +2.50 ± 8.66 | 1 / 1 |")
    assert rows["defaults"].startswith("| defaults | 2.50 | +0.00 ± 0.00 | 0 / 0 |")
    # the table by size: s1 (300 rows, 240 per training fold) first; candidates by rank
    assert "| s1 | 300 | 240 | +5.00 ± 0.00 | +10.00 ± 0.00 |\n| s2 | 600 | 480 | +2.00" in second
    assert "| s2 | 600 | 480 | +2.00 ± 0.00 | -5.00 ± 0.00 |" in second
    assert "from 1,000 labelled rows (early stopping was on in 0 of 4 fits of *defaults*)" in text
    assert ("Best candidate on small tables by mean rank: *thirty* (mean rank 1.50, "
            "+3.50 ± 1.73 points against *defaults*, better on 2 of 2 tables; the "
            "reference's mean rank: 2.50).") in text


def test_defaults_section_says_when_round_4_was_not_run(tmp_path):
    records = [harness.record("before", "a", 0, metrics={"t": 0.5}, settings={},
                              fit_seconds=1.0, epochs=10)]
    config = {"before": {"lr": 1e-3}, "rounds": {}, "rows": 100, "folds": 3,
              "datasets": {"a": {"rows": 10, "tasks": ["t"]}}}
    text = render_section(tmp_path, "defaults", _payload("defaults", records, config))
    assert "Best candidate on small tables by mean rank: (round 4 has not been run" in text


def test_defaults_round_runs_keep_the_other_rounds_records(tmp_path):
    defaults = __import__("defaults")  # benchmarks/defaults.py
    old = [harness.record("before", "a", 0), harness.record("early stopping", "a", 0),
           harness.record("piecewise-linear, batch auto, no early stopping", "a", 0),
           *(harness.record(m, "s", 0, round=4) for m in ("early stopping", "defaults"))]
    path = harness.save_results(_payload("defaults", old, {}), tmp_path / "defaults.json")

    def kept(round_: int) -> list:
        return [(r["method"], r.get("round")) for r in defaults.kept_records(path, round_)]

    # round 4 replaces its own records only; round 3 its own candidates, never round 4's
    assert kept(4) == [("before", None), ("early stopping", None),
                       ("piecewise-linear, batch auto, no early stopping", None)]
    assert kept(3) == [("before", None), ("early stopping", None), ("early stopping", 4),
                       ("defaults", 4)]
    assert kept(1) == [("early stopping", 4), ("defaults", 4)]
    assert defaults.kept_records(tmp_path / "missing.json", 4) == []
