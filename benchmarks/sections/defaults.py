"""The ``defaults`` section of docs/benchmarks.md, rendered from ``results/defaults.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, median_spread
from report import _mean, fill, header_values, markdown_table, ok

#: The round fitted on the small tables (``config["small"]``; its records carry ``round``).
SMALL = 4
NOT_RUN = "(round 4 has not been run: `python benchmarks/defaults.py --round 4`)"


def _score(r: Mapping[str, Any]) -> float:
    """A record's score: the mean over its tasks."""
    return _mean(list(r["metrics"].values()))


def _ranked(recs: Sequence[Mapping[str, Any]], names: Sequence[str], reference: str,
            ) -> list[dict[str, Any]]:
    """One row per candidate: mean rank over ``names`` (rank of the mean CV score on each
    dataset, 1 = best, among the candidates fitted on it), the paired score difference
    against ``reference`` on the same (dataset, seed) in points, the per-dataset scores,
    epochs, fit seconds and failed fits; sorted by mean rank."""
    candidates = list(dict.fromkeys(r["method"] for r in recs))
    scores = {(c, n): [_score(r) for r in ok(recs, method=c, dataset=n)]
              for c in candidates for n in names}
    ranks: dict[str, list[int]] = {c: [] for c in candidates}
    for name in names:
        order = sorted((c for c in candidates if scores[c, name]),
                       key=lambda c: -_mean(scores[c, name]))
        for i, cand in enumerate(order):
            ranks[cand].append(i + 1)
    base = {(r["dataset"], r["seed"]): _score(r) for r in ok(recs, method=reference)}
    rows = []
    for cand in candidates:
        diffs = {n: [100 * (_score(r) - base[n, r["seed"]]) for r in ok(recs, method=cand,
                                                                         dataset=n)
                     if (n, r["seed"]) in base] for n in names}
        good = ok(recs, method=cand)
        rows.append({
            "candidate": cand, "mean rank ↓": float(_mean(ranks[cand])),
            "diffs": [d for n in names for d in diffs[n]],
            "dataset diffs": {n: _mean(d) for n, d in diffs.items() if d},
            **{f"{n} ↑": mean_std(scores[cand, n], ".4f") for n in names},
            "epochs, median": median_spread([r["epochs"] for r in good], ".0f"),
            "fit s, median": median_spread([r["fit_seconds"] for r in good], ".1f"),
            "failed fits": sum(1 for r in recs if r["method"] == cand and r.get("error"))
            or None})
    rows.sort(key=lambda r: r["mean rank ↓"])
    return rows


