"""Missing labels: masked multi-task training against per-task models on Census-Income KDD.

Run from the repository root::

    python benchmarks/missing_labels.py               # 3 seeds -> benchmarks/results/
    python benchmarks/missing_labels.py --quick       # 10k rows, 1 seed, 3 epochs -> build/
    python benchmarks/missing_labels.py --single-task-epochs same   # no epoch scaling
    python benchmarks/report.py --only missing_labels # render the section from the results

Census-Income KDD (``datasets.census``, a fixed 100,000-row training subsample).  Seed
``s``, task ``i``: the first ``round(r * n)`` rows of the permutation
``numpy.random.default_rng((s, i))`` lose their label (masks nested across rates ``r``).
Masked shared_bottom and separate (the Δ_MTL reference) against single-task nets and
HistGradientBoosting per task on the labelled rows.  One record per method x rate x seed;
the methods are described in ``templates/missing_labels.md``.
"""

from __future__ import annotations

import argparse
import math
import sys
from functools import partial
from typing import Any

import harness
import numpy as np
import pandas as pd
from datasets import TASKS, census, prepare_census
from harness import weighted_load as wload
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

harness.import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskClassifier  # noqa: E402

RATES, TRAIN_ROWS, SUBSAMPLE_SEED, N_SEEDS = (0.5, 0.9), 100_000, 0, 3
QUICK = {"train_rows": 10_000, "seeds": 1, "max_epochs": 3}
#: Training settings of every network: those of the architectures benchmark (chosen there).
TRAIN: dict[str, Any] = {"lr": 3e-3, "batch_size": 1024, "max_epochs": 30, "n_iter_no_change": 5}
#: Fitted with every label (rate 0) and at every missing rate, in table order.
FULL_LABEL_METHODS = ("shared_bottom", "hgb")
MASKED_METHODS = ("shared_bottom", "separate", "single_task_net", "hgb")


def missing_masks(n_rows: int, seed: int, rates: list[float]) -> dict[float, pd.DataFrame]:
    """``{rate: DataFrame(n_rows x TASKS)}`` of removed labels, nested across rates."""
    orders = {t: np.random.default_rng((seed, i)).permutation(n_rows) for i, t in enumerate(TASKS)}
    masks = {}
    for rate in rates:
        cols = {}
        for task in TASKS:
            cols[task] = np.zeros(n_rows, dtype=bool)
            cols[task][orders[task][: int(round(rate * n_rows))]] = True
        masks[rate] = pd.DataFrame(cols)
    return masks


def mask_stats(y: pd.DataFrame, missing: pd.DataFrame) -> dict[str, Any]:
    """Labelled rows and positives per task, rows with both / no labels (both classes kept)."""
    out: dict[str, Any] = {"labelled": {}, "positives": {}}
    for t in TASKS:
        keep = ~missing[t].to_numpy()
        out["labelled"][t], out["positives"][t] = int(keep.sum()), int(y[t][keep].sum())
        if not 0 < out["positives"][t] < out["labelled"][t]:
            raise ValueError(f"task {t!r} keeps a single class among its labels")
    out["both_labelled"] = int((~missing.any(axis=1)).sum())
    out["none_labelled"] = int(missing.all(axis=1).sum())
    return out


def fit_net(X: np.ndarray, y: pd.DataFrame, data: Any, settings: dict[str, Any], seed: int,
            architecture: str = "shared_bottom") -> dict[str, Any]:
    """Fit a ``MultiTaskClassifier`` (early stopping on 10 % of its rows); AUC per column of y."""
    est = MultiTaskClassifier(architecture=architecture, early_stopping=True, random_state=seed,
                              device="cpu", **{**harness.AS_BEFORE, **settings})
    _, seconds, load = harness.timed(lambda: est.fit(X, y))
    probas = est.predict_proba(data.X_test)
    probas = probas if isinstance(probas, list) else [probas]
    classes = est.classes_ if len(y.columns) > 1 else [est.classes_]
    auc = {t: float(roc_auc_score(data.y_test[t], p[:, list(c).index(True)]))
           for t, p, c in zip(y.columns, probas, classes)}
    valid = [float(v) for v in est.history_[:, "valid_loss"]]
    return {"metrics": auc, "fit_seconds": seconds, "other_load": load,
            "epoch_seconds": harness.epoch_seconds(est),
            "epochs": [[int(est.n_epochs_), int(np.argmin(valid)) + 1]],
            "budgets": [[settings["max_epochs"], settings["n_iter_no_change"]]]}


