"""The ``data_parallel`` section of docs/benchmarks.md, rendered from ``results/data_parallel.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import mean_std, paired_ratios
from report import fill, header_values, markdown_table, ok

COLUMNS: list[str] = ["setting", "seeds", "s/epoch", "fit s", "test R² (reg)",
                      "test accuracy (binary)", "test accuracy (5-class)", "other load (cores)"]
METRICS: dict[str, str] = {"reg_r2": "test R² (reg)", "binary_acc": "test accuracy (binary)",
                           "multiclass_acc": "test accuracy (5-class)"}
ONE, TWO = "1 process × 2 threads", "2 processes × 1 thread"


def _epoch(rec: Mapping[str, Any]) -> float:
    """A fit's median epoch time."""
    return statistics.median(rec["epoch_seconds"])


def _by_seed(recs: Sequence[Mapping[str, Any]], method: str) -> dict[int, Mapping[str, Any]]:
    return {r["seed"]: r for r in ok(recs, method=method) if r.get("epoch_seconds")}


def ratio_line(recs: Sequence[Mapping[str, Any]]) -> str:
    """The paired ratio of the median epoch times, 2 processes over 1, over the seeds."""
    one, two = _by_seed(recs, ONE), _by_seed(recs, TWO)
    seeds = sorted(set(one) & set(two))
    if not seeds:
        return "Paired ratio: not available (no seed has both settings measured).\n"
    ratios = paired_ratios([_epoch(two[s]) for s in seeds], [_epoch(one[s]) for s in seeds])
    gaps = [max(abs(two[s]["metrics"][k] - one[s]["metrics"][k]) for k in METRICS)
            for s in seeds]
    return (f"Paired ratio of the median epoch times, 2 processes / 1 process, over "
            f"{len(seeds)} seed(s): {mean_std(ratios, '.2f')} (below 1: the 2 processes are "
            f"faster). Largest gap between the two settings' test scores of one seed: "
            f"{max(gaps):.1e}.\n")


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``data_parallel`` section (no figure)."""
    cfg, recs = res["config"], res["records"]
    rows = []
    for setting in cfg["settings"]:
        mine = [r for r in recs if r["method"] == setting]
        good = [r for r in ok(recs, method=setting) if r.get("epoch_seconds")]
        failed = len(mine) - len(good)
        row = {"setting": setting + (f" ({failed} failed)" if failed else ""),
               "seeds": len(good),
               "s/epoch": mean_std([_epoch(r) for r in good], ".3f"),
               "fit s": mean_std([r["fit_seconds"] for r in good], ".2f"),
               "other load (cores)": mean_std([r.get("other_load") for r in good], ".2f")}
        for key, column in METRICS.items():
            row[column] = mean_std([r["metrics"][key] for r in good], ".4f")
        rows.append(row)
    values = header_values(
        res,
        seeds=(f"data seed {cfg['data_seed']} (latent map seed {cfg['latent_seed']}); "
               f"random_state = seed {', '.join(str(s) for s in sorted({r['seed'] for r in recs}))}"),
        repetitions=(f"{cfg['repeats']} seed(s) per setting, {cfg['epochs']} epochs per fit; "
                     "mean ± std over the seeds of each fit's median epoch time"))
    values |= {
        "n": f"{cfg['n']:,}", "train_rows": f"{round(cfg['n'] * (1 - cfg['test_fraction'])):,}",
        "hidden": cfg["hidden"], "batch_size": cfg["batch_size"], "lr": f"{cfg['lr']:g}",
        "table": markdown_table(rows, COLUMNS), "ratio": ratio_line(recs),
    }
    return fill("data_parallel", values)
