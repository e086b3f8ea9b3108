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

#: Default report file, relative to :data:`REPO_ROOT`.
DEFAULT_REPORT: str = "docs/benchmarks.md"

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
    return (
        f"- Command: `{command}`\n"
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


def write_section(name: str, body_markdown: str, path: str | Path = DEFAULT_REPORT) -> Path:
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
        Report file; a relative path is taken relative to the repository root,
        not the current directory.

    Returns
    -------
    pathlib.Path
        The absolute path of the file written.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"invalid section name {name!r}")
    target = Path(path)
    if not target.is_absolute():
        target = REPO_ROOT / target
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
