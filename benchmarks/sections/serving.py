"""The ``serving`` section of docs/benchmarks.md, rendered from ``results/serving.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import fill, header_values, markdown_table

SERVING_COLUMNS: list[str] = ["method", "rows", "rows/s, best", "rows/s, mean ± std", "s per call, mean",
                              "peak memory growth (MB)", "growth / X size", "other load (cores)"]


def _mean_std(values: Sequence[float]) -> str:
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:,.0f} ± {std:,.0f}"


def serving_verdict(recs: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> str:
    """The issue's target for skmtl's own ``predict`` and whether this run meets it."""
    target, before = config["target"], config["before"]
    head = (f"Target (skmtl predict, plain MLP, {target['rows']:,} rows, {config['threads']} "
            f"threads): ≥ {target['rows_per_s']:,} rows/s and peak memory growth ≤ "
            f"{target['memory_mb']:,} MB (before: {before['skmtl_rows_per_s']:,} rows/s, "
            f"+{before['skmtl_memory_mb']:,} MB).")
    main = next((r for r in recs if r.get("key") == "skmtl"), None)
    if main is None or main.get("error"):
        why = "skmtl was not in this run" if main is None else main["error"]
        return f"{head}\n\n- Cannot be evaluated: skmtl's predict was not measured ({why}).\n"
    if config["rows"] != target["rows"]:
        return (f"{head}\n\n- Not evaluated: this run predicted {config['rows']:,} rows, the "
                f"target is for {target['rows']:,}.\n")
    best, memory = max(main["rows_per_s"]), main["memory_mb"]
    speed = "met" if best >= target["rows_per_s"] else "NOT met"
    room = "met" if memory <= target["memory_mb"] else "NOT met"
    lines = [f"- Throughput: {best:,.0f} rows/s (best of {len(main['rows_per_s'])}; mean "
             f"{_mean_std(main['rows_per_s'])}): {speed}.",
             f"- Peak memory growth: {memory:,.0f} MB: {room}."]
    floors = [r for r in recs if r.get("key") in ("gemm", "gemm-dnn") and not r.get("error")]
    if floors:
        top = max(max(r["rows_per_s"]) for r in floors)
        lines.append(f"- The network's matrix products alone reached {top:,.0f} rows/s (best "
                     "of the floor rows) "
                     f"in this run: the target asks `predict` for "
                     f"{target['rows_per_s'] / top:.0%} of that speed, and it reached "
                     f"{best / top:.0%}.")
    if (main.get("other_load") or 0) >= 0.1:
        lines.append(f"- Other processes used {main['other_load']:.2f} cores on average while "
                     "it ran: the throughput is understated.")
    return head + "\n\n" + "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``serving`` section (no figure)."""
    cfg, recs = res["config"], res["records"]
    rows = []
    for rec in recs:
        if rec.get("error"):
            rows.append({"method": f"{rec['method']} (failed: {rec['error']})"})
            continue
        speeds, memory = rec["rows_per_s"], rec["memory_mb"]
        rows.append({
            "method": rec["method"] + ("" if rec.get("peak_reset", True) else " (peak: upper bound)"),
            "rows": f"{rec['rows']:,}", "rows/s, best": f"{max(speeds):,.0f}", "rows/s, mean ± std": _mean_std(speeds),
            "s per call, mean": statistics.mean(rec["seconds"]),
            "peak memory growth (MB)": f"{memory:,.0f}",
            "growth / X size": memory / rec["x_mb"], "other load (cores)": rec.get("other_load")})
    values = header_values(
        res,
        seeds=(f"prediction rows: numpy default_rng({cfg['x_seed']}); models: random_state="
               f"{cfg['model_seed']}"),
        repetitions=(f"{cfg['repeats']} timed predictions of all rows per method, each method "
                     "in a fresh process"))
    before = cfg["before"]
    values |= {
        "rows": f"{cfg['rows']:,}", "defaults_rows": f"{cfg.get('defaults_rows', cfg['rows']):,}",
        "features": cfg["features"], "threads": cfg["threads"],
        "hidden": "-".join(str(h) for h in cfg["hidden"]), "fit_rows": f"{cfg['fit_rows']:,}",
        "epochs": cfg["epochs"], "chunk_rows": (f"{cfg['chunk_rows']:,}" if cfg.get("chunk_rows")
                                                else "unknown"),
        "forward_rows": (f"{cfg['forward_rows']:,}" if cfg.get("forward_rows") else "unknown"),
        "fused_rows_plain": (f"{cfg['fused_forward_rows']:,}" if cfg.get("fused_forward_rows")
                             else "unknown"),
        "fused_rows": (f" ({cfg['fused_forward_rows']:,} rows when it predicts through the fused "
                       "kernel, as this network does)" if cfg.get("fused_forward_rows") else ""),
        "x_mb": f"{cfg['rows'] * cfg['features'] * 4 / 2**20:,.0f}",
        "as_before": ", ".join(f"{k}={v!r}" for k, v in cfg["as_before"].items()),
        "before_skmtl": f"{before['skmtl_rows_per_s']:,} rows/s, +{before['skmtl_memory_mb']:,} MB",
        "before_mlp": f"{before['mlp_rows_per_s']:,} rows/s, +{before['mlp_memory_mb']:,} MB",
        "compute_limit": f"{before['compute_limit_rows_per_s']:,}",
        "table": markdown_table(rows, SERVING_COLUMNS, {
            "s per call, mean": ".3f", "growth / X size": ".2f", "other load (cores)": ".2f"}),
        "verdict": serving_verdict(recs, cfg),
    }
    return fill("serving", values)
