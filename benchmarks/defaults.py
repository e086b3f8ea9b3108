"""How skmtl's defaults for raw tables were chosen: cross-validation on training rows only.

``python benchmarks/defaults.py [--quick] [--round N] [--jobs 2]`` writes
``benchmarks/results/defaults.json``; ``python benchmarks/report.py --only defaults``
renders it (prose: ``templates/defaults.md``).

The development suite is the training rows of the tabular benchmark's datasets (never
their test rows): Census-Income KDD, movies and flights (a fixed 20,000-row subsample of
each training split) and yeast (its 1,500 training rows); from round 3 on, also
scikit-learn's digits (1,797 rows; tasks digit, odd, above 4), a small table on which every
earlier candidate is fitted too.  Each candidate is
``MultiTaskNet(**settings)`` on the raw DataFrame, scored by 3-fold cross-validation (folds
fixed by seed 0) as the mean over tasks of ROC AUC (binary), R² (regression) or 1 - Hamming
loss (yeast); accuracy for multiclass tasks.  Round 1 changes one setting at a time from the defaults before this
benchmark; round 2 combines the round-1 winners (``--round 2`` fits only its candidates and keeps
the earlier rounds' records).  One record per candidate x dataset x fold.

Round 4 ("small tables") asks whether ``early_stopping="auto"`` should stay off below 1,000
labelled rows: a separate development suite of nine public tables with 180 - 753 rows
(:data:`datasets.SMALL_TABLES`, 2 - 3 tasks each), all rows cross-validated by
``SMALL_FOLDS``-fold CV repeated ``SMALL_REPEATS`` times (folds of repetition r fixed by seed
r), the candidates changing settings on top of the *current* defaults (``{}`` is today's
behaviour).  Its records carry ``"round": 4`` and ``seed = SMALL_FOLDS * r + fold``; every
other round's run keeps them, and ``--round 4`` keeps all the other rounds' records.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import CATEGORICAL_COLUMNS, SMALL_TABLES, census, flights, movies, yeast
from harness import Run, guarded, import_skmtl, load_results, record, results_path, timed
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import hamming_loss, r2_score, roc_auc_score
from sklearn.model_selection import KFold

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskNet  # noqa: E402
from skmtl._base import EARLY_STOPPING_ROWS  # noqa: E402

ROWS, FOLDS = 20_000, 3
#: The defaults before this benchmark (skmtl 0.1.0 with raw-table encoding).
BEFORE: dict[str, Any] = {"batch_size": 256, "lr": 1e-3, "max_epochs": 100,
                          "early_stopping": False, "numeric_transform": "quantile"}
ROUNDS: dict[int, dict[str, dict[str, Any]]] = {
    1: {"before": {},
        "early stopping": {"early_stopping": True},
        "early stopping, batch auto": {"early_stopping": True, "batch_size": "auto"},
        "early stopping, robust scaling": {"early_stopping": True, "numeric_transform": "robust"},
        "early stopping, periodic embeddings": {"early_stopping": True,
                                                "numeric_embedding": "periodic"},
        "early stopping, piecewise-linear embeddings": {"early_stopping": True,
                                                        "numeric_embedding": "piecewise_linear"},
        "early stopping, flat_cosine": {"early_stopping": True, "lr_schedule": "flat_cosine"},
        "early stopping, AdamW (weight_decay=1e-2)": {"early_stopping": True,
                                                      "optimizer": "adamw", "weight_decay": 1e-2},
        "early stopping, label smoothing 0.1": {"early_stopping": True, "label_smoothing": 0.1},
        "early stopping, dropout 0.1": {"early_stopping": True, "dropout": 0.1},
        "early stopping, lr 3e-3": {"early_stopping": True, "lr": 3e-3}},
    2: {"early stopping, piecewise-linear, lr 3e-3": {
            "early_stopping": True, "numeric_embedding": "piecewise_linear", "lr": 3e-3},
        "early stopping, piecewise-linear, batch auto": {
            "early_stopping": True, "numeric_embedding": "piecewise_linear", "batch_size": "auto"},
        "early stopping, periodic, lr 3e-3": {
            "early_stopping": True, "numeric_embedding": "periodic", "lr": 3e-3},
        "early stopping, piecewise-linear, tabm (k=8)": {
            "early_stopping": True, "numeric_embedding": "piecewise_linear",
            "architecture": "tabm"}},
    # measured while early_stopping="auto" started at 10,000 rows (now 1,000: see the section)
    3: {"piecewise-linear, batch auto, early stopping auto": {
            "early_stopping": "auto", "numeric_embedding": "piecewise_linear",
            "batch_size": "auto"},
        "piecewise-linear, batch auto, no early stopping": {
            "early_stopping": False, "numeric_embedding": "piecewise_linear",
            "batch_size": "auto"},
        "piecewise-linear, batch 256, early stopping auto": {
            "early_stopping": "auto", "numeric_embedding": "piecewise_linear"},
        "early stopping, piecewise-linear, batch auto": {
            "early_stopping": True, "numeric_embedding": "piecewise_linear",
            "batch_size": "auto"}},
    # small tables (100 - 999 rows), on top of the current defaults: see SMALL
    4: {"defaults (auto: no early stopping below 1,000 rows)": {},
        "early stopping": {"early_stopping": True},
        "early stopping, validation 0.2": {"early_stopping": True, "validation_fraction": 0.2},
        "early stopping, patience 20": {"early_stopping": True, "n_iter_no_change": 20},
        "early stopping, validation 0.2, patience 20": {
            "early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 20},
        "no early stopping, 30 epochs": {"max_epochs": 30},
        "early stopping, AdamW (weight_decay=1e-2)": {
            "early_stopping": True, "optimizer": "adamw", "weight_decay": 1e-2}},
}
#: Rounds fitted on the small tables (SMALL_TABLES) with the current defaults as the base.
SMALL = 4
SMALL_FOLDS, SMALL_REPEATS = 5, 2
#: Datasets that joined the suite in a later round (earlier rounds were not fitted on them).
LATER: dict[str, int] = {"digits": 3}


def suite(quick: bool) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Training rows of each dataset (subsampled to ``ROWS``): name -> (X, y)."""
    out = {}
    for load in (census, movies, flights, yeast):
        data = load()
        X, y = data.X.iloc[data.train], data.y.iloc[data.train]
        if data.name == "census":
            X = X.astype({c: "category" for c in CATEGORICAL_COLUMNS})
        rows = 2_000 if quick else ROWS
        if len(X) > rows:
            keep = np.sort(np.random.default_rng(0).choice(len(X), rows, replace=False))
            X, y = X.iloc[keep], y.iloc[keep]
        out[data.name] = (X.reset_index(drop=True), y.reset_index(drop=True))
    digits = load_digits(as_frame=True)  # a small table: 1,797 rows, 3 tasks
    out["digits"] = (digits.data, pd.DataFrame({"digit": digits.target,
                                                "odd": digits.target % 2 == 1,
                                                "above_4": digits.target > 4}))
    return out


