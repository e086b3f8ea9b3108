"""The ``missing_labels`` section of docs/benchmarks.md, rendered from ``results/missing_labels.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import report as rep
from harness import IDLE_THRESHOLD, mean_std, median_spread

TASK_LABELS: dict[str, str] = {"income_50k": "income > 50K", "never_married": "never married"}
ML_LABELS: dict[str, tuple[str, str, str]] = {  # key: (all labels, masked, figure)
    "shared_bottom": ("skmtl shared_bottom, all labels", "skmtl shared_bottom, masked (all rows)",
                      "shared_bottom"),
    "separate": ("skmtl separate, all labels", "skmtl separate, masked (all rows)", "separate"),
    "single_task_net": ("skmtl single-task net per task",
                        "skmtl single-task net per task (labelled rows)", "single-task nets"),
    "hgb": ("HistGradientBoosting per task, all labels",
            "HistGradientBoosting per task (labelled rows)", "HGB per task"),
}


ML_COLUMNS: list[str] = [
    "missing labels", "method", "seeds", "AUC income > 50K", "AUC never married",
    "Δ_MTL vs separate (%)", "Δ vs same method, all labels (%)",
    "fit time (s), median (min–max)", "median epoch (ms)", "epochs run (best), per seed",
    "other load (cores)"]


def _ml_label(method: str, rate: float) -> str:
    return ML_LABELS[method][0 if rate == 0 else 1]


def _counts(values: Sequence[int]) -> str:
    return f"{values[0]:,}" if len(set(values)) == 1 else " / ".join(f"{v:,}" for v in values)


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``missing_labels`` section."""
    cfg, recs = res["config"], res["records"]
    ref, tasks = cfg["reference"], list(TASK_LABELS)
    order = list(ML_LABELS)
    cells = sorted({(r["rate"], r["method"]) for r in recs},
                   key=lambda k: (k[0], order.index(k[1])))
    rows, details = [], []
    for rate, method in cells:
        good = rep.ok(recs, rate=rate, method=method)
        failed = sum(1 for r in recs if r["rate"] == rate and r["method"] == method
                     and r.get("error"))
        label = _ml_label(method, rate)
        row: dict[str, Any] = {"missing labels": f"{rate:.0%}", "method": label if not failed
                               else f"{label} (failed on {failed} seed(s))", "seeds": len(good)}
        for t in tasks:
            row[f"AUC {TASK_LABELS[t]}"] = mean_std([r["metrics"][t] for r in good], ".4f")
        if method == ref:
            row["Δ_MTL vs separate (%)"] = "reference"
        elif rate > 0:
            row["Δ_MTL vs separate (%)"] = mean_std(rep.paired_deltas(
                recs, {"rate": rate, "method": method}, {"rate": rate, "method": ref}, ["seed"]),
                "+.2f")
        if rate > 0 and method in cfg["full_label_methods"]:
            row["Δ vs same method, all labels (%)"] = mean_std(rep.paired_deltas(
                recs, {"rate": rate, "method": method}, {"rate": 0.0, "method": method},
                ["seed"]), "+.2f")
        row["fit time (s), median (min–max)"] = median_spread(
            [r["fit_seconds"] for r in good], ".1f")
        row["median epoch (ms)"] = rep.epoch_ms(good)
        row["epochs run (best), per seed"] = "; ".join(
            "/".join(f"{e} ({b})" for e, b in r["epochs"]) for r in good if r.get("epochs")
        ) or None
        loads = [r["other_load"] for r in good if r.get("other_load") is not None]
        row["other load (cores)"] = max(loads) if loads else None
        rows.append(row)
    for r in recs:
        details.append({"missing labels": f"{r['rate']:.0%}", "method": _ml_label(
            r["method"], r["rate"]), "seed": r["seed"],
            **{f"AUC {TASK_LABELS[t]}": r["metrics"].get(t) for t in tasks},
            "fit time (s)": r.get("fit_seconds"),
            "epochs run (best)": "/".join(f"{e} ({b})" for e, b in r.get("epochs") or []) or None,
            "other load (cores)": r.get("other_load"), "error": r.get("error")})
    mask_rows = []
    for rate in sorted({m["rate"] for m in res["extra"]["masks"]}):
        per = [m for m in res["extra"]["masks"] if m["rate"] == rate]
        row = {"missing labels": f"{rate:.0%}"}
        for t in tasks:
            row[f"labelled rows, {TASK_LABELS[t]}"] = _counts([m["labelled"][t] for m in per])
            row[f"positives, {TASK_LABELS[t]}"] = _counts([m["positives"][t] for m in per])
        row["rows with both labels"] = _counts([m["both_labelled"] for m in per])
        row["rows with no label"] = _counts([m["none_labelled"] for m in per])
        mask_rows.append(row)
    findings = []
    for rate in cfg["rates"]:
        means = {m: {t: rep._mean([r["metrics"][t] for r in rep.ok(recs, rate=rate, method=m)])
                     for t in tasks} for m in cfg["masked_methods"] if rep.ok(recs, rate=rate, method=m)}
        if not means:
            continue
        best = "; ".join(f"{TASK_LABELS[t]}: {_ml_label(max(means, key=lambda m, t=t: means[m][t]), rate)}"
                         f" ({max(v[t] for v in means.values()):.4f})" for t in tasks)
        d = rep.paired_deltas(recs, {"rate": rate, "method": "shared_bottom"},
                          {"rate": rate, "method": ref}, ["seed"])
        tail = (f". Δ_MTL of masked shared_bottom vs masked separate: {rep._mean(d):+.2f}% (mean "
                f"over {len(d)} seed(s))") if d else ""
        findings.append(f"- {rate:.0%} missing, highest mean test AUC per task: {best}{tail}.\n")
    s, default = cfg["settings"], cfg["default_settings"]
    budgets = sorted({(r["rate"], tuple(b)) for r in recs if r["method"] == "single_task_net"
                      for b in r.get("budgets") or []})
    listed = ", ".join(f"{rate:.0%} missing: max_epochs={m}, n_iter_no_change={p}"
                       for rate, (m, p) in budgets)
    how = ("as it sees n_labelled of the n training rows, an epoch is n_labelled / n as many "
           "optimizer steps, so its epoch budget and early-stopping patience are those of the "
           "other networks multiplied by n / n_labelled (rounded up): the same budget of "
           "optimizer steps and the same patience in steps as the networks fitted on every row "
           "(`--single-task-epochs same` keeps the unscaled counts)"
           if cfg["single_task_epochs"] == "scaled" else
           "epoch budget and patience unchanged (fewer optimizer steps)")
    notes = [cfg["subsample"]] if "subsample" in cfg["subsample"] else []
    if res["quick"] or s["max_epochs"] != default["max_epochs"]:
        notes.append(f"max_epochs={s['max_epochs']} (default {default['max_epochs']})")
    capped = sorted({f"{_ml_label(r['method'], r['rate'])} at {r['rate']:.0%}" for r in rep.ok(recs)
                     for (e, _), (m, _) in zip(r.get("epochs") or [], r.get("budgets") or [])
                     if e >= m})
    if capped and not res["quick"]:
        notes.append("network fit(s) that used their whole epoch budget (early stopping did "
                     "not trigger): " + ", ".join(capped))
    busy = [r for r in rep.ok(recs) if (r.get("other_load") or 0) >= IDLE_THRESHOLD]
    if busy:
        notes.append(f"{len(busy)} of {len(recs)} fits ran while other processes used ≥ "
                     f"{IDLE_THRESHOLD} cores on average (column *other load*): their fit times "
                     "are inflated; AUCs are not affected")
    values = rep.header_values(
        res,
        seeds=(f"seed s in {{{', '.join(map(str, cfg['seeds']))}}}: label masks drawn with "
               "`numpy.random.default_rng((s, task_index))` and `random_state=s` for every "
               "network and HistGradientBoosting; training subsample seed "
               f"{cfg['subsample_seed']}"),
        repetitions=("one fit per method, missing rate and seed; mean ± sample std (ddof=1) "
                     f"over the {len(cfg['seeds'])} seed(s); Δ_MTL computed per seed, then "
                     "averaged; timings median (min–max) over the seeds"))
    settings = (f"Adam lr={s['lr']:g}, batch_size={s['batch_size']}, max_epochs="
                f"{s['max_epochs']}, early_stopping=True (10% of the training rows held out by "
                f"skmtl, n_iter_no_change={s['n_iter_no_change']}, best epoch restored)")
    values |= {
        "notes": "".join(f"- {n}\n" for n in notes), "citation": cfg["citation"],
        "dataset": cfg["dataset"], "masks": rep.markdown_table(mask_rows, list(mask_rows[0])),
        "single_task_budget": how + (f" ({listed})" if listed else ""), "settings": settings,
        "table": rep.markdown_table(rows, ML_COLUMNS, {"other load (cores)": ".2f"}),
        "findings": "".join(findings),
        "figures": ml_figures(recs, cfg, report) if figures else "",
        "details": rep.markdown_table(details, list(details[0]), {
            "AUC income > 50K": ".4f", "AUC never married": ".4f", "fit time (s)": ".1f",
            "other load (cores)": ".2f"}),
    }
    return rep.fill("missing_labels", values)


