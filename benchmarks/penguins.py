"""Palmer penguins: species, sex and body mass, multi-task networks against per-task models.

Run from the repository root::

    python benchmarks/penguins.py                # 5 folds x 3 repeats -> benchmarks/results/
    python benchmarks/penguins.py --quick        # 2 folds x 1 repeat, 20 epochs -> build/
    python benchmarks/penguins.py --threads 1    # one torch / BLAS thread (busy machine)
    python benchmarks/report.py --only penguins  # render the section from the results

Repeated stratified K-fold (by species), seeds 0..repeats-1, network settings chosen
per outer split by an inner CV on the training folds; skmtl ``MultiTaskNet`` variants
against one scikit-learn model per task.  One record per method x outer split.  The
methods are described in ``templates/penguins.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import PENGUIN_TARGETS as TARGETS
from datasets import penguins, penguins_preprocessor
from harness import AS_BEFORE, Run, epoch_seconds, guarded, import_skmtl, record, seeds, timed
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402

FOLDS, REPEATS, INNER_FOLDS, EPOCHS = 5, 3, 3, 100
QUICK = {"folds": 2, "repeats": 1, "inner_folds": 2, "epochs": 20}
#: Fixed for every setting; the grid searches hidden layers and learning rate.
FIXED: dict[str, Any] = {"batch_size": 32, "weight_decay": 1e-4}
GRID: list[dict[str, Any]] = [
    {"hidden_layer_sizes": (32,), "lr": 3e-3},
    {"hidden_layer_sizes": (64, 64), "lr": 1e-3},
    {"hidden_layer_sizes": (64, 64), "lr": 3e-3},
]
#: skmtl methods: name -> MultiTaskNet parameters; per-task baselines: name -> factory key.
SKMTL: dict[str, dict[str, Any]] = {
    "skmtl shared_bottom": {"architecture": "shared_bottom"},
    "skmtl separate (single-task)": {"architecture": "separate"},
    "skmtl mmoe": {"architecture": "mmoe"},
    "skmtl shared_bottom + uncertainty": {"weighting": "uncertainty"},
    "skmtl shared_bottom + upgrad": {"weighting": "upgrad"},
}
PER_TASK: list[str] = ["sklearn LogisticRegression / RidgeCV", "sklearn HistGradientBoosting",
                       "sklearn MLP per task"]


def per_task_model(method: str, task: str, settings: dict[str, Any], seed: int) -> Any:
    """One scikit-learn model of ``method`` for ``task``."""
    regression = task == "body_mass_g"
    if method.startswith("sklearn Logistic"):
        return RidgeCV(alphas=np.logspace(-3, 3, 13)) if regression else LogisticRegression(
            max_iter=5000)
    if method.startswith("sklearn Hist"):
        cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        return cls(random_state=seed)
    common = {"hidden_layer_sizes": settings["hidden_layer_sizes"],
              "learning_rate_init": settings["lr"], "batch_size": settings["batch_size"],
              "max_iter": settings["max_epochs"], "random_state": seed}
    if regression:
        return TransformedTargetRegressor(MLPRegressor(**common), transformer=StandardScaler())
    return MLPClassifier(**common)


def fit_predict(method: str, settings: dict[str, Any], seed: int, X_fit: pd.DataFrame,
                y_fit: pd.DataFrame, X_eval: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit on ``(X_fit, y_fit)``, predict ``X_eval``; per-task models see their labelled rows."""
    if method in SKMTL:
        net = MultiTaskNet(random_state=seed, device="cpu",
                           **{**AS_BEFORE, "early_stopping": False, **settings, **SKMTL[method]})
        model = make_pipeline(penguins_preprocessor(), net)
        _, seconds, load = timed(lambda: model.fit(X_fit, y_fit))
        pred = pd.DataFrame(model.predict(X_eval))[TARGETS]
        pred.index = X_eval.index
        return pred, {"fit_seconds": seconds, "other_load": load, "epoch_seconds": epoch_seconds(net)}
    preds, seconds = {}, 0.0
    for task in TARGETS:
        labelled = y_fit[task].notna().to_numpy()
        model = make_pipeline(penguins_preprocessor(), per_task_model(method, task, settings, seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _, s, _ = timed(lambda m=model, t=task, k=labelled: m.fit(X_fit[k], y_fit[t][k]))
        seconds += s
        preds[task] = np.asarray(model.predict(X_eval))
    return pd.DataFrame(preds, index=X_eval.index), {"fit_seconds": seconds}


def scored(method: str, settings: dict[str, Any], seed: int, X_fit: pd.DataFrame,
           y_fit: pd.DataFrame, X_test: pd.DataFrame, y_test: pd.DataFrame) -> dict[str, Any]:
    """The record fields of one method on one split: timings and the test metrics."""
    pred, timing = fit_predict(method, settings, seed, X_fit, y_fit, X_test)
    return {**timing, "metrics": task_metrics(y_test, pred)}


def task_metrics(y_true: pd.DataFrame, y_pred: pd.DataFrame) -> dict[str, float]:
    """Species / sex accuracy and body-mass R² / RMSE on the labelled rows of each task."""
    out = {}
    for task in ("species", "sex"):
        k = y_true[task].notna().to_numpy()
        out[f"{task}_acc"] = float(accuracy_score(y_true[task][k].astype(str),
                                                  y_pred[task][k].astype(str)))
    truth = y_true["body_mass_g"].to_numpy(np.float64)
    pred = y_pred["body_mass_g"].to_numpy(np.float64)
    out["mass_r2"] = float(r2_score(truth, pred))
    out["mass_rmse"] = float(np.sqrt(mean_squared_error(truth, pred)))
    return out


def tune(grid: list[dict[str, Any]], X: pd.DataFrame, y: pd.DataFrame, seed: int,
         inner_folds: int) -> dict[str, Any]:
    """Inner CV of shared_bottom on one split's training rows; the best mean task score wins.

    Mean task score = (species accuracy + sex accuracy + body-mass R²) / 3; first in
    grid order on ties.
    """
    if len(grid) == 1:
        return {"scores": [None], "chosen": 0, "seconds": 0.0}
    t0 = time.perf_counter()
    splitter = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
    folds = list(splitter.split(X, y["species"]))
    scores = []
    for settings in grid:
        values = []
        for fit, val in folds:
            pred, _ = fit_predict("skmtl shared_bottom", settings, seed, X.iloc[fit], y.iloc[fit],
                                  X.iloc[val])
            m = task_metrics(y.iloc[val], pred)
            values.append((m["species_acc"] + m["sex_acc"] + m["mass_r2"]) / 3)
        scores.append(statistics.mean(values))
    return {"scores": scores, "chosen": int(np.argmax(scores)),
            "seconds": time.perf_counter() - t0}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, help=f"outer folds (default {FOLDS})")
    parser.add_argument("--repeats", type=int, help=f"outer repeats, seeds 0..n-1 ({REPEATS})")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}")
    parser.add_argument("--threads", type=int, help="torch and BLAS threads (default: theirs)")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    q = args.quick
    args.folds = args.folds or (QUICK["folds"] if q else FOLDS)
    args.seeds = seeds(args.repeats or (QUICK["repeats"] if q else REPEATS))
    args.inner_folds = QUICK["inner_folds"] if q else INNER_FOLDS
    epochs = QUICK["epochs"] if q else EPOCHS
    args.grid = [{**s, **FIXED, "max_epochs": epochs} for s in (GRID[1:] if q else GRID)]
    if args.folds < 2:
        parser.error("--folds must be >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    run = Run("penguins", args.quick, argv)
    data = penguins()
    print(f"Palmer penguins: {data.description}", flush=True)
    _, warm, _ = timed(lambda: make_pipeline(penguins_preprocessor(), MultiTaskNet(
        max_epochs=2, random_state=0, device="cpu", weighting="upgrad", early_stopping=False,
        batch_size=256, **AS_BEFORE)).fit(data.X, data.y))
    records, tuning = [], []
    methods = [*SKMTL, *PER_TASK]
    for seed in args.seeds:
        for fold, (train, test) in enumerate(data.splits(args.folds, seed)):
            X_tr, y_tr, X_te, y_te = (data.X.iloc[train], data.y.iloc[train], data.X.iloc[test],
                                      data.y.iloc[test])
            tuned = tune(args.grid, X_tr, y_tr, seed, args.inner_folds)
            tuning.append({"seed": seed, "fold": fold, **tuned})
            settings = args.grid[tuned["chosen"]]
            for method in methods:
                rec = record(method, "penguins", seed, fold=fold, models=1 if method in SKMTL else 3)
                records.append(guarded(rec, partial(scored, method, settings, seed, X_tr, y_tr,
                                                    X_te, y_te)))
                print(f"[seed {seed} fold {fold}] {method}: {rec['metrics'] or rec['error']} "
                      f"({rec['fit_seconds'] or 0:.2f} s)", flush=True)
    config = {
        "dataset": data.description, "citation": data.citation, "folds": args.folds,
        "seeds": args.seeds, "inner_folds": args.inner_folds, "grid": args.grid,
        "threads": args.threads, "reference": "skmtl separate (single-task)", "methods": methods,
        "seconds": {"warm-up": warm, "inner CV": sum(t["seconds"] for t in tuning),
                    "outer fits": sum(r["fit_seconds"] or 0 for r in records)},
        "as_before": {**AS_BEFORE, "early_stopping": False},
    }
    path = run.save(records, config, {"tuning": tuning}, args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
