"""The benchmark harness (benchmarks/harness.py), the renderer (benchmarks/report.py) and
the rule that no benchmark script imports another."""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
import report  # noqa: E402

#: Shared modules every benchmark script may import.
SHARED = {"harness", "datasets", "report"}
#: Scripts not yet migrated to results files (issue 11); they still import each other.
#: Remove a name when its script is migrated: the test then holds it to the rule.
LEGACY: set[str] = set()


# ---------------------------------------------------------------------------- harness
def test_paired_ratios_pair_each_repetition():
    assert harness.paired_ratios([2.0, 3.0, 4.5], [1.0, 2.0, 3.0]) == [2.0, 1.5, 1.5]
    with pytest.raises(ValueError, match="not paired"):
        harness.paired_ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="positive"):
        harness.paired_ratios([1.0], [0.0])


def test_mean_std_uses_the_sample_std_and_skips_missing_values():
    assert harness.mean_std([1.0, 2.0, 3.0], ".2f") == "2.00 ± 1.00"
    assert harness.mean_std([0.5, None, float("nan")], ".2f") == "0.50"
    assert harness.mean_std([], ".2f") is None
    assert harness.mean_std([1.0, 3.0], "+.1f") == "+2.0 ± 1.4"


def test_confidence_interval_is_the_student_t_interval():
    low, high = harness.confidence_interval([1.0, 2.0, 3.0])
    # mean 2, std 1, t(0.975, 2) = 4.3027 -> half width 4.3027 / sqrt(3)
    assert (low + high) / 2 == pytest.approx(2.0)
    assert high - low == pytest.approx(2 * 4.302653 / math.sqrt(3), rel=1e-5)
    assert harness.confidence_interval([1.0]) is None


def test_median_spread_gives_the_median_with_range_or_quartiles():
    assert harness.median_spread([3.0, 1.0, 2.0, 10.0, 4.0]) == "3.00 (1.00–10.00)"
    assert harness.median_spread([1.0, 2.0, 3.0, 4.0, 5.0], ".1f", spread="iqr") == (
        "3.0 (1.5–4.5)")
    assert harness.median_spread([0.25], ".2f") == "0.25"
    assert harness.median_spread([None]) is None
    with pytest.raises(ValueError, match="spread"):
        harness.median_spread([1.0, 2.0], spread="sd")


def test_delta_mtl_sign_corrects_lower_is_better_tasks():
    value = harness.delta_mtl({"a": 0.9, "rmse": 0.2}, {"a": 0.8, "rmse": 0.25}, ["rmse"])
    assert value == pytest.approx(16.25)  # (+12.5 % + 20 %) / 2
    with pytest.raises(ValueError, match="undefined"):
        harness.delta_mtl({"a": 1.0}, {"a": 0.0})


def test_timed_and_epoch_seconds():
    out, seconds, load = harness.timed(lambda: 42)
    assert out == 42 and seconds >= 0 and (load is None or load >= 0)

    class History(list):
        def __getitem__(self, key):
            return [row["dur"] for row in self] if isinstance(key, tuple) else super().__getitem__(key)

    class Fitted:
        history_ = History([{"dur": 0.5}, {"dur": 0.25}])

    assert harness.epoch_seconds(Fitted()) == [0.5, 0.25]
    assert harness.epoch_seconds(object()) is None
    assert harness.weighted_load([(1.0, 1.0), (0.0, 3.0), (None, 5.0)]) == 0.25
    assert harness.seeds(3) == [0, 1, 2]


def test_results_files_round_trip(tmp_path):
    path = harness.save_results({"schema": harness.SCHEMA, "records": [
        harness.record("m", "d", 0, metrics={"x": float("nan")}, fit_seconds=1.5)]},
        tmp_path / "r.json")
    loaded = harness.load_results(path)
    assert loaded["records"][0]["metrics"] == {"x": None}  # NaN is written as null
    assert loaded["records"][0]["epoch_seconds"] is None
    path.write_text('{"schema": 0}')
    with pytest.raises(ValueError, match="schema"):
        harness.load_results(path)
    assert harness.results_path("x", quick=True) == harness.QUICK_RESULTS_DIR / "x.json"
    assert harness.results_path("x", folder=tmp_path) == tmp_path / "x.json"


