"""The ``affinity`` benchmark section renders from a results file alone, with its verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
from bench_results import payload  # noqa: E402
from sections import affinity as section  # noqa: E402

TASKS = ["c0_t0", "c0_t1", "c0_t2", "c1_t0", "c1_t1", "c1_t2"]
TRUE = [TASKS[:3], TASKS[3:]]


def _payload(records: list, config: dict) -> dict:
    return payload("affinity", records, config, total_seconds=600.0, _path="affinity.json")


def _records() -> list:
    rec = harness.record
    out = []
    for seed in range(3):
        out += [rec("gradient affinity", "synthetic", seed, part="synthetic", fit_seconds=2.0,
                    metrics={"within": 0.40 + 0.02 * seed, "across": 0.01}),
                rec("lookahead affinity", "synthetic", seed, part="synthetic", fit_seconds=3.0,
                    metrics={"within": 0.05, "across": 0.06 if seed == 2 else 0.0})]
        groups = TRUE if seed < 2 else [TASKS[:2], TASKS[2:]]
        out.append(rec("TaskGrouping (auto)", "synthetic", seed, part="synthetic",
                       fit_seconds=10.0, groups=groups, validation_losses={"1": 0.5, "2": 0.4},
                       tasks=TASKS, matrix=np.eye(6).tolist(),
                       metrics={"test_mse": 0.10 + 0.01 * seed,
                                "ari": 1.0 if seed < 2 else 0.3}))
        out += [rec("one network", "synthetic", seed, part="synthetic", fit_seconds=4.0,
                    metrics={"test_mse": 0.12 + 0.01 * seed}),
                rec("all separate", "synthetic", seed, part="synthetic", fit_seconds=5.0,
                    metrics={"test_mse": 0.09 + 0.02 * seed})]
    yeast_tasks = [f"Class{i}" for i in range(1, 15)]
    for seed in range(2):
        groups = [yeast_tasks[:10], yeast_tasks[10:]]
        out += [rec("TaskGrouping (auto)", "yeast", seed, part="yeast", fit_seconds=30.0,
                    affinity_seconds=6.0 + 2 * seed, groups=groups,
                    metrics={"mean_auc": 0.70 + 0.01 * seed, "hamming": 0.20}),
                rec("one network", "yeast", seed, part="yeast", fit_seconds=3.0 + seed,
                    metrics={"mean_auc": 0.69, "hamming": 0.21}),
                rec("all separate", "yeast", seed, part="yeast", fit_seconds=9.0,
                    metrics={"mean_auc": 0.68, "hamming": 0.19})]
    out.append(rec("random grouping (same sizes)", "yeast", 0, part="yeast",
                   error="RuntimeError: boom"))
    for n_tasks, ratios in ((3, (1.10, 1.12, 1.14)), (10, (1.20, 1.30, 1.25))):
        out += [rec("task_affinity=True / False", f"T={n_tasks}", r, part="cost",
                    n_tasks=n_tasks, metrics={"ratio": q}, fit_seconds=2.0 * q,
                    fit_seconds_off=2.0, other_load=0.05, same_training=r != 1,
                    measured_pairs_last_epoch=n_tasks * (n_tasks - 1) // 2)
                for r, q in enumerate(ratios)]
    return out


def _config() -> dict:
    return {"target": {"ari_seeds": 2, "cost_ratio": 1.15}, "n_seeds": 3, "quick": None,
            "synthetic": {"tasks": TASKS, "clusters": [0, 0, 0, 1, 1, 1], "train_rows": 2000,
                          "test_rows": 1000,
                          "settings": {"n_clusters": 2, "tasks_per_cluster": 3, "noise": 0.3,
                                       "hidden_layer_sizes": [64, 64], "max_epochs": 100,
                                       "affinity_epochs": 10, "max_groups": 4,
                                       "validation_fraction": 0.2}},
            "yeast": {"description": "1,500 training rows", "citation": "river",
                      "train_rows": 1500, "test_rows": 917, "tasks": [],
                      "settings": {"max_epochs": 100, "affinity_epochs": 10, "max_groups": 4,
                                   "validation_fraction": 0.2}},
            "cost": {"settings": {"n_samples": 5000, "max_epochs": 10, "repeats": 3,
                                  "hidden_layer_sizes": [128, 128]}}}


def test_affinity_section_gives_tables_and_target_verdicts(tmp_path):
    text = section.render(_payload(_records(), _config()), tmp_path / "report.md",
                          figures=False)
    lines = text.splitlines()
    # affinities: within / across mean ± std over the seeds, and the seeds ordered correctly
    grad = next(r for r in lines if r.startswith("| gradient affinity"))
    assert "| 0.42 ± 0.02 | 0.01 ± 0 | +0.41 ± 0.02 | 3 of 3 |" in grad
    look = next(r for r in lines if r.startswith("| lookahead affinity"))
    assert "| 2 of 3 |" in look
    # the clusters recovered on 2 of 3 seeds: the target is met; groups are listed
    assert "on 2 of 3 seed(s); target: on ≥ 2 of 3 seeds: met." in text
    assert "{c0_t0, c0_t1} · {c0_t2, c1_t0, c1_t1, c1_t2} | 0.30 |" in text
    # test loss: grouping 0.11 vs one network 0.13 (better on 3 seeds) and separate 0.11
    # (separate 0.09, 0.11, 0.13 vs 0.10, 0.11, 0.12: better on 1 seed; equal means -> not won)
    row = next(r for r in lines if r.startswith("| one network | 0.1300"))
    assert "+0.0200 ± 0.0000" in row
    assert "one network: 0.1100 vs 0.1300, better on 3 of 3 seed(s)" in text
    assert "all separate: 0.1100 vs 0.1100, better on 1 of 3 seed(s)" in text
    assert "below both: NOT met." in text
    # yeast: paired differences against one network, the failure shown, the cost ratio
    assert "random grouping (same sizes) (1 failed: RuntimeError: boom)" in text
    yrow = next(r for r in lines if r.startswith("| TaskGrouping (auto) | 0.7050"))
    assert "+0.0150 ± 0.0071" in yrow and "-0.0100 ± 0.0000" in yrow and "| 2, 2 |" in yrow
    assert "the affinity run takes 2.00 ± 0.00× one ordinary fit" in text  # 6/3 and 8/4
    assert "random grouping (same sizes): cannot be compared" in text
    # cost: mean ratio against the 1.15 target, and the pairs whose training matched
    assert "- T=3: fit time with / without = 1.120× (target ≤ 1.15×): met; training " \
           "identical in 2 of 3 pair(s)." in text
    assert "- T=10: fit time with / without = 1.250× (target ≤ 1.15×): NOT met" in text
    assert "| 45, 45, 45 |" in text


def test_affinity_section_says_when_a_part_was_not_run(tmp_path):
    config = {**_config(), "yeast": None, "cost": None}
    records = [r for r in _records() if r["part"] == "synthetic" and r["seed"] == 0]
    text = section.render(_payload(records, config), tmp_path / "report.md", figures=False)
    assert text.count("Not run.") == 2
    # one seed: the ARI target cannot be judged
    assert "not evaluated (fewer than 3 seeds)" in text


def test_within_across_and_group_labels_of_the_benchmark_script():
    import affinity as bench  # benchmarks/affinity.py (its main() is not run)

    matrix = pd.DataFrame([[1.0, 0.5, 0.0], [0.3, 1.0, np.nan], [0.1, -0.1, 1.0]])
    out = bench.within_across(matrix, [0, 0, 1])
    assert out["within"] == pytest.approx(0.4)  # (0.5 + 0.3) / 2: the diagonal is skipped
    assert out["across"] == pytest.approx((0.0 + 0.1 - 0.1) / 3)  # the NaN is skipped
    assert bench.group_labels([["b"], ["a", "c"]], ["a", "b", "c"]) == [1, 0, 1]
    with pytest.raises(ValueError, match="do not place the tasks"):
        bench.group_labels([["a"]], ["a", "b"])
