"""The ``bins`` section of docs/benchmarks.md, rendered from ``results/bins.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import harness
from report import (
    _mean,
    dataset_heading,
    fill,
    header_values,
    markdown_table,
    mean_metric,
    method_rows,
    ok,
)

DELTA = "Δ vs n_bins='auto' at row quantiles (%)"
SMALL_PROSE = (
    "All rows of each table, 20 % held out (seed 0); their binary and regression tasks. Each "
    "cell is the method's Δ against *skmtl, n_bins='auto' at row quantiles* of the same seed "
    "in points (×100: each task's difference of R² or ROC AUC, averaged over the tasks; "
    "absolute, as relative changes of an R² near 0 explode), mean ± std over seeds. "
    "Few rows are held out, so single tables are noisy: read the column as a whole.")


def _tasks(name: str, d: Mapping[str, Any]) -> list[str]:
    return ["hamming"] if name == "yeast" else list(d["tasks"])


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str],
           reference: str) -> str:
    rows = [row for _, row, _ in method_rows(recs, name, tasks, reference, DELTA)]
    return markdown_table(rows, ["method", *tasks, DELTA, "fit s, median (min–max)", "epochs"])


def _small_table(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                 names: Sequence[str]) -> str:
    """One row per small table: rows fitted / held out, tasks, and each other method's Δ
    against the reference (in points, averaged over the tasks, mean ± std over seeds); a
    last row averages the tables."""
    others = [m for m in [*cfg["methods"], "hgb"] if m != cfg["reference"]]
    rows, per_table = [], {m: [] for m in others}
    for name in names:
        d = cfg["datasets"][name]
        row = {"dataset": name, "rows fitted / held out": f"{d['train_rows']:,} / {d['test_rows']:,}",
               "tasks": ", ".join(d["tasks"])}
        for method in others:
            deltas = _points(recs, method, cfg["reference"], name, d["tasks"])
            per_table[method].append(_mean(deltas))
            row[method] = harness.mean_std(deltas, "+.2f")
        rows.append(row)
    mean = {"dataset": "mean over the tables", "rows fitted / held out": "", "tasks": ""}
    for method in others:
        better = sum(v > 0 for v in per_table[method])
        worse = sum(v < 0 for v in per_table[method])
        mean[method] = (f"{harness.mean_std(per_table[method], '+.2f')} "
                        f"(better on {better}, worse on {worse})")
    return markdown_table([*rows, mean], ["dataset", "rows fitted / held out", "tasks", *others])


def _points(recs: Sequence[Mapping[str, Any]], method: str, reference: str, name: str,
            tasks: Sequence[str]) -> list[float]:
    """Per seed that both fitted: ``method``'s metric minus ``reference``'s, ×100, averaged
    over ``tasks`` (absolute: relative changes of an R² near 0 explode)."""
    ref = {r["seed"]: r["metrics"] for r in ok(recs, method=reference, dataset=name)}
    out = []
    for r in ok(recs, method=method, dataset=name):
        if r["seed"] in ref:
            out.append(100 * sum(r["metrics"][t] - ref[r["seed"]][t] for t in tasks) / len(tasks))
    return out


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of each skmtl rule, in the order of
    ``cfg["methods"]`` (the defaults last), the defaults' change against the reference
    (``cfg["reference"]``), and per-task HGB's."""
    methods = list(cfg["methods"])
    lines = []
    for name, d in cfg["datasets"].items():
        if name in cfg.get("small", ()):
            continue
        cells = []
        for task in _tasks(name, d):
            means = [mean_metric(recs, m, name, task) for m in methods]
            h, ref = (mean_metric(recs, m, name, task) for m in ("hgb", cfg["reference"]))
            chain = " → ".join(f"{v:.4f}" for v in means)
            cells.append(f"{task} {chain} ({means[-1] - ref:+.4f}; HGB {h:.4f})")
        lines.append(f"- {name} (`n_bins='auto'` = {cfg['auto_bins'][name]} bins at "
                     f"{d['train_rows']:,} rows): {'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    small = [n for n in cfg["datasets"] if n in cfg.get("small", ())]
    tables = [dataset_heading(name, d) + _table(recs, name, _tasks(name, d), cfg["reference"])
              for name, d in cfg["datasets"].items() if name not in small]
    if small:
        tables.append(f"### Small tables\n\n{SMALL_PROSE}\n\n" + _small_table(recs, cfg, small))
    seeds = sorted({r["seed"] for r in recs})
    values = header_values(res, seeds=f"{seeds} (random_state of every model)",
                           repetitions=f"{len(seeds)} seed(s) per method and dataset")
    values |= {"tables": "\n".join(tables), "verdicts": verdicts(recs, cfg)}
    return fill("bins", values)
