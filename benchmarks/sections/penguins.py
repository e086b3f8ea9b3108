"""The ``penguins`` section of docs/benchmarks.md, rendered from ``results/penguins.json``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import report as rep
from harness import mean_std, median_spread

PENGUIN_METRICS: list[tuple[str, str, str]] = [
    ("species_acc", "species accuracy ↑", ".3f"),
    ("sex_acc", "sex accuracy ↑", ".3f"),
    ("mass_r2", "body mass R² ↑", ".3f"),
    ("mass_rmse", "body mass RMSE (g) ↓", ".0f"),
]
PENGUIN_DELTA: dict[str, str] = {"species": "species_acc", "sex": "sex_acc",
                                 "body_mass_g": "mass_rmse"}


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``penguins`` section."""
    cfg, recs = res["config"], res["records"]
    ref = cfg["reference"]

    def deltas(method: str) -> list[float]:
        return rep.paired_deltas(recs, {"method": method}, {"method": ref}, ("seed", "fold"),
                             PENGUIN_DELTA, ["body_mass_g"])

    rows, means = [], {}
    for method in cfg["methods"]:
        good = rep.ok(recs, method=method)
        failed = sum(1 for r in recs if r["method"] == method and r.get("error"))
        d = deltas(method)
        row: dict[str, Any] = {
            "method": method, "models": good[0]["models"] if good else None,
            "splits": len(good) if not failed else f"{len(good)} ({failed} failed)"}
        for key, col, fmt in PENGUIN_METRICS:
            row[col] = mean_std([r["metrics"][key] for r in good], fmt)
            means.setdefault(key, {})[method] = rep._mean([r["metrics"][key] for r in good])
        row["Δ_MTL vs separate (%) ↑"] = mean_std(d, "+.2f")
        if method != ref and d:
            means.setdefault("delta", {})[method] = rep._mean(d)
        row["Δ_MTL > 0"] = "—" if method == ref or not d else f"{sum(x > 0 for x in d)}/{len(d)}"
        row["fit time (s), median (min–max)"] = median_spread([r["fit_seconds"] for r in good])
        row["median epoch (ms)"] = rep.epoch_ms(good)
        rows.append(row)
    columns = list(rows[0]) if rows else []
    best = []
    for key, col, _ in [*PENGUIN_METRICS, ("delta", "Δ_MTL vs separate (%)", "")]:
        m = {k: v for k, v in means.get(key, {}).items() if v == v}
        if len(m) >= 2:
            rank = sorted(m, key=m.get, reverse=key != "mass_rmse")
            best.append(f"- {col.rstrip(' ↑↓')}: **{rank[0]}** ({m[rank[0]]:.4g}), then "
                        f"{rank[1]} ({m[rank[1]]:.4g})\n")
    grid, tuning = cfg["grid"], res["extra"].get("tuning", [])
    short = [f"hidden={tuple(s['hidden_layer_sizes'])}, lr={s['lr']:g}" for s in grid]
    tuning_md = ""
    if len(grid) > 1:
        trows = [{"setting": s, "chosen in splits": sum(t["chosen"] == i for t in tuning),
                  "inner-CV mean task score": mean_std([t["scores"][i] for t in tuning], ".4f")}
                 for i, s in enumerate(short)]
        per = ", ".join(f"r{t['seed']}f{t['fold']}: {short[t['chosen']]}" for t in tuning)
        tuning_md = ("<details><summary>Nested CV behind the skmtl settings (training folds "
                     "only)</summary>\n\n" + rep.markdown_table(trows, list(trows[0]))
                     + f"\nChosen per split: {per}.\n\n</details>\n\n")
    details = []
    for method in cfg["methods"]:
        for seed in cfg["seeds"]:
            good = rep.ok(recs, method=method, seed=seed)
            if good:
                d = rep.paired_deltas(
                    recs, {"method": method, "seed": seed}, {"method": ref, "seed": seed},
                    ("seed", "fold"), PENGUIN_DELTA, ["body_mass_g"])
                details.append({"method": method, "repeat (seed)": seed,
                                **{c: rep._mean([r["metrics"][k] for r in good])
                                   for k, c, _ in PENGUIN_METRICS},
                                "Δ_MTL (%)": rep._mean(d) if d else None})
    fmt = {c: f for _, c, f in PENGUIN_METRICS} | {"Δ_MTL (%)": "+.2f"}
    failures = [r for r in recs if r.get("error")]
    threads = res["machine"]["torch_threads"]
    values = rep.header_values(
        res,
        seeds=(f"{', '.join(map(str, cfg['seeds']))}: repeat *r* uses `StratifiedKFold("
               f"{cfg['folds']}, shuffle=True, random_state=r)` (stratified by species), inner "
               f"CV `StratifiedKFold({cfg['inner_folds']}, shuffle=True, random_state=r)`, and "
               "`random_state=r` for every skmtl network, MLP and gradient-boosting model"),
        repetitions=(f"{cfg['folds']} folds x {len(cfg['seeds'])} repeat(s) = "
                     f"{cfg['folds'] * len(cfg['seeds'])} outer splits per method; tables give "
                     "mean ± sample std over all the splits (folds are not independent: the std "
                     "is the spread of the fold scores, not a standard error); timings median "
                     "(min–max)"))
    values |= {
        "seconds": ", ".join(f"{k} {v:.0f} s" for k, v in cfg["seconds"].items()),
        "dataset": cfg["dataset"], "citation": cfg["citation"],
        "inner_folds": cfg["inner_folds"], "n_settings": len(grid), "settings": "; ".join(short),
        "batch_size": grid[0]["batch_size"], "weight_decay": f"{grid[0]['weight_decay']:g}",
        "max_epochs": grid[0]["max_epochs"],
        "threads": f"{threads} torch thread(s) ("
        + ("torch's default" if cfg.get("threads") is None else f"`--threads {cfg['threads']}`")
        + ")",
        "table": rep.markdown_table(rows, columns),
        "best": "".join(best),
        "failures": "Failed fits (left out of the means): " + "; ".join(
            f"{r['method']} r{r['seed']}f{r['fold']}: {r['error']}" for r in failures) + "\n\n"
        if failures else "",
        "figures": penguin_figures(recs, cfg, deltas, report) if figures else "",
        "tuning": tuning_md,
        "details": rep.markdown_table(details, ["method", "repeat (seed)",
                                            *(c for _, c, _ in PENGUIN_METRICS), "Δ_MTL (%)"],
                                  fmt),
    }
    return rep.fill("penguins", values)


