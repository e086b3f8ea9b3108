"""Render docs/benchmarks.md and its figures from the benchmark results files alone.

Run from the repository root::

    python benchmarks/report.py                      # every section with a results file
    python benchmarks/report.py --only penguins      # just that section; the others are kept
    python benchmarks/report.py --quick              # build/benchmarks-quick/{results,benchmarks.md}
    python benchmarks/report.py --results-dir DIR --output FILE

Each section's prose is a template, ``benchmarks/templates/<name>.md`` (``$name``
placeholders, :class:`string.Template`), filled by the section's renderer in
:data:`RENDERERS` from ``<results dir>/<name>.json`` (format: ``harness.py``).
Nothing is measured here, so a table can be regenerated, restyled or compared
across runs without re-training.  Sections are replaced between their
``<!-- BEGIN name -->`` / ``<!-- END name -->`` markers; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import statistics
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import harness

#: Templates of the section prose, one per rendered benchmark.
TEMPLATES: Path = Path(__file__).resolve().parent / "templates"
#: Where ``--quick`` renders.
QUICK_REPORT: str = "build/benchmarks-quick/benchmarks.md"
#: Default report file, relative to :data:`REPO_ROOT` (or absolute). The runner
#: (``benchmarks/run.py``) points it elsewhere for quick runs through the
#: ``SKMTL_BENCH_REPORT`` environment variable.
DEFAULT_REPORT: str = os.environ.get("SKMTL_BENCH_REPORT", "docs/benchmarks.md")

#: Folder of the report's figures, relative to the report's folder.
FIGURE_DIR: str = "img/benchmarks"

_TITLE: str = (
    "# Benchmarks\n\n"
    "Every table here is written by the script named in its section; "
    "numbers are measured, never edited by hand.\n"
)


def _format_cell(value: Any, fmt: str | None) -> str:
    """Format one table cell; ``None`` becomes an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and fmt is not None:
        return format(value, fmt)
    return str(value).replace("|", "\\|")


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    floatfmt: str | Mapping[str, str] = ".3f",
) -> str:
    """GitHub markdown table of ``rows`` (missing / None cells: ``—``); ``floatfmt`` formats
    float cells, one spec or ``{column: spec}``; numeric columns are right-aligned."""
    body = [[_format_cell(row.get(col), floatfmt if isinstance(floatfmt, str)
                          else floatfmt.get(col)) for col in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(col), (int, float)) or row.get(col) is None for row in rows)
        and any(isinstance(row.get(col), (int, float)) for row in rows)
        for col in columns
    ]
    header = "| " + " | ".join(columns) + " |"
    align = "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"
    lines = [header, align] + ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


