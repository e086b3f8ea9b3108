"""Task relatedness: affinity measures, task grouping against its peers, and what measuring costs.

``python benchmarks/affinity.py [--quick] [--seeds N] [--only PART ...]`` writes
``benchmarks/results/affinity.json`` (``--quick``: under build/, < 1 min); ``python
benchmarks/report.py --only affinity`` renders it (prose: ``templates/affinity.md``).

Three parts, every table comparing methods measured in the same run:

* ``synthetic``: ``make_task_clusters`` (2 clusters x 3 regression tasks), per seed a
  train / test split.  Gradient and lookahead affinity of the template on the training
  rows (mean within vs across the true clusters); ``TaskGrouping(n_groups="auto")`` (the
  adjusted Rand index of its ``groups_`` against the true clusters); test loss (mean
  per-task MSE) of the grouping, one network for all tasks, all tasks separate
  (``architecture="separate"``: one trunk per task inside one estimator) and one network
  per true cluster (the oracle grouping, a reference).
* ``yeast``: the 14 labels of yeast as 14 binary tasks, the standard split: the affinity
  grouping, one network, separate networks and a random grouping with the grouping's
  group sizes (same template, same epochs); mean ROC AUC over the labels and the Hamming
  loss on the test rows; the affinity run's time against one ordinary fit.
* ``cost``: fit wall time with ``task_affinity=True`` (the default interval) over the same
  fit without, T = 3 and T = 10 tasks, paired by repetition; and whether the two fits
  trained the same network (measuring must not change training).

Every setting is fixed in advance (the constants below); no choice looks at test rows.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from datasets import yeast
from harness import (
    Run,
    guarded,
    import_skmtl,
    record,
    seeds,
    timed,
    wait_until_idle,
    warm_up_process,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, hamming_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet, TaskGrouping  # noqa: E402
from skmtl.affinity import (  # noqa: E402
    gradient_affinity,
    lookahead_affinity,
    make_task_clusters,
)

PARTS = ("synthetic", "yeast", "cost")
#: Synthetic part: rows per seed (a third are test rows), network, grouping settings.
SYNTHETIC = {"n_samples": 3000, "test_size": 1 / 3, "n_clusters": 2, "tasks_per_cluster": 3,
             "noise": 0.3, "hidden_layer_sizes": (64, 64), "max_epochs": 100,
             "affinity_epochs": 10, "max_groups": 4, "validation_fraction": 0.2}
#: Yeast part: skmtl's defaults (as in tabular.py / ensembles.py) and the grouping settings.
YEAST = {"max_epochs": 100, "affinity_epochs": 10, "max_groups": 4, "validation_fraction": 0.2}
#: Cost part: rows, epochs (no early stopping), paired repetitions, task counts.
COST = {"n_samples": 20_000, "max_epochs": 8, "repeats": 5, "tasks": (3, 10),
        "hidden_layer_sizes": (128, 128), "architectures": ("shared_bottom", "mmoe")}
#: Smoke-run overrides (--quick).
QUICK = {"synthetic": {"n_samples": 600, "max_epochs": 4, "affinity_epochs": 2, "max_groups": 2},
         "yeast": {"train_rows": 300, "max_epochs": 2, "affinity_epochs": 1, "max_groups": 2},
         "cost": {"n_samples": 800, "max_epochs": 2, "repeats": 2}, "seeds": 1}
#: The targets of issue 15, evaluated by the renderer.
TARGET = {"ari_seeds": 2, "cost_ratio": 1.15}
WAIT_IDLE = 30.0
GROUPING, ONE, SEPARATE = "TaskGrouping (auto)", "one network", "all separate"
RANDOM, COST_METHOD = "random grouping (same sizes)", "task_affinity=True / False"


# ------------------------------------------------------------------------------ helpers
def within_across(matrix: pd.DataFrame, clusters: Sequence[int]) -> dict[str, float]:
    """Mean off-diagonal affinity within the true clusters and across them (NaN skipped)."""
    values = matrix.to_numpy(dtype=float)
    same = np.equal.outer(np.asarray(clusters), np.asarray(clusters))
    off = ~np.eye(len(values), dtype=bool)
    return {"within": float(np.nanmean(values[same & off])),
            "across": float(np.nanmean(values[~same & off]))}


def group_labels(groups: Sequence[Sequence[str]], tasks: Sequence[str]) -> list[int]:
    """The group number of each task (in ``tasks`` order)."""
    where = {t: g for g, members in enumerate(groups) for t in members}
    missing = [t for t in tasks if t not in where]
    if missing:
        raise ValueError(f"groups {groups} do not place the tasks {missing}")
    return [where[t] for t in tasks]


def matrix_fields(result: Any) -> dict[str, Any]:
    """An AffinityResult as record fields: the matrix, its standard error, the task names."""
    return {"tasks": result.tasks, "matrix": result.matrix.to_numpy(dtype=float).tolist(),
            "standard_error": result.standard_error.to_numpy(dtype=float).tolist(),
            "affinity_seconds": float(result.seconds)}


def fit_groups(template: Any, groups: Sequence[Sequence[str]], X: Any, y: pd.DataFrame
               ) -> list[tuple[list[str], Any]]:
    """One clone of ``template`` fitted per group of columns of ``y``."""
    return [(list(g), clone(template).fit(X, y[list(g)])) for g in groups]


def grouped_predict(fitted: Sequence[tuple[list[str], Any]], X: Any, columns: Sequence[str]
                    ) -> pd.DataFrame:
    """Predictions of per-group estimators, as one DataFrame with ``columns``."""
    parts = [pd.DataFrame(np.asarray(est.predict(X)).reshape(len(X), -1), columns=g)
             for g, est in fitted]
    return pd.concat(parts, axis=1)[list(columns)]


def positive_columns(proba: Any, n_tasks: int) -> list[np.ndarray]:
    """The probability of label 1 per binary task, from a skmtl-style ``predict_proba``."""
    probas = [proba] if n_tasks == 1 and not isinstance(proba, list) else list(proba)
    if len(probas) != n_tasks or any(np.shape(p)[1] != 2 for p in probas):
        raise ValueError(f"expected {n_tasks} arrays of shape (n, 2) from predict_proba, got "
                         f"{[np.shape(p) for p in probas]}")
    return [np.asarray(p)[:, 1] for p in probas]  # classes 0 / 1, sorted


def yeast_metrics(y_true: pd.DataFrame, positive: Sequence[np.ndarray]) -> dict[str, float]:
    """Mean ROC AUC over the labels and the Hamming loss (probability cut at 0.5)."""
    aucs = [roc_auc_score(y_true[t], p) for t, p in zip(y_true.columns, positive)]
    pred = np.column_stack([p > 0.5 for p in positive]).astype(int)
    return {"mean_auc": float(np.mean(aucs)),
            "hamming": float(hamming_loss(y_true.to_numpy(), pred))}


def make_grouping(template: Any, cfg: Mapping[str, Any]) -> Any:
    """The ``TaskGrouping(n_groups="auto")`` of a part (gradient affinity).

    Its ``random_state`` stays None, so the networks it trains use the template's seed:
    with one group it trains the same network as the *one network* peer.
    """
    return TaskGrouping(template, n_groups="auto", affinity="gradient",
                        affinity_epochs=cfg["affinity_epochs"], max_groups=cfg["max_groups"],
                        validation_fraction=cfg["validation_fraction"])


def grouping_fields(est: Any) -> dict[str, Any]:
    """A fitted TaskGrouping's groups, validation losses and affinity matrix, as fields."""
    losses = getattr(est, "validation_losses_", None) or {}
    errors = getattr(est, "validation_standard_errors_", None) or {}
    return {"groups": [list(g) for g in est.groups_], "n_groups": int(est.n_groups_),
            "validation_losses": {str(k): float(v) for k, v in losses.items()},
            "validation_standard_errors": {str(k): float(v) for k, v in errors.items()},
            **matrix_fields(est.affinity_)}


