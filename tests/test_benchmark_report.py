"""The benchmark report helpers (benchmarks/_report.py) and the runner (benchmarks/run.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _report  # noqa: E402
import run  # noqa: E402


def test_delta_mtl_sign_corrects_lower_is_better_tasks():
    # +12.5 % on a (higher is better), RMSE 0.25 -> 0.2 is +20 %: mean 16.25 %
    value = _report.delta_mtl({"a": 0.9, "rmse": 0.2}, {"a": 0.8, "rmse": 0.25}, ["rmse"])
    assert value == pytest.approx(16.25)
    # the same numbers read as higher-is-better: (+12.5 - 20) / 2
    assert _report.delta_mtl({"a": 0.9, "rmse": 0.2}, {"a": 0.8, "rmse": 0.25}) == pytest.approx(
        -3.75)
    assert _report.delta_mtl({"a": 0.8}, {"a": 0.8}) == 0.0


@pytest.mark.parametrize(
    ("scores", "single", "lower", "match"),
    [({"a": 1.0}, {"b": 1.0}, (), "tasks differ"),
     ({}, {}, (), "no tasks"),
     ({"a": 1.0}, {"a": 1.0}, ["c"], "unknown tasks"),
     ({"a": 1.0}, {"a": 0.0}, (), "undefined")],
)
def test_delta_mtl_rejects_bad_input(scores, single, lower, match):
    with pytest.raises(ValueError, match=match):
        _report.delta_mtl(scores, single, lower)


def test_write_section_replaces_only_its_section(tmp_path):
    path = tmp_path / "report.md"
    _report.write_section("one", "first", path=path)
    _report.write_section("two", "second", path=path)
    _report.write_section("one", "first again", path=path)
    text = path.read_text()
    assert text.startswith("# Benchmarks")
    assert "first again" in text and "second" in text and "first\n" not in text
    assert text.index("first again") < text.index("second")


def test_report_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(_report, "DEFAULT_REPORT", str(tmp_path / "r.md"))
    assert _report.report_path() == tmp_path / "r.md"
    assert _report.report_path("docs/x.md") == _report.REPO_ROOT / "docs/x.md"


def test_save_figure_writes_a_png_next_to_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    fig = _report.plot_metric_by_method({"m1": {"t1": 0.5, "t2": 0.7}, "m2": {"t1": 0.6, "t2": 0.6}},
                                        {"m1": {"t1": 0.1, "t2": 0.0}, "m2": {"t1": 0.0, "t2": 0.1}},
                                        metric="AUC")
    assert [ax.get_title() for ax in fig.axes] == ["t1", "t2"]
    markdown = _report.save_figure(fig, "demo", "alt text", path=tmp_path / "report.md")
    assert markdown == "![alt text](img/benchmarks/demo.png)"
    png = tmp_path / "img" / "benchmarks" / "demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = _report.plot_time_vs_quality({"a": (1.0, 0.9), "b": (10.0, 0.95)})
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="invalid figure name"):
        _report.save_figure(fig, "../x", "alt", path=tmp_path / "report.md")


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
    runs = [run.ScriptRun("speed", run.script_command("speed", quick=True), 30.0, 0),
            run.ScriptRun("penguins", run.script_command("penguins", quick=True), 90.0, 2)]
    body = run.runner_section(runs, "python benchmarks/run.py --quick", _report.machine_info(),
                              120.0)
    assert "`python benchmarks/speed.py --quick --write`" in body
    assert "| penguins |" in body and "1.5" in body
    assert "**Failed: penguins**" in body
    assert "- Total wall time: 2.0 min" in body


def test_runner_knows_every_benchmark_script():
    scripts = {p.stem for p in BENCHMARKS.glob("*.py") if not p.stem.startswith("_")} - {"run"}
    assert set(run.BENCHMARKS) == scripts
    assert run.parse_args(["--quick"]).quick
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "nope"])