def provenance(
    command: str,
    seeds: str,
    repetitions: str,
    info: Mapping[str, Any] | None = None,
    runner: str | None = None,
) -> str:
    """The block every section starts with: command, date, machine, software, seeds,
    repetitions; ``info`` is a :func:`machine_info` (default: now)."""
    info = harness.machine_info() if info is None else info
    runner = runner or os.environ.get("SKMTL_BENCH_RUNNER")
    run_by = f" (run by `{runner}`)" if runner and runner != command else ""
    return (
        f"- Command: `{command}`{run_by}\n"
        f"- Date (UTC): {info['date_utc']}\n"
        f"- Machine: {info['cpu']}, {info['logical_cores']} logical cores, "
        f"{info['os']}\n"
        f"- Software: Python {info['python']}, torch {info['torch']}, "
        f"skorch {info['skorch']}, scikit-learn {info['scikit-learn']}, "
        f"numpy {info['numpy']}, pandas {info['pandas']}\n"
        f"- Threads: torch.get_num_threads() = {info['torch_threads']}; "
        f"BLAS: {info['blas_threads']}\n"
        f"- Load average (1, 5, 15 min) at start: {info['load_avg']}\n"
        f"- Seeds: {seeds}\n"
        f"- Repetitions: {repetitions}\n"
    )


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def write_section(name: str, body_markdown: str, path: str | Path | None = None) -> Path:
    """Replace section ``name`` of the report (appended if absent; the file created with
    the title if missing), keeping the rest; return the absolute path written."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"invalid section name {name!r}")
    target = report_path(path)
    begin, end = _markers(name)
    block = f"{begin}\n{body_markdown.strip()}\n{end}"

    text = target.read_text(encoding="utf-8") if target.exists() else _TITLE
    n_begin, n_end = text.count(begin), text.count(end)
    if n_begin == n_end == 1 and text.index(begin) < text.index(end):
        start = text.index(begin)
        stop = text.index(end) + len(end)
        text = text[:start] + block + text[stop:]
    elif n_begin == n_end == 0:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        raise ValueError(
            f"{target}: section {name!r} has {n_begin} BEGIN and {n_end} END "
            "markers (or END before BEGIN); fix the file by hand first"
        )
    if not text.endswith("\n"):
        text += "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def report_path(path: str | Path | None = None) -> Path:
    """Absolute path of the report file (default :data:`DEFAULT_REPORT`)."""
    target = Path(DEFAULT_REPORT if path is None else path)
    return target if target.is_absolute() else harness.REPO_ROOT / target


def save_figure(fig: Any, name: str, alt: str, path: str | Path | None = None) -> str:
    """Save ``fig`` as ``<report folder>/img/benchmarks/<name>.png``, close it, and return
    the markdown image link, relative to the report."""
    import matplotlib.pyplot as plt

    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"invalid figure name {name!r}")
    folder = report_path(path).parent / FIGURE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"![{alt}]({FIGURE_DIR}/{name}.png)"


def plot_metric_by_method(
    table: Mapping[str, Mapping[str, float]] | Any,
    errors: Mapping[str, Mapping[str, float]] | Any = None,
    metric: str = "score",
    title: str = "",
) -> Any:
    """One panel per task, one point (± error) per method; ``table`` / ``errors``:
    ``{method: {task: value}}`` or DataFrames; ``metric``: y label, or ``{task: label}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    means = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table).T
    errs = None
    if errors is not None:
        errs = errors if isinstance(errors, pd.DataFrame) else pd.DataFrame(errors).T
    tasks = list(means.columns)
    panel_width = max(3.2, 0.3 * len(means.index) + 1.2)
    fig, axes = plt.subplots(1, len(tasks), figsize=(panel_width * len(tasks), 3.8), squeeze=False)
    positions = np.arange(len(means.index))
    for ax, task in zip(axes[0], tasks):
        values = means[task].to_numpy(dtype=float)
        yerr = None if errs is None else errs[task].reindex(means.index).to_numpy(dtype=float)
        # points, not bars: the axis is zoomed on the differences, not started at 0
        ax.errorbar(positions, values, yerr=yerr, fmt="o", color="tab:blue", capsize=3)
        low = values if yerr is None else values - np.nan_to_num(yerr)
        high = values if yerr is None else values + np.nan_to_num(yerr)
        finite = np.isfinite(values)
        if finite.any():  # zoom on the points and their error bars
            lo, hi = low[finite].min(), high[finite].max()
            pad = max(0.1 * (hi - lo), 1e-3 * max(abs(hi), 1e-12))
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xticks(positions, [str(m) for m in means.index], rotation=60, ha="right",
                      fontsize=8)
        label = metric.get(task, "") if isinstance(metric, Mapping) else metric
        ax.set(title=str(task), ylabel=label)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_time_vs_quality(
    points: Mapping[str, tuple[float, float]],
    xlabel: str = "fit time (s)",
    ylabel: str = "quality",
    title: str = "",
    logx: bool = True,
) -> Any:
    """Scatter of cost against quality, one labelled point per ``{method: (time, quality)}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for method, (seconds, quality) in points.items():
        ax.scatter([seconds], [quality], s=25)
        ax.annotate(str(method), (seconds, quality), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels run together
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def metric_figure(groups: Mapping[str, Sequence[Mapping[str, Any]]], panels: Mapping[str, str],
                  name: str, alt: str, report: Path, **plot: Any) -> str:
    """:func:`plot_metric_by_method` of the mean ± std over each group's records of each
    ``{panel: metric key}``, saved (:func:`save_figure`); return its link."""
    vals = {g: {p: [r["metrics"][k] for r in rs] for p, k in panels.items()}
            for g, rs in groups.items()}
    return save_figure(plot_metric_by_method(
        {g: {p: _mean(v) for p, v in d.items()} for g, d in vals.items()},
        {g: {p: _std(v) for p, v in d.items()} for g, d in vals.items()}, **plot), name, alt, report)


def time_figure(groups: Mapping[str, Sequence[Mapping[str, Any]]], quality: Mapping[str, float],
                name: str, alt: str, report: Path, **plot: Any) -> str:
    """:func:`plot_time_vs_quality` of each group's median fit time against ``quality[group]``,
    saved; return its link."""
    points = {g: (statistics.median(r["fit_seconds"] for r in groups[g]), q)
              for g, q in quality.items()}
    return save_figure(plot_time_vs_quality(points, **plot), name, alt, report)


# ------------------------------------------------------------------------ rendering
def fill(template: str, values: Mapping[str, Any]) -> str:
    """``templates/<template>.md`` with its ``$placeholders`` filled (a missing one raises)."""
    text = (TEMPLATES / f"{template}.md").read_text(encoding="utf-8")
    return string.Template(text).substitute({k: str(v) for k, v in values.items()})


def header_values(res: Mapping[str, Any], seeds: str, repetitions: str) -> dict[str, Any]:
    """Placeholders every template shares: provenance, run time, other load, results file."""
    load = res.get("other_load")
    return {
        "provenance": provenance(res["command"], seeds, repetitions, res["machine"],
                                 res.get("runner")).rstrip("\n")
        + f"\n- skmtl measured: {res['skmtl']}",
        "total_min": f"{res['total_seconds'] / 60:.1f}",
        "other_load": "unavailable" if load is None else f"{load:.2f} cores",
        "results_file": res.get("_path", "the results file"),
    }


def ok(records: Sequence[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    """Records without error whose fields equal ``match``."""
    return [r for r in records if not r.get("error")
            and all(r.get(k) == v for k, v in match.items())]


def dataset_heading(name: str, d: Mapping[str, Any]) -> str:
    """A raw-table dataset's subsection heading and paragraph (``d``: its description in the
    results file, as ``harness.describe`` writes it)."""
    return (f"### {name}\n\n{d['description']} ({d['train_rows']:,} training / "
            f"{d['test_rows']:,} test rows). Source: {d['citation']}.\n\n")


def quality_cells(records: Sequence[Mapping[str, Any]], method: str, dataset: str,
                  tasks: Sequence[str], fmt: str = ".4f") -> tuple[dict[str, Any], list]:
    """A table row's method cell (with its number of failed records) and each task's metric
    as mean ± std over the method's good records on ``dataset``; and those records."""
    good = ok(records, method=method, dataset=dataset)
    failed = sum(1 for r in records if r["method"] == method and r["dataset"] == dataset
                 and r.get("error"))
    row: dict[str, Any] = {"method": method + (f" ({failed} failed)" if failed else "")}
    for task in tasks:
        row[task] = harness.mean_std([r["metrics"][task] for r in good], fmt)
    return row, good