def fit_per_task(method: str, data: Any, missing: pd.DataFrame, settings: dict[str, Any],
                 seed: int, scale: bool) -> dict[str, Any]:
    """One model per task on its labelled rows; times and metrics summed / merged over tasks."""
    out: dict[str, Any] = {"metrics": {}, "fit_seconds": 0.0, "epochs": [], "budgets": [],
                           "epoch_seconds": [] if method == "single_task_net" else None}
    loads = []
    for task in TASKS:
        keep = ~missing[task].to_numpy()
        if method == "single_task_net":
            factor = len(keep) / keep.sum() if scale else 1.0
            task_settings = {**settings,
                             "max_epochs": math.ceil(settings["max_epochs"] * factor),
                             "n_iter_no_change": math.ceil(settings["n_iter_no_change"] * factor)}
            y = data.y_train.loc[keep, [task]].reset_index(drop=True)
            part = fit_net(data.X_train[keep], y, data, task_settings, seed)
            out["epochs"] += part["epochs"]
            out["budgets"] += part["budgets"]
            out["epoch_seconds"] += part["epoch_seconds"] or []
        else:  # ordinal-encoded categoricals declared categorical, raw numeric columns
            X_train, X_test = data.hgb_features("ordinal")
            est = HistGradientBoostingClassifier(
                random_state=seed,
                categorical_features=np.arange(X_train.shape[1]) < data.n_categorical)
            _, s, load = harness.timed(lambda e=est, X=X_train[keep], y=data.y_train[task].to_numpy()[
                keep]: e.fit(X, y))
            proba = est.predict_proba(X_test)[:, list(est.classes_).index(True)]
            part = {"metrics": {task: float(roc_auc_score(data.y_test[task], proba))},
                    "fit_seconds": s, "other_load": load}
        out["metrics"].update(part["metrics"])
        out["fit_seconds"] += part["fit_seconds"]
        loads.append((part["other_load"], part["fit_seconds"]))
    out["other_load"] = wload(loads)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, help=f"number of seeds (default {N_SEEDS})")
    parser.add_argument("--rates", type=float, nargs="+", help="missing rates (default 0.5 0.9)")
    parser.add_argument("--train-rows", type=int, help=f"training subsample ({TRAIN_ROWS:,}; "
                        "0 = whole file)")
    parser.add_argument("--max-epochs", type=int, help=f"epoch budget ({TRAIN['max_epochs']})")
    parser.add_argument("--single-task-epochs", choices=("scaled", "same"), default="scaled")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    q = args.quick
    args.seeds = harness.seeds(args.seeds or (QUICK["seeds"] if q else N_SEEDS))
    args.rates = sorted(set(args.rates or RATES))
    if any(not 0 < r < 1 for r in args.rates):
        parser.error("--rates must lie strictly between 0 and 1")
    rows = args.train_rows if args.train_rows is not None else (
        QUICK["train_rows"] if q else TRAIN_ROWS)
    args.train_rows = rows or None
    args.settings = {**TRAIN, "max_epochs": args.max_epochs or (
        QUICK["max_epochs"] if q else TRAIN["max_epochs"])}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = harness.Run("missing_labels", args.quick, argv)
    harness.warm_up_process()
    dataset = census(args.train_rows, SUBSAMPLE_SEED)
    data = prepare_census(dataset)
    n = len(data.y_train)
    print(f"census: {data.description}", flush=True)
    records, stats = [], []
    no_mask = pd.DataFrame({t: np.zeros(n, dtype=bool) for t in TASKS})
    for seed in args.seeds:
        masks = {0.0: no_mask, **missing_masks(n, seed, args.rates)}
        plan = [(0.0, m) for m in FULL_LABEL_METHODS]
        plan += [(r, m) for r in args.rates for m in MASKED_METHODS]
        for rate in masks:
            stats.append({"rate": rate, "seed": seed, **mask_stats(data.y_train, masks[rate])})
        for rate, method in plan:
            rec = harness.record(method, "census", seed, rate=rate)
            y = data.y_train.astype(object)
            for t in TASKS:
                y[t] = y[t].where(~masks[rate][t].to_numpy(), None)
            if method in ("shared_bottom", "separate"):
                harness.guarded(rec, partial(fit_net, data.X_train, y if rate else data.y_train, data,
                                     args.settings, seed, method))
            else:
                harness.guarded(rec, partial(fit_per_task, method, data, masks[rate], args.settings, seed,
                                     args.single_task_epochs == "scaled"))
            records.append(rec)
            print(f"seed {seed} missing {rate:.0%} {method}: {rec['metrics'] or rec['error']} "
                  f"fit {rec['fit_seconds'] or 0:.1f} s, epochs {rec.get('epochs')}", flush=True)
    config = {
        "dataset": data.description, "citation": dataset.citation,
        "subsample": dataset.description, "subsample_seed": SUBSAMPLE_SEED, "seeds": args.seeds,
        "rates": args.rates, "settings": args.settings, "default_settings": TRAIN,
        "single_task_epochs": args.single_task_epochs, "reference": "separate",
        "full_label_methods": FULL_LABEL_METHODS, "masked_methods": MASKED_METHODS,
        "as_before": harness.AS_BEFORE,
    }
    path = run.save(records, config, {"masks": stats}, args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
