"""The ``references`` section of docs/benchmarks.md, rendered from ``results/references.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import (
    dataset_heading,
    fill,
    markdown_table,
    mean_metric,
    method_rows,
    seed_header_values,
)

REFERENCE, DELTA = "hgb", "Δ vs per-task HGB (%)"
LOWER = ("hamming",)


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str]) -> str:
    # on yeast only: relative changes of an R² near 0 (flights) would mean nothing
    delta = DELTA if "hamming" in tasks else None
    rows = []
    for _, row, good in method_rows(recs, name, tasks, REFERENCE, delta, LOWER):
        loads = [r["other_load"] for r in good if r.get("other_load") is not None]
        row["other load (cores), max"] = f"{max(loads):.2f}" if loads else "—"
        rows.append(row)
    return markdown_table(rows, ["method", *tasks, *([delta] if delta else []),
                                 "fit s, median (min–max)", "epochs", "other load (cores), max"])


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Yeast against the issue's target for every method; skmtl against HGB on flights."""
    lines = []
    if "yeast" in cfg["datasets"]:
        target = cfg["targets"]["yeast_hamming"]
        for method in dict.fromkeys(r["method"] for r in recs if r["dataset"] == "yeast"):
            h = mean_metric(recs, method, "yeast", "hamming")
            if h == h:  # not NaN: the method has results
                lines.append(f"- yeast Hamming loss, {method}: {h:.4f} (the issue's target "
                             f"≤ {target}: {'reached' if h <= target else 'not reached'}).")
    for name in ("flights", "flights_date"):
        if name not in cfg["datasets"]:
            continue
        cells = []
        for task in cfg["datasets"][name]["tasks"]:
            mtl = mean_metric(recs, "skmtl defaults", name, task)
            hgb = mean_metric(recs, REFERENCE, name, task)
            cells.append(f"{task} {mtl:.4f} vs {hgb:.4f} ({mtl - hgb:+.4f})")
        lines.append(f"- {name}, skmtl defaults vs per-task HGB: {'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = []
    for name, d in cfg["datasets"].items():
        tasks = ["hamming"] if name == "yeast" else d["tasks"]
        tables.append(dataset_heading(name, d) + _table(recs, name, tasks))
    values = seed_header_values(res)
    classes = ", ".join(f"{m}: `{c}` / `{r}`" for m, (c, r) in cfg["pytabkit_methods"].items())
    values |= {"tables": "\n".join(tables), "verdicts": verdicts(recs, cfg),
               "pytabkit": cfg["pytabkit"] or "not installed", "classes": classes,
               "threads": cfg["threads"]}
    return fill("references", values)
