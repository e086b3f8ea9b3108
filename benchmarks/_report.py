"""Helpers shared by the benchmark scripts in ``benchmarks/``.

The scripts in this folder are plain scripts (``python benchmarks/<name>.py``),
not a package; they import this module as ``_report`` because Python puts the
script's own folder first on ``sys.path``.

Every benchmark writes its results into one named section of
``docs/benchmarks.md`` with :func:`write_section`.  A section body should be
built with :func:`provenance` so that it always states the machine, the date,
the exact command that produced it and the seeds / repetitions used.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

#: Root of the repository (the folder that contains ``benchmarks/``).
REPO_ROOT: Path = Path(__file__).resolve().parent.parent

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


def _cpu_model() -> str:
    """Return a human-readable CPU model name, or ``"unknown"``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(dist: str) -> str:
    """Return the installed version of distribution ``dist`` or ``"not installed"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """Describe the machine and software stack a benchmark runs on.

    Returns
    -------
    dict
        Keys: ``cpu``, ``logical_cores``, ``os``, ``python``, ``torch``,
        ``skorch``, ``scikit-learn``, ``numpy``, ``pandas``,
        ``torch_threads`` (``torch.get_num_threads()`` at call time),
        ``blas_threads`` (numpy/scipy BLAS pools as reported by threadpoolctl,
        if available), ``load_avg`` (1, 5 and 15 minute load averages: other
        work on the machine distorts timings) and ``date_utc`` (ISO 8601,
        seconds precision).
    """
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for dist in ("torch", "skorch", "scikit-learn", "numpy", "pandas"):
        info[dist] = _version(dist)
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - every benchmark needs torch
        info["torch_threads"] = None
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas_threads"] = (
            ", ".join(f"{p.get('internal_api')}={p.get('num_threads')}" for p in pools)
            or "none found"
        )
    except ImportError:
        info["blas_threads"] = "threadpoolctl not installed"
    try:
        info["load_avg"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not available on this platform
        info["load_avg"] = "unavailable"
    info["date_utc"] = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return info


def command_line(argv: Sequence[str] | None = None) -> str:
    """Return the command that started this process, as a copy-pasteable string.

    The script path is made relative to the repository root when possible and
    the interpreter is written as ``python`` (the path of the virtualenv's
    interpreter is machine specific and not useful in a report).
    """
    args = list(sys.argv if argv is None else argv)
    if args:
        script = Path(args[0]).resolve()
        try:
            args[0] = script.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            args[0] = str(script)
    return shlex.join(["python", *args])


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
    """Render ``rows`` as a GitHub-flavoured markdown table.

    Parameters
    ----------
    rows
        One mapping per table row; missing keys and ``None`` render as ``—``.
    columns
        Column names, in order; they are also the keys looked up in each row.
    floatfmt
        Format spec applied to ``float`` cells, either one spec for all
        columns (e.g. ``".3f"``) or a mapping ``column -> spec``; columns not
        in the mapping use ``str()``.  Integers and strings are written as is.

    Returns
    -------
    str
        The table, ending with a newline.  Numeric-looking columns are
        right-aligned.
    """

    def fmt_for(col: str) -> str | None:
        if isinstance(floatfmt, str):
            return floatfmt
        return floatfmt.get(col)

    body = [[_format_cell(row.get(col), fmt_for(col)) for col in columns] for row in rows]
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
) -> str:
    """Return the markdown block every section body must start with.

    Parameters
    ----------
    command
        The exact command that produced the section (see :func:`command_line`).
    seeds
        Which seeds were used, in words (e.g. ``"data seed 0, torch seed 0"``).
    repetitions
        How many repetitions were measured and how they are summarised.
    info
        Output of :func:`machine_info`; collected now if omitted.
    """
    info = machine_info() if info is None else info
    runner = os.environ.get("SKMTL_BENCH_RUNNER")
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


@dataclass(frozen=True)
class CpuSnapshot:
    """System-wide and own CPU time at one instant (see :func:`cpu_snapshot`)."""

    wall: float
    system_busy: float
    own: float


def cpu_snapshot() -> CpuSnapshot | None:
    """Read the CPU time spent so far, system-wide and by this process.

    ``system_busy`` is the non-idle CPU time of all cores from ``/proc/stat``
    (seconds); ``own`` is this process's user + system time.  Returns
    ``None`` where ``/proc/stat`` is not available.
    """
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest is part of user)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    times = os.times()
    return CpuSnapshot(
        wall=time.perf_counter(),
        system_busy=busy / os.sysconf("SC_CLK_TCK"),
        own=times.user + times.system,
    )


def other_cpu_load(start: CpuSnapshot | None, end: CpuSnapshot | None) -> float | None:
    """Average number of cores busy with *other* processes between two snapshots.

    Computed as the system-wide non-idle CPU time (which includes time stolen
    by the hypervisor, if any) minus this process's own CPU time, divided by
    the wall time.  Benchmarks should report it: anything well above 0 means
    something else was competing for the CPU and the timing is inflated.
    """
    if start is None or end is None or end.wall <= start.wall:
        return None
    others = (end.system_busy - start.system_busy) - (end.own - start.own)
    return max(others, 0.0) / (end.wall - start.wall)


def _markers(name: str) -> tuple[str, str]:
    """Return the BEGIN / END marker comments of section ``name``."""
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def write_section(name: str, body_markdown: str, path: str | Path | None = None) -> Path:
    """Write ``body_markdown`` into section ``name`` of the benchmark report.

    The text between ``<!-- BEGIN {name} -->`` and ``<!-- END {name} -->`` is
    replaced; everything else in the file is kept.  If the file does not exist
    it is created with the standard title and intro; if the section does not
    exist it is appended at the end of the file.

    Parameters
    ----------
    name
        Section name (letters, digits, ``-``, ``_``, ``.``).
    body_markdown
        New content of the section.  It should start with :func:`provenance`.
    path
        Report file (default :data:`DEFAULT_REPORT`); a relative path is taken
        relative to the repository root, not the current directory.

    Returns
    -------
    pathlib.Path
        The absolute path of the file written.
    """
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
    return target if target.is_absolute() else REPO_ROOT / target


def save_figure(fig: Any, name: str, alt: str, path: str | Path | None = None) -> str:
    """Save a matplotlib figure as a PNG next to the report; return its markdown.

    The file is ``<report folder>/img/benchmarks/<name>.png`` and the returned
    markdown image link is relative to the report, so it renders on GitHub and in
    the Sphinx site alike.  The figure is closed.

    Parameters
    ----------
    fig
        A matplotlib Figure.
    name
        File stem (letters, digits, ``-``, ``_``).
    alt
        Alternative text of the image.
    path
        Report file (default :data:`DEFAULT_REPORT`).
    """
    import matplotlib.pyplot as plt

    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"invalid figure name {name!r}")
    folder = report_path(path).parent / FIGURE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"![{alt}]({FIGURE_DIR}/{name}.png)"


def delta_mtl(
    scores: Mapping[str, float],
    single: Mapping[str, float],
    lower_is_better: Sequence[str] = (),
) -> float:
    """Multi-task gain Δ_MTL in percent (Maninis et al., CVPR 2019).

    The mean over tasks of the relative improvement of ``scores`` over the
    single-task ``single`` scores, sign-corrected so that positive is better for
    every task: ``100 / T * sum_t (-1)^{l_t} (M_t - S_t) / S_t`` with ``l_t = 1``
    when lower is better for task ``t``.

    Parameters
    ----------
    scores
        ``{task: metric}`` of the multi-task method.
    single
        ``{task: metric}`` of the single-task reference (same tasks).
    lower_is_better
        Tasks whose metric is an error (lower is better).

    Returns
    -------
    float
    """
    if set(scores) != set(single):
        raise ValueError(f"tasks differ: {sorted(scores)} vs {sorted(single)}")
    if not scores:
        raise ValueError("no tasks")
    lower = set(lower_is_better)
    unknown = lower - set(scores)
    if unknown:
        raise ValueError(f"lower_is_better names unknown tasks {sorted(unknown)}")
    total = 0.0
    for task, value in scores.items():
        reference = single[task]
        if reference == 0:
            raise ValueError(f"single-task metric of {task!r} is 0; Δ_MTL is undefined")
        sign = -1.0 if task in lower else 1.0
        total += sign * (value - reference) / abs(reference)
    return 100.0 * total / len(scores)


def plot_metric_by_method(
    table: Mapping[str, Mapping[str, float]] | Any,
    errors: Mapping[str, Mapping[str, float]] | Any = None,
    metric: str = "score",
    title: str = "",
) -> Any:
    """Per-task metric by method: one panel per task, one point (± error) per method.

    Parameters
    ----------
    table
        ``{method: {task: mean}}`` or a DataFrame (methods × tasks).
    errors
        Same shape: the error bars (e.g. std over seeds), or None.
    metric
        y-axis label (one string, or ``{task: label}``).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
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
    """Scatter of cost against quality, one labelled point per method.

    Parameters
    ----------
    points
        ``{method: (time, quality)}``.
    xlabel, ylabel, title
        Labels.
    logx
        Log-scale time axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
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