def cv_score(name: str, y: pd.DataFrame, pred: pd.DataFrame, proba: Any,
             est: Any) -> dict[str, float]:
    """Per-task validation metric on labelled rows."""
    if name == "yeast":
        return {"1 - hamming": 1 - float(hamming_loss(y.to_numpy(), pred.to_numpy(dtype=int)))}
    probas = dict(zip([t.name_ for t in est.tasks_ if t.is_classification],
                      proba if isinstance(proba, list) else [proba]))
    out = {}
    for task in est.tasks_:
        keep = y[task.name_].notna().to_numpy()
        truth = y[task.name_][keep]
        if task.is_classification and len(task.classes_) > 2:  # accuracy
            out[task.name_] = float((pred[task.name_][keep] == truth).mean())
        elif task.is_classification:
            column = list(task.classes_).index(True) if True in list(task.classes_) else 1
            out[task.name_] = float(roc_auc_score(truth.astype(bool),
                                                  probas[task.name_][keep, column]))
        else:
            out[task.name_] = float(r2_score(truth, pred[task.name_][keep]))
    return out


def one_fold(name: str, X: pd.DataFrame, y: pd.DataFrame, fold: int, candidate: str,
             settings: dict[str, Any], quick: bool, repeat: int | None = None) -> dict[str, Any]:
    """One candidate's fit on one fold and its validation scores.

    ``repeat`` None: the 3-fold CV of rounds 1 - 3 on top of ``BEFORE``; an int: round 4's
    ``SMALL_FOLDS``-fold CV of repetition ``repeat`` (folds fixed by seed ``repeat``) on top
    of the current defaults, recorded with ``seed = SMALL_FOLDS * repeat + fold``.
    """
    torch.set_num_threads(1)
    if repeat is None:
        splits, seed, base, extra = KFold(FOLDS, shuffle=True, random_state=0), fold, BEFORE, {}
    else:
        splits = KFold(SMALL_FOLDS, shuffle=True, random_state=repeat)
        seed, base = SMALL_FOLDS * repeat + fold, {}
        extra = {"round": SMALL, "fold": fold, "repeat": repeat}
    fit_rows, val_rows = list(splits.split(X))[fold]
    params = {**base, **settings, **({"max_epochs": 3} if quick else {})}

    def run() -> dict[str, Any]:
        est = MultiTaskNet(random_state=seed, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _, seconds, _ = timed(lambda: est.fit(X.iloc[fit_rows], y.iloc[fit_rows]))
        X_val, y_val = X.iloc[val_rows], y.iloc[val_rows]
        classifies = name != "yeast" and any(t.is_classification for t in est.tasks_)
        metrics = cv_score(name, y_val, est.predict(X_val),
                           est.predict_proba(X_val) if classifies else None, est)
        return {"metrics": metrics, "fit_seconds": seconds, "epochs": int(est.n_epochs_),
                "early_stopping": bool(est.early_stopping_)}

    return guarded(record(candidate, name, seed, settings=settings, **extra), run)


def small_suite() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Round 4's small tables, all rows: name -> (X, y)."""
    return {data.name: (data.X, data.y) for data in (load() for load in SMALL_TABLES)}


def kept_records(path: Any, round_: int) -> list[dict[str, Any]]:
    """The records of the results file at ``path`` that a ``--round round_`` run keeps.

    Round 4 keeps every other round's records; rounds 2 and 3 keep those of the other
    candidates, round 1 none of rounds 1 - 3; rounds 1 - 3 always keep round 4's.
    """
    if not path.exists():
        return []
    records = load_results(path)["records"]
    if round_ == SMALL:
        return [r for r in records if r.get("round") != SMALL]
    return [r for r in records if r.get("round") == SMALL
            or (round_ > 1 and r["method"] not in ROUNDS[round_])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows, 3 epochs (round 4: one repetition)")
    parser.add_argument("--round", type=int, default=max(ROUNDS), choices=sorted(ROUNDS))
    parser.add_argument("--jobs", type=int, default=2, help="parallel fits, 1 thread each")
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("defaults", args.quick, argv)
    path = results_path("defaults", args.quick, args.results_dir)
    previous = load_results(path)["config"] if path.exists() else {}
    kept = kept_records(path, args.round)
    candidates = ROUNDS[args.round]
    if args.round == SMALL:
        small = small_suite()
        repeats = 1 if args.quick else SMALL_REPEATS
        jobs = [(name, X, y, fold, cand, settings, args.quick, rep)
                for cand, settings in candidates.items() for name, (X, y) in small.items()
                for rep in range(repeats) for fold in range(SMALL_FOLDS)]
        datasets = previous.get("datasets", {})
    else:
        data = suite(args.quick)
        jobs = [(name, X, y, fold, cand, settings, args.quick) for cand, settings in
                candidates.items() for name, (X, y) in data.items() for fold in range(FOLDS)
                if LATER.get(name, 1) <= args.round]
        if args.round in LATER.values():  # the candidates kept from earlier rounds, on it too
            old = {r["method"]: r["settings"] for r in kept if r.get("round") != SMALL}
            jobs += [(name, X, y, fold, cand, settings, args.quick)
                     for cand, settings in old.items()
                     for name, (X, y) in data.items() if LATER.get(name) == args.round
                     for fold in range(FOLDS)]
        datasets = {n: {"rows": len(X), "tasks": list(y.columns)} for n, (X, y) in data.items()}
    records = kept + Parallel(n_jobs=args.jobs, verbose=5)(delayed(one_fold)(*j) for j in jobs)
    config = {"before": BEFORE, "rounds": {str(k): v for k, v in ROUNDS.items()},
              "rows": ROWS, "folds": FOLDS, "datasets": datasets,
              "small": previous.get("small")}
    if args.round == SMALL:
        config["small"] = {
            "round": SMALL, "folds": SMALL_FOLDS, "repeats": repeats,
            "early_stopping_rows": EARLY_STOPPING_ROWS,
            "datasets": {n: {"rows": len(X), "tasks": list(y.columns),
                             "labelled": {c: int(y[c].notna().sum()) for c in y.columns}}
                         for n, (X, y) in small.items()}}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
