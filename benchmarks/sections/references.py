"""The ``references`` section of docs/benchmarks.md, rendered from ``results/references.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, median_spread
from report import (
    _mean,
    dataset_heading,
    fill,
    header_values,
    markdown_table,
    ok,
    paired_deltas,
    quality_cells,
)

REFERENCE = "hgb"
LOWER = ("hamming",)


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str]) -> str:
    rows = []
    for method in dict.fromkeys(r["method"] for r in recs if r["dataset"] == name):
        row, good = quality_cells(recs, method, name, tasks)
        d = paired_deltas(recs, {"method": method, "dataset": name},
                          {"method": REFERENCE, "dataset": name}, ("seed",),
                          lower=[t for t in LOWER if t in tasks])
        if "hamming" in tasks:  # relative changes of an R² near 0 would mean nothing
            row["Δ vs per-task HGB (%)"] = "—" if method == REFERENCE else mean_std(d, "+.2f")
        row["fit s, median (min–max)"] = median_spread([r["fit_seconds"] for r in good], ".1f")
        epochs = [r["epochs"] for r in good if r.get("epochs") is not None]
        row["epochs"] = median_spread(epochs, ".0f") if epochs else "—"
        loads = [r["other_load"] for r in good if r.get("other_load") is not None]
        row["other load (cores), max"] = f"{max(loads):.2f}" if loads else "—"
        rows.append(row)
    delta = ["Δ vs per-task HGB (%)"] if "hamming" in tasks else []
    return markdown_table(rows, ["method", *tasks, *delta, "fit s, median (min–max)", "epochs",
                                 "other load (cores), max"])


def _mean_metric(recs: Sequence[Mapping[str, Any]], method: str, name: str, task: str) -> float:
    return _mean([r["metrics"][task] for r in ok(recs, method=method, dataset=name)])


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Yeast against the issue's target for every method; skmtl against HGB on flights."""
    lines = []
    if "yeast" in cfg["datasets"]:
        target = cfg["targets"]["yeast_hamming"]
        for method in dict.fromkeys(r["method"] for r in recs if r["dataset"] == "yeast"):
            h = _mean_metric(recs, method, "yeast", "hamming")
            if h == h:  # not NaN: the method has results
                lines.append(f"- yeast Hamming loss, {method}: {h:.4f} (the issue's target "
                             f"≤ {target}: {'reached' if h <= target else 'not reached'}).")
    for name in ("flights", "flights_date"):
        if name not in cfg["datasets"]:
            continue
        cells = []
        for task in cfg["datasets"][name]["tasks"]:
            mtl = _mean_metric(recs, "skmtl defaults", name, task)
            hgb = _mean_metric(recs, REFERENCE, name, task)
            cells.append(f"{task} {mtl:.4f} vs {hgb:.4f} ({mtl - hgb:+.4f})")
        lines.append(f"- {name}, skmtl defaults vs per-task HGB: {'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    tables = []
    for name, d in cfg["datasets"].items():
        tasks = ["hamming"] if name == "yeast" else d["tasks"]
        tables.append(dataset_heading(name, d) + _table(recs, name, tasks))
    seeds = sorted({r["seed"] for r in recs})
    values = header_values(res, seeds=f"{seeds} (random_state of every model)",
                           repetitions=f"{len(seeds)} seed(s) per method and dataset")
    classes = ", ".join(f"{m}: `{c}` / `{r}`" for m, (c, r) in cfg["pytabkit_methods"].items())
    values |= {"tables": "\n".join(tables), "verdicts": verdicts(recs, cfg),
               "pytabkit": cfg["pytabkit"] or "not installed", "classes": classes,
               "threads": cfg["threads"]}
    return fill("references", values)
