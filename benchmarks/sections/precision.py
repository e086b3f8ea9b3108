"""The ``precision`` section of docs/benchmarks.md, rendered from ``results/precision.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, paired_ratios
from report import fill, header_values, markdown_table, ok

REFERENCE = "float32"
COLUMNS: list[str] = ["method", "s/epoch (epochs 2+)", "ratio to float32 (paired)",
                      "first epoch s", "warm-up s", "cold warm-up s", "final train loss",
                      "loss gap to float32", "reg R²", "binary acc", "5-class acc",
                      "other load (cores)", "seeds"]


def steady_seconds(rec: Mapping[str, Any]) -> float:
    """Median epoch time without the first epoch (which includes any compilation)."""
    return statistics.median(rec["epoch_seconds"][1:])


def warm_up_seconds(rec: Mapping[str, Any]) -> float:
    """The first epoch's excess over the steady epoch time: the one-off compilation."""
    return rec["epoch_seconds"][0] - steady_seconds(rec)


def _paired(recs: Sequence[Mapping[str, Any]], method: str, value) -> list[float]:
    """``value(rec)`` / ``value(reference)`` for each seed measured by both."""
    mine = {r["seed"]: r for r in ok(recs, method=method) if r.get("epoch_seconds")}
    ref = {r["seed"]: r for r in ok(recs, method=REFERENCE) if r.get("epoch_seconds")}
    both = sorted(set(mine) & set(ref))
    return paired_ratios([value(mine[s]) for s in both], [value(ref[s]) for s in both])


def summary(recs: Sequence[Mapping[str, Any]], method: str) -> dict[str, Any]:
    """One table row: timings, losses and test metrics over the method's seeds."""
    good = [r for r in ok(recs, method=method) if len(r.get("epoch_seconds") or []) >= 2]
    if not good:
        why = next((r["error"] for r in recs if r["method"] == method and r.get("error")),
                   "no record")
        return {"method": f"{method} (not measured: {why})"}
    row = {
        "method": method, "seeds": len(good),
        "s/epoch (epochs 2+)": mean_std([steady_seconds(r) for r in good]),
        "first epoch s": mean_std([r["epoch_seconds"][0] for r in good], ".2f"),
        "warm-up s": mean_std([warm_up_seconds(r) for r in good], ".2f"),
        "cold warm-up s": warm_up_seconds(min(good, key=lambda r: r["seed"])),
        "final train loss": mean_std([r["train_loss"] for r in good], ".4f"),
        "reg R²": mean_std([r["metrics"]["reg_r2"] for r in good]),
        "binary acc": mean_std([r["metrics"]["binary_acc"] for r in good]),
        "5-class acc": mean_std([r["metrics"]["multiclass_acc"] for r in good]),
        "other load (cores)": mean_std([r.get("other_load") for r in good], ".2f"),
    }
    if method != REFERENCE:
        row["ratio to float32 (paired)"] = mean_std(_paired(recs, method, steady_seconds))
        gaps = [100 * (g - 1) for g in _paired(recs, method, lambda r: r["train_loss"])]
        row["loss gap to float32"] = (None if not gaps else
                                      f"{mean_std(gaps, '+.2f')} % (largest {max(map(abs, gaps)):.2f} %)")
    return row


def verdict(recs: Sequence[Mapping[str, Any]], methods: Sequence[str]) -> str:
    """One line per method compared with float32: speed ratio and loss gap."""
    lines = []
    for method in methods:
        if method == REFERENCE:
            continue
        ratios = _paired(recs, method, steady_seconds)
        if not ratios:
            lines.append(f"- {method}: not compared (no paired float32 and {method} fit).")
            continue
        gaps = [100 * (g - 1) for g in _paired(recs, method, lambda r: r["train_loss"])]
        mean = statistics.mean(ratios)
        faster = f"{1 / mean:.2f}× as fast as" if mean > 0 else "not comparable with"
        lines.append(
            f"- {method}: steady epoch time {mean:.2f}× float32's ({faster} float32), "
            f"warm-up {mean_std([warm_up_seconds(r) for r in ok(recs, method=method)], '.1f')} s; "
            f"final training loss within {max(map(abs, gaps)):.2f} % of float32's on every seed.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``precision`` section (no figure)."""
    cfg, recs = res["config"], res["records"]
    rows = [summary(recs, method) for method in cfg["methods"]]
    values = header_values(
        res,
        seeds=(f"data seed {cfg['data_seed']} (latent map seed {cfg['latent_seed']}); "
               f"estimator random_state = seed 0..{cfg['seeds'] - 1}"),
        repetitions=(f"{cfg['seeds']} seed(s), one fit of {cfg['epochs']} epochs per method "
                     "and seed; mean ± std over seeds"))
    options = cfg.get("compile_options") or {}
    values |= {
        "n_train": f"{cfg['n_train']:,}", "n_test": f"{cfg['n_test']:,}",
        "epochs": cfg["epochs"], "lr": f"{cfg['lr']:g}", "batch_size": cfg["batch_size"],
        "hidden": cfg["hidden"], "threads": cfg["threads"],
        "cpu_capability": cfg.get("cpu_capability", "unknown"),
        "compile_options": ("torch's defaults (inductor)" if not options else
                            ", ".join(f"{k}={v}" for k, v in options.items())),
        "table": markdown_table(rows, COLUMNS, {"cold warm-up s": ".2f"}),
        "verdict": verdict(recs, cfg["methods"]),
    }
    return fill("precision", values)
