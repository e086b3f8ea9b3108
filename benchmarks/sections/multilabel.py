"""The ``multilabel`` section of docs/benchmarks.md, rendered from ``results/multilabel.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import report as rep
from harness import mean_std, median_spread

ML_YEAST_METRICS: list[tuple[str, str]] = [
    ("hamming", "Hamming loss ↓"), ("micro_f1", "micro-F1 ↑"), ("jaccard", "Jaccard (samples) ↑"),
    ("micro_precision", "micro precision"), ("micro_recall", "micro recall")]
ML_CALIBRATION: list[tuple[str, str, str]] = [
    ("ece", "ECE (15 bins) ↓", ".4f"), ("log_loss", "log-loss ↓", ".4f"),
    ("brier", "Brier ↓", ".4f"), ("accuracy", "accuracy", ".4f")]
ML_DELTA_H = "Δ_MTL vs separate, on Hamming loss (%) ↑"
ML_DELTA_F1 = "Δ vs separate, on micro-F1 (%) ↑"


def _epochs_note(r: Mapping[str, Any]) -> str | None:
    e = r.get("epochs")
    if isinstance(e, list):
        return ", ".join(map(str, e))
    return None if e is None else f"{e}" + (f" (best {r['best_epoch']})" if r.get("best_epoch")
                                            else "")


def _cv_rows(results: Sequence[Mapping[str, Any]], chosen: int | None, key: str
             ) -> list[dict[str, Any]]:
    rows = []
    for i, r in enumerate(results):
        s = r["settings"]
        name = (f"hidden={tuple(s['hidden_layer_sizes'])}, dropout={s['dropout']:g}, "
                f"lr={s['lr']:g}, weight_decay={s['weight_decay']:g}, batch={s['batch_size']}"
                if key == "settings (BCE)" else r["name"])
        rows.append({key: name + (" **← chosen**" if i == chosen else ""),
                     "CV Hamming loss": mean_std(r["hamming"], ".4f"),
                     "CV micro-F1": mean_std(r["micro_f1"], ".4f"),
                     "epochs run per fold": ", ".join(map(str, r["epochs"])) or None,
                     "time (s)": r["seconds"], "error": r["error"]})
    return rows


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``multilabel`` section: Yeast multi-label losses, Census temperature scaling."""
    cfg, recs, extra = res["config"], res["records"], res["extra"]
    ref, yeast = cfg["reference"], [r for r in res["records"] if r["dataset"] == "yeast"]
    rows, means = [], {}
    for method in cfg["methods"]:
        good = rep.ok(yeast, method=method)
        failed = len([r for r in yeast if r["method"] == method and r.get("error")])
        row: dict[str, Any] = {"method": method, "seeds": len(good) if not failed
                               else f"{len(good)} ({failed} failed)"}
        for key, col in ML_YEAST_METRICS:
            row[col] = mean_std([r["metrics"][key] for r in good], ".4f")
        means[method] = {k: rep._mean([r["metrics"][k] for r in good]) for k, _ in ML_YEAST_METRICS}
        for col, key, lower in ((ML_DELTA_H, "hamming", ["t"]), (ML_DELTA_F1, "micro_f1", [])):
            row[col] = "reference" if method == ref else mean_std(rep.paired_deltas(
                yeast, {"method": method}, {"method": ref}, ["seed"], {"t": key}, lower), "+.2f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        row["median epoch (ms)"] = rep.epoch_ms(good)
        rows.append(row)
    papers = cfg.get("paper_references") or []
    for p in papers:  # published figures, not measured in this run
        rows.append({"method": f"*reference, not measured here: {p['method']} ({p['citation']})*",
                     "seeds": "—", "Hamming loss ↓": p.get("hamming"),
                     "micro-F1 ↑": p.get("micro_f1")})
    skmtl = {m: v["hamming"] for m, v in means.items() if m.startswith("skmtl") and v["hamming"]
             == v["hamming"]}
    target = cfg["target_hamming"]
    verdict = [f"Target: the best skmtl configuration reaches a mean test Hamming loss ≤ "
               f"{target:.3f}."]
    if skmtl:
        best = min(skmtl, key=skmtl.__getitem__)
        verdict.append(f"- **Target {'met' if skmtl[best] <= target else 'NOT met'}**: the lowest "
                       f"mean Hamming loss among the skmtl rows is {skmtl[best]:.4f} ({best}); "
                       f"target {target:.3f}, difference {skmtl[best] - target:+.4f}.")
        verdict += [f"- For comparison, {m}: {v['hamming']:.4f} (this run)." for m, v in
                    means.items() if not m.startswith("skmtl") and v["hamming"] == v["hamming"]]
    base = means.get("skmtl MultiLabel, BCE", {})
    tradeoff = "" if not base else (
        f"Precision / recall at the fixed {cfg['threshold']:g} threshold (means over seeds), "
        f"against BCE's precision {base['micro_precision']:.3f}, recall "
        f"{base['micro_recall']:.3f}: " + "; ".join(
            f"{m.removeprefix('skmtl MultiLabel, ')}: precision {v['micro_precision']:.3f}, "
            f"recall {v['micro_recall']:.3f}" for m, v in means.items()
            if m.startswith("skmtl MultiLabel, ") and m != "skmtl MultiLabel, BCE")
        + ". Losses that up-weight positive labels (balanced BCE, weighted focal) or optimise "
        "Dice move the 0.5 operating point towards recall; no threshold was re-tuned for them, "
        "so their Hamming loss is reported as measured at 0.5.\n")
    labels = list(next((r["label_errors"] for r in rep.ok(yeast)), {}))
    label_rows = [{"method": m, **{lab: rep._mean([r["label_errors"][lab] for r in rep.ok(yeast, method=m)])
                                   for lab in labels}} for m in cfg["methods"] if rep.ok(yeast, method=m)]
    per_seed = [{"method": r["method"], "seed": r["seed"],
                 **{c: r["metrics"].get(k) for k, c in ML_YEAST_METRICS},
                 "fit time (s)": r["fit_seconds"], "epochs (best)": _epochs_note(r),
                 "error": r["error"]} for r in sorted(yeast, key=lambda r: r["seed"])]
    cal = [r for r in recs if r["dataset"] == "census"]
    cal_rows, cal_details = [], []
    for method in cfg["calibration_methods"]:
        good = rep.ok(cal, method=method)
        row = {"method": method, "seeds": len(good)}
        row |= {c: mean_std([r["metrics"][k] for r in good], f) for k, c, f in ML_CALIBRATION}
        row["temperature"] = mean_std([r["temperature"] for r in good], ".3f")
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good],
                                                              ".1f")
        cal_rows.append(row)
    for r in sorted(cal, key=lambda r: r["seed"]):
        cal_details.append({"method": r["method"], "seed": r["seed"],
                            **{c: r["metrics"].get(k) for k, c, _ in ML_CALIBRATION},
                            "temperature": r.get("temperature"), "fit time (s)": r["fit_seconds"],
                            "epochs (best)": _epochs_note(r),
                            "identical network": r.get("identical_network"),
                            "error": r["error"]})
    checks = [r["identical_network"] for r in cal if r.get("identical_network") is not None]
    bad = [r["seed"] for r in cal if r.get("identical_network") is False]
    identity = ("The identity of the paired networks could not be checked (a fit failed)."
                if not checks else
                f"On every seed ({len(checks)}/{len(checks)}) the two fits have identical network "
                "weights, validation-loss histories and test predictions: only the temperature "
                "differs, so accuracy is unchanged by construction." if all(checks) else
                f"**The paired fits differ on seed(s) {bad}** (weights, validation history or "
                "test predictions): the comparison is not only the temperature there.")
    s, threads = cfg["settings"], res["machine"]["torch_threads"]
    cs = cfg["census_settings"]
    notes = ["quick run: reduced tuning grid and epoch budget, fewer trees, Census subsample — "
             "not a result"] if res["quick"] else []
    values = rep.header_values(
        res, seeds=(f"{', '.join(map(str, cfg['seeds']))}: the `random_state` of every skmtl "
                    "network, ensemble, MLPClassifier and random forest, one seed per repetition;"
                    f" the settings were tuned with seed {cfg['tune_seed']} only (KFold seed "
                    f"{cfg['cv_seed']})"),
        repetitions=(f"{len(cfg['seeds'])} seed(s) per method; tables give mean ± sample std "
                     "over seeds, timings median (min–max) (per-seed values in the collapsed "
                     "blocks)"))
    hamming_fmt = {c: ".4f" for _, c in ML_YEAST_METRICS}
    values |= {
        "seconds": ", ".join(f"{k} {v / 60:.1f} min" for k, v in cfg["seconds"].items()),
        "notes": "".join(f"- {n}\n" for n in notes),
        "yeast": cfg["yeast"], "yeast_citation": cfg["yeast_citation"],
        "threshold": f"{cfg['threshold']:g}", "tune_seed": cfg["tune_seed"],
        "cv_folds": cfg["cv_folds"], "cv_seed": cfg["cv_seed"], "n_settings": len(extra["cv"]),
        "settings": ", ".join(f"`{k}={tuple(v) if isinstance(v, list) else v}`"
                              for k, v in s.items()),
        "ensemble_loss": cfg["ensemble_loss"], "ensemble_size": cfg["ensemble_size"],
        "mlp": (f"hidden_layer_sizes={tuple(s['hidden_layer_sizes'])}, batch_size="
                f"{s['batch_size']}, learning_rate_init={s['lr']:g}, max_iter={s['max_epochs']}"),
        "trees": cfg["trees"],
        "threads": f"{threads} torch thread(s) (" + ("torch's default" if cfg.get("threads")
                                                    is None else f"`--threads {cfg['threads']}`")
        + ")",
        "yeast_table": rep.markdown_table(rows, list(rows[0]), hamming_fmt),
        "paper_note": "Rows in italics are published figures with their citation, not measured "
        "by this run.\n" if papers else "",
        "verdict": "\n".join(verdict) + "\n", "tradeoff": tradeoff,
        "yeast_figures": multilabel_figures(yeast, cfg, means, report) if figures else "",
        "labels": rep.markdown_table(label_rows, ["method", *labels], {lab: ".3f" for lab in labels}),
        "yeast_details": rep.markdown_table(per_seed, list(per_seed[0]), {**hamming_fmt,
                                                                      "fit time (s)": ".1f"}),
        "cv": rep.markdown_table(_cv_rows(extra["cv"], extra["chosen"], "settings (BCE)"),
                             ["settings (BCE)", "CV Hamming loss", "CV micro-F1",
                              "epochs run per fold", "time (s)", "error"], {"time (s)": ".1f"}),
        "loss_cv": rep.markdown_table(_cv_rows(
            extra["loss_cv"], [r["name"] for r in extra["loss_cv"]].index(cfg["ensemble_loss"]),
            "loss"), ["loss", "CV Hamming loss", "CV micro-F1", "epochs run per fold", "time (s)",
                      "error"], {"time (s)": ".1f"}),
        "census_citation": cfg["census_citation"], "census": cfg["census"],
        "census_settings": ", ".join(f"{k}={v:g}" for k, v in cs.items()),
        "ece_bins": cfg["ece_bins"],
        "census_table": rep.markdown_table(cal_rows, list(cal_rows[0])), "identity": identity,
        "census_details": rep.markdown_table(cal_details, list(cal_details[0]), {
            **{c: f for _, c, f in ML_CALIBRATION}, "temperature": ".3f", "fit time (s)": ".1f"}),
    }
    return rep.fill("multilabel", values)


def multilabel_figures(yeast: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                       means: Mapping[str, Mapping[str, float]], report: Path) -> str:
    """Yeast: test metrics by method, and fit time against Hamming loss."""
    names = {m.replace("skmtl MultiLabel, ", "").replace("per-label ", "")
             .replace("scikit-learn ", ""): m for m in cfg["methods"] if rep.ok(yeast, method=m)}
    groups = {s: rep.ok(yeast, method=m) for s, m in names.items()}
    links = [rep.metric_figure(groups, {"Hamming loss ↓": "hamming", "micro-F1 ↑": "micro_f1",
                                    "Jaccard ↑": "jaccard"}, "multilabel_yeast_metrics",
                           "Yeast: test Hamming loss, micro-F1 and Jaccard by method", report,
                           metric="test", title="Yeast: test metrics (mean ± std over seeds)"),
             rep.time_figure(groups, {s: means[m]["hamming"] for s, m in names.items()},
                         "multilabel_yeast_time_vs_hamming", "Yeast: fit time against test "
                         "Hamming loss by method", report, xlabel="fit time (s), median over "
                         "seeds", ylabel="test Hamming loss (lower is better)",
                         title="Yeast: fit time vs Hamming loss")]
    return "".join(f"{link}\n\n" for link in links)