def run_method(method: str, dataset: str, seed: int, fn: Any) -> dict[str, Any]:
    """One guarded record of ``fn()``'s fields, printed."""
    rec = guarded(record(method, dataset, seed, part=dataset), fn)
    print(f"{dataset} seed {seed} {method}: {rec['metrics']} {rec.get('groups', '')} "
          f"{rec['fit_seconds'] or 0:.1f}s {rec['error'] or ''}", flush=True)
    return rec


# ---------------------------------------------------------------------------- synthetic
def synthetic_seed(seed: int, cfg: Mapping[str, Any]) -> tuple[list[dict], dict]:
    """Records of the synthetic part for one seed and the data's description."""
    X, y, clusters = make_task_clusters(
        cfg["n_samples"], n_clusters=cfg["n_clusters"],
        tasks_per_cluster=cfg["tasks_per_cluster"], noise=cfg["noise"], random_state=seed)
    tr, te = train_test_split(np.arange(len(X)), test_size=cfg["test_size"], random_state=seed)
    X_tr, X_te, y_tr, y_te = X[tr], X[te], y.iloc[tr], y.iloc[te]
    tasks = list(y.columns)
    template = MultiTaskNet(hidden_layer_sizes=cfg["hidden_layer_sizes"],
                            max_epochs=cfg["max_epochs"], device="cpu", random_state=seed)

    def test_loss(pred: pd.DataFrame) -> dict[str, float]:
        per = {t: float(mean_squared_error(y_te[t], np.asarray(pred[t], dtype=float)))
               for t in tasks}
        return {"test_mse": float(np.mean(list(per.values()))),
                **{f"mse_{t}": v for t, v in per.items()}}

    def affinity(measure: Any) -> dict[str, Any]:
        res, seconds, load = timed(lambda: measure(template, X_tr, y_tr,
                                                   max_epochs=cfg["affinity_epochs"]))
        return {"metrics": within_across(res.matrix, clusters), "fit_seconds": seconds,
                "other_load": load, **matrix_fields(res)}

    def grouping() -> dict[str, Any]:
        est = make_grouping(template, cfg)
        _, seconds, load = timed(lambda: est.fit(X_tr, y_tr))
        labels = group_labels(est.groups_, tasks)
        return {"metrics": {**test_loss(est.predict(X_te)),
                            "ari": float(adjusted_rand_score(clusters, labels))},
                "fit_seconds": seconds, "other_load": load, **grouping_fields(est)}

    def single(params: Mapping[str, Any]) -> dict[str, Any]:
        est = clone(template).set_params(**params)
        _, seconds, load = timed(lambda: est.fit(X_tr, y_tr))
        return {"metrics": test_loss(est.predict(X_te)), "fit_seconds": seconds,
                "other_load": load, "epochs": int(est.n_epochs_)}

    def oracle() -> dict[str, Any]:
        groups = [[t for t, c in zip(tasks, clusters) if c == k] for k in sorted(set(clusters))]
        fitted, seconds, load = timed(lambda: fit_groups(template, groups, X_tr, y_tr))
        return {"metrics": test_loss(grouped_predict(fitted, X_te, tasks)),
                "fit_seconds": seconds, "other_load": load, "groups": groups}

    runs = {"gradient affinity": lambda: affinity(gradient_affinity),
            "lookahead affinity": lambda: affinity(lookahead_affinity),
            GROUPING: grouping,
            ONE: lambda: single({}),
            SEPARATE: lambda: single({"architecture": "separate"}),
            "true clusters (oracle)": oracle}
    records = [run_method(method, "synthetic", seed, fn) for method, fn in runs.items()]
    description = {"tasks": tasks, "clusters": [int(c) for c in clusters],
                   "train_rows": len(tr), "test_rows": len(te)}
    return records, description


