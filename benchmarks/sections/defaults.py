"""The ``defaults`` section of docs/benchmarks.md, rendered from ``results/defaults.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import mean_std, median_spread
from report import _mean, fill, header_values, markdown_table, ok


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """Candidates ranked by their mean CV score on each dataset."""
    cfg, recs = res["config"], res["records"]
    names = list(cfg["datasets"])
    candidates = list(dict.fromkeys(r["method"] for r in recs))
    def score(r: Mapping[str, Any]) -> float:  # mean over the record's tasks
        return _mean(list(r["metrics"].values()))

    scores = {(c, n): [score(r) for r in ok(recs, method=c, dataset=n)]
              for c in candidates for n in names}
    ranks: dict[str, list[int]] = {c: [] for c in candidates}
    for name in names:  # rank of the mean CV score on each dataset (1 = best), among fitted
        order = sorted((c for c in candidates if scores[c, name]),
                       key=lambda c: -_mean(scores[c, name]))
        for i, cand in enumerate(order):
            ranks[cand].append(i + 1)
    before = {(r["dataset"], r["seed"]): score(r) for r in ok(recs, method="before")}
    rows = []
    for cand in candidates:
        diffs = [100 * (score(r) - before[r["dataset"], r["seed"]]) for r in ok(recs, method=cand)
                 if (r["dataset"], r["seed"]) in before]
        row: dict[str, Any] = {"candidate": cand, "mean rank ↓": _mean(ranks[cand]),
                               "Δ score vs before (points), mean ± std ↑": mean_std(diffs, "+.2f")}
        for name in names:
            row[f"{name} ↑"] = mean_std(scores[cand, name], ".4f")
        good = ok(recs, method=cand)
        row["epochs, median"] = median_spread([r["epochs"] for r in good], ".0f")
        row["fit s, median"] = median_spread([r["fit_seconds"] for r in good], ".1f")
        row["failed fits"] = sum(1 for r in recs if r["method"] == cand and r.get("error")) or None
        rows.append(row)
    rows.sort(key=lambda r: r["mean rank ↓"])
    best = next((r for r in rows if r["candidate"] != "before"), None)
    columns = ["candidate", "mean rank ↓", "Δ score vs before (points), mean ± std ↑",
               *[f"{n} ↑" for n in names], "epochs, median", "fit s, median", "failed fits"]
    values = header_values(res, seeds=f"fold k fits with random_state=k (k < {cfg['folds']})",
                           repetitions=f"{cfg['folds']}-fold CV per dataset")
    values |= {
        "table": markdown_table(rows, columns, {"mean rank ↓": ".2f"}), "before": cfg["before"],
        "datasets": ", ".join(f"{n} ({d['rows']:,} rows, tasks {', '.join(d['tasks'][:4])}"
                              f"{', …' if len(d['tasks']) > 4 else ''})"
                              for n, d in cfg["datasets"].items()),
        "best": "none" if best is None else f"{best['candidate']} (mean rank "
                f"{best['mean rank ↓']:.2f})",
    }
    return fill("defaults", values)
