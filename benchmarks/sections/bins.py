"""The ``bins`` section of docs/benchmarks.md, rendered from ``results/bins.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import dataset_heading, fill, header_values, markdown_table, mean_metric, method_rows

DELTA = "Δ vs n_bins=48 (%)"


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str],
           reference: str) -> str:
    rows = [row for _, row, _ in method_rows(recs, name, tasks, reference, DELTA)]
    return markdown_table(rows, ["method", *tasks, DELTA, "fit s, median (min–max)", "epochs"])


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of the rule before, of "auto" and of
    per-task HGB."""
    before, auto = list(cfg["methods"])
    lines = []
    for name, d in cfg["datasets"].items():
        cells = []
        for task in d["tasks"]:
            b, a, h = (mean_metric(recs, m, name, task) for m in (before, auto, "hgb"))
            cells.append(f"{task} {b:.4f} → {a:.4f} ({a - b:+.4f}; HGB {h:.4f})")
        lines.append(f"- {name} (`n_bins='auto'` = {cfg['auto_bins'][name]} bins at "
                     f"{d['train_rows']:,} rows): {'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = [dataset_heading(name, d) + _table(recs, name, d["tasks"], cfg["reference"])
              for name, d in cfg["datasets"].items()]
    seeds = sorted({r["seed"] for r in recs})
    values = header_values(res, seeds=f"{seeds} (random_state of every model)",
                           repetitions=f"{len(seeds)} seed(s) per method and dataset")
    values |= {"tables": "\n".join(tables), "verdicts": verdicts(recs, cfg)}
    return fill("bins", values)
