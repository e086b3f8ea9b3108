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
import os
import re
import statistics
import string
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import (
    IDLE_THRESHOLD,
    QUICK_RESULTS_DIR,
    REPO_ROOT,
    RESULTS_DIR,
    delta_mtl,
    load_results,
    machine_info,
    mean_std,
    median_spread,
)

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
    runner: str | None = None,
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
        Output of :func:`machine_info` (rendering from results: the stored one); collected
        now if omitted.
    runner
        The runner command that started the script (default ``$SKMTL_BENCH_RUNNER``).
    """
    info = machine_info() if info is None else info
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
        out.append(delta_mtl({t: rec["metrics"][k] for t, k in keys.items()},
                             {t: ref["metrics"][k] for t, k in keys.items()}, lower))
    return out


def epoch_ms(recs: Sequence[Mapping[str, Any]]) -> str | None:
    """Median (min–max) over records of each record's median per-epoch time, in ms."""
    per = [1000 * statistics.median(r["epoch_seconds"]) for r in recs if r.get("epoch_seconds")]
    return median_spread(per, ".1f")


def _mean(values: Sequence[float]) -> float:
    return statistics.mean(values) if values else float("nan")


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


# ------------------------------------------------------------------------------ speed
SPEED_COLUMNS: list[str] = ["method", "N", "s/epoch, median (min–max)", "ratio to floor",
                            "incl. setup s/epoch", "other load (cores)", "attempts",
                            "all epochs (s)"]


def _speed_median(recs: Sequence[Mapping[str, Any]], method: str, n: int) -> float | None:
    good = [r for r in ok(recs, method=method, n=n) if r.get("epoch_seconds")]
    return statistics.median(good[0]["epoch_seconds"]) if good else None


def speed_verdict(recs: Sequence[Mapping[str, Any]], target: Mapping[str, Any]) -> str:
    """The speed target and whether the measured medians meet it, per N."""
    n_t, ratio_t, speedup_t = target["n"], target["floor_ratio"], target["skorch_speedup"]
    lines = [f"Target at N={n_t // 1000}k: skmtl ≤ {ratio_t:.2f}× the floor and ≥ "
             f"{speedup_t:.0f}× faster than default skorch (median s/epoch)."]
    sizes = sorted({r["n"] for r in recs})
    for n in sizes:
        label = "target" if n == n_t else "reference only"
        fl, sk, mtl = (_speed_median(recs, m, n) for m in ("floor", "skorch default", "skmtl"))
        context = "" if fl is None or sk is None else (
            f" For context: default skorch / floor = {sk / fl:.2f}×, so being {speedup_t:.0f}× "
            f"faster than default skorch requires skmtl ≤ {sk / speedup_t / fl:.2f}× the floor.")
        if mtl is None:
            why = next((r["error"] for r in recs if r["method"] == "skmtl" and r["n"] == n
                        and r.get("error")), "skmtl was not in this run")
            lines.append(f"- N={n:,} ({label}): cannot be evaluated, skmtl not measured ({why})."
                         + context)
            continue
        parts = ["floor not measured" if fl is None else
                 f"skmtl / floor = {mtl / fl:.2f}× ({'met' if mtl / fl <= ratio_t else 'NOT met'})",
                 "default skorch not measured" if sk is None else
                 f"default skorch / skmtl = {sk / mtl:.2f}× "
                 f"({'met' if sk / mtl >= speedup_t else 'NOT met'})"]
        lines.append(f"- N={n:,} ({label}): " + "; ".join(parts) + "." + context)
    if n_t not in sizes:
        lines.append(f"- This run did not include N={n_t:,}, so the target is not evaluated.")
    return "\n".join(lines) + "\n"