def synthetic(n_seeds: int, cfg: Mapping[str, Any]) -> tuple[list[dict], dict]:
    """Records of the synthetic part (every seed) and the data's description."""
    records: list[dict] = []
    for seed in seeds(n_seeds):
        recs, description = synthetic_seed(seed, cfg)
        records += recs
    return records, description


# -------------------------------------------------------------------------------- yeast
def yeast_seed(seed: int, cfg: Mapping[str, Any], X_tr: pd.DataFrame, y_tr: pd.DataFrame,
               X_te: pd.DataFrame, y_te: pd.DataFrame) -> list[dict]:
    """Records of the yeast part for one seed."""
    tasks = list(y_tr.columns)
    template = MultiTaskNet(max_epochs=cfg["max_epochs"], device="cpu", random_state=seed)
    found: dict[str, Any] = {}

    def metrics(est: Any) -> dict[str, float]:
        return yeast_metrics(y_te, positive_columns(est.predict_proba(X_te), len(tasks)))

    def grouping() -> dict[str, Any]:
        est = make_grouping(template, cfg)
        _, seconds, load = timed(lambda: est.fit(X_tr, y_tr))
        found["groups"] = [list(g) for g in est.groups_]
        return {"metrics": metrics(est), "fit_seconds": seconds, "other_load": load,
                **grouping_fields(est)}

    def single(params: Mapping[str, Any]) -> dict[str, Any]:
        est = clone(template).set_params(**params)
        _, seconds, load = timed(lambda: est.fit(X_tr, y_tr))
        return {"metrics": metrics(est), "fit_seconds": seconds, "other_load": load,
                "epochs": int(est.n_epochs_)}

    def random_grouping() -> dict[str, Any]:
        if "groups" not in found:
            raise RuntimeError("the affinity grouping failed: no group sizes to copy")
        sizes = [len(g) for g in found["groups"]]
        order = list(np.random.default_rng(seed).permutation(tasks))
        cuts = np.cumsum([0, *sizes])
        groups = [[t for t in tasks if t in order[a:b]] for a, b in zip(cuts, cuts[1:])]
        fitted, seconds, load = timed(lambda: fit_groups(template, groups, X_tr, y_tr))
        positive = {}
        for g, est in fitted:
            positive.update(zip(g, positive_columns(est.predict_proba(X_te), len(g))))
        return {"metrics": yeast_metrics(y_te, [positive[t] for t in tasks]),
                "fit_seconds": seconds, "other_load": load, "groups": groups}

    runs = {GROUPING: grouping, ONE: lambda: single({}),
            SEPARATE: lambda: single({"architecture": "separate"}),
            RANDOM: random_grouping}
    return [run_method(method, "yeast", seed, fn) for method, fn in runs.items()]


