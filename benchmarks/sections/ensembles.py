"""The ``ensembles`` section of docs/benchmarks.md, rendered from ``results/ensembles.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, median_spread, paired_ratios
from report import fill, markdown_table, method_rows, ok, seed_header_values

LOWER = ("hamming",)


def _paired_times(recs: Sequence[Mapping[str, Any]], method: str, reference: str,
                  name: str, key: str) -> list[float]:
    """``key`` of ``method`` over that of ``reference``, paired by seed."""
    mine = {r["seed"]: r[key] for r in ok(recs, method=method, dataset=name)}
    ref = {r["seed"]: r[key] for r in ok(recs, method=reference, dataset=name)}
    seeds = sorted(set(mine) & set(ref))
    return paired_ratios([mine[s] for s in seeds], [ref[s] for s in seeds])


def _table(recs: Sequence[Mapping[str, Any]], name: str, tasks: Sequence[str],
           reference: str) -> str:
    delta = f"Δ vs {reference} (%)"
    rows = []
    for method, row, good in method_rows(recs, name, tasks, reference, delta, LOWER):
        row[f"fit time / {reference}"] = ("1" if method == reference else mean_std(
            _paired_times(recs, method, reference, name, "fit_seconds"), ".1f"))
        row["predict s, median"] = median_spread([r["predict_seconds"] for r in good], ".2f")
        row["parameters"] = (f"{good[0]['parameters']:,}" if good else "—")
        rows.append(row)
    return markdown_table(rows, ["method", *tasks, delta, "fit s, median (min–max)",
                                 f"fit time / {reference}", "predict s, median", "parameters",
                                 "epochs"])


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    reference = cfg["reference"]
    tables = []
    for name, d in cfg["datasets"].items():
        tasks = ["hamming"] if name == "yeast" else d["tasks"]
        tables.append(f"### {name}\n\n{d['train_rows']:,} training / {d['test_rows']:,} test "
                      f"rows. Source: {d['citation']}.\n\n" + _table(recs, name, tasks, reference))
    values = seed_header_values(res)
    methods = "\n".join(f"- *{m}*: `{spec}`" for m, spec in cfg["methods"].items())
    values |= {"tables": "\n".join(tables), "methods": methods, "reference": reference}
    return fill("ensembles", values)