def render_speed(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``speed`` section (no figure)."""
    cfg, recs = res["config"], res["records"]
    rows = []
    for rec in recs:
        times = rec.get("epoch_seconds") or []
        fl = _speed_median(recs, "floor", rec["n"])
        rows.append({
            "method": rec["method"] + (" (not measured)" if rec.get("error") else ""),
            "N": f"{rec['n']:,}", "s/epoch, median (min–max)": median_spread(times, ".3f"),
            "ratio to floor": statistics.median(times) / fl if times and fl else None,
            "incl. setup s/epoch": rec["fit_seconds"] / len(times) if times else None,
            "other load (cores)": rec.get("other_load"), "attempts": rec.get("attempts"),
            "all epochs (s)": ", ".join(f"{s:.3f}" for s in times) or None})
    values = header_values(
        res,
        seeds=(f"data seed {cfg['data_seed']} (latent map seed {cfg['latent_seed']}); torch "
               f"seed {cfg['torch_seed']} before building each model; MLPRegressor / skmtl "
               f"random_state={cfg['torch_seed']}"),
        repetitions=(f"{cfg['epochs']} epochs per method and N, one run each; median (min–max) "
                     "of the epoch times (no warm-up epoch discarded)"))
    values |= {
        "lr": f"{cfg['lr']:g}", "batch_size": cfg["batch_size"], "threads": cfg["threads"],
        "idle": IDLE_THRESHOLD, "retry_busy": cfg["retry_busy"],
        "wait_idle": f"{cfg['wait_idle']:g}",
        "table": markdown_table(rows, SPEED_COLUMNS, {
            "ratio to floor": ".2f", "incl. setup s/epoch": ".3f", "other load (cores)": ".2f"}),
        "verdict": speed_verdict(recs, cfg["target"]),
    }
    return fill("speed", values)


# --------------------------------------------------------------------------- penguins
PENGUIN_METRICS: list[tuple[str, str, str]] = [
    ("species_acc", "species accuracy ↑", ".3f"),
    ("sex_acc", "sex accuracy ↑", ".3f"),
    ("mass_r2", "body mass R² ↑", ".3f"),
    ("mass_rmse", "body mass RMSE (g) ↓", ".0f"),
]
PENGUIN_DELTA: dict[str, str] = {"species": "species_acc", "sex": "sex_acc",
                                 "body_mass_g": "mass_rmse"}


def render_penguins(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``penguins`` section."""
    cfg, recs = res["config"], res["records"]
    ref = cfg["reference"]

    def deltas(method: str) -> list[float]:
        return paired_deltas(recs, {"method": method}, {"method": ref}, ("seed", "fold"),
                             PENGUIN_DELTA, ["body_mass_g"])

    rows, means = [], {}
    for method in cfg["methods"]:
        good = ok(recs, method=method)
        failed = sum(1 for r in recs if r["method"] == method and r.get("error"))
        d = deltas(method)
        row: dict[str, Any] = {
            "method": method, "models": good[0]["models"] if good else None,
            "splits": len(good) if not failed else f"{len(good)} ({failed} failed)"}
        for key, col, fmt in PENGUIN_METRICS:
            row[col] = mean_std([r["metrics"][key] for r in good], fmt)
            means.setdefault(key, {})[method] = _mean([r["metrics"][key] for r in good])
        row["Δ_MTL vs separate (%) ↑"] = mean_std(d, "+.2f")
        if method != ref and d:
            means.setdefault("delta", {})[method] = _mean(d)
        row["Δ_MTL > 0"] = "—" if method == ref or not d else f"{sum(x > 0 for x in d)}/{len(d)}"
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good])
        row["median epoch (ms)"] = epoch_ms(good)
        rows.append(row)
    columns = list(rows[0]) if rows else []
    best = []
    for key, col, _ in [*PENGUIN_METRICS, ("delta", "Δ_MTL vs separate (%)", "")]:
        m = {k: v for k, v in means.get(key, {}).items() if v == v}
        if len(m) >= 2:
            rank = sorted(m, key=m.get, reverse=key != "mass_rmse")
            best.append(f"- {col.rstrip(' ↑↓')}: **{rank[0]}** ({m[rank[0]]:.4g}), then "
                        f"{rank[1]} ({m[rank[1]]:.4g})\n")
    grid, tuning = cfg["grid"], res["extra"].get("tuning", [])
    short = [f"hidden={tuple(s['hidden_layer_sizes'])}, lr={s['lr']:g}" for s in grid]
    tuning_md = ""
    if len(grid) > 1:
        trows = [{"setting": s, "chosen in splits": sum(t["chosen"] == i for t in tuning),
                  "inner-CV mean task score": mean_std([t["scores"][i] for t in tuning], ".4f")}
                 for i, s in enumerate(short)]
        per = ", ".join(f"r{t['seed']}f{t['fold']}: {short[t['chosen']]}" for t in tuning)
        tuning_md = ("<details><summary>Nested CV behind the skmtl settings (training folds "
                     "only)</summary>\n\n" + markdown_table(trows, list(trows[0]))
                     + f"\nChosen per split: {per}.\n\n</details>\n\n")
    details = []
    for method in cfg["methods"]:
        for seed in cfg["seeds"]:
            good = ok(recs, method=method, seed=seed)
            if good:
                d = paired_deltas(
                    recs, {"method": method, "seed": seed}, {"method": ref, "seed": seed},
                    ("seed", "fold"), PENGUIN_DELTA, ["body_mass_g"])
                details.append({"method": method, "repeat (seed)": seed,
                                **{c: _mean([r["metrics"][k] for r in good])
                                   for k, c, _ in PENGUIN_METRICS},
                                "Δ_MTL (%)": _mean(d) if d else None})
    fmt = {c: f for _, c, f in PENGUIN_METRICS} | {"Δ_MTL (%)": "+.2f"}
    failures = [r for r in recs if r.get("error")]
    threads = res["machine"]["torch_threads"]
    values = header_values(
        res,
        seeds=(f"{', '.join(map(str, cfg['seeds']))}: repeat *r* uses `StratifiedKFold("
               f"{cfg['folds']}, shuffle=True, random_state=r)` (stratified by species), inner "
               f"CV `StratifiedKFold({cfg['inner_folds']}, shuffle=True, random_state=r)`, and "
               "`random_state=r` for every skmtl network, MLP and gradient-boosting model"),
        repetitions=(f"{cfg['folds']} folds x {len(cfg['seeds'])} repeat(s) = "
                     f"{cfg['folds'] * len(cfg['seeds'])} outer splits per method; tables give "
                     "mean ± sample std over all the splits (folds are not independent: the std "
                     "is the spread of the fold scores, not a standard error); timings median "
                     "(min–max)"))
    values |= {
        "seconds": ", ".join(f"{k} {v:.0f} s" for k, v in cfg["seconds"].items()),
        "dataset": cfg["dataset"], "citation": cfg["citation"],
        "inner_folds": cfg["inner_folds"], "n_settings": len(grid), "settings": "; ".join(short),
        "batch_size": grid[0]["batch_size"], "weight_decay": f"{grid[0]['weight_decay']:g}",
        "max_epochs": grid[0]["max_epochs"],
        "threads": f"{threads} torch thread(s) ("
        + ("torch's default" if cfg.get("threads") is None else f"`--threads {cfg['threads']}`")
        + ")",
        "table": markdown_table(rows, columns),
        "best": "".join(best),
        "failures": "Failed fits (left out of the means): " + "; ".join(
            f"{r['method']} r{r['seed']}f{r['fold']}: {r['error']}" for r in failures) + "\n\n"
        if failures else "",
        "figures": penguin_figures(recs, cfg, deltas, report) if figures else "",
        "tuning": tuning_md,
        "details": markdown_table(details, ["method", "repeat (seed)",
                                            *(c for _, c, _ in PENGUIN_METRICS), "Δ_MTL (%)"],
                                  fmt),
    }
    return fill("penguins", values)