def test_only_runs_keep_the_other_datasets_records_in_order(tmp_path):
    records = [harness.record("m", name, 0, metrics={"x": 1.0}) for name in ("a", "b", "c")]
    described = {name: {"train_rows": 1} for name in ("c", "a", "b", "gone")}
    path = harness.save_results({"schema": harness.SCHEMA, "records": records,
                                 "command": "full", "machine": {"date_utc": "day 1"},
                                 "total_seconds": 60.0, "config": {"datasets": described}},
                                tmp_path / "r.json")
    kept, kept_described, _ = harness.kept_runs(path, ["b"], ["a", "b", "c"])
    assert [r["dataset"] for r in kept] == ["a", "c"]  # b is refitted, "gone" is no dataset
    assert set(kept_described) == {"a", "c"}
    assert harness.kept_runs(tmp_path / "none.json", ["b"], ["a", "b"])[:2] == ([], {})
    merged = harness.in_order(kept_described | {"b": {"train_rows": 2}}, ["a", "b", "c"])
    assert list(merged) == ["a", "b", "c"] and merged["b"] == {"train_rows": 2}


def test_earlier_runs_name_the_run_that_measured_each_kept_dataset(tmp_path):
    def run(command, date, datasets, earlier=()):
        return {"schema": harness.SCHEMA, "command": command, "total_seconds": 60.0,
                "other_load": 0.1, "machine": {"date_utc": date}, "records": [],
                "config": {"datasets": {n: {} for n in datasets}},
                "extra": {"earlier_runs": list(earlier)}}

    def earlier_runs(path, refitted):
        return harness.kept_runs(path, refitted, ["a", "b", "c"])[2]

    path = tmp_path / "r.json"
    assert earlier_runs(path, ["a"]) == []
    harness.save_results(run("full", "day 1", ["a", "b", "c"]), path)
    first = earlier_runs(path, ["b"])  # an --only b run keeps a and c from day 1
    assert first == [{"command": "full", "date_utc": "day 1", "total_seconds": 60.0,
                      "other_load": 0.1, "datasets": ["a", "c"]}]
    harness.save_results(run("--only b", "day 2", ["a", "b", "c"], first), path)
    second = earlier_runs(path, ["c"])  # then --only c: a from day 1, b from day 2
    assert [(r["date_utc"], r["datasets"]) for r in second] == [("day 1", ["a"]),
                                                                 ("day 2", ["b"])]
    assert earlier_runs(path, ["a", "b", "c"]) == []


def test_development_suite_only_keeps_records_and_their_provenance(tmp_path, monkeypatch):
    """``--only b`` after a full run: a's records stay, with the full run named as their
    source, and the section header says so; a later full run names nobody."""
    import numpy as np
    import pandas as pd
    from datasets import Dataset

    def load(name, rows):
        rng = np.random.RandomState(len(name))
        X = pd.DataFrame({"x": rng.normal(size=40)})
        y = pd.DataFrame({"t": X["x"] * 2 + rng.normal(size=40) * 0.1})
        return Dataset(name, X, y, citation="made up", description=f"table {name}",
                       train=np.arange(30), test=np.arange(30, 40))

    fits = []

    def estimator(random_state, **settings):
        fits.append(settings["tag"])
        return object()  # fit_skmtl_table is replaced below

    monkeypatch.setattr(harness, "fit_skmtl_table",
                        lambda est, name, X, y, X_te, y_te: {"metrics": {"t": 1.0}})
    monkeypatch.setattr(harness, "fit_hgb_table",
                        lambda name, X, y, X_te, y_te, seed: {"metrics": {"t": 0.5}})
    monkeypatch.setattr(harness, "warm_up_process", lambda: None)

    def suite(argv):
        return harness.run_development_suite(
            "suite", "A made-up suite.", {"m": {"tag": "m"}}, estimator, load, ["a", "b"],
            lambda described: {"n": len(described)},
            [*argv, "--seeds", "1", "--results-dir", str(tmp_path)])

    assert suite([]) == 0
    full = harness.load_results(tmp_path / "suite.json")
    assert full["extra"]["earlier_runs"] == []
    assert report.header_values(full, "0", "1")["earlier"] == ""
    assert suite(["--only", "b"]) == 0
    res = harness.load_results(tmp_path / "suite.json")
    assert sorted({(r["dataset"], r["method"]) for r in res["records"]}) == [
        ("a", "hgb"), ("a", "m"), ("b", "hgb"), ("b", "m")]
    assert list(res["config"]["datasets"]) == ["a", "b"] and res["config"]["n"] == 2
    (run,) = res["extra"]["earlier_runs"]
    assert run["datasets"] == ["a"] and run["command"] == full["command"]
    assert run["date_utc"] == full["machine"]["date_utc"]
    assert run["total_seconds"] == full["total_seconds"]
    line = report.header_values(res, "0", "1")["earlier"]
    assert line.startswith(f"\n- Records of a: kept from an earlier run, `{full['command']}` on "
                           f"{full['machine']['date_utc']} (")
    assert fits == ["m", "m", "m"]  # a and b, then b only
    assert suite([]) == 0
    assert harness.load_results(tmp_path / "suite.json")["extra"]["earlier_runs"] == []