def penguin_figures(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any],
                    deltas: Callable[[str], list[float]], report: Path) -> str:
    """Metrics by method, and fit time against Δ_MTL."""
    names = {n.replace("skmtl ", "").replace("sklearn ", "sk "): n for n in cfg["methods"]
             if rep.ok(recs, method=n)}
    groups = {s: rep.ok(recs, method=n) for s, n in names.items()}
    a = rep.metric_figure(groups, {"species accuracy": "species_acc", "sex accuracy": "sex_acc",
                               "body mass RMSE (g)": "mass_rmse"}, "penguins_metrics",
                      "Species accuracy, sex accuracy and body-mass RMSE of every method on the "
                      "penguins", report, metric={"species accuracy": "accuracy ↑", "sex "
                      "accuracy": "accuracy ↑", "body mass RMSE (g)": "RMSE (g) ↓"},
                      title="Palmer penguins: test metrics, mean ± std over the CV splits")
    b = rep.time_figure(groups, {s: rep._mean(deltas(n)) for s, n in names.items() if deltas(n)},
                    "penguins_time_quality", "Fit time against Δ_MTL of every method on the "
                    "penguins", report, xlabel="fit time per split (s, median, log scale)",
                    ylabel="Δ_MTL vs skmtl separate (%)",
                    title="Palmer penguins: cost vs multi-task gain")
    return f"{a}\n\n{b}\n\n"