def penguin_figures(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                    deltas: Callable[[str], list[float]], report: Path) -> str:
    """Metrics by method, and fit time against Δ_MTL."""
    panels = {"species accuracy": "species_acc", "sex accuracy": "sex_acc",
              "body mass RMSE (g)": "mass_rmse"}
    names = [m for m in cfg["methods"] if ok(recs, method=m)]
    short = {n: n.replace("skmtl ", "").replace("sklearn ", "sk ") for n in names}
    vals = {n: {p: [r["metrics"][k] for r in ok(recs, method=n)] for p, k in panels.items()}
            for n in names}
    fig = plot_metric_by_method(
        {short[n]: {p: _mean(v) for p, v in vals[n].items()} for n in names},
        {short[n]: {p: _std(v) for p, v in vals[n].items()} for n in names},
        metric={"species accuracy": "accuracy ↑", "sex accuracy": "accuracy ↑",
                "body mass RMSE (g)": "RMSE (g) ↓"},
        title="Palmer penguins: test metrics, mean ± std over the CV splits")
    a = save_figure(fig, "penguins_metrics", "Species accuracy, sex accuracy and body-mass RMSE "
                    "of every method on the penguins", report)
    points = {short[n]: (statistics.median(r["fit_seconds"] for r in ok(recs, method=n)),
                         _mean(deltas(n))) for n in names if deltas(n)}
    fig = plot_time_vs_quality(points, xlabel="fit time per split (s, median, log scale)",
                               ylabel="Δ_MTL vs skmtl separate (%)",
                               title="Palmer penguins: cost vs multi-task gain")
    b = save_figure(fig, "penguins_time_quality",
                    "Fit time against Δ_MTL of every method on the penguins", report)
    return f"{a}\n\n{b}\n\n"


# --------------------------------------------------------------------- missing labels
TASK_LABELS: dict[str, str] = {"income_50k": "income > 50K", "never_married": "never married"}
ML_LABELS: dict[str, tuple[str, str, str]] = {  # key: (all labels, masked, figure)
    "shared_bottom": ("skmtl shared_bottom, all labels", "skmtl shared_bottom, masked (all rows)",
                      "shared_bottom"),
    "separate": ("skmtl separate, all labels", "skmtl separate, masked (all rows)", "separate"),
    "single_task_net": ("skmtl single-task net per task",
                        "skmtl single-task net per task (labelled rows)", "single-task nets"),
    "hgb": ("HistGradientBoosting per task, all labels",
            "HistGradientBoosting per task (labelled rows)", "HGB per task"),
}


ML_COLUMNS: list[str] = [
    "missing labels", "method", "seeds", "AUC income > 50K", "AUC never married",
    "Δ_MTL vs separate (%)", "Δ vs same method, all labels (%)",
    "fit time (s), median (min–max)", "median epoch (ms)", "epochs run (best), per seed",
    "other load (cores)"]


