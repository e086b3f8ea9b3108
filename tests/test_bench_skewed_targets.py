"""The ``skewed_targets`` section renders from a results file alone; the harness scores
skewed targets by their Poisson or Gamma deviance; the benchmark gives the deviance
networks each target's deviance, scaled or not."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from bench_results import BENCHMARKS, harness, payload, render_section
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance

SQUARE, DEVIANCE = "skmtl, squared error (the defaults)", "skmtl, deviance"


def test_deviance_metrics_read_a_negative_prediction_at_the_floor():
    y = pd.DataFrame({"n": [0.0, 1.0, 3.0, np.nan, 2.0], "a": [2.0, 1.5, 3.0, 4.0, 0.5],
                      "b": [True, False, True, True, False]})
    predictions = {"n": np.array([-0.5, 1.0, 2.0, 9.0, 2.5]),
                   "a": np.array([2.0, -1.0, 3.5, 4.0, 1.0]), "b": np.array([.9, .2, .6, .1, .4])}
    got = harness.table_metrics("t", y, predictions.__getitem__,
                                {"n": "poisson", "a": "gamma"})
    keep = [0, 1, 2, 4]
    floor = np.maximum(predictions["n"][keep], harness.DEVIANCE_FLOOR)
    assert got["n deviance"] == pytest.approx(mean_poisson_deviance(y["n"].iloc[keep], floor))
    assert got["a deviance"] == pytest.approx(mean_gamma_deviance(
        y["a"], np.maximum(predictions["a"], harness.DEVIANCE_FLOOR)))
    assert got["n negative"] == 0.25 and got["a negative"] == 0.2
    assert set(got) == {"n", "n deviance", "n negative", "a", "a deviance", "a negative", "b"}
    assert set(harness.table_metrics("t", y, predictions.__getitem__)) == {"n", "a", "b"}


def test_hgb_takes_each_targets_deviance_loss_only_where_asked():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"x": rng.normal(size=60)})
    y = pd.DataFrame({"n": rng.poisson(2.0, 60).astype(float), "a": rng.gamma(2.0, size=60),
                      "r": rng.normal(size=60), "b": rng.rand(60) > 0.5})
    models = harness.fit_per_task_hgb(X, y, 0, {"n": "poisson", "a": "gamma"})
    assert (models["n"].loss, models["a"].loss, models["r"].loss) == (
        "poisson", "gamma", "squared_error")
    assert harness.fit_per_task_hgb(X, y, 0)["n"].loss == "squared_error"


def test_the_deviance_networks_declare_each_targets_loss():
    sys.path.insert(0, str(BENCHMARKS))
    import skewed_targets as bench

    from skmtl.losses import GammaLoss, PoissonLoss
    from skmtl.tasks import Regression

    y = pd.DataFrame({"visits": [1.0], "price": [2.5], "rate": [0.3], "flag": [True]})
    specs = bench.task_specs(y, {"visits": "poisson", "price": "gamma"})
    assert isinstance(specs["visits"], Regression) and specs["visits"].loss == "poisson"
    assert specs["price"].loss == "gamma"
    assert specs["rate"] == "regression" and specs["flag"] == "classification"
    assert set(bench.DEVIANCES) == set(bench.DATASETS)
    raw = bench.task_specs(y, {"visits": "poisson", "price": "gamma"}, scaled=False)
    assert isinstance(raw["visits"].loss, PoissonLoss) and isinstance(raw["price"].loss, GammaLoss)
    target = np.array([[0.5], [2.0], [1.0]])
    assert raw["visits"].loss.fit(target, 1).null_deviance_ == 1.0
    assert raw["price"].loss.fit(target, 1).null_deviance_ == 1.0
    assert PoissonLoss().fit(target, 1).null_deviance_ != 1.0


def test_skewed_targets_section_gives_deviances_against_squared_error_and_hgb(tmp_path):
    deviance = {SQUARE: (2.0, 2.2), DEVIANCE: (1.8, 1.9), "skmtl separate, deviance": (1.9, 2.0),
                "hgb, squared error": (2.5, 2.5), "hgb, deviance": (2.1, 2.1)}
    records = [harness.record(m, "visits_table", s, epochs=10, fit_seconds=2.0,
                              metrics={"v deviance": d, "v": 0.1, "v negative": 0.05 if m in (
                                  SQUARE, "hgb, squared error") else 0.0, "b": 0.8})
               for m, values in deviance.items() for s, d in enumerate(values)]
    config = {"reference": SQUARE, "deviance": DEVIANCE,
              "deviances": {"visits_table": {"v": "poisson"}},
              "views": {SQUARE: "squared error", DEVIANCE: "deviance",
                        "skmtl separate, deviance": "separate"},
              "hgb": {"hgb, squared error": "squared error",
                      "hgb, deviance": "the deviance losses"},
              "quick": None,
              "datasets": {"visits_table": {"citation": "AER", "description": "people",
                                            "train_rows": 300, "test_rows": 100,
                                            "tasks": ["v", "b"]}}}
    text = render_section(tmp_path, "skewed_targets", payload("skewed_targets", records, config))
    assert "## Skewed targets: the Poisson and Gamma deviances against squared error" in text
    # means over seeds: 1.85 vs 2.10 (-0.25) and vs HGB's 2.10 (-0.25)
    assert ("- visits_table, v (Poisson deviance): skmtl Poisson 1.8500, skmtl squared error "
            "2.1000 (-0.2500), per-task HGB Poisson 2.1000 (-0.2500).") in text
    # paired by seed: -0.2 and -0.3; the share of negatives is left out of the differences
    assert (f"- visits_table, *{DEVIANCE}* against *{SQUARE}*: v deviance -0.2500 ± 0.0707; "
            "v +0.0000 ± 0.0000; b +0.0000 ± 0.0000.") in text
    assert ("| method | v deviance | v | v negative | b | fit s, median (min–max) | epochs |"
            in text)
    assert f"| {SQUARE} | 2.1000 ± 0.1414 | 0.1000 ± 0.0000 | 0.0500 ± 0.0000 |" in text
    assert "per task, scikit-learn defaults but for the deviance losses;" in text


def test_subset_metrics_score_only_the_subsets_rows():
    y = pd.DataFrame({"a": [2.0, 1.5, 3.0, 4.0, 0.5], "b": [True, False, True, False, True],
                      "c": ["x", "y", "z", "x", "y"]})
    predictions = {"a": np.array([2.5, 1.0, 3.5, 9.0, 1.0]),
                   "b": np.array([.9, .2, .6, .7, .4]),
                   "c": np.array(["x", "y", "x", "x", "x"], dtype=object)}
    mask = np.array([True, True, True, False, True])  # row 3: the worst regression error
    got = harness.scored("t", y, predictions.__getitem__, {"a": "gamma"}, {"small": mask})
    assert got["metrics"] == harness.table_metrics("t", y, predictions.__getitem__,
                                                   {"a": "gamma"})
    kept = harness.table_metrics("t", y[mask].reset_index(drop=True),
                                 lambda t: predictions[t][mask], {"a": "gamma"})
    assert got["subset_metrics"] == {"small": kept}
    assert got["subset_metrics"]["small"]["a"] > got["metrics"]["a"]
    assert kept["c"] == pytest.approx(2 / 4)
    assert "subset_metrics" not in harness.scored("t", y, predictions.__getitem__)


def test_ames_subset_keeps_the_houses_de_cock_keeps():
    sys.path.insert(0, str(BENCHMARKS))
    import skewed_targets as bench

    X = pd.DataFrame({"Gr_Liv_Area": [1_500, 4_000, 4_001, 5_642]})
    (label, rows), = bench.SUBSETS["ames"].items()
    assert "4,000 sq ft" in label
    assert rows(X).tolist() == [True, True, False, False]
    assert set(bench.SUBSETS) <= set(bench.DATASETS)


def test_skewed_targets_section_scores_subsets_apart(tmp_path):
    records = [harness.record(m, "houses", s, epochs=10, fit_seconds=2.0,
                              metrics={"p deviance": 0.02, "p": r2, "p negative": 0.0},
                              subset_metrics={"small houses": {"p deviance": 0.01 + s / 100,
                                                               "p": r2 + 0.1}})
               for m, values in {SQUARE: (0.80, 0.82), DEVIANCE: (0.84, 0.84),
                                 "hgb, deviance": (0.90, 0.90)}.items()
               for s, r2 in enumerate(values)]
    config = {"reference": SQUARE, "deviance": DEVIANCE, "deviances": {"houses": {"p": "gamma"}},
              "subsets": {"houses": ["small houses"]},
              "views": {SQUARE: "squared error", DEVIANCE: "deviance"},
              "hgb": {"hgb, deviance": "the deviance losses"}, "quick": None,
              "datasets": {"houses": {"citation": "modeldata", "description": "houses",
                                      "train_rows": 300, "test_rows": 100, "tasks": ["p"]}}}
    text = render_section(tmp_path, "skewed_targets", payload("skewed_targets", records, config))
    assert ("| method | p R², all test rows | p R², small houses | p deviance, small houses |"
            in text)
    assert f"| {SQUARE} | 0.8100 ± 0.0141 | 0.9100 ± 0.0141 | 0.0150 ± 0.0071 |" in text
    assert "| hgb, deviance | 0.9000 ± 0.0000 | 1.0000 ± 0.0000 | 0.0150 ± 0.0071 |" in text
