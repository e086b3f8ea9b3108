"""The ``yeast_limits`` section of docs/benchmarks.md, rendered from
``results/yeast_limits.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, median_spread
from report import fill, header_values, markdown_table, ok


def _per_seed(recs: Sequence[Mapping[str, Any]], method: str) -> dict[int, float]:
    """The method's Hamming loss per seed: the mean over that seed's folds."""
    by_seed: dict[int, list[float]] = {}
    for r in ok(recs, method=method):
        by_seed.setdefault(r["seed"], []).append(r["metrics"]["hamming"])
    return {s: statistics.mean(v) for s, v in by_seed.items()}


def _paired(recs: Sequence[Mapping[str, Any]], method: str, reference: str) -> list[float]:
    """The method's Hamming loss minus the reference's, per (seed, fold) both measured."""
    ref = {(r["seed"], r["fold"]): r["metrics"]["hamming"] for r in ok(recs, method=reference)}
    return [r["metrics"]["hamming"] - ref[(r["seed"], r["fold"])]
            for r in ok(recs, method=method) if (r["seed"], r["fold"]) in ref]


def _table(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    reference, rows = cfg["reference"], []
    delta = f"Δ vs {reference}"
    for method in cfg["methods"]:
        failed = sum(1 for r in recs if r["method"] == method and r.get("error"))
        per_seed = list(_per_seed(recs, method).values())
        rows.append({
            "method": method + (f" ({failed} failed)" if failed else ""),
            "hamming ↓": mean_std(per_seed, ".4f") or "—",
            delta: "—" if method == reference else (
                mean_std(_paired(recs, method, reference), "+.4f") or "—"),
            "fit s per fold, median (min–max)": median_spread(
                [r["fit_seconds"] for r in ok(recs, method=method)], ".1f") or "—",
        })
    return markdown_table(rows, ["method", "hamming ↓", delta,
                                 "fit s per fold, median (min–max)"])


def _verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    target, oracle = cfg["target"], cfg["oracle"]
    means = {m: statistics.mean(v.values()) for m in cfg["methods"]
             if (v := _per_seed(recs, m))}
    honest = {m: h for m, h in means.items() if m not in oracle}
    if not honest:
        return ""
    best = min(honest, key=honest.get)
    lines = [f"- Lowest Hamming loss of a method (no held-out label read): *{best}*, "
             f"{honest[best]:.4f}, {honest[best] - target:+.4f} from the issue's target "
             f"≤ {target} ({'met' if honest[best] <= target else 'not met'} on these rows)."]
    reference = cfg["reference"]
    gains = {m: h - means[reference] for m, h in honest.items() if m != reference}
    if reference in means and gains:
        lines.append("- Against *" + reference + f"* ({means[reference]:.4f}): " + "; ".join(
            f"*{m}* {g:+.4f}" for m, g in sorted(gains.items(), key=lambda mg: mg[1])) + ".")
    for method, base in oracle.items():
        if method in means and base in means:
            lines.append(f"- *{method}*: {means[method]:.4f}, {means[method] - means[base]:+.4f} "
                         f"against the same probabilities at 0.5 ({means[base]:.4f}): the most "
                         "that any choice of thresholds could add to them here.")
    return "\n".join(lines)


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    cfg, recs = res["config"], res["records"]
    seeds = sorted({r["seed"] for r in recs})
    values = header_values(
        res, seeds=f"{seeds} (the folds' shuffle and random_state of every model)",
        repetitions=f"{len(seeds)} seed(s) x {cfg['folds']} folds")
    values |= {"table": _table(recs, cfg), "verdicts": _verdicts(recs, cfg),
               "reference": cfg["reference"], "rows": f"{cfg['rows']:,}",
               "folds": cfg["folds"], "inner_folds": cfg["inner_folds"],
               "ensemble": cfg["ensemble"], "trees": cfg["trees"], "target": cfg["target"],
               "citation": cfg["citation"], "n_labels": len(cfg["labels"]),
               "held_out": f"{cfg['rows'] // cfg['folds']:,}"}
    return fill("yeast_limits", values)