def _ml_label(method: str, rate: float) -> str:
    return ML_LABELS[method][0 if rate == 0 else 1]


def _counts(values: Sequence[int]) -> str:
    return f"{values[0]:,}" if len(set(values)) == 1 else " / ".join(f"{v:,}" for v in values)


def render_missing_labels(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``missing_labels`` section."""
    cfg, recs = res["config"], res["records"]
    ref, tasks = cfg["reference"], list(TASK_LABELS)
    order = list(ML_LABELS)
    cells = sorted({(r["rate"], r["method"]) for r in recs},
                   key=lambda k: (k[0], order.index(k[1])))
    rows, details = [], []
    for rate, method in cells:
        good = ok(recs, rate=rate, method=method)
        failed = sum(1 for r in recs if r["rate"] == rate and r["method"] == method
                     and r.get("error"))
        label = _ml_label(method, rate)
        row: dict[str, Any] = {"missing labels": f"{rate:.0%}", "method": label if not failed
                               else f"{label} (failed on {failed} seed(s))", "seeds": len(good)}
        for t in tasks:
            row[f"AUC {TASK_LABELS[t]}"] = mean_std([r["metrics"][t] for r in good], ".4f")
        if method == ref:
            row["Δ_MTL vs separate (%)"] = "reference"
        elif rate > 0:
            row["Δ_MTL vs separate (%)"] = mean_std(paired_deltas(
                recs, {"rate": rate, "method": method}, {"rate": rate, "method": ref}, ["seed"]),
                "+.2f")
        if rate > 0 and method in cfg["full_label_methods"]:
            row["Δ vs same method, all labels (%)"] = mean_std(paired_deltas(
                recs, {"rate": rate, "method": method}, {"rate": 0.0, "method": method},
                ["seed"]), "+.2f")
        row["fit time (s), median (min–max)"] = median_spread(
            [r["fit_seconds"] for r in good], ".1f")
        row["median epoch (ms)"] = epoch_ms(good)
        row["epochs run (best), per seed"] = "; ".join(
            "/".join(f"{e} ({b})" for e, b in r["epochs"]) for r in good if r.get("epochs")
        ) or None
        loads = [r["other_load"] for r in good if r.get("other_load") is not None]
        row["other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    for r in recs:
        details.append({"missing labels": f"{r['rate']:.0%}", "method": _ml_label(
            r["method"], r["rate"]), "seed": r["seed"],
            **{f"AUC {TASK_LABELS[t]}": r["metrics"].get(t) for t in tasks},
            "fit time (s)": r.get("fit_seconds"),
            "epochs run (best)": "/".join(f"{e} ({b})" for e, b in r.get("epochs") or []) or None,
            "other load (cores)": r.get("other_load"), "error": r.get("error")})
    mask_rows = []
    for rate in sorted({m["rate"] for m in res["extra"]["masks"]}):
        per = [m for m in res["extra"]["masks"] if m["rate"] == rate]
        row = {"missing labels": f"{rate:.0%}"}
        for t in tasks:
            row[f"labelled rows, {TASK_LABELS[t]}"] = _counts([m["labelled"][t] for m in per])
            row[f"positives, {TASK_LABELS[t]}"] = _counts([m["positives"][t] for m in per])
        row["rows with both labels"] = _counts([m["both_labelled"] for m in per])
        row["rows with no label"] = _counts([m["none_labelled"] for m in per])
        mask_rows.append(row)
    findings = []
    for rate in cfg["rates"]:
        means = {m: {t: _mean([r["metrics"][t] for r in ok(recs, rate=rate, method=m)])
                     for t in tasks} for m in cfg["masked_methods"] if ok(recs, rate=rate, method=m)}
        if not means:
            continue
        best = "; ".join(f"{TASK_LABELS[t]}: {_ml_label(max(means, key=lambda m, t=t: means[m][t]), rate)}"
                         f" ({max(v[t] for v in means.values()):.4f})" for t in tasks)
        d = paired_deltas(recs, {"rate": rate, "method": "shared_bottom"},
                          {"rate": rate, "method": ref}, ["seed"])
        tail = (f". Δ_MTL of masked shared_bottom vs masked separate: {_mean(d):+.2f}% (mean "
                f"over {len(d)} seed(s))") if d else ""
        findings.append(f"- {rate:.0%} missing, highest mean test AUC per task: {best}{tail}.\n")
    s, default = cfg["settings"], cfg["default_settings"]
    budgets = sorted({(r["rate"], tuple(b)) for r in recs if r["method"] == "single_task_net"
                      for b in r.get("budgets") or []})
    listed = ", ".join(f"{rate:.0%} missing: max_epochs={m}, n_iter_no_change={p}"
                       for rate, (m, p) in budgets)
    how = ("as it sees n_labelled of the n training rows, an epoch is n_labelled / n as many "
           "optimizer steps, so its epoch budget and early-stopping patience are those of the "
           "other networks multiplied by n / n_labelled (rounded up): the same budget of "
           "optimizer steps and the same patience in steps as the networks fitted on every row "
           "(`--single-task-epochs same` keeps the unscaled counts)"
           if cfg["single_task_epochs"] == "scaled" else
           "epoch budget and patience unchanged (fewer optimizer steps)")
    notes = [cfg["subsample"]] if "subsample" in cfg["subsample"] else []
    if res["quick"] or s["max_epochs"] != default["max_epochs"]:
        notes.append(f"max_epochs={s['max_epochs']} (default {default['max_epochs']})")
    capped = sorted({f"{_ml_label(r['method'], r['rate'])} at {r['rate']:.0%}" for r in ok(recs)
                     for (e, _), (m, _) in zip(r.get("epochs") or [], r.get("budgets") or [])
                     if e >= m})
    if capped and not res["quick"]:
        notes.append("network fit(s) that used their whole epoch budget (early stopping did "
                     "not trigger): " + ", ".join(capped))
    busy = [r for r in ok(recs) if (r.get("other_load") or 0) >= IDLE_THRESHOLD]
    if busy:
        notes.append(f"{len(busy)} of {len(recs)} fits ran while other processes used ≥ "
                     f"{IDLE_THRESHOLD} cores on average (column *other load*): their fit times "
                     "are inflated; AUCs are not affected")
    values = header_values(
        res,
        seeds=(f"seed s in {{{', '.join(map(str, cfg['seeds']))}}}: label masks drawn with "
               "`numpy.random.default_rng((s, task_index))` and `random_state=s` for every "
               "network and HistGradientBoosting; training subsample seed "
               f"{cfg['subsample_seed']}"),
        repetitions=("one fit per method, missing rate and seed; mean ± sample std (ddof=1) "
                     f"over the {len(cfg['seeds'])} seed(s); Δ_MTL computed per seed, then "
                     "averaged; timings median (min–max) over the seeds"))
    settings = (f"Adam lr={s['lr']:g}, batch_size={s['batch_size']}, max_epochs="
                f"{s['max_epochs']}, early_stopping=True (10% of the training rows held out by "
                f"skmtl, n_iter_no_change={s['n_iter_no_change']}, best epoch restored)")
    values |= {
        "notes": "".join(f"- {n}\n" for n in notes), "citation": cfg["citation"],
        "dataset": cfg["dataset"], "masks": markdown_table(mask_rows, list(mask_rows[0])),
        "single_task_budget": how + (f" ({listed})" if listed else ""), "settings": settings,
        "table": markdown_table(rows, ML_COLUMNS, {"other load (cores)": ".2f"}),
        "findings": "".join(findings),
        "figures": ml_figures(recs, cfg, report) if figures else "",
        "details": markdown_table(details, list(details[0]), {
            "AUC income > 50K": ".4f", "AUC never married": ".4f", "fit time (s)": ".1f",
            "other load (cores)": ".2f"}),
    }
    return fill("missing_labels", values)


def ml_figures(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any], report: Path) -> str:
    """Per-task AUC by method at each rate, and fit time against mean AUC."""
    links = []

    def name(rate: float, method: str) -> str:
        return f"{rate:.0%}: {ML_LABELS[method][2]}"

    for rate in cfg["rates"]:
        keys = [(0.0, m) for m in cfg["full_label_methods"]]
        keys += [(rate, m) for m in cfg["masked_methods"]]
        means, stds = {}, {}
        for r, m in keys:
            good = ok(recs, rate=r, method=m)
            if good:
                v = {TASK_LABELS[t]: [x["metrics"][t] for x in good] for t in TASK_LABELS}
                means[name(r, m)] = {k: _mean(x) for k, x in v.items()}
                stds[name(r, m)] = {k: _std(x) for k, x in v.items()}
        fig = plot_metric_by_method(means, stds, metric="test ROC AUC", title=(
            f"Census-Income KDD, {rate:.0%} of each task's labels missing (mean ± std over "
            "seeds)"))
        links.append(save_figure(fig, f"missing_labels_auc_{round(rate * 100)}", (
            f"Per-task test ROC AUC on Census-Income KDD with {rate:.0%} of each task's training "
            "labels missing, by method, with the all-labels references"), report))
    points = {}
    for r, m in sorted({(x["rate"], x["method"]) for x in ok(recs)}):
        good = ok(recs, rate=r, method=m)
        points[name(r, m)] = (statistics.median(x["fit_seconds"] for x in good),
                              _mean([_mean(list(x["metrics"].values())) for x in good]))
    fig = plot_time_vs_quality(points, xlabel="fit time (s), median over seeds",
                               ylabel="test ROC AUC, mean of the two tasks",
                               title="Fit time vs quality")
    links.append(save_figure(fig, "missing_labels_time", "Fit time against mean test ROC AUC "
                             "of every method and missing rate", report))
    return ("Figures: per-task test AUC (mean ± std over seeds) at each missing rate next to the "
            "all-labels references, and median fit time against the mean AUC of the two tasks "
            "(mean over seeds). Labels are *rate: method*; the shared_bottom and separate "
            "networks with labels missing are the masked ones (all rows), the single-task nets "
            "and HGB (HistGradientBoosting) per task are fitted on each task's labelled rows."
            "\n\n" + "".join(f"{link}\n\n" for link in links))


# ------------------------------------------------------------------------- multilabel
ML_YEAST_METRICS: list[tuple[str, str]] = [
    ("hamming", "Hamming loss ↓"), ("micro_f1", "micro-F1 ↑"), ("jaccard", "Jaccard (samples) ↑"),
    ("micro_precision", "micro precision"), ("micro_recall", "micro recall")]
ML_CALIBRATION: list[tuple[str, str, str]] = [
    ("ece", "ECE (15 bins) ↓", ".4f"), ("log_loss", "log-loss ↓", ".4f"),
    ("brier", "Brier ↓", ".4f"), ("accuracy", "accuracy", ".4f")]
ML_DELTA_H = "Δ_MTL vs separate, on Hamming loss (%) ↑"
ML_DELTA_F1 = "Δ vs separate, on micro-F1 (%) ↑"


def _epochs_note(r: Mapping[str, Any]) -> str | None:
    e = r.get("epochs")
    if isinstance(e, list):
        return ", ".join(map(str, e))
    return None if e is None else f"{e}" + (f" (best {r['best_epoch']})" if r.get("best_epoch")
                                            else "")


def _cv_rows(results: Sequence[Mapping[str, Any]], chosen: int | None, key: str
             ) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(results):
        s = r["settings"]
        name = (f"hidden={tuple(s['hidden_layer_sizes'])}, dropout={s['dropout']:g}, "
                f"lr={s['lr']:g}, weight_decay={s['weight_decay']:g}, batch={s['batch_size']}"
                if key == "settings (BCE)" else r["name"])
        rows.append({key: name + (" **← chosen**" if i == chosen else ""),
                     "CV Hamming loss": mean_std(r["hamming"], ".4f"),
                     "CV micro-F1": mean_std(r["micro_f1"], ".4f"),
                     "epochs run per fold": ", ".join(map(str, r["epochs"])) or None,
                     "time (s)": r["seconds"], "error": r["error"]})
    return rows


def render_multilabel(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``multilabel`` section: Yeast multi-label losses, Census temperature scaling."""
    cfg, recs, extra = res["config"], res["records"], res["extra"]
    ref, yeast = cfg["reference"], [r for r in res["records"] if r["dataset"] == "yeast"]
    rows, means = [], {}
    for method in cfg["methods"]:
        good = ok(yeast, method=method)
        failed = len([r for r in yeast if r["method"] == method and r.get("error")])
        row: dict[str, Any] = {"method": method, "seeds": len(good) if not failed
                               else f"{len(good)} ({failed} failed)"}
        for key, col in ML_YEAST_METRICS:
            row[col] = mean_std([r["metrics"][key] for r in good], ".4f")
        means[method] = {k: _mean([r["metrics"][k] for r in good]) for k, _ in ML_YEAST_METRICS}
        for col, key, lower in ((ML_DELTA_H, "hamming", ["t"]), (ML_DELTA_F1, "micro_f1", [])):
            row[col] = "reference" if method == ref else mean_std(paired_deltas(
                yeast, {"method": method}, {"method": ref}, ["seed"], {"t": key}, lower), "+.2f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        row["median epoch (ms)"] = epoch_ms(good)
        rows.append(row)
    papers = cfg.get("paper_references") or []
    for p in papers:  # published figures, not measured in this run
        rows.append({"method": f"*reference, not measured here: {p['method']} ({p['citation']})*",
                     "seeds": "—", "Hamming loss ↓": p.get("hamming"),
                     "micro-F1 ↑": p.get("micro_f1")})
    skmtl = {m: v["hamming"] for m, v in means.items() if m.startswith("skmtl") and v["hamming"]
             == v["hamming"]}
    target = cfg["target_hamming"]
    verdict = [f"Target: the best skmtl configuration reaches a mean test Hamming loss ≤ "
               f"{target:.3f}."]
    if skmtl:
        best = min(skmtl, key=skmtl.__getitem__)
        verdict.append(f"- **Target {'met' if skmtl[best] <= target else 'NOT met'}**: the lowest "
                       f"mean Hamming loss among the skmtl rows is {skmtl[best]:.4f} ({best}); "
                       f"target {target:.3f}, difference {skmtl[best] - target:+.4f}.")
        verdict += [f"- For comparison, {m}: {v['hamming']:.4f} (this run)." for m, v in
                    means.items() if not m.startswith("skmtl") and v["hamming"] == v["hamming"]]
    base = means.get("skmtl MultiLabel, BCE", {})
    tradeoff = "" if not base else (
        f"Precision / recall at the fixed {cfg['threshold']:g} threshold (means over seeds), "
        f"against BCE's precision {base['micro_precision']:.3f}, recall "
        f"{base['micro_recall']:.3f}: " + "; ".join(
            f"{m.removeprefix('skmtl MultiLabel, ')}: precision {v['micro_precision']:.3f}, "
            f"recall {v['micro_recall']:.3f}" for m, v in means.items()
            if m.startswith("skmtl MultiLabel, ") and m != "skmtl MultiLabel, BCE")
        + ". Losses that up-weight positive labels (balanced BCE, weighted focal) or optimise "
        "Dice move the 0.5 operating point towards recall; no threshold was re-tuned for them, "
        "so their Hamming loss is reported as measured at 0.5.\n")
    labels = list(next((r["label_errors"] for r in ok(yeast)), {}))
    label_rows = [{"method": m, **{lab: _mean([r["label_errors"][lab] for r in ok(yeast, method=m)])
                                   for lab in labels}} for m in cfg["methods"] if ok(yeast, method=m)]
    per_seed = [{"method": r["method"], "seed": r["seed"],
                 **{c: r["metrics"].get(k) for k, c in ML_YEAST_METRICS},
                 "fit time (s)": r["fit_seconds"], "epochs (best)": _epochs_note(r),
                 "error": r["error"]} for r in sorted(yeast, key=lambda r: r["seed"])]
    cal = [r for r in recs if r["dataset"] == "census"]
    cal_rows, cal_details = [], []
    for method in cfg["calibration_methods"]:
        good = ok(cal, method=method)
        row = {"method": method, "seeds": len(good)}
        row |= {c: mean_std([r["metrics"][k] for r in good], f) for k, c, f in ML_CALIBRATION}
        row["temperature"] = mean_std([r["temperature"] for r in good], ".3f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        cal_rows.append(row)
    for r in sorted(cal, key=lambda r: r["seed"]):
        cal_details.append({"method": r["method"], "seed": r["seed"],
                            **{c: r["metrics"].get(k) for k, c, _ in ML_CALIBRATION},
                            "temperature": r.get("temperature"), "fit time (s)": r["fit_seconds"],
                            "epochs (best)": _epochs_note(r),
                            "identical network": r.get("identical_network"),
                            "error": r["error"]})
    checks = [r["identical_network"] for r in cal if r.get("identical_network") is not None]
    bad = [r["seed"] for r in cal if r.get("identical_network") is False]
    identity = ("The identity of the paired networks could not be checked (a fit failed)."
                if not checks else
                f"On every seed ({len(checks)}/{len(checks)}) the two fits have identical network "
                "weights, validation-loss histories and test predictions: only the temperature "
                "differs, so accuracy is unchanged by construction." if all(checks) else
                f"**The paired fits differ on seed(s) {bad}** (weights, validation history or "
                "test predictions): the comparison is not only the temperature there.")
    s, threads = cfg["settings"], res["machine"]["torch_threads"]
    cs = cfg["census_settings"]
    notes = ["quick run: reduced tuning grid and epoch budget, fewer trees, Census subsample — "
             "not a result"] if res["quick"] else []
    values = header_values(
        res, seeds=(f"{', '.join(map(str, cfg['seeds']))}: the `random_state` of every skmtl "
                    "network, ensemble, MLPClassifier and random forest, one seed per repetition;"
                    f" the settings were tuned with seed {cfg['tune_seed']} only (KFold seed "
                    f"{cfg['cv_seed']})"),
        repetitions=(f"{len(cfg['seeds'])} seed(s) per method; tables give mean ± sample std "
                     "over seeds, timings median (min–max) (per-seed values in the collapsed "
                     "blocks)"))
    hamming_fmt = {c: ".4f" for _, c in ML_YEAST_METRICS}
    values |= {
        "seconds": ", ".join(f"{k} {v / 60:.1f} min" for k, v in cfg["seconds"].items()),
        "notes": "".join(f"- {n}\n" for n in notes),
        "yeast": cfg["yeast"], "yeast_citation": cfg["yeast_citation"],
        "threshold": f"{cfg['threshold']:g}", "tune_seed": cfg["tune_seed"],
        "cv_folds": cfg["cv_folds"], "cv_seed": cfg["cv_seed"], "n_settings": len(extra["cv"]),
        "settings": ", ".join(f"`{k}={tuple(v) if isinstance(v, list) else v}`"
                              for k, v in s.items()),
        "ensemble_loss": cfg["ensemble_loss"], "ensemble_size": cfg["ensemble_size"],
        "mlp": (f"hidden_layer_sizes={tuple(s['hidden_layer_sizes'])}, batch_size="
                f"{s['batch_size']}, learning_rate_init={s['lr']:g}, max_iter={s['max_epochs']}"),
        "trees": cfg["trees"],
        "threads": f"{threads} torch thread(s) (" + ("torch's default" if cfg.get("threads")
                                                    is None else f"`--threads {cfg['threads']}`")
        + ")",
        "yeast_table": markdown_table(rows, list(rows[0]), hamming_fmt),
        "paper_note": "Rows in italics are published figures with their citation, not measured "
        "by this run.\n" if papers else "",
        "verdict": "\n".join(verdict) + "\n", "tradeoff": tradeoff,
        "yeast_figures": multilabel_figures(yeast, cfg, means, report) if figures else "",
        "labels": markdown_table(label_rows, ["method", *labels], {lab: ".3f" for lab in labels}),
        "yeast_details": markdown_table(per_seed, list(per_seed[0]), {**hamming_fmt,
                                                                      "fit time (s)": ".1f"}),
        "cv": markdown_table(_cv_rows(extra["cv"], extra["chosen"], "settings (BCE)"),
                             ["settings (BCE)", "CV Hamming loss", "CV micro-F1",
                              "epochs run per fold", "time (s)", "error"], {"time (s)": ".1f"}),
        "loss_cv": markdown_table(_cv_rows(
            extra["loss_cv"], [r["name"] for r in extra["loss_cv"]].index(cfg["ensemble_loss"]),
            "loss"), ["loss", "CV Hamming loss", "CV micro-F1", "epochs run per fold", "time (s)",
                      "error"], {"time (s)": ".1f"}),
        "census_citation": cfg["census_citation"], "census": cfg["census"],
        "census_settings": ", ".join(f"{k}={v:g}" for k, v in cs.items()),
        "ece_bins": cfg["ece_bins"],
        "census_table": markdown_table(cal_rows, list(cal_rows[0])), "identity": identity,
        "census_details": markdown_table(cal_details, list(cal_details[0]), {
            **{c: f for _, c, f in ML_CALIBRATION}, "temperature": ".3f", "fit time (s)": ".1f"}),
    }
    return fill("multilabel", values)


def multilabel_figures(yeast: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                       means: Mapping[str, Mapping[str, float]], report: Path) -> str:
    """Yeast: test metrics by method, and fit time against Hamming loss."""
    panels = {"Hamming loss ↓": "hamming", "micro-F1 ↑": "micro_f1", "Jaccard ↑": "jaccard"}
    names = [m for m in cfg["methods"] if ok(yeast, method=m)]
    short = {m: m.replace("skmtl MultiLabel, ", "").replace("per-label ", "")
             .replace("scikit-learn ", "") for m in names}
    mean = {short[m]: {p: means[m][k] for p, k in panels.items()} for m in names}
    std = {short[m]: {p: _std([r["metrics"][k] for r in ok(yeast, method=m)])
                      for p, k in panels.items()} for m in names}
    links = [save_figure(plot_metric_by_method(mean, std, metric="test", title=(
        "Yeast: test metrics (mean ± std over seeds)")), "multilabel_yeast_metrics",
        "Yeast: test Hamming loss, micro-F1 and Jaccard by method", report)]
    points = {short[m]: (statistics.median(r["fit_seconds"] for r in ok(yeast, method=m)),
                         means[m]["hamming"]) for m in names}
    links.append(save_figure(plot_time_vs_quality(
        points, xlabel="fit time (s), median over seeds", ylabel="test Hamming loss (lower is "
        "better)", title="Yeast: fit time vs Hamming loss"), "multilabel_yeast_time_vs_hamming",
        "Yeast: fit time against test Hamming loss by method", report))
    return "".join(f"{link}\n\n" for link in links)


#: Benchmarks rendered from results files, in report order: name -> renderer.
RENDERERS: dict[str, Callable[[Mapping[str, Any], Path, bool], str]] = {
    "speed": render_speed,
    "multilabel": render_multilabel,
    "penguins": render_penguins,
    "missing_labels": render_missing_labels,
}


def render(name: str, results_file: str | Path, report: str | Path | None = None,
           figures: bool = True) -> Path:
    """Render section ``name`` from ``results_file`` into ``report``; return the report path."""
    res = load_results(results_file)
    path = Path(results_file).resolve()
    try:
        res["_path"] = path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        res["_path"] = path.name
    target = report_path(report)
    return write_section(name, RENDERERS[name](res, target, figures), path=target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(RENDERERS), metavar="NAME")
    parser.add_argument("--quick", action="store_true",
                        help=f"read {QUICK_RESULTS_DIR.relative_to(REPO_ROOT)}, write "
                        f"{QUICK_REPORT}")
    parser.add_argument("--results-dir", help="folder of the results files")
    parser.add_argument("--output", help="report file (default docs/benchmarks.md, or "
                        "$SKMTL_BENCH_REPORT)")
    parser.add_argument("--no-figures", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    folder = Path(args.results_dir) if args.results_dir else (
        QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
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
