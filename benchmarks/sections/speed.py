"""The ``speed`` section of docs/benchmarks.md, rendered from ``results/speed.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import IDLE_THRESHOLD, median_spread
from report import fill, header_values, markdown_table, ok

SPEED_COLUMNS: list[str] = ["method", "N", "s/epoch, median (min–max)", "ratio to floor",
                            "incl. setup s/epoch", "other load (cores)", "attempts",
                            "all epochs (s)"]


def _speed_median(recs: Sequence[Mapping[str, Any]], method: str, n: int) -> float | None:
    good = [r for r in ok(recs, method=method, n=n) if r.get("epoch_seconds")]
    return statistics.median(good[0]["epoch_seconds"]) if good else None


def speed_verdict(recs: Sequence[Mapping[str, Any]], target: Mapping[str, Any]) -> str:
    """The speed target and whether the measured medians meet it, per N."""
    n_t, ratio_t, speedup_t = target["n"], target["floor_ratio"], target["skorch_speedup"]
    lines = [f"Target at N={n_t // 1000}k: skmtl ≤ {ratio_t:.2f}× the floor and ≥ "
             f"{speedup_t:.0f}× faster than default skorch (median s/epoch)."]
    sizes = sorted({r["n"] for r in recs})
    for n in sizes:
        label = "target" if n == n_t else "reference only"
        fl, sk, mtl = (_speed_median(recs, m, n) for m in ("floor", "skorch default", "skmtl"))
        context = "" if fl is None or sk is None else (
            f" For context: default skorch / floor = {sk / fl:.2f}×, so being {speedup_t:.0f}× "
            f"faster than default skorch requires skmtl ≤ {sk / speedup_t / fl:.2f}× the floor.")
        if mtl is None:
            why = next((r["error"] for r in recs if r["method"] == "skmtl" and r["n"] == n
                        and r.get("error")), "skmtl was not in this run")
            lines.append(f"- N={n:,} ({label}): cannot be evaluated, skmtl not measured ({why})."
                         + context)
            continue
        parts = ["floor not measured" if fl is None else
                 f"skmtl / floor = {mtl / fl:.2f}× ({'met' if mtl / fl <= ratio_t else 'NOT met'})",
                 "default skorch not measured" if sk is None else
                 f"default skorch / skmtl = {sk / mtl:.2f}× "
                 f"({'met' if sk / mtl >= speedup_t else 'NOT met'})"]
        lines.append(f"- N={n:,} ({label}): " + "; ".join(parts) + "." + context)
    if n_t not in sizes:
        lines.append(f"- This run did not include N={n_t:,}, so the target is not evaluated.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``speed`` section (no figure)."""
    cfg, recs = res["config"], res["records"]
    rows = []
    for rec in recs:
        times = rec.get("epoch_seconds") or []
        fl = _speed_median(recs, "floor", rec["n"])
        rows.append({
            "method": rec["method"] + (" (not measured)" if rec.get("error") else ""),
            "N": f"{rec['n']:,}", "s/epoch, median (min–max)": median_spread(times, ".3f"),
            "ratio to floor": statistics.median(times) / fl if times and fl else None,
            "incl. setup s/epoch": rec["fit_seconds"] / len(times) if times else None,
            "other load (cores)": rec.get("other_load"), "attempts": rec.get("attempts"),
            "all epochs (s)": ", ".join(f"{s:.3f}" for s in times) or None})
    values = header_values(
        res,
        seeds=(f"data seed {cfg['data_seed']} (latent map seed {cfg['latent_seed']}); torch "
               f"seed {cfg['torch_seed']} before building each model; MLPRegressor / skmtl "
               f"random_state={cfg['torch_seed']}"),
        repetitions=(f"{cfg['epochs']} epochs per method and N, one run each; median (min–max) "
                     "of the epoch times (no warm-up epoch discarded)"))
    values |= {
        "lr": f"{cfg['lr']:g}", "batch_size": cfg["batch_size"], "threads": cfg["threads"],
        "idle": IDLE_THRESHOLD, "retry_busy": cfg["retry_busy"],
        "wait_idle": f"{cfg['wait_idle']:g}",
        "table": markdown_table(rows, SPEED_COLUMNS, {
            "ratio to floor": ".2f", "incl. setup s/epoch": ".3f", "other load (cores)": ".2f"}),
        "verdict": speed_verdict(recs, cfg["target"]),
    }
    return fill("speed", values)