def _small_values(cfg: Mapping[str, Any], recs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The round-4 placeholders: its suite, its ranked table, a per-dataset table of the
    best candidate's gain by table size, and the verdict."""
    small = cfg.get("small")
    recs = [r for r in recs if r.get("round") == SMALL]
    keys = ("small_datasets", "small_folds", "small_repeats", "small_threshold", "small_table",
            "small_sizes", "small_best", "small_reference")
    if not small or not recs:
        return dict.fromkeys(keys, NOT_RUN)
    names = list(small["datasets"])
    reference = next((r["method"] for r in recs if not r.get("settings")), recs[0]["method"])
    rows = _ranked(recs, names, reference)
    column = "Δ score vs reference (points), mean ± std ↑"
    for row in rows:
        row[column] = mean_std(row["diffs"], "+.2f")
        wins = list(row["dataset diffs"].values())
        row["datasets better / worse"] = (f"{sum(d > 0 for d in wins)} / "
                                          f"{sum(d < 0 for d in wins)}")
    columns = ["candidate", "mean rank ↓", column, "datasets better / worse",
               *[f"{n} ↑" for n in names], "epochs, median", "fit s, median", "failed fits"]
    best = next((r for r in rows if r["candidate"] != reference), None)
    folds = small["folds"]
    sizes = []
    for name in sorted(names, key=lambda n: small["datasets"][n]["rows"]):
        d = small["datasets"][name]
        # a training fold holds (folds - 1) / folds of the rows; the defaults' early stopping
        # counts rows with at least one label
        row = {"dataset": name, "rows": d["rows"],
               "training rows per fold": round(d["rows"] * (folds - 1) / folds),
               "tasks": ", ".join(d["tasks"])}
        for cand in (r for r in rows if r["candidate"] != reference):
            diffs = [100 * (_score(r) - _score(b)) for r in ok(recs, method=cand["candidate"],
                                                               dataset=name)
                     for b in ok(recs, method=reference, dataset=name, seed=r["seed"])]
            row[cand["candidate"]] = mean_std(diffs, "+.2f")
        sizes.append(row)
    stopped = [r.get("early_stopping") for r in ok(recs, method=reference)]
    if best is None:
        verdict = "none (only the reference was fitted)"
    else:
        verdict = (f"*{best['candidate']}* (mean rank {best['mean rank ↓']:.2f}, "
                   f"{best[column]} points against *{reference}*, better on "
                   f"{best['datasets better / worse'].split(' / ')[0]} of {len(names)} tables;"
                   f" the reference's mean rank: "
                   f"{next(r['mean rank ↓'] for r in rows if r['candidate'] == reference):.2f})")
    return {
        "small_datasets": ", ".join(f"{n} ({d['rows']:,} rows; {', '.join(d['tasks'])})"
                                    for n, d in small["datasets"].items()),
        "small_folds": folds, "small_repeats": small["repeats"],
        "small_threshold": f"{small['early_stopping_rows']:,} labelled rows (early stopping "
                           f"was on in {sum(bool(s) for s in stopped)} of {len(stopped)} "
                           f"fits of *{reference}*)",
        "small_table": markdown_table(rows, columns, {"mean rank ↓": ".2f"}),
        "small_sizes": markdown_table(sizes, ["dataset", "rows", "training rows per fold",
                                              *[r["candidate"] for r in rows
                                                if r["candidate"] != reference]]),
        "small_best": verdict, "small_reference": reference,
    }


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """Candidates ranked by their mean CV score on each dataset; round 4 on its own."""
    cfg, recs = res["config"], res["records"]
    names = list(cfg["datasets"])
    main = [r for r in recs if r.get("round") != SMALL]
    rows = _ranked(main, names, "before")
    for row in rows:
        row["Δ score vs before (points), mean ± std ↑"] = mean_std(row["diffs"], "+.2f")
    best = next((r for r in rows if r["candidate"] != "before"), None)
    columns = ["candidate", "mean rank ↓", "Δ score vs before (points), mean ± std ↑",
               *[f"{n} ↑" for n in names], "epochs, median", "fit s, median", "failed fits"]
    small = cfg.get("small") or {}
    seeds = f"fold k fits with random_state=k (k < {cfg['folds']})"
    if small:
        seeds += (f"; round 4: fold k of repetition r with random_state={small['folds']}r + k,"
                  f" the folds of repetition r fixed by seed r")
    values = header_values(res, seeds=seeds, repetitions=f"{cfg['folds']}-fold CV per dataset"
                           + (f"; round 4: {small['folds']}-fold CV repeated "
                              f"{small['repeats']}×" if small else ""))
    values |= {
        "table": markdown_table(rows, columns, {"mean rank ↓": ".2f"}), "before": cfg["before"],
        "datasets": ", ".join(f"{n} ({d['rows']:,} rows, tasks {', '.join(d['tasks'][:4])}"
                              f"{', …' if len(d['tasks']) > 4 else ''})"
                              for n, d in cfg["datasets"].items()),
        "best": "none" if best is None else f"{best['candidate']} (mean rank "
                f"{best['mean rank ↓']:.2f})",
    }
    values |= _small_values(cfg, recs)
    return fill("defaults", values)
