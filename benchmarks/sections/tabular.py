"""The ``tabular`` section of docs/benchmarks.md, rendered from ``results/tabular.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import (
    _mean,
    dataset_heading,
    fill,
    markdown_table,
    mean_metric,
    method_rows,
    ok,
    seed_header_values,
)

REFERENCE, DELTA = "skmtl separate", "Δ_MTL vs separate (%)"
LOWER = ("hamming",)


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str]) -> str:
    rows = [row for _, row, _ in method_rows(recs, name, tasks, REFERENCE, DELTA, LOWER)]
    return markdown_table(rows, ["method", *tasks, DELTA, "fit s, median (min–max)", "epochs"])


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """The issue's targets, each met or missed by how much."""
    lines, target = [], cfg["targets"]
    for name in ("census", "census_missing_90"):
        if name not in cfg["datasets"]:
            continue
        for task in cfg["datasets"][name]["tasks"]:
            mtl = mean_metric(recs, "skmtl defaults", name, task)
            hgb = mean_metric(recs, "hgb", name, task)
            gap = mtl - hgb
            lines.append(f"- {name}, {task}: skmtl {mtl:.5f} vs per-task HGB {hgb:.5f} "
                         f"({gap:+.5f}): {'met' if gap >= 0 else 'NOT met'}.")
    if "census" in cfg["datasets"]:
        t_mtl = [r["fit_seconds"] for r in ok(recs, method="skmtl defaults", dataset="census")]
        t_hgb = [r["fit_seconds"] for r in ok(recs, method="hgb", dataset="census")]
        if t_mtl and t_hgb:
            ratio = _mean(t_mtl) / _mean(t_hgb)
            lines.append(f"- census fit time: skmtl / HGB = {ratio:.1f}× (target ≤ "
                         f"{target['census_time']:.0f}×): "
                         f"{'met' if ratio <= target['census_time'] else 'NOT met'}.")
    if "yeast" in cfg["datasets"]:
        for method, how in (("skmtl threshold=accuracy", "chosen on validation rows"),
                            ("skmtl 5-fold ensemble, out-of-fold thresholds",
                             "chosen on out-of-fold rows")):
            if not ok(recs, method=method, dataset="yeast"):
                continue
            h = mean_metric(recs, method, "yeast", "hamming")
            lines.append(f"- yeast Hamming loss with thresholds {how} (*{method}*): {h:.4f} "
                         f"(target ≤ {target['yeast_hamming']}): "
                         f"{'met' if h <= target['yeast_hamming'] else 'NOT met'}.")
    return "\n".join(lines) + "\n"


def against_hgb(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """skmtl's defaults against per-task HGB on every task of every table (yeast: the
    Hamming loss), and how many tasks each leads."""
    lines, ahead, behind = [], 0, 0
    for name, d in cfg["datasets"].items():
        cells = []
        for task in ["hamming"] if name == "yeast" else d["tasks"]:
            mtl = mean_metric(recs, "skmtl defaults", name, task)
            hgb = mean_metric(recs, "hgb", name, task)
            if mtl != mtl or hgb != hgb:  # NaN: no results
                continue
            better = mtl < hgb if task in LOWER else mtl > hgb
            ahead, behind = ahead + (better and mtl != hgb), behind + (not better and mtl != hgb)
            lower = ", lower is better" if task in LOWER else ""
            cells.append(f"{task} {mtl:.4f} vs {hgb:.4f} ({mtl - hgb:+.4f}{lower})")
        if cells:
            lines.append(f"- {name}: {'; '.join(cells)}.")
    lines.append(f"- skmtl's defaults score better than per-task HGB on {ahead} of these "
                 f"{ahead + behind} tasks (means over seeds), worse on {behind}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = []
    for name, d in cfg["datasets"].items():
        tasks = ["hamming"] if name == "yeast" else d["tasks"]
        tables.append(dataset_heading(name, d) + _table(recs, name, tasks))
    values = seed_header_values(res)
    defaults = {k: v for k, v in cfg["defaults"].items()
                if k in ("batch_size", "lr", "lr_schedule", "max_epochs", "early_stopping",
                         "min_frequency", "numeric_transform", "numeric_embedding", "n_bins",
                         "bin_edges", "optimizer", "weight_decay", "ema_decay",
                         "label_smoothing", "dropout", "hidden_layer_sizes")}
    values |= {"defaults": defaults, "one_hot": cfg["one_hot"], "tables": "\n".join(tables),
               "verdicts": verdicts(recs, cfg), "against_hgb": against_hgb(recs, cfg)}
    return fill("tabular", values)
