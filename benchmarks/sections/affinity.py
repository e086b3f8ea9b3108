"""The ``affinity`` section of docs/benchmarks.md, rendered from ``results/affinity.json``."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness import import_skmtl, mean_std, median_spread
from report import fill, header_values, markdown_table, ok, save_figure

GROUPING, ONE, SEPARATE = "TaskGrouping (auto)", "one network", "all separate"
RANDOM = "random grouping (same sizes)"
AFFINITIES = ("gradient affinity", "lookahead affinity")


def _by_seed(recs: Sequence[Mapping[str, Any]], method: str, dataset: str, key: str
             ) -> dict[int, float]:
    """``metrics[key]`` of ``method``'s good records on ``dataset``, by seed."""
    return {r["seed"]: r["metrics"][key] for r in ok(recs, method=method, dataset=dataset)
            if r["metrics"].get(key) is not None}


def _paired(recs: Sequence[Mapping[str, Any]], method: str, reference: str, dataset: str,
            key: str) -> list[float]:
    """``method`` minus ``reference`` on ``key``, over the seeds both have."""
    mine, ref = (_by_seed(recs, m, dataset, key) for m in (method, reference))
    return [mine[s] - ref[s] for s in sorted(set(mine) & set(ref))]


def _methods(recs: Sequence[Mapping[str, Any]], dataset: str, skip: Sequence[str] = ()
             ) -> list[str]:
    return [m for m in dict.fromkeys(r["method"] for r in recs if r["dataset"] == dataset)
            if m not in skip]


def _label(recs: Sequence[Mapping[str, Any]], method: str, dataset: str) -> str:
    failed = [r for r in recs if r["method"] == method and r["dataset"] == dataset
              and r.get("error")]
    return method + (f" ({len(failed)} failed: {failed[0]['error'][:80]})" if failed else "")


def _groups(groups: Sequence[Sequence[str]] | None) -> str:
    return "—" if not groups else " · ".join("{" + ", ".join(g) + "}" for g in groups)


def _beats(recs: Sequence[Mapping[str, Any]], dataset: str, key: str, peer: str,
           lower: bool) -> tuple[str, bool | None]:
    """``"mean x vs y, better on k of n seeds"`` for the grouping against ``peer``; and
    whether the grouping's mean is better (None when either is missing)."""
    diffs = _paired(recs, GROUPING, peer, dataset, key)
    mine = list(_by_seed(recs, GROUPING, dataset, key).values())
    theirs = list(_by_seed(recs, peer, dataset, key).values())
    if not diffs or not mine or not theirs:
        return f"{peer}: cannot be compared (a method has no result)", None
    better = sum(d < 0 if lower else d > 0 for d in diffs)
    mean_mine, mean_theirs = statistics.mean(mine), statistics.mean(theirs)
    won = mean_mine < mean_theirs if lower else mean_mine > mean_theirs
    return (f"{peer}: {mean_mine:.4f} vs {mean_theirs:.4f}, better on {better} of "
            f"{len(diffs)} seed(s)"), won


# ---------------------------------------------------------------------------- synthetic
def affinity_table(recs: Sequence[Mapping[str, Any]]) -> str:
    """Within- and across-cluster affinity per measure, mean ± std over seeds."""
    rows = []
    for method in AFFINITIES:
        good = ok(recs, method=method, dataset="synthetic")
        if not good and not any(r["method"] == method for r in recs):
            continue
        within = [r["metrics"]["within"] for r in good]
        across = [r["metrics"]["across"] for r in good]
        rows.append({
            "measure": _label(recs, method, "synthetic"),
            "within clusters": mean_std(within, ".3g"),
            "across clusters": mean_std(across, ".3g"),
            "within − across": mean_std([w - a for w, a in zip(within, across)], "+.3g"),
            "seeds with within > across": f"{sum(w > a for w, a in zip(within, across))} of "
                                          f"{len(good)}",
            "seconds, median (min–max)": median_spread([r["fit_seconds"] for r in good], ".1f")})
    return markdown_table(rows, ["measure", "within clusters", "across clusters",
                                 "within − across", "seeds with within > across",
                                 "seconds, median (min–max)"])