# -------------------------------------------------------------------------- rendering
def penguins_results() -> dict:
    """A tiny results file: two methods, one seed, two folds."""
    metrics = {
        ("skmtl shared_bottom", 0): (1.0, 0.8, 0.8, 300.0),
        ("skmtl shared_bottom", 1): (0.9, 0.9, 0.7, 330.0),
        ("skmtl separate (single-task)", 0): (1.0, 0.8, 0.8, 330.0),
        ("skmtl separate (single-task)", 1): (0.9, 0.9, 0.7, 330.0),
    }
    records = [
        harness.record(method, "penguins", 0, fold=fold, models=1,
                       metrics=dict(zip(["species_acc", "sex_acc", "mass_r2", "mass_rmse"], m)),
                       fit_seconds=1.0 + fold, epoch_seconds=[0.01, 0.02, 0.03])
        for (method, fold), m in metrics.items()
    ]
    grid = [{"hidden_layer_sizes": [32], "lr": 0.003, "batch_size": 32, "weight_decay": 1e-4,
             "max_epochs": 100}]
    return {
        "benchmark": "penguins", "schema": harness.SCHEMA, "quick": False,
        "command": "python benchmarks/penguins.py", "runner": None,
        "machine": {**harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"},
        "skmtl": "skmtl 0.0 from skmtl/__init__.py", "total_seconds": 60.0, "other_load": 0.0,
        "config": {"dataset": "4 rows", "citation": "a paper", "folds": 2, "seeds": [0],
                   "inner_folds": 3, "grid": grid, "threads": None,
                   "reference": "skmtl separate (single-task)",
                   "methods": ["skmtl shared_bottom", "skmtl separate (single-task)"],
                   "seconds": {"outer fits": 6.0}},
        "records": records,
        "extra": {"tuning": [{"seed": 0, "fold": f, "scores": [None], "chosen": 0,
                              "seconds": 0.0} for f in (0, 1)]},
    }


def test_report_renders_a_section_from_a_results_file_alone(tmp_path):
    results = harness.save_results(penguins_results(), tmp_path / "penguins.json")
    out = tmp_path / "benchmarks.md"
    report.write_section("other", "kept as it is", path=out)
    report.render("penguins", results, out, figures=False)
    text = out.read_text()
    assert "kept as it is" in text and "<!-- BEGIN penguins -->" in text
    assert "$" not in text.split("<!-- BEGIN penguins -->")[1]  # every placeholder filled
    row = next(line for line in text.splitlines() if line.startswith("| skmtl shared_bottom |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # species 0.95 ± 0.071; RMSE 315 ± 21; Δ_MTL per fold: +3.03 % (RMSE 300 vs 330) and 0
    assert cells[3] == "0.950 ± 0.071" and cells[6] == "315 ± 21"
    assert cells[7] == "+1.52 ± 2.14" and cells[8] == "1/2"
    assert cells[9] == "1.50 (1.00–2.00)"  # fit time: median (min–max) over the splits
    assert cells[10] == "20.0 (20.0–20.0)"  # median epoch in ms
    assert "- Command: `python benchmarks/penguins.py`" in text
    # rendering twice gives the same section: nothing is measured while rendering
    before = out.read_text()
    report.render("penguins", results, out, figures=False)
    assert out.read_text() == before


def test_report_cli_renders_only_what_it_is_asked(tmp_path):
    harness.save_results(penguins_results(), tmp_path / "penguins.json")
    out = tmp_path / "r.md"
    args = ["--results-dir", str(tmp_path), "--output", str(out), "--no-figures"]
    assert report.main([*args, "--only", "penguins"]) == 0
    assert "BEGIN penguins" in out.read_text()
    assert report.main([*args, "--only", "missing_labels"]) == 1  # no results file


def speed_results() -> dict:
    """A tiny speed results file: floor, default skorch and skmtl at one N, one failure."""
    times = {"floor": [0.3, 0.1, 0.2], "skorch default": [0.5, 0.4, 0.6],
             "skmtl": [0.2, 0.15, 0.1]}
    records = [harness.record(m, "synthetic", 0, n=200_000, epoch_seconds=t,
                              fit_seconds=sum(t) + 0.3, other_load=0.0, attempts=1)
               for m, t in times.items()]
    records.append(harness.record("MLPRegressor", "synthetic", 0, n=200_000, attempts=1,
                                  error="MemoryError: x"))
    return {**penguins_results(), "benchmark": "speed", "command": "python benchmarks/speed.py",
            "records": records, "extra": {},
            "config": {"sizes": [200_000], "epochs": 3, "methods": list(times),
                       "wait_idle": 300.0, "retry_busy": 3, "threads": 2, "data_seed": 0,
                       "latent_seed": 1234, "torch_seed": 0, "hidden": 256, "batch_size": 256,
                       "lr": 1e-3, "target": {"n": 200_000, "floor_ratio": 1.05,
                                              "skorch_speedup": 2.0}}}


def test_speed_section_gives_median_with_range_and_the_target(tmp_path):
    results = harness.save_results(speed_results(), tmp_path / "speed.json")
    out = tmp_path / "benchmarks.md"
    report.render("speed", results, out, figures=False)
    text = out.read_text()
    assert "$" not in text
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")]
             for line in text.splitlines() if line.startswith("| ")}
    assert cells["skmtl"][2:5] == ["0.150 (0.100–0.200)", "0.75", "0.250"]
    assert cells["floor"][2:4] == ["0.200 (0.100–0.300)", "1.00"]
    assert cells["MLPRegressor (not measured)"][2] == "—"
    assert "skmtl / floor = 0.75× (met); default skorch / skmtl = 3.33× (met)" in text


# ------------------------------------------------------------------------ import rule
def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_benchmark_script_imports_another():
    local = {p.stem for p in BENCHMARKS.glob("*.py")}
    scripts = local - SHARED - {"run"}
    assert LEGACY <= scripts, "a legacy script was removed or renamed: update LEGACY"
    offenders = {}
    for path in sorted(BENCHMARKS.glob("*.py")):
        bad = (_imported_modules(path) & local) - SHARED
        if bad and path.stem not in LEGACY:
            offenders[path.name] = sorted(bad)
    assert offenders == {}
    for path in BENCHMARKS.glob("*.py"):  # nobody, legacy included, imports a migrated one
        migrated = scripts - LEGACY
        assert not (_imported_modules(path) & migrated), path.name
    # the shared modules import no script at all
    for name in SHARED:
        assert not (_imported_modules(BENCHMARKS / f"{name}.py") & scripts), name


# ------------------------------------------------------------------------- multilabel
def test_expected_calibration_error_and_guarded():
    proba = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
    # three bins of one row each: |1 - 0.9|, |1 - 0.8|, |0 - 0.6|, a third each
    assert harness.expected_calibration_error(proba, [0, 1, 1]) == pytest.approx(0.3)
    assert harness.guarded({"error": None}, lambda: {"x": 1}) == {"error": None, "x": 1}
    failed = harness.guarded({"error": None}, lambda: 1 / 0)
    assert failed["error"].startswith("ZeroDivisionError")


def multilabel_results() -> dict:
    """A tiny multilabel results file: separate and BCE on two seeds, one Census seed."""
    sep, bce = "skmtl separate: 14 binary Classification tasks", "skmtl MultiLabel, BCE"
    keys = ["hamming", "micro_f1", "jaccard", "micro_precision", "micro_recall"]
    values = {(sep, 0): 0.2, (sep, 1): 0.2, (bce, 0): 0.19, (bce, 1): 0.18}
    records = [harness.record(m, "yeast", seed, metrics=dict.fromkeys(keys, h),
                              label_errors={"Class1": h, "Class2": h}, fit_seconds=1.0 + seed,
                              epoch_seconds=[0.01, 0.03], epochs=10, best_epoch=5)
               for (m, seed), h in values.items()]
    records += [harness.record(m, "census", 0, fit_seconds=2.0, temperature=t,
                               identical_network=None if t == 1.0 else True, epochs=9,
                               metrics={"ece": 0.003, "log_loss": 0.12, "brier": 0.035,
                                        "accuracy": 0.95})
                for m, t in (("without temperature scaling", 1.0),
                             ("with temperature scaling", 1.03))]
    settings = {"hidden_layer_sizes": [512], "dropout": 0.2, "lr": 0.001, "weight_decay": 0.001,
                "batch_size": 64, "max_epochs": 300, "n_iter_no_change": 10}
    cv = [{"name": "BCE", "settings": settings, "hamming": [0.19, 0.2], "micro_f1": [0.6, 0.7],
           "epochs": [20, 21], "seconds": 2.0, "error": None}]
    return {
        **penguins_results(), "benchmark": "multilabel", "records": records,
        "command": "python benchmarks/multilabel.py",
        "extra": {"cv": cv, "loss_cv": cv, "chosen": 0},
        "config": {"seeds": [0, 1], "threads": 1, "threshold": 0.5, "target_hamming": 0.185,
                   "cv_folds": 5, "cv_seed": 0, "tune_seed": 0, "settings": settings,
                   "ensemble_loss": "BCE", "ensemble_size": 5, "trees": 500,
                   "methods": [sep, bce], "reference": sep, "yeast": "1,500 rows",
                   "yeast_citation": "a paper", "census": "199,523 rows",
                   "census_citation": "another paper",
                   "census_settings": {"lr": 0.003, "max_epochs": 30},
                   "calibration_methods": ["without temperature scaling",
                                           "with temperature scaling"],
                   "ece_bins": 15, "seconds": {"Yeast tuning": 60.0},
                   "paper_references": [{"method": "ML-kNN", "hamming": 0.2, "micro_f1": None,
                                         "citation": "Someone, 2007"}]},
    }


def test_multilabel_section_ranks_by_hamming_loss_and_labels_paper_rows(tmp_path):
    results = harness.save_results(multilabel_results(), tmp_path / "multilabel.json")
    out = tmp_path / "benchmarks.md"
    report.render("multilabel", results, out, figures=False)
    text = out.read_text()
    assert "$" not in text
    rows: dict = {}  # the first table a method appears in: the summary
    for line in text.splitlines():
        if line.startswith("| "):
            rows.setdefault(line.split("|")[1].strip(),
                            [c.strip() for c in line.strip("|").split("|")])
    header = next([c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
                  if line.startswith("| method | seeds | Hamming loss"))
    bce = rows["skmtl MultiLabel, BCE"]
    # Hamming 0.19 / 0.18 against 0.2 / 0.2: +5 % and +10 %, paired by seed
    assert bce[header.index("Δ_MTL vs separate, on Hamming loss (%) ↑")] == "+7.50 ± 3.54"
    assert bce[header.index("fit time (s), median (min–max)")] == "1.5 (1.0–2.0)"
    assert rows["skmtl separate: 14 binary Classification tasks"][7] == "reference"
    paper = next(k for k in rows if "not measured here" in k)
    assert "ML-kNN" in paper and "Someone, 2007" in paper
    # mean Hamming loss of BCE (0.185) equals the target: met
    assert "identical network weights" in text and "**Target met**" in text

