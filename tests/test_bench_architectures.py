"""The ``architectures`` section renders from a results file alone (benchmarks/sections/)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
import report  # noqa: E402

TASKS = {"income_50k": "income > 50K", "never_married": "never married"}


def architectures_results() -> dict:
    """Two seeds of shared_bottom, separate and HGB; mmoe fails on seed 1; two timings."""
    aucs = {("shared_bottom", 0): (0.95, 0.99), ("shared_bottom", 1): (0.96, 0.99),
            ("separate", 0): (0.95, 0.99), ("separate", 1): (0.95, 0.99),
            ("mmoe", 0): (0.94, 0.99), ("HistGradientBoosting (ordinal)", 0): (0.955, 0.995),
            ("HistGradientBoosting (ordinal)", 1): (0.955, 0.995)}
    records = [harness.record(m, "census", seed, metrics=dict(zip(TASKS, a)),
                              fit_seconds=10.0 + 2 * seed, other_load=0.01, attempts=1,
                              **({} if m.startswith("Hist") else {
                                  "epoch_seconds": [1.0, 2.0, 3.0], "epochs": 9 + seed,
                                  "best_epoch": 4, "parameters": 80_388}))
               for (m, seed), a in aucs.items()]
    records.append(harness.record("mmoe", "census", 1, attempts=1,
                                  error="RuntimeError: boom"))
    records += [harness.record(m, "synthetic", 0, n=20_000, epoch_seconds=t, parameters=p,
                               fit_seconds=sum(t), other_load=0.0, attempts=1)
                for m, t, p in (("shared_bottom", [0.2, 0.1, 0.3], 84_488),
                                ("separate", [0.4, 0.5, 0.3], 249_352))]
    return {
        "benchmark": "architectures", "schema": harness.SCHEMA, "quick": False,
        "command": "python benchmarks/architectures.py", "runner": None,
        "machine": {**harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"},
        "skmtl": "skmtl 0.0 from skmtl/__init__.py", "total_seconds": 60.0, "other_load": 0.0,
        "records": records, "extra": {},
        "config": {"seeds": [0, 1], "architectures": ["shared_bottom", "separate", "mmoe"],
                   "methods": ["shared_bottom", "separate", "mmoe",
                               "HistGradientBoosting (ordinal)"],
                   "reference": "separate", "hgb": "HistGradientBoosting (ordinal)",
                   "tasks": TASKS, "target_auc": {"income_50k": 0.95, "never_married": 0.995},
                   "settings": {"lr": 3e-3, "batch_size": 1024, "max_epochs": 30,
                                "n_iter_no_change": 5},
                   "tune": {"lrs": [1e-3, 3e-3], "batch_sizes": [512, 1024],
                            "valid_fraction": 0.2, "seed": 0, "result": "it stopped early"},
                   "census": "4 rows", "census_citation": "a paper", "money_columns": ["a"],
                   "numeric_columns": ["b"], "min_frequency": 10,
                   "speed": {"n": 20_000, "hidden_layer_sizes": [256, 256], "batch_size": 256,
                             "epochs": 3, "seed": 0},
                   "threads": 2, "wait_idle": 30.0, "retry_busy": 3,
                   "seconds": {"Census": 50.0},
                   "paper_references": [{"method": "MMoE", "income_50k": 0.9447,
                                         "never_married": 0.9932, "citation": "Someone, 2018"}]},
    }


def test_architectures_section_from_a_results_file(tmp_path):
    results = harness.save_results(architectures_results(), tmp_path / "architectures.json")
    out = tmp_path / "benchmarks.md"
    report.render("architectures", results, out, figures=False)
    text = out.read_text()
    assert "$" not in text and "<!-- BEGIN architectures -->" in text
    rows: dict = {}  # the first table a method appears in: the summary
    for line in text.splitlines():
        if line.startswith("| "):
            rows.setdefault(line.split("|")[1].strip(),
                            [c.strip() for c in line.strip("|").split("|")])
    header = rows["method"]
    sb = dict(zip(header, rows["shared_bottom"]))
    assert sb["AUC income > 50K ↑"] == "0.9550 ± 0.0071"
    # Δ_MTL per seed: (0 + 0) / 2 = 0 and (1/95 + 0) / 2 = +0.526 %
    assert sb["Δ_MTL vs separate (%) ↑"] == "+0.263 ± 0.372"
    assert sb["fit time (s), median (min–max)"] == "11.0 (10.0–12.0)"
    assert sb["median epoch (ms)"] == "2000.0 (2000.0–2000.0)"
    assert sb["epochs run (best)"] == "9 (4), 10 (4)" and sb["parameters"] == "80,388"
    assert dict(zip(header, rows["separate"]))["Δ_MTL vs separate (%) ↑"] == "reference"
    assert dict(zip(header, rows["mmoe"]))["seeds"] == "1 (1 failed)"
    assert "RuntimeError: boom" in text  # the failure, in the per-seed table
    paper = next(k for k in rows if "not measured here" in k)
    assert "MMoE" in paper and "Someone, 2018" in paper and "HistGradientBoosting, earlier" not in text
    assert "**Target met** by: shared_bottom." not in text  # never married 0.99 < 0.995
    assert "**Target NOT met**" in text and "Best income > 50K: shared_bottom 0.9550" in text
    # cost table: median (min–max) over the epochs, ratio of the medians
    assert rows["shared_bottom"] != rows["separate"]
    cost = next(line for line in text.splitlines() if line.startswith("| separate | 249,352"))
    cells = [c.strip() for c in cost.strip("|").split("|")]
    assert cells[2:4] == ["0.400 (0.300–0.500)", "2.00"]
    before = out.read_text()  # rendering again changes nothing: nothing is measured
    report.render("architectures", results, out, figures=False)
    assert out.read_text() == before