def grouping_table(recs: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The grouping found per seed with its adjusted Rand index; and the ARI verdict."""
    rows, perfect = [], 0
    found = [r for r in recs if r["method"] == GROUPING and r["dataset"] == "synthetic"]
    for r in sorted(found, key=lambda r: r["seed"]):
        if r.get("error"):
            rows.append({"seed": r["seed"], "groups found": f"failed: {r['error'][:80]}"})
            continue
        ari = r["metrics"]["ari"]
        perfect += ari >= 1 - 1e-12
        losses = r.get("validation_losses") or {}
        rows.append({"seed": r["seed"], "groups found": _groups(r.get("groups")),
                     "adjusted Rand index": ari,
                     "validation loss by number of groups": ", ".join(
                         f"{k}: {v:.4f}" for k, v in sorted(losses.items())) or "—"})
    table = markdown_table(rows, ["seed", "groups found", "adjusted Rand index",
                                  "validation loss by number of groups"], ".2f")
    return table, f"{perfect} of {len(found)}"


def loss_table(recs: Sequence[Mapping[str, Any]]) -> str:
    """Test loss (mean per-task MSE) per method, with the paired difference to the grouping."""
    rows = []
    for method in _methods(recs, "synthetic", skip=AFFINITIES):
        good = ok(recs, method=method, dataset="synthetic")
        diffs = _paired(recs, method, GROUPING, "synthetic", "test_mse")
        rows.append({"method": _label(recs, method, "synthetic"),
                     "test MSE (mean over tasks)": mean_std(
                         [r["metrics"]["test_mse"] for r in good], ".4f"),
                     f"− {GROUPING}": "—" if method == GROUPING else mean_std(diffs, "+.4f"),
                     "fit s, median (min–max)": median_spread([r["fit_seconds"] for r in good],
                                                               ".1f")})
    return markdown_table(rows, ["method", "test MSE (mean over tasks)", f"− {GROUPING}",
                                 "fit s, median (min–max)"])


def synthetic_verdict(recs: Sequence[Mapping[str, Any]], ari_count: str,
                      target: Mapping[str, Any]) -> str:
    """The two synthetic targets and whether this run meets them."""
    k, n = (int(v) for v in ari_count.split(" of "))
    need = target["ari_seeds"]
    lines = [f"- Clusters recovered (adjusted Rand index = 1) on {k} of {n} seed(s); target: "
             f"on ≥ {need} of 3 seeds: "
             + ("met." if k >= need and n >= 3 else
                "not evaluated (fewer than 3 seeds)." if n < 3 else "NOT met.")]
    parts, verdicts = [], []
    for peer in (ONE, SEPARATE):
        text, won = _beats(recs, "synthetic", "test_mse", peer, lower=True)
        parts.append(text)
        verdicts.append(won)
    overall = ("cannot be evaluated" if None in verdicts else
               "met" if all(verdicts) else "NOT met")
    lines.append("- Test MSE of the grouping against " + "; against ".join(parts)
                 + f". Target: the grouping's mean test loss below both: {overall}.")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- yeast
def yeast_table(recs: Sequence[Mapping[str, Any]]) -> str:
    """Mean AUC and Hamming loss per method, paired differences to one network."""
    rows = []
    for method in _methods(recs, "yeast"):
        good = ok(recs, method=method, dataset="yeast")
        n_groups = [len(r["groups"]) for r in good if r.get("groups")]
        rows.append({
            "method": _label(recs, method, "yeast"),
            "mean ROC AUC": mean_std([r["metrics"]["mean_auc"] for r in good], ".4f"),
            f"AUC − {ONE}": "—" if method == ONE else mean_std(
                _paired(recs, method, ONE, "yeast", "mean_auc"), "+.4f"),
            "Hamming loss": mean_std([r["metrics"]["hamming"] for r in good], ".4f"),
            f"Hamming − {ONE}": "—" if method == ONE else mean_std(
                _paired(recs, method, ONE, "yeast", "hamming"), "+.4f"),
            "groups": ", ".join(str(g) for g in n_groups) or "—",
            "fit s, median (min–max)": median_spread([r["fit_seconds"] for r in good], ".1f")})
    return markdown_table(rows, ["method", "mean ROC AUC", f"AUC − {ONE}", "Hamming loss",
                                 f"Hamming − {ONE}", "groups", "fit s, median (min–max)"])


def yeast_verdict(recs: Sequence[Mapping[str, Any]]) -> str:
    """Grouping against each peer on both metrics, and the affinity run's cost."""
    lines = []
    for key, name, lower in (("mean_auc", "mean ROC AUC", False),
                             ("hamming", "Hamming loss", True)):
        parts = [_beats(recs, "yeast", key, peer, lower)[0] for peer in (ONE, SEPARATE, RANDOM)]
        lines.append(f"- {name} of the affinity grouping against " + "; against ".join(parts)
                     + ".")
    grouped = {r["seed"]: r for r in ok(recs, method=GROUPING, dataset="yeast")}
    single = {r["seed"]: r for r in ok(recs, method=ONE, dataset="yeast")}
    both = sorted(set(grouped) & set(single))
    if both:
        aff = [grouped[s]["affinity_seconds"] / single[s]["fit_seconds"] for s in both]
        total = [grouped[s]["fit_seconds"] / single[s]["fit_seconds"] for s in both]
        lines.append(f"- Cost: the affinity run takes {mean_std(aff, '.2f')}× one ordinary fit "
                     f"of one network; the whole TaskGrouping fit (affinity, choice of the number "
                     f"of groups, final networks) {mean_std(total, '.1f')}× (paired by seed).")
    for r in sorted(grouped.values(), key=lambda r: r["seed"]):
        lines.append(f"- Seed {r['seed']}: groups {_groups(r.get('groups'))}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- cost
def cost_table(recs: Sequence[Mapping[str, Any]], target: Mapping[str, Any]) -> tuple[str, str]:
    """Paired fit-time ratios per task count; and the verdict lines."""
    rows, lines = [], []
    limit = target["cost_ratio"]
    for dataset in dict.fromkeys(r["dataset"] for r in recs if r.get("part") == "cost"):
        good = [r for r in recs if r["dataset"] == dataset and not r.get("error")]
        failed = [r for r in recs if r["dataset"] == dataset and r.get("error")]
        ratios = [r["metrics"]["ratio"] for r in good]
        same = sum(bool(r.get("same_training")) for r in good)
        rows.append({
            "tasks": dataset + (f" ({len(failed)} failed: {failed[0]['error'][:80]})"
                                if failed else ""),
            "ratio on / off, mean ± std": mean_std(ratios, ".3f"),
            "ratio, median (min–max)": median_spread(ratios, ".3f"),
            "fit s without": median_spread([r["fit_seconds_off"] for r in good], ".2f"),
            "fit s with": median_spread([r["fit_seconds"] for r in good], ".2f"),
            "same training": f"{same} of {len(good)}",
            "pairs measured (last epoch)": ", ".join(
                str(r.get("measured_pairs_last_epoch")) for r in good) or "—",
            "max other load (cores)": max((r["other_load"] for r in good
                                           if r.get("other_load") is not None), default=None)})
        if ratios:
            mean = statistics.mean(ratios)
            lines.append(f"- {dataset}: fit time with / without = {mean:.3f}× (target ≤ "
                         f"{limit:.2f}×): {'met' if mean <= limit else 'NOT met'}; training "
                         f"identical in {same} of {len(good)} pair(s).")
        else:
            lines.append(f"- {dataset}: not measured.")
    table = markdown_table(rows, ["tasks", "ratio on / off, mean ± std",
                                  "ratio, median (min–max)", "fit s without", "fit s with",
                                  "same training", "pairs measured (last epoch)",
                                  "max other load (cores)"], ".2f")
    return table, "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ figure
def heatmaps(recs: Sequence[Mapping[str, Any]], report: Path) -> str:
    """The gradient-affinity heatmap of the first seed of each dataset, with the groups
    TaskGrouping chose, drawn by ``skmtl.plotting.plot_task_affinity``; their links."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    import_skmtl()
    from skmtl.plotting import plot_task_affinity

    links = []
    for dataset in ("synthetic", "yeast"):
        good = sorted(ok(recs, method=GROUPING, dataset=dataset), key=lambda r: r["seed"])
        if not good or not good[0].get("matrix"):
            continue
        r = good[0]
        n = len(r["tasks"])
        matrix = pd.DataFrame(r["matrix"], index=r["tasks"], columns=r["tasks"], dtype=float)
        fig, ax = plt.subplots(figsize=(max(5.0, 0.5 * n + 2.5), max(4.0, 0.5 * n + 1.5)))
        plot_task_affinity(matrix, groups=r.get("groups"), ax=ax, annotate=n <= 8)
        ax.set_title(f"{dataset} (seed {r['seed']}): gradient affinity, TaskGrouping's groups",
                     fontsize=9)
        fig.tight_layout()
        links.append(save_figure(fig, f"affinity_{dataset}", f"Gradient affinity on {dataset} "
                                 "with the task groups TaskGrouping chose", report))
    return "\n\n".join(links) + "\n" if links else ""


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The ``affinity`` section (tables for the three parts, the heatmap figure)."""
    cfg, recs = res["config"], res["records"]
    target = cfg["target"]
    seeds = sorted({r["seed"] for r in recs if r.get("part") != "cost"})
    values = header_values(
        res, seeds=f"{seeds} (data split and random_state of every model; cost part: "
                   "repetition r uses random_state=r)",
        repetitions=f"{len(seeds)} seed(s) per method; mean ± std over seeds")
    syn, yst, cst = (cfg.get(k) or {} for k in ("synthetic", "yeast", "cost"))
    if syn:
        ari_table, ari_count = grouping_table(recs)
        s = syn["settings"]
        synthetic = (
            f"{s['n_clusters']} clusters × {s['tasks_per_cluster']} regression tasks "
            f"(noise {s['noise']}), {syn['train_rows']:,} training / {syn['test_rows']:,} test "
            f"rows per seed. Template: `MultiTaskNet(hidden_layer_sizes="
            f"{tuple(s['hidden_layer_sizes'])}, max_epochs={s['max_epochs']})` (skmtl's "
            f"`early_stopping=\"auto\"`: on 10 % of the training rows from 1,000 rows); affinities and TaskGrouping "
            f"measure over {s['affinity_epochs']} epochs; `TaskGrouping(n_groups=\"auto\", "
            f"max_groups={s['max_groups']}, validation_fraction={s['validation_fraction']})`.\n\n"
            + "Affinity within and across the true clusters (off-diagonal entries):\n\n"
            + affinity_table(recs) + "\nGroups found:\n\n" + ari_table
            + "\nTest loss:\n\n" + loss_table(recs) + "\n"
            + synthetic_verdict(recs, ari_count, target))
    else:
        synthetic = "Not run.\n"
    if yst:
        s = yst["settings"]
        real = (f"{yst['description']}. Source: {yst['citation']}. Template: `MultiTaskNet("
                f"max_epochs={s['max_epochs']})` with skmtl's defaults otherwise; TaskGrouping "
                f"with {s['affinity_epochs']} affinity epochs, max_groups={s['max_groups']}, "
                f"validation_fraction={s['validation_fraction']}.\n\n" + yeast_table(recs) + "\n"
                + yeast_verdict(recs))
    else:
        real = "Not run.\n"
    if cst:
        s = cst["settings"]
        table, verdict = cost_table(recs, target)
        cost = (f"`make_task_clusters({s['n_samples']:,} rows)` with T tasks, `MultiTaskNet("
                f"hidden_layer_sizes={tuple(s['hidden_layer_sizes'])}, max_epochs="
                f"{s['max_epochs']}, early_stopping=False)`, {s['repeats']} paired repetitions "
                f"(the order of the two fits alternates). Rows named by T alone use the default "
                f"architecture (shared_bottom: gradients on the shared representation, "
                f"head-only backward passes); rows marked *mmoe* measure on the shared "
                f"parameters (a backward pass per task through the experts), for "
                f"comparison.\n\n" + table + "\n" + verdict)
    else:
        cost = "Not run.\n"
    figure = ""
    if figures:
        try:
            figure = heatmaps(recs, report)
        except ImportError as exc:
            figure = f"(The heatmap figure needs {exc.name}: not drawn.)\n"
    values |= {"synthetic": synthetic, "real": real, "cost": cost, "figure": figure,
               "cost_target": f"{target['cost_ratio']:.2f}"}
    return fill("affinity", values)