def ml_figures(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any], report: Path) -> str:
    """Per-task AUC by method at each rate, and fit time against mean AUC."""
    links = []

    def name(rate: float, method: str) -> str:
        return f"{rate:.0%}: {ML_LABELS[method][2]}"

    for rate in cfg["rates"]:
        keys = [(0.0, m) for m in cfg["full_label_methods"]]
        keys += [(rate, m) for m in cfg["masked_methods"]]
        groups = {name(r, m): rep.ok(recs, rate=r, method=m) for r, m in keys
                  if rep.ok(recs, rate=r, method=m)}
        links.append(rep.metric_figure(
            groups, {v: k for k, v in TASK_LABELS.items()}, f"missing_labels_auc_{round(rate * 100)}",
            f"Per-task test ROC AUC on Census-Income KDD with {rate:.0%} of each task's training "
            "labels missing, by method, with the all-labels references", report,
            metric="test ROC AUC", title=f"Census-Income KDD, {rate:.0%} of each task's labels "
            "missing (mean ± std over seeds)"))
    groups = {name(r, m): rep.ok(recs, rate=r, method=m)
              for r, m in sorted({(x["rate"], x["method"]) for x in rep.ok(recs)})}
    links.append(rep.time_figure(
        groups, {g: rep._mean([rep._mean(list(x["metrics"].values())) for x in rs])
                 for g, rs in groups.items()}, "missing_labels_time", "Fit time against mean "
        "test ROC AUC of every method and missing rate", report,
        xlabel="fit time (s), median over seeds", ylabel="test ROC AUC, mean of the two tasks",
        title="Fit time vs quality"))
    return ("Figures: per-task test AUC (mean ± std over seeds) at each missing rate next to the "
            "all-labels references, and median fit time against the mean AUC of the two tasks "
            "(mean over seeds). Labels are *rate: method*; the shared_bottom and separate "
            "networks with labels missing are the masked ones (all rows), the single-task nets "
            "and HGB (HistGradientBoosting) per task are fitted on each task's labelled rows."
            "\n\n" + "".join(f"{link}\n\n" for link in links))
