"""The ``weighting`` section of docs/benchmarks.md, rendered from ``results/weighting.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import median as _med
from typing import Any

import report as rep
from harness import mean_std, median_spread, paired_ratios

DELTA = "Δ_MTL vs separate (%) ↑"
TASKS = {"income_50k": "AUC income > 50K ↑", "never_married": "AUC never married ↑"}
AUC_FILES, RMSE_FILES = ("census_auc", "census_time_vs_auc"), ("meats_rmse", "meats_time_vs_rmse")


def cost_stats(recs: Sequence[Mapping[str, Any]], label: str, n_tasks: int) -> dict[str, Any]:
    """s/epoch median (min–max), paired and unpaired ratios to "equal", load, attempts."""
    table = [r for r in recs if r["dataset"] == f"synthetic T={n_tasks}"]
    good, equal = rep.ok(table, method=label), rep.ok(table, method="equal")
    failed = next((r["error"] for r in table if r["method"] == label and r["error"]), None)
    times, base = ([t for r in rs for t in r["epoch_seconds"]] for rs in (good, equal))
    ratios = [1.0] * len(good) if label == "equal" else paired_ratios(
        [_med(r["epoch_seconds"]) for r in good], [_med(r["paired_equal_seconds"]) for r in good])
    return {"s/epoch": "failed" if failed else median_spread(times, ".3f"),
            "× equal (paired)": median_spread(ratios, ".2f"),
            "ratio": _med(ratios) if ratios else None,
            "× equal row": _med(times) / _med(base) if times and base else None,
            "load": [r["other_load"] for r in good if r.get("other_load") is not None],
            "attempts": sum(r.get("attempts") or 0 for r in good), "error": failed}


def cost_table(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> tuple[str, str]:
    """The cost table (both task counts side by side) and the target verdict."""
    rows, ratio3, counts = [], {}, sorted({r["n_tasks"] for r in recs})
    for label in dict.fromkeys(r["method"] for r in recs):
        first = next(r for r in recs if r["method"] == label)
        row: dict[str, Any] = {"method": first["weighting"], "level": first["level"],
                               "mode": first["mode"] or "—"}
        loads, attempts = [], 0
        for t in counts:
            s = cost_stats(recs, label, t)
            row |= {f"T={t} s/epoch, median (min–max)": s["s/epoch"],
                    f"T={t} × equal, paired": s["× equal (paired)"],
                    f"T={t} × equal row": s["× equal row"]}
            loads, attempts = loads + s["load"], attempts + s["attempts"]
            ratio3 |= {label: s["ratio"]} if t == 3 else {}
        rows.append(row | {"max other load (cores)": max(loads, default=None),
                           "attempts": attempts})
    for name, ratio in cfg["cost_references"]:
        rows.append({"method": f"*reference, not measured by this run: {name}*",
                     "T=3 × equal, paired": f"≈ {ratio:.1f}"})
    target = cfg["cost_target"]
    lines = [f"Target: {', '.join(target['methods'])} ≤ {target['ratio']:.1f}× an equal-weight "
             "epoch at T=3 in representation mode (median paired ratio)."]
    met = True
    for m in target["methods"]:
        r = ratio3.get(f"{m} (representation)")
        met &= r is not None and r <= target["ratio"]
        lines.append(f"- {m}: not measured." if r is None else
                     f"- {m}: {r:.2f}× ({'met' if r <= target['ratio'] else 'NOT met'}).")
    lines.append(f"- **Target {'met' if met else 'NOT met'}.**")
    fmt = {c: ".2f" for c in rows[0] if "equal row" in c} | {"max other load (cores)": ".2f"}
    return rep.markdown_table(rows, list(rows[0]), fmt), "\n".join(lines) + "\n"


def quality_rows(recs: Sequence[Mapping[str, Any]], methods: Sequence[str],
                 metrics: Mapping[str, str], lower: bool, levels: Mapping[str, str]
                 ) -> list[dict[str, Any]]:
    """Mean ± std over seeds per metric, Δ_MTL paired by seed, fit time, epochs."""
    rows = []
    for m in methods:
        good, bad = rep.ok(recs, method=m), [r for r in recs if r["method"] == m and r["error"]]
        row: dict[str, Any] = {
            "method": m + (f" (failed on {len(bad)} seed(s): {bad[0]['error']})" if bad else ""),
            "level": levels.get(m, "single-task" if m == "separate" else "baseline"),
            "seeds": len(good)}
        row |= {c: mean_std([r["metrics"][k] for r in good], ".3f" if lower else ".4f")
                for k, c in metrics.items()}
        tasks = {k: k for k in metrics if k != "average"}
        row[DELTA] = mean_std(rep.paired_deltas(recs, {"method": m}, {"method": "separate"}, ["seed"],
                                            tasks, list(tasks) if lower else []), "+.2f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        row["median epoch (ms)"] = rep.epoch_ms(good)
        row["epochs run (best)"] = ", ".join(f"{r['epochs']}" + (f" ({r['best_epoch']})" if r.get(
            "best_epoch") else "") for r in good if r.get("epochs")) or None
        rows.append(row)
    return rows


def figures_for(recs: Sequence[Mapping[str, Any]], methods: Sequence[str],
                metrics: Mapping[str, str], name: str, files: tuple[str, str], what: str,
                report: Path) -> str:
    """Per-task metric by method (mean ± std), fit time against the mean metric (``files``:
    the figure names of the section before issue 11, so that the images are replaced)."""
    groups = {m: rep.ok(recs, method=m) for m in methods if rep.ok(recs, method=m)}
    tasks = [k for k in metrics if k != "average"]
    quality = {m: rep._mean([rep._mean([r["metrics"][k] for r in g]) for k in tasks])
               for m, g in groups.items()}
    links = [rep.metric_figure(groups, {metrics[k].rstrip(" ↑↓"): k for k in tasks},
                           f"weighting_{files[0]}", f"{name}: {what} by method", report,
                           metric=what, title=f"{name}: {what} by method (mean ± std over seeds)"),
             rep.time_figure(groups, quality, f"weighting_{files[1]}", f"{name}: fit time against "
                         f"mean {what}", report, xlabel="fit time (s), median over seeds",
                         ylabel=f"mean {what}", title=f"{name}: fit time vs {what}")]
    return "".join(f"{link}\n\n" for link in links)


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``weighting`` section: cost per epoch, Census and meats quality."""
    cfg, extra, recs, levels = res["config"], res["extra"], res["records"], res["config"]["levels"]
    cost = [r for r in recs if r["dataset"].startswith("synthetic")]
    census, meats = ([r for r in recs if r["dataset"] == d] for d in ("census", "meats"))
    cost_md, verdict = cost_table(cost, cfg)
    epochs = [{"T": r["n_tasks"], "method": r["method"], "round": r["round"],
               "epochs (s)": ", ".join(f"{t:.3f}" for t in r["epoch_seconds"] or []) or None,
               "paired equal epochs (s)": ", ".join(
                   f"{t:.3f}" for t in r.get("paired_equal_seconds") or []) or None,
               "other load": r["other_load"], "attempts": r.get("attempts"), "error": r["error"]}
              for r in cost]
    census_methods = ["separate", *cfg["methods"]]
    census_rows = quality_rows(census, census_methods, TASKS, False, levels)
    targets = {t: t for t in next((r["metrics"] for r in rep.ok(meats)), {}) if t != "average"}
    meats_metrics = {"average": "avg rel. RMSE ↓", **targets}
    meats_methods = ["RidgeCV", "separate", *cfg["methods"]]
    meats_rows = quality_rows(meats, meats_methods, meats_metrics, True, levels)
    weights = [{"method": m, "level": levels[m], **w, "sum": sum(w.values())} for m, w in {
        m: {t: rep._mean([r["weights"][t] for r in rep.ok(meats, method=m)]) for t in targets}
        for m in cfg["methods"] if rep.ok(meats, method=m)}.items()]
    tuning = [{"lr": r["settings"]["lr"], "batch_size": r["settings"]["batch_size"],
               **{c: r["metrics"].get(k) for k, c in TASKS.items()},
               "epochs (best)": f"{r.get('epochs')} ({r.get('best_epoch')})",
               "chosen": "✓" if r["settings"] == cfg["census_settings"] else "",
               "error": r["error"]} for r in extra["census_tuning"]]
    cv = [{**{k: str(tuple(v)) if isinstance(v, list) else v for k, v in c["settings"].items()},
           "CV avg rel. RMSE": mean_std(c["scores"], ".4f"),
           "chosen": "✓" if c["settings"] == cfg["meats_settings"] else ""}
          for c in extra["meats_cv"]]
    per_seed = [{"dataset": r["dataset"], "method": r["method"], "seed": r["seed"],
                 **{k: r["metrics"].get(k) for k in (*TASKS, "average", *targets)},
                 "fit time (s)": r["fit_seconds"], "epochs": r.get("epochs"),
                 "note": r["error"] or (", ".join(f"{a:.1e}" for a in r["alpha"])
                                        if r.get("alpha") else None)}
                for r in sorted(census + meats, key=lambda r: (r["dataset"], r["seed"]))]
    cs, ms = cfg["census_settings"], cfg["meats_settings"]
    values = rep.header_values(
        res, seeds=(f"cost: data seed 0, `random_state={cfg['cost']['random_state']}`; quality: "
                    f"seeds {', '.join(map(str, cfg['seeds']))} (`random_state` of every fit; "
                    "meats: also the train / test split)"),
        repetitions=(f"cost: {cfg['rounds']} round(s) × {cfg['cost_epochs']} epochs per variant "
                     "and table; quality: one fit per method and seed, mean ± sample std"))
    values |= {
        "seconds": ", ".join(f"{k} {v / 60:.1f} min" for k, v in cfg["seconds"].items()),
        "waited": f"{cfg['waited_seconds'] / 60:.1f}",
        "notes": "- quick run: tiny sizes, one seed, few epochs — not a result\n" * res["quick"],
        "cost_n": f"{cfg['cost_n']:,}", "cost_settings": ", ".join(
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={tuple(v) if isinstance(v, list) else v}"
            for k, v in cfg["cost"].items()),
        "cost_epochs": cfg["cost_epochs"], "rounds": cfg["rounds"], "idle": cfg["idle_threshold"],
        "wait_idle": f"{cfg['wait_idle']:g}", "retry_busy": cfg["retry_busy"],
        "cost_table": cost_md, "cost_verdict": verdict,
        "cost_epochs_table": rep.markdown_table(epochs, list(epochs[0])) if epochs else "",
        "census": cfg["census"], "census_settings": ", ".join(
            f"{k}={tuple(v) if isinstance(v, list) else v}" for k, v in cs.items()),
        "tune_fraction": f"{cfg['tune_valid_fraction']:.0%}",
        "census_table": rep.markdown_table(census_rows, list(census_rows[0])),
        "census_figures": figures_for(census, census_methods, TASKS, "Census", AUC_FILES,
                                      "test ROC AUC", report) if figures and rep.ok(census) else "",
        "tuning": rep.markdown_table(tuning, list(tuning[0]), {c: ".4f" for c in TASKS.values()}),
        "meats": cfg["meats"], "meats_folds": cfg["meats_folds"], "n_cv": len(cv),
        "meats_settings": ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v}"
                                    for k, v in ms.items()),
        "meats_table": rep.markdown_table(meats_rows, list(meats_rows[0])),
        "meats_figures": figures_for(meats, meats_methods, meats_metrics, "meats", RMSE_FILES,
                                     "relative RMSE", report) if figures and rep.ok(meats) else "",
        "weights": rep.markdown_table(weights, ["method", "level", *targets, "sum"], ".3f")
        if weights else "",
        "cv": rep.markdown_table(cv, list(cv[0]), {}) if cv else "",
        "per_seed": rep.markdown_table(per_seed, list(per_seed[0]), {
            **dict.fromkeys(per_seed[0], ".4f"), "fit time (s)": ".2f"}) if per_seed else "",
    }
    return rep.fill("weighting", values)