def yeast_part(n_seeds: int, cfg: Mapping[str, Any]) -> tuple[list[dict], dict]:
    """Records of the yeast part (every seed) and the data's description."""
    data = yeast()
    train = data.train
    if cfg.get("train_rows"):
        train = np.sort(np.random.default_rng(0).choice(train, cfg["train_rows"], replace=False))
    split = (data.X.iloc[train], data.y.iloc[train], data.X.iloc[data.test], data.y.iloc[data.test])
    records: list[dict] = []
    for seed in seeds(n_seeds):
        records += yeast_seed(seed, cfg, *split)
    description = {"citation": data.citation, "description": data.description,
                   "train_rows": len(train), "test_rows": len(data.test),
                   "tasks": list(data.y.columns)}
    return records, description


# --------------------------------------------------------------------------------- cost
def cost_pair(X: np.ndarray, y: pd.DataFrame, rep: int, cfg: Mapping[str, Any],
              architecture: str = "shared_bottom") -> dict[str, Any]:
    """Fit once with and once without ``task_affinity`` (same seed); the record's fields.

    shared_bottom measures on its shared representation (head-only backward passes),
    mmoe on its shared parameters (a backward pass per task through the experts)."""
    fits = {}
    # alternate which fit comes first, so drift does not favour one side
    for on in ((False, True) if rep % 2 == 0 else (True, False)):
        est = MultiTaskNet(hidden_layer_sizes=cfg["hidden_layer_sizes"],
                           max_epochs=cfg["max_epochs"], early_stopping=False, device="cpu",
                           random_state=rep, task_affinity=on, architecture=architecture)
        _, seconds, load = timed(partial(est.fit, X, y))
        fits[on] = (est, seconds, load)
    (off, t_off, l_off), (on_est, t_on, l_on) = fits[False], fits[True]
    loss_off = np.asarray(off.history_[:, "train_loss"], dtype=float)
    loss_on = np.asarray(on_est.history_[:, "train_loss"], dtype=float)
    measured = np.asarray(on_est.history_[-1, "task_affinity"], dtype=float)
    n_tasks = y.shape[1]
    return {"metrics": {"ratio": t_on / t_off}, "fit_seconds": t_on, "fit_seconds_off": t_off,
            "other_load": max((v for v in (l_off, l_on) if v is not None), default=None),
            "same_training": bool(np.allclose(loss_off, loss_on, rtol=1e-6, atol=1e-8)),
            "max_loss_difference": float(np.max(np.abs(loss_off - loss_on))),
            "measured_pairs_last_epoch": int(
                np.isfinite(measured[~np.eye(n_tasks, dtype=bool)]).sum() // 2)}


def cost(cfg: Mapping[str, Any], wait: float) -> list[dict]:
    """Paired fit times with and without ``task_affinity``, per task count and repetition."""
    records = []
    for architecture in cfg.get("architectures", ("shared_bottom",)):
        for n_tasks in cfg["tasks"]:
            per_cluster = min(n_tasks, 5)
            if n_tasks % per_cluster:
                raise ValueError(f"{n_tasks} tasks do not split into clusters of {per_cluster}")
            X, y, _ = make_task_clusters(cfg["n_samples"], n_clusters=n_tasks // per_cluster,
                                         tasks_per_cluster=per_cluster, random_state=0)
            # the default architecture's rows are named by T alone
            label = f"T={n_tasks}" + ("" if architecture == "shared_bottom"
                                      else f", {architecture}")
            for rep in range(cfg["repeats"]):
                if wait > 0:
                    wait_until_idle(wait)
                rec = guarded(record(COST_METHOD, label, rep, part="cost", n_tasks=n_tasks,
                                     architecture=architecture),
                              partial(cost_pair, X, y, rep, cfg, architecture))
                records.append(rec)
                print(f"cost {label} rep {rep}: {rec['metrics']} same training: "
                      f"{rec.get('same_training')} {rec['error'] or ''}", flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (< 1 min): small data, few epochs, 1 seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("affinity", args.quick, argv)
    warm_up_process()
    n_seeds = QUICK["seeds"] if args.quick else args.seeds
    cfg_syn = {**SYNTHETIC, **(QUICK["synthetic"] if args.quick else {})}
    cfg_yeast = {**YEAST, **(QUICK["yeast"] if args.quick else {})}
    cfg_cost = {**COST, **(QUICK["cost"] if args.quick else {})}
    records: list[dict] = []
    config: dict[str, Any] = {"quick": QUICK if args.quick else None, "target": TARGET,
                              "n_seeds": n_seeds, "parts": args.only}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the short quick fits
        if "synthetic" in args.only:
            recs, config["synthetic"] = synthetic(n_seeds, cfg_syn)
            config["synthetic"]["settings"] = cfg_syn
            records += recs
        if "yeast" in args.only:
            recs, config["yeast"] = yeast_part(n_seeds, cfg_yeast)
            config["yeast"]["settings"] = cfg_yeast
            records += recs
        if "cost" in args.only:
            records += cost(cfg_cost, 0.0 if args.quick else WAIT_IDLE)
            config["cost"] = {"settings": cfg_cost}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
