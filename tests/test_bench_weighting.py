"""The ``weighting`` section, rendered from a small hand-made results file."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
import report  # noqa: E402


def cost(label: str, mode: str | None, rnd: int, times: list[float] | None,
         pair: list[float] | None, error: str | None = None) -> dict:
    return harness.record(label, "synthetic T=3", 0, weighting=label.split(" ")[0], mode=mode,
                          n_tasks=3, n=20_000, round=rnd, level="loss" if mode is None else
                          "gradient", epoch_seconds=times, paired_equal_seconds=pair,
                          fit_seconds=1.0, other_load=0.01, attempts=1, error=error)


def quality(method: str, dataset: str, seed: int, metrics: dict, **kw: object) -> dict:
    return harness.record(method, dataset, seed, metrics=metrics, fit_seconds=2.0 + seed,
                          epoch_seconds=[0.01, 0.03], epochs=10, **kw)


def weighting_results() -> dict:
    """Equal and mgda on two seeds (mgda's second Census seed failed), one failed cost fit."""
    mgda = "mgda (representation)"
    records = [cost("equal", None, 0, [0.10, 0.12], None), cost("equal", None, 1, [0.11, 0.13], None),
               cost(mgda, "representation", 0, [0.15, 0.17], [0.10, 0.10]),
               cost(mgda, "representation", 1, [0.28, 0.28], [0.20, 0.20]),
               cost("pcgrad (representation)", "representation", 0, None, None, "RuntimeError: boom")]
    auc = {("separate", 0): (0.90, 0.99), ("separate", 1): (0.92, 0.99),
           ("equal", 0): (0.909, 0.99), ("equal", 1): (0.92, 0.99), ("mgda", 0): (0.90, 0.99)}
    records += [quality(m, "census", s, {"income_50k": a, "never_married": b}, best_epoch=7)
                for (m, s), (a, b) in auc.items()]
    records.append(harness.record("mgda", "census", 1, error="ValueError: nan loss"))
    rmse = {"separate": (0.2, 0.1, 0.4), "equal": (0.18, 0.1, 0.4), "RidgeCV": (0.2, 0.2, 0.2)}
    for seed in (0, 1):
        for m, values in rmse.items():
            values = (0.2, 0.1, 0.4) if m == "equal" and seed == 1 else values
            metrics = {**dict(zip(["water", "fat", "protein"], values)),
                       "average": sum(values) / 3}
            records.append(quality(m, "meats", seed, metrics, **(
                {"weights": {"water": 1.0, "fat": 1.0, "protein": 1.0}} if m == "equal" else {})))
    settings = {"hidden_layer_sizes": [128, 128], "n_iter_no_change": 3, "early_stopping": True,
                "lr": 0.001, "batch_size": 512, "max_epochs": 15}
    meats = {"hidden_layer_sizes": [64], "lr": 0.003, "max_epochs": 2000}
    config = {"seeds": [0, 1], "threads": 2, "methods": ["equal", "mgda"], "reference": "separate",
              "levels": {"equal": "loss", "mgda": "gradient"}, "modes": ["representation"],
              "cost": {"hidden_layer_sizes": [256, 256], "random_state": 0, "device": "cpu"},
              "cost_target": {"methods": ["mgda", "pcgrad"], "ratio": 1.6},
              "cost_references": [["LibMTL PCGrad", 2.0]], "idle_threshold": 0.1,
              "cost_n": 20_000, "cost_epochs": 2, "rounds": 2, "wait_idle": 300.0,
              "retry_busy": 3, "seconds": {"cost": 60.0, "census": 60.0, "meats": 60.0},
              "waited_seconds": 0.0, "census": "40,000 training rows", "census_settings": settings,
              "tune_valid_fraction": 0.2, "meats": "215 rows", "meats_settings": meats,
              "meats_folds": 5}
    extra = {"census_tuning": [harness.record("equal", "census validation", 0, settings=settings,
                                              metrics={"income_50k": 0.94, "never_married": 0.99},
                                              epochs=9, best_epoch=6)],
             "meats_cv": [{"settings": meats, "scores": [0.2, 0.22], "seconds": 1.0}]}
    return {"benchmark": "weighting", "schema": harness.SCHEMA, "quick": False,
            "command": "python benchmarks/weighting.py", "runner": None,
            "machine": {**harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"},
            "skmtl": "skmtl 0.0", "total_seconds": 180.0, "other_load": 0.0, "config": config,
            "records": records, "extra": extra}


def _rows(text: str) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| method |"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.setdefault(cells[0], []).append(cells)
    return rows


def test_weighting_section_renders_from_the_results_file(tmp_path):
    results = harness.save_results(weighting_results(), tmp_path / "weighting.json")
    out = tmp_path / "benchmarks.md"
    report.render("weighting", results, out, figures=False)
    text = out.read_text()
    assert "$" not in text.split("<!-- BEGIN weighting -->")[1]  # every placeholder filled
    rows = _rows(text)
    # cost: s/epoch median (min–max); paired ratios 1.6 and 1.4; unpaired 0.225 / 0.115
    mgda_cost = next(r for r in rows["mgda"] if r[2] == "representation")
    assert mgda_cost[3:6] == ["0.225 (0.150–0.280)", "1.50 (1.40–1.60)", "1.96"]
    assert rows["equal"][0][3:6] == ["0.115 (0.100–0.130)", "1.00 (1.00–1.00)", "1.00"]
    assert rows["pcgrad"][0][3] == "failed"
    assert "- mgda: 1.50× (met)." in text and "- pcgrad: not measured." in text
    assert "**Target NOT met.**" in text
    assert "*reference, not measured by this run: LibMTL PCGrad*" in text
    # Census: mean ± std of AUC; Δ_MTL per seed +0.5 % and 0 %; mgda's failed seed shown
    census_equal = rows["equal"][1]
    assert census_equal[3:6] == ["0.9145 ± 0.0078", "0.9900 ± 0.0000", "+0.25 ± 0.35"]
    failed = next(k for k in rows if k.startswith("mgda (failed on 1 seed(s)"))
    assert "ValueError: nan loss" in failed and rows[failed][0][2] == "1"
    assert rows["separate"][0][5] == "+0.00 ± 0.00"
    # meats: relative RMSE (lower is better): Δ_MTL +3.33 % and 0 %
    meats_equal = rows["equal"][2]
    assert meats_equal[3:5] == ["0.230 ± 0.005", "0.190 ± 0.014"]
    assert meats_equal[7] == "+1.67 ± 2.36"
    assert rows["RidgeCV"][0][1] == "baseline"
    weights = rows["equal"][3]
    assert weights[2:] == ["1.000", "1.000", "1.000", "3.000"]
    # rendering twice gives the same section: nothing is measured while rendering
    before = out.read_text()
    report.render("weighting", results, out, figures=False)
    assert out.read_text() == before
