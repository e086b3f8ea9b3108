"""The ``counts`` section of docs/benchmarks.md, rendered from ``results/counts.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report import dataset_tables, fill, mean_metric, seed_header_values, view_differences


def metric_columns(tasks: list[str], counts: list[str], negative: bool = True) -> list[str]:
    """The metric keys of a dataset's table: each count's deviance, R² (and share of
    negative predictions), then the other tasks' metric."""
    columns = []
    for task in tasks:
        if task in counts:
            columns += [f"{task} deviance", task] + ([f"{task} negative"] if negative else [])
        else:
            columns.append(task)
    return columns


def verdicts(recs: list[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per count: skmtl's Poisson network against its squared-error defaults and against
    per-task HGB with the Poisson loss (mean deviance over the seeds, lower is better)."""
    lines = []
    for name in cfg["datasets"]:
        for task in cfg["counts"][name]:
            key = f"{task} deviance"
            mine, square, hgb = (mean_metric(recs, m, name, key) for m in (
                "skmtl, Poisson deviance", cfg["reference"], "hgb, Poisson deviance"))
            lines.append(f"- {name}, {task}: skmtl Poisson {mine:.4f}, skmtl squared error "
                         f"{square:.4f} ({mine - square:+.4f}), per-task HGB Poisson "
                         f"{hgb:.4f} ({mine - hgb:+.4f}).")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = dataset_tables(recs, cfg["datasets"],
                            lambda name, d: metric_columns(d["tasks"], cfg["counts"][name]))
    # the differences: deviances, R² and the other tasks, not the shares of negatives
    paired = dict(cfg, datasets={n: dict(d, tasks=metric_columns(d["tasks"], cfg["counts"][n],
                                                                 negative=False))
                                 for n, d in cfg["datasets"].items()})
    values = seed_header_values(res)
    values |= {"tables": tables, "differences": view_differences(recs, paired),
               "views": "\n".join(f"- *{m}*: {what};" for m, what in cfg["views"].items()),
               "hgb": "\n".join(f"- *{m}*: one `HistGradientBoostingClassifier` / `Regressor` "
                                f"per task, scikit-learn defaults but for {what};"
                                for m, what in cfg["hgb"].items()),
               "reference": cfg["reference"], "verdicts": verdicts(recs, cfg)}
    return fill("counts", values)
