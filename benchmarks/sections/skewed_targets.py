"""The ``skewed_targets`` section of docs/benchmarks.md, rendered from
``results/skewed_targets.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import mean_std
from report import (
    dataset_tables,
    fill,
    markdown_table,
    mean_metric,
    ok,
    seed_header_values,
    view_differences,
)


def metric_columns(tasks: list[str], deviances: Mapping[str, str],
                   negative: bool = True) -> list[str]:
    """The metric keys of a dataset's table: each skewed target's deviance, R² (and share of
    negative predictions), then the other tasks' metric."""
    columns = []
    for task in tasks:
        if task in deviances:
            columns += [f"{task} deviance", task] + ([f"{task} negative"] if negative else [])
        else:
            columns.append(task)
    return columns


def verdicts(recs: list[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per skewed target: skmtl's deviance network against its squared-error defaults and
    against per-task HGB with the same deviance (means over the seeds, lower is better)."""
    lines = []
    for name in cfg["datasets"]:
        for task, family in cfg["deviances"][name].items():
            key = f"{task} deviance"
            mine, square, hgb = (mean_metric(recs, m, name, key) for m in (
                cfg["deviance"], cfg["reference"], "hgb, deviance"))
            lines.append(f"- {name}, {task} ({family.capitalize()} deviance): skmtl "
                         f"{family.capitalize()} {mine:.4f}, skmtl squared error {square:.4f} "
                         f"({mine - square:+.4f}), per-task HGB {family.capitalize()} {hgb:.4f} "
                         f"({mine - hgb:+.4f}).")
    return "\n".join(lines) + "\n"


def subset_tables(recs: list[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset with test rows scored again on their own (``cfg["subsets"]``), one table:
    each method's R² of each skewed target on all test rows and on each subset's rows, and
    its deviance there (mean ± std over the seeds); "" when no dataset has any."""
    parts = []
    for name, labels in (cfg.get("subsets") or {}).items():
        methods = [*cfg["views"], *cfg["hgb"]]
        rows, columns = [], ["method"]
        for task in cfg["deviances"][name]:
            columns += [f"{task} R², all test rows"] + [
                f"{task} {what}, {label}" for label in labels for what in ("R²", "deviance")]
        for method in methods:
            good = ok(recs, method=method, dataset=name)
            row = {"method": method}
            for task in cfg["deviances"][name]:
                row[f"{task} R², all test rows"] = mean_std(
                    [r["metrics"][task] for r in good], ".4f")
                for label in labels:
                    for what, key in (("R²", task), ("deviance", f"{task} deviance")):
                        row[f"{task} {what}, {label}"] = mean_std(
                            [r["subset_metrics"][label][key] for r in good
                             if label in r.get("subset_metrics", {})], ".4f")
            rows.append(row)
        parts.append(f"{name}:\n\n" + markdown_table(rows, columns))
    return "\n".join(parts)


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = dataset_tables(
        recs, cfg["datasets"], lambda name, d: metric_columns(d["tasks"], cfg["deviances"][name]))
    # the differences: deviances, R² and the other tasks, not the shares of negatives
    paired = dict(cfg, datasets={
        n: dict(d, tasks=metric_columns(d["tasks"], cfg["deviances"][n], negative=False))
        for n, d in cfg["datasets"].items()})
    values = seed_header_values(res)
    values |= {"tables": tables, "differences": view_differences(recs, paired),
               "views": "\n".join(f"- *{m}*: {what};" for m, what in cfg["views"].items()),
               "hgb": "\n".join(f"- *{m}*: one `HistGradientBoostingClassifier` / `Regressor` "
                                f"per task, scikit-learn defaults but for {what};"
                                for m, what in cfg["hgb"].items()),
               "reference": cfg["reference"], "verdicts": verdicts(recs, cfg),
               "subsets": subset_tables(recs, cfg)}
    return fill("skewed_targets", values)
