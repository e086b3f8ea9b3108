"""Run every benchmark in ``benchmarks/`` and regenerate the report.

Run from the repository root (``bash scripts/bench.sh`` installs the ``benchmarks``
extra first and then runs this script with the same arguments)::

    python benchmarks/run.py                  # every benchmark, full size: rewrites docs/benchmarks.md
    python benchmarks/run.py --quick          # smoke run (< 5 min) -> build/benchmarks-quick/
    python benchmarks/run.py --only weighting penguins   # replace those sections only
    python benchmarks/run.py --list           # the benchmarks, in report order

Each benchmark script (``python benchmarks/<name>.py``, see its docstring) runs here in a
fresh subprocess, one at a time (they time things), writes its results file
(``benchmarks/results/<name>.json``; ``--quick``: ``build/benchmarks-quick/results/``), and
``report.py --only <name>`` renders its section (``sections/<name>.py``).  The report is
started afresh (title, contents, sections in :data:`BENCHMARKS` order) and closes with a
``runner`` section (each script's wall time and exit status).  A failing script does not stop
the others; the exit status is then 1.  ``--only`` keeps the other sections and runner rows.
``--quick`` passes ``--quick`` to every script (tiny sizes: checks the pipeline, not results)
and writes ``build/benchmarks-quick/benchmarks.md`` unless ``--output`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import REPO_ROOT, command_line, machine_info
from report import (
    _TITLE,
    CONTENTS,
    FIGURE_DIR,
    TITLES,
    _markers,
    contents_lines,
    markdown_table,
    provenance,
    write_section,
)

#: The benchmarks, in report order: name -> what it measures.
BENCHMARKS: dict[str, str] = TITLES

#: Where a full run writes, relative to the repository root.
FULL_REPORT = "docs/benchmarks.md"
#: Where a quick run writes, relative to the repository root.
QUICK_REPORT = "build/benchmarks-quick/benchmarks.md"


@dataclass
class ScriptRun:
    """One benchmark script's run: its command, wall time and exit status."""

    name: str
    command: str
    seconds: float
    returncode: int
    started: str = "—"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of every benchmark (< 5 min), not written to docs/")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help="run these benchmarks only and replace just their sections")
    parser.add_argument("--output", default=None,
                        help=f"report file (default {FULL_REPORT}; {QUICK_REPORT} with --quick)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _shown(command: Sequence[str]) -> str:
    """``python benchmarks/<name>.py ...`` as written in the report."""
    script = Path(command[1]).resolve().relative_to(REPO_ROOT).as_posix()
    return " ".join(["python", script, *command[2:]])


def script_command(name: str, quick: bool) -> list[str]:
    """The command that runs one benchmark script (it writes its results file)."""
    script = Path(__file__).resolve().parent / f"{name}.py"
    return [sys.executable, str(script), *(["--quick"] if quick else [])]


def render_command(name: str, quick: bool, report: Path) -> list[str]:
    """The command that renders a benchmark's section from its results file."""
    script = Path(__file__).resolve().parent / "report.py"
    return [sys.executable, str(script), "--only", name, *(["--quick"] if quick else []),
            "--output", str(report)]


def start_report(path: Path, names: Sequence[str], quick: bool) -> None:
    """Write a fresh report: title, contents; remove the old figures."""
    figures = path.parent / FIGURE_DIR
    if figures.is_dir():
        shutil.rmtree(figures)
    lines = [_TITLE.rstrip("\n"), ""]
    if quick:
        lines += ["**Smoke run (`--quick`)**: tiny sizes, one seed, few epochs. These numbers "
                  "check that every benchmark runs end to end; they are not results.", ""]
    lines += [CONTENTS, "", *contents_lines(names), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def run_script(name: str, quick: bool, report: Path, runner_command: str) -> ScriptRun:
    """Run one benchmark script in a subprocess, its output streamed to ours."""
    command = script_command(name, quick)
    env = dict(os.environ, SKMTL_BENCH_REPORT=str(report), SKMTL_BENCH_RUNNER=runner_command)
    print(f"\n===== [run.py] {name}: {' '.join(command[1:])} =====", flush=True)
    started = _now()
    start = time.perf_counter()
    returncode = subprocess.call(command, cwd=REPO_ROOT, env=env)
    shown = _shown(command)
    if returncode == 0:  # then the section, from the results file
        render = render_command(name, quick, report)
        returncode = subprocess.call(render, cwd=REPO_ROOT, env=env)
        shown += " && " + _shown(render[:-2])  # without the machine-specific --output path
    seconds = time.perf_counter() - start
    print(f"===== [run.py] {name}: exit {returncode} in {seconds / 60:.1f} min =====", flush=True)
    return ScriptRun(name, shown, seconds, returncode, started)


_ROW = re.compile(r"^\| (\w+) \| `([^`]+)` \| ([\d.]+) \| (-?\d+) \|(?: ([^|]+) \|)?$")


def previous_runs(report: Path) -> list[ScriptRun]:
    """The runs listed in the report's ``runner`` section (no *started*: the section's date)."""
    if not report.exists():
        return []
    text = report.read_text(encoding="utf-8")
    begin, end = _markers("runner")
    if begin not in text or end not in text:
        return []
    section = text[text.index(begin):text.index(end)]
    date = re.search(r"^- Date \(UTC\): (\S+)", section, re.M)
    runs = []
    for line in section.splitlines():
        match = _ROW.match(line.strip())
        if match and match.group(1) in BENCHMARKS:
            name, command, minutes, returncode, started = match.groups()
            started = (started or "").strip() or (date.group(1) if date else "—")
            runs.append(ScriptRun(name, command, float(minutes) * 60, int(returncode), started))
    return runs


def merge_runs(old: Sequence[ScriptRun], new: Sequence[ScriptRun]) -> list[ScriptRun]:
    """``old`` with the benchmarks of ``new`` replaced, in report order."""
    latest = {run.name: run for run in [*old, *new]}
    return [latest[name] for name in BENCHMARKS if name in latest]


def runner_section(runs: Sequence[ScriptRun], command: str, info: dict, total: float,
                   kept: Sequence[str] = ()) -> str:
    """The ``runner`` section: every script's command, start, wall time and exit status;
    ``kept``: the rows carried over from an earlier run (``--only``)."""
    rows = [
        {"benchmark": run.name,
         "command": f"`{run.command}`",
         "wall time (min)": run.seconds / 60,
         "exit status": run.returncode,
         "started (UTC)": run.started}
        for run in runs
    ]
    table = markdown_table(
        rows, ["benchmark", "command", "wall time (min)", "exit status", "started (UTC)"],
        floatfmt={"wall time (min)": ".1f"})
    if kept:
        table += (f"\nRows {', '.join(kept)}: from an earlier run of the runner, kept because "
                  "this run (`--only`) did not include them.\n")
    failed = [run.name for run in runs if run.returncode != 0]
    verdict = (f"**Failed: {', '.join(failed)}** (their sections may be missing or stale)."
               if failed else "Every script finished with exit status 0.")
    return (
        "## Runner\n\n"
        + provenance(command, seeds="see each section",
                     repetitions="see each section; scripts ran one after the other", info=info)
        + f"- Total wall time of this run: {total / 60:.1f} min\n\n"
        + table + "\n" + verdict + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks one after the other and write the report."""
    args = parse_args(argv)
    if args.list:
        for name, what in BENCHMARKS.items():
            print(f"{name:16s} {what}")
        return 0
    names = list(args.only) if args.only else list(BENCHMARKS)
    output = Path(args.output or (QUICK_REPORT if args.quick else FULL_REPORT))
    report = output if output.is_absolute() else REPO_ROOT / output
    command = command_line(None if argv is None else [sys.argv[0], *argv])
    info = machine_info()
    old = previous_runs(report) if args.only else []
    if not args.only:
        start_report(report, names, args.quick)
    start = time.perf_counter()
    runs = [run_script(name, args.quick, report, command) for name in names]
    total = time.perf_counter() - start
    listed = merge_runs(old, runs)
    kept = [run.name for run in listed if run.name not in names]
    write_section("runner", runner_section(listed, command, info, total, kept), path=report)
    print(f"\n[run.py] report: {report}")
    for run in runs:
        print(f"[run.py] {run.name:16s} exit {run.returncode}  {run.seconds / 60:5.1f} min")
    print(f"[run.py] total {total / 60:.1f} min")
    return 0 if all(run.returncode == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
