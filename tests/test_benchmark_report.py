"""The benchmark report helpers (benchmarks/harness.py, report.py) and the runner (benchmarks/run.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402


def test_delta_mtl_sign_corrects_lower_is_better_tasks():
    # +12.5 % on a (higher is better), RMSE 0.25 -> 0.2 is +20 %: mean 16.25 %
    value = harness.delta_mtl({"a": 0.9, "rmse": 0.2}, {"a": 0.8, "rmse": 0.25}, ["rmse"])
    assert value == pytest.approx(16.25)
    # the same numbers read as higher-is-better: (+12.5 - 20) / 2
    assert harness.delta_mtl({"a": 0.9, "rmse": 0.2}, {"a": 0.8, "rmse": 0.25}) == pytest.approx(
        -3.75)
    assert harness.delta_mtl({"a": 0.8}, {"a": 0.8}) == 0.0


@pytest.mark.parametrize(
    ("scores", "single", "lower", "match"),
    [({"a": 1.0}, {"b": 1.0}, (), "tasks differ"),
     ({}, {}, (), "no tasks"),
     ({"a": 1.0}, {"a": 1.0}, ["c"], "unknown tasks"),
     ({"a": 1.0}, {"a": 0.0}, (), "undefined")],
)
def test_delta_mtl_rejects_bad_input(scores, single, lower, match):
    with pytest.raises(ValueError, match=match):
        harness.delta_mtl(scores, single, lower)


def test_write_section_replaces_only_its_section(tmp_path):
    path = tmp_path / "report.md"
    report.write_section("one", "first", path=path)
    report.write_section("two", "second", path=path)
    report.write_section("one", "first again", path=path)
    text = path.read_text()
    assert text.startswith("# Benchmarks")
    assert "first again" in text and "second" in text and "first\n" not in text
    assert text.index("first again") < text.index("second")


def test_report_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "DEFAULT_REPORT", str(tmp_path / "r.md"))
    assert report.report_path() == tmp_path / "r.md"
    assert report.report_path("docs/x.md") == harness.REPO_ROOT / "docs/x.md"


def test_save_figure_writes_a_png_next_to_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    fig = report.plot_metric_by_method({"m1": {"t1": 0.5, "t2": 0.7}, "m2": {"t1": 0.6, "t2": 0.6}},
                                        {"m1": {"t1": 0.1, "t2": 0.0}, "m2": {"t1": 0.0, "t2": 0.1}},
                                        metric="AUC")
    assert [ax.get_title() for ax in fig.axes] == ["t1", "t2"]
    markdown = report.save_figure(fig, "demo", "alt text", path=tmp_path / "report.md")
    assert markdown == "![alt text](img/benchmarks/demo.png)"
    png = tmp_path / "img" / "benchmarks" / "demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = report.plot_time_vs_quality({"a": (1.0, 0.9), "b": (10.0, 0.95)})
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="invalid figure name"):
        report.save_figure(fig, "../x", "alt", path=tmp_path / "report.md")


def test_runner_starts_a_fresh_report_and_lists_every_run(tmp_path):
    path = tmp_path / "benchmarks.md"
    old_figures = tmp_path / "img" / "benchmarks"
    old_figures.mkdir(parents=True)
    (old_figures / "stale.png").write_bytes(b"x")
    path.write_text("old content")
    run.start_report(path, ["speed", "penguins"], quick=True)
    text = path.read_text()
    assert "old content" not in text and not old_figures.exists()
    assert "Smoke run" in text and "**speed**" in text and "**penguins**" in text
    runs = [run.ScriptRun("speed", run._shown(run.script_command("speed", quick=True)), 30.0, 0,
                          "2026-01-01T00:00:00+00:00"),
            run.ScriptRun("penguins", run._shown(run.script_command("penguins", quick=True)), 90.0,
                          2, "2026-01-01T00:01:00+00:00")]
    body = run.runner_section(runs, "python benchmarks/run.py --quick", harness.machine_info(),
                              120.0)
    assert "`python benchmarks/speed.py --quick`" in body  # migrated: no --write
    # a migrated benchmark writes results, then report.py renders its section
    assert run.script_command("penguins", quick=True)[2:] == ["--quick"]
    assert run.script_command("speed", quick=False)[2:] == []
    assert run.render_command("penguins", True, path)[2:5] == ["--only", "penguins", "--quick"]
    assert "| penguins |" in body and "1.5" in body
    assert "**Failed: penguins**" in body
    assert "- Total wall time of this run: 2.0 min" in body


def test_runner_only_keeps_the_other_rows_of_the_previous_run(tmp_path):
    path = tmp_path / "benchmarks.md"
    first = [run.ScriptRun(name, f"python benchmarks/{name}.py --write", 60.0 * (i + 1), 0,
                           f"2026-01-01T00:0{i}:00+00:00")
             for i, name in enumerate(["speed", "weighting", "penguins"])]
    report.write_section("runner", run.runner_section(first, "python benchmarks/run.py", {
        **harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"}, 360.0), path=path)
    assert run.previous_runs(path) == first
    again = [run.ScriptRun("weighting", "python benchmarks/weighting.py --write", 30.0, 1,
                           "2026-02-02T00:00:00+00:00")]
    merged = run.merge_runs(run.previous_runs(path), again)
    assert [r.name for r in merged] == ["speed", "weighting", "penguins"]
    assert merged[1] == again[0] and merged[0] == first[0]
    body = run.runner_section(merged, "python benchmarks/run.py --only weighting",
                              harness.machine_info(), 30.0, kept=["speed", "penguins"])
    assert "Rows speed, penguins: from an earlier run" in body
    assert "**Failed: weighting**" in body
    # rows written before the "started" column existed take the section's date
    legacy = tmp_path / "legacy.md"
    report.write_section("runner", "## Runner\n\n- Date (UTC): 2025-05-05T00:00:00+00:00\n\n"
                          "| benchmark | command | wall time (min) | exit status |\n"
                          "|:---|:---|---:|---:|\n"
                          "| speed | `python benchmarks/speed.py --write` | 0.9 | 0 |\n",
                          path=legacy)
    assert run.previous_runs(legacy) == [run.ScriptRun(
        "speed", "python benchmarks/speed.py --write", 54.0, 0, "2025-05-05T00:00:00+00:00")]


def test_runner_knows_every_benchmark_script():
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_")} - {
        "run", "harness", "datasets", "report"}
    assert set(run.BENCHMARKS) == scripts
    assert run.parse_args(["--quick"]).quick
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "nope"])


def test_the_contents_list_every_section_the_report_holds(tmp_path):
    """A run of a few benchmarks starts the report with their contents; a later --only
    section (rendered on its own) is added to the contents, in report order."""
    path = tmp_path / "benchmarks.md"
    run.start_report(path, ["speed", "tabular"], quick=False)
    report.write_section("tabular", "## Tabular\n\nbody", path=path)
    report.write_section("speed", "## Speed\n\nbody", path=path)
    report.write_section("references", "## References\n\nbody", path=path)
    text = path.read_text()
    listed = [line.split("**")[1] for line in text.splitlines() if line.startswith("- **")]
    assert listed == ["speed", "tabular", "references", "runner"]
    assert f"- **references**: {report.TITLES['references']} (`benchmarks/references.py`)" in text
    assert text.count(report.CONTENTS) == 1 and text.count("<!-- BEGIN tabular -->") == 1
    # a report without the contents line (e.g. a hand-made one) is left as it is
    bare = tmp_path / "bare.md"
    report.write_section("speed", "## Speed", path=bare)
    assert report.CONTENTS not in bare.read_text()


@pytest.mark.parametrize("name", ["tabular", "bins", "averaging", "weight_decay",
                                  "rare_categories", "ensembles", "references"])
def test_only_sections_name_the_earlier_runs_of_kept_records(tmp_path, name):
    """Every benchmark with ``--only`` renders where its kept records come from: the
    committed results file, given one earlier run, renders that run's line under the
    section's run time (and none without it)."""
    import json

    from bench_results import render_section

    results = json.loads((BENCHMARKS / "results" / f"{name}.json").read_text())
    results["extra"] = {**results.get("extra", {}), "earlier_runs": []}
    plain = render_section(tmp_path, name, results)
    assert "kept from an earlier run" not in plain
    kept = next(iter(results["config"]["datasets"]))
    results["extra"]["earlier_runs"] = [{
        "command": f"python benchmarks/{name}.py", "date_utc": "2026-01-02T03:04:05+00:00",
        "total_seconds": 90.0, "other_load": 0.25, "datasets": [kept]}]
    text = render_section(tmp_path, name, results)
    line = (f"- Records of {kept}: kept from an earlier run, `python benchmarks/{name}.py` on "
            "2026-01-02T03:04:05+00:00 (1.5 min; other processes used 0.25 cores).")
    assert line in text
    run_time = text.index("- Total run time:")
    assert text.index(line) == text.index("\n", run_time) + 1  # right under the run time


def test_committed_report_has_each_known_section_once():
    """docs/benchmarks.md holds no section of a benchmark that no longer exists (a renamed
    one leaves its old block behind otherwise) and none twice."""
    import re

    text = (BENCHMARKS.parent / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    begins = re.findall(r"<!-- BEGIN (\w+) -->", text)
    ends = re.findall(r"<!-- END (\w+) -->", text)
    assert begins == ends
    assert len(begins) == len(set(begins))
    known = list(report.TITLES) + ["runner"]
    assert set(begins) <= set(known), set(begins) - set(known)
