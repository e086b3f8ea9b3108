"""The ``architectures`` section of docs/benchmarks.md, from ``results/architectures.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import report as rep
from harness import IDLE_THRESHOLD, mean_std, median_spread

DELTA = "Δ_MTL vs separate (%) ↑"


def census_rows(census: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]
                ) -> list[dict[str, Any]]:
    """The accuracy table: one row per method, then the labelled paper rows."""
    tasks, ref, rows = cfg["tasks"], cfg["reference"], []
    for method in cfg["methods"]:
        good = rep.ok(census, method=method)
        failed = sum(1 for r in census if r["method"] == method and r.get("error"))
        row: dict[str, Any] = {"method": method, "seeds": len(good) if not failed
                               else f"{len(good)} ({failed} failed)"}
        row |= {f"AUC {label} ↑": mean_std([r["metrics"][t] for r in good], ".4f")
                for t, label in tasks.items()}
        row[DELTA] = "reference" if method == ref else mean_std(
            rep.paired_deltas(census, {"method": method}, {"method": ref}, ["seed"]), "+.3f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        row["median epoch (ms)"] = rep.epoch_ms(good)
        row["epochs run (best)"] = ", ".join(f"{r['epochs']} ({r['best_epoch']})" for r in good
                                             if r.get("epochs")) or None
        params = {r.get("parameters") for r in good} - {None}
        row["parameters"] = f"{params.pop():,}" if len(params) == 1 else None
        loads = [r["other_load"] for r in good if r.get("other_load") is not None]
        row["other load (cores), max"] = max(loads) if loads else None
        rows.append(row)
    for p in cfg.get("paper_references") or []:  # published figures, not measured here
        rows.append({"method": f"*reference, not measured here: {p['method']} ({p['citation']})*",
                     "seeds": "—", **{f"AUC {label} ↑": f"{p[t]:.4f}" for t, label in
                                      tasks.items()}})
    return rows


def verdict(census: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """The target and whether the best architecture meets it (means over seeds)."""
    tasks, target = cfg["tasks"], cfg["target_auc"]
    goal = " and ".join(f"≥ {target[t]:.3f} ({label})" for t, label in tasks.items())
    lines = [f"Target: the best skmtl architecture with default hyperparameters reaches {goal} "
             "mean test AUC."]
    means = {m: {t: rep._mean([r["metrics"][t] for r in rep.ok(census, method=m)]) for t in tasks}
             for m in cfg["architectures"] if rep.ok(census, method=m)}
    if not means:
        return lines[0] + "\n- No architecture was measured: the target cannot be evaluated.\n"
    for t, label in tasks.items():
        best = max(means, key=lambda m, t=t: means[m][t])
        lines.append(f"- Best {label}: {best} {means[best][t]:.4f} (target {target[t]:.3f}, "
                     f"difference {means[best][t] - target[t]:+.4f}).")
    meeting = [m for m, v in means.items() if all(v[t] >= target[t] for t in tasks)]
    lines.append(f"- **Target met** by: {', '.join(meeting)}." if meeting else
                 "- **Target NOT met**: no architecture reaches both thresholds.")
    hgb = rep.ok(census, method=cfg["hgb"])
    if hgb:
        lines.append(f"- For comparison, {cfg['hgb']}: " + ", ".join(
            f"{label} {rep._mean([r['metrics'][t] for r in hgb]):.4f}" for t, label in tasks.items())
            + " (this run).")
    missing = [m for m in cfg["architectures"] if m not in means]
    lines += [f"- Failed on every seed: {', '.join(missing)}."] if missing else []
    return "\n".join(lines) + "\n"


def cost_rows(synth: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The cost table: per-epoch times of one run, parameters, ratio of medians."""
    base = [r["epoch_seconds"] for r in rep.ok(synth, method="shared_bottom") if r["epoch_seconds"]]
    rows = []
    for r in synth:
        times = r.get("epoch_seconds") or []
        rows.append({
            "architecture": r["method"] + (" (failed)" if r.get("error") else ""),
            "parameters": None if r.get("parameters") is None else f"{r['parameters']:,}",
            "s/epoch, median (min–max)": median_spread(times, ".3f"),
            "ratio to shared_bottom": statistics.median(times) / statistics.median(base[0])
            if times and base else None,
            "other load (cores)": r.get("other_load"), "attempts": r.get("attempts"),
            "all epochs (s)": ", ".join(f"{s:.3f}" for s in times) or None,
            "error": r.get("error")})
    return rows


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``architectures`` section: Census accuracy, synthetic cost per epoch."""
    cfg, recs = res["config"], res["records"]
    census = [r for r in recs if r["dataset"] == "census"]
    synth = [r for r in recs if r["dataset"] == "synthetic"]
    tasks, s, sp, tune = cfg["tasks"], cfg["settings"], cfg["speed"], cfg["tune"]
    per_seed = [{"method": r["method"], "seed": r["seed"],
                 **{f"AUC {label}": r["metrics"].get(t) for t, label in tasks.items()},
                 "fit time (s)": r["fit_seconds"], "epochs (best)": r.get("epochs") and
                 f"{r['epochs']} ({r['best_epoch']})", "other load (cores)": r.get("other_load"),
                 "attempts": r.get("attempts"), "error": r["error"]}
                for r in sorted(census, key=lambda r: r["seed"])]
    notes = [f"quick run: Census training subsample (see Data), max_epochs={s['max_epochs']}, "
             f"synthetic N={sp['n']:,} — not a result"] if res["quick"] else []
    values = rep.header_values(
        res, seeds=(f"{', '.join(map(str, cfg['seeds']))}: the `random_state` of every network "
                    f"and HistGradientBoosting (Census); synthetic data seed 0, random_state="
                    f"{sp['seed']} (timing)"),
        repetitions=(f"Census: {len(cfg['seeds'])} seed(s) per method, mean ± sample std over "
                     f"seeds, fit time median (min–max); timing: {sp['epochs']} epochs per "
                     "architecture, one run, median (min–max) over the epochs"))
    values |= {
        "seconds": ", ".join(f"{k} {v / 60:.1f} min" for k, v in cfg["seconds"].items()),
        "notes": "".join(f"- {n}\n" for n in notes),
        "census": cfg["census"], "census_citation": cfg["census_citation"],
        "money": ", ".join(cfg["money_columns"]), "numeric": ", ".join(cfg["numeric_columns"]),
        "min_frequency": cfg["min_frequency"], "hgb": cfg["hgb"],
        "settings": ", ".join(f"{k}={v:g}" for k, v in s.items()),
        "lrs": ", ".join(f"{v:g}" for v in tune["lrs"]), "tune_result": tune["result"],
        "batch_sizes": ", ".join(map(str, tune["batch_sizes"])), "valid": tune["valid_fraction"],
        "wait_idle": f"{cfg['wait_idle']:g}", "idle": IDLE_THRESHOLD,
        "retry_busy": cfg["retry_busy"], "threads": cfg["threads"],
        "census_table": rep.markdown_table(rows := census_rows(census, cfg), list(rows[0]),
                                       {"other load (cores), max": ".2f"}),
        "paper_note": "Rows in italics are published figures with their source, not measured "
        "by this run.\n" if cfg.get("paper_references") else "", "verdict": verdict(census, cfg),
        "figures": census_figures(census, cfg, report) if figures else "",
        "details": rep.markdown_table(per_seed, list(per_seed[0]) if per_seed else [], {
            **{f"AUC {lab}": ".4f" for lab in tasks.values()}, "fit time (s)": ".1f", "other load (cores)": ".2f"}),
        "n": f"{sp['n']:,}", "hidden": tuple(sp["hidden_layer_sizes"]),
        "batch_size": sp["batch_size"], "epochs": sp["epochs"], "speed_seed": sp["seed"],
        "cost_table": rep.markdown_table(cost := cost_rows(synth), list(cost[0]) if cost else [], {
            "ratio to shared_bottom": ".2f", "other load (cores)": ".2f"}),
    }
    return rep.fill("architectures", values)


def census_figures(census: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                   report: Path) -> str:
    """Per-task test AUC by method, and fit time against the mean AUC over the tasks."""
    groups = {m: rep.ok(census, method=m) for m in cfg["methods"] if rep.ok(census, method=m)}
    if not groups:
        return "No successful fit: no figure.\n\n"
    quality = {m: rep._mean([rep._mean([r["metrics"][t] for r in g]) for t in cfg["tasks"]])
               for m, g in groups.items()}
    links = [rep.metric_figure(groups, {lab: t for t, lab in cfg["tasks"].items()},
                           "architectures_auc", "Census-Income KDD: per-task test ROC AUC by "
                           "method", report, metric="test ROC AUC", title="Census-Income KDD: "
                           "per-task test AUC (mean ± std over seeds)"),
             rep.time_figure(groups, quality, "architectures_time_vs_auc", "Census-Income KDD: fit "
                         "time against mean test AUC by method", report,
                         xlabel="fit time (s), median over seeds (log scale)",
                         ylabel="mean test AUC over the two tasks",
                         title="Census-Income KDD: fit time vs mean AUC")]
    return "".join(f"{link}\n\n" for link in links)
