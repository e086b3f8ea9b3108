"""The ``dates`` section of docs/benchmarks.md, rendered from ``results/dates.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import (
    _mean,
    _std,
    dataset_heading,
    fill,
    header_values,
    markdown_table,
    method_rows,
    ok,
)


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str]) -> str:
    rows = [row for _, row, _ in method_rows(recs, name, tasks, "", None)]
    return markdown_table(rows, ["method", *tasks, "fit s, median (min–max)", "epochs"])


def differences(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Each network's change against the reference on every task, paired by seed (mean ±
    std over the seeds)."""
    lines = []
    for name, d in cfg["datasets"].items():
        reference = {r["seed"]: r for r in ok(recs, method=cfg["reference"], dataset=name)}
        for method in cfg["views"]:
            if method == cfg["reference"]:
                continue
            pairs = [(r, reference[r["seed"]]) for r in ok(recs, method=method, dataset=name)
                     if r["seed"] in reference]
            if not pairs:
                continue
            cells = []
            for task in d["tasks"]:
                diffs = [r["metrics"][task] - ref["metrics"][task] for r, ref in pairs]
                cells.append(f"{task} {_mean(diffs):+.4f} ± {_std(diffs):.4f}")
            lines.append(f"- {name}, *{method}* against *{cfg['reference']}*: "
                         f"{'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = [dataset_heading(name, d) + _table(recs, name, d["tasks"])
              for name, d in cfg["datasets"].items()]
    seeds = sorted({r["seed"] for r in recs})
    values = header_values(res, seeds=f"{seeds} (random_state of every model)",
                           repetitions=f"{len(seeds)} seed(s) per method and dataset")
    views = "\n".join(f"- *{m}*: {what};" for m, what in cfg["views"].items())
    values |= {"tables": "\n".join(tables), "differences": differences(recs, cfg),
               "views": views, "reference": cfg["reference"]}
    return fill("dates", values)