def paired_deltas(records: Sequence[Mapping[str, Any]], method: Mapping[str, Any],
                  reference: Mapping[str, Any], pair_on: Sequence[str],
                  metrics: Mapping[str, str] | None = None, lower: Sequence[str] = ()
                  ) -> list[float]:
    """Δ_MTL (%) of each ``method`` record against the ``reference`` record of the same pair.

    ``metrics`` maps task -> metric key (default: every metric of the record).
    """
    refs = {tuple(r.get(k) for k in pair_on): r for r in ok(records, **reference)}
    out = []
    for rec in ok(records, **method):
        ref = refs.get(tuple(rec.get(k) for k in pair_on))
        if ref is None:
            continue
        keys = metrics or {k: k for k in rec["metrics"]}
        out.append(harness.delta_mtl({t: rec["metrics"][k] for t, k in keys.items()},
                             {t: ref["metrics"][k] for t, k in keys.items()}, lower))
    return out


def epoch_ms(recs: Sequence[Mapping[str, Any]]) -> str | None:
    """Median (min–max) over records of each record's median per-epoch time, in ms."""
    per = [1000 * statistics.median(r["epoch_seconds"]) for r in recs if r.get("epoch_seconds")]
    return harness.median_spread(per, ".1f")


def _mean(values: Sequence[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


#: Sections in report order; each is rendered by ``sections/<name>.py``'s ``render``.
SECTIONS: list[str] = ["speed", "architectures", "weighting", "multilabel", "penguins",
                       "missing_labels", "defaults", "tabular", "references", "ensembles",
                       "affinity", "precision", "data_parallel", "serving"]
#: The sections that have a renderer (a ``sections/<name>.py``), in report order.
RENDERERS: list[str] = [n for n in SECTIONS
                        if (Path(__file__).resolve().parent / "sections" / f"{n}.py").exists()]


def renderer(name: str) -> Callable[[Mapping[str, Any], Path, bool], str]:
    """``sections/<name>.py``'s ``render(results, report_path, figures) -> markdown``."""
    if name not in RENDERERS:
        raise KeyError(f"no renderer for {name!r}; known: {RENDERERS}")
    return importlib.import_module(f"sections.{name}").render


def render(name: str, results_file: str | Path, report: str | Path | None = None,
           figures: bool = True) -> Path:
    """Render section ``name`` from ``results_file`` into ``report``; return the report path."""
    res = harness.load_results(results_file)
    path = Path(results_file).resolve()
    try:
        res["_path"] = path.relative_to(harness.REPO_ROOT).as_posix()
    except ValueError:
        res["_path"] = path.name
    target = report_path(report)
    return write_section(name, renderer(name)(res, target, figures), path=target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(RENDERERS), metavar="NAME")
    parser.add_argument("--quick", action="store_true",
                        help=f"read {harness.QUICK_RESULTS_DIR.relative_to(harness.REPO_ROOT)}, write "
                        f"{QUICK_REPORT}")
    parser.add_argument("--results-dir", help="folder of the results files")
    parser.add_argument("--output", help="report file (default docs/benchmarks.md, or "
                        "$SKMTL_BENCH_REPORT)")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    folder = Path(args.results_dir) if args.results_dir else (
        harness.QUICK_RESULTS_DIR if args.quick else harness.RESULTS_DIR)
    output = args.output or (QUICK_REPORT if args.quick and "SKMTL_BENCH_REPORT" not in
                             os.environ else None)
    status = 0
    for name in args.only or list(RENDERERS):
        results = folder / f"{name}.json"
        if not results.exists():
            print(f"[report.py] {name}: no results file {results}", file=sys.stderr)
            status = 1 if args.only else status
            continue
        path = render(name, results, output, figures=not args.no_figures)
        print(f"[report.py] {name}: rendered from {results} into {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
