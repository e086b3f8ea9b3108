"""skmtl's task weightings: cost per epoch, and quality on Census-Income KDD and meats.

``python benchmarks/weighting.py [--quick] [--seeds N]`` writes
``benchmarks/results/weighting.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only weighting`` renders it (prose: ``templates/weighting.md``).

Every ``skmtl.weighting.WEIGHTINGS`` entry is fitted with ``weighting=NAME``.  Cost: synthetic
3- and 10-task tables, both modes of gradient-level methods, each fit right after its paired
"equal" fit; one record per variant x table x round.  Quality: Census per-task AUC, meats
relative RMSE (and RidgeCV), with the single-task reference ``architecture="separate"``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import time
import warnings
from typing import Any

import harness
import numpy as np
import pandas as pd
import torch
from datasets import census, make_data, make_data_10, meats, meats_split, prepare_census
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

harness.import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor  # noqa: E402
from skmtl.weighting import WEIGHTINGS  # noqa: E402

METHODS, SEPARATE, SEEDS, MODES = list(WEIGHTINGS), "separate", 3, ("representation", "parameters")
COST = {"hidden_layer_sizes": (256, 256), "batch_size": 256, "lr": 1e-3, "random_state": 0,
        "early_stopping": False, "device": "cpu"}
#: Target: these methods in representation mode at T=3 cost at most ``ratio`` x "equal".
COST_TARGET = {"methods": ["mgda", "pcgrad", "upgrad"], "ratio": 1.6}
#: Earlier measurements (x an equal-weight epoch at T=3) of other libraries, not made by this
#: script; quoted from the previous docs/benchmarks.md, shown as labelled reference rows.
COST_REFERENCES = [("torchjd UPGrad via `mtl_backward`", 2.4), ("LibMTL PCGrad", 2.0),
                   ("LibMTL MGDA", 4.5)]
CENSUS = {"hidden_layer_sizes": (128, 128), "n_iter_no_change": 3, "early_stopping": True}
MEATS = {"hidden_layer_sizes": (128, 128), "lr": 1e-3, "weight_decay": 0.0, "max_epochs": 1000,
         "batch_size": 256, "early_stopping": False, "n_iter_no_change": 100}
TUNE_VALID_FRACTION, RIDGE_ALPHAS = 0.2, np.logspace(-8, 4, 49)
#: Run sizes (full: as before issue 11); meats: full-batch width / depth x lr x epochs, + wd, ES.
FULL = {"cost_n": 20_000, "cost_epochs": 3, "rounds": 2, "wait_idle": 300.0, "wait_idle_fit": 60.0,
        "retry_busy": 3, "wait_budget": 1800.0, "census_rows": 40_000, "census_epochs": 15,
        "census_grid": list(itertools.product([1e-3, 3e-3], [256, 512, 1024])), "meats_folds": 5,
        "meats_grid": [*({**MEATS, "hidden_layer_sizes": h, "lr": lr, "max_epochs": e}
                         for h, lr, e in itertools.product([(64,), (128, 128)], [1e-3, 3e-3],
                                                           [1000, 2000])),
                       {**MEATS, "max_epochs": 2000, "weight_decay": 1e-3},
                       {**MEATS, "max_epochs": 2000, "early_stopping": True}]}
QUICK = {**FULL, "cost_n": 1_000, "cost_epochs": 2, "rounds": 1, "wait_idle": 0.0,
         "wait_idle_fit": 0.0, "retry_busy": 0, "wait_budget": 0.0, "census_rows": 4_000,
         "census_epochs": 2, "census_grid": [(1e-3, 512)], "meats_folds": 2,
         "meats_grid": [{**MEATS, "max_epochs": 20}, {**MEATS, "max_epochs": 20, "lr": 3e-3}]}


def cost_fit(spec: Any, X: np.ndarray, y: pd.DataFrame, epochs: int
             ) -> tuple[list[float], float, float | None]:
    """``MultiTaskNet`` for ``epochs`` epochs: (raw epoch seconds, fit seconds, other load)."""
    est = MultiTaskNet(weighting=spec, max_epochs=epochs, **{**harness.AS_BEFORE, **COST})
    _, seconds, load = harness.timed(lambda: est.fit(X, y))
    times = harness.epoch_seconds(est) or []
    if len(times) != epochs:
        raise RuntimeError(f"history_ has {len(times)} epochs, expected {epochs}")
    return times, seconds, load


def idle(max_wait: float, budget: list[float]) -> None:
    """Wait up to ``max_wait`` s for an idle machine, within the run's waiting budget."""
    if max_wait > 0 and budget[0] > 0:
        budget[0] -= harness.timed(lambda: harness.wait_until_idle(min(max_wait, budget[0])))[1]


def measure_cost(spec: Any, label: str, X: np.ndarray, y: pd.DataFrame, epochs: int,
                 threads: int, args: argparse.Namespace) -> dict[str, Any]:
    """An "equal" fit then ``spec``'s; re-timed when other processes were busy."""
    for attempt in range(1, args.retry_busy + 2):
        idle(args.wait_idle, args.budget)
        with harness.same_torch_threads(threads, label):
            pair = None if spec == "equal" else cost_fit("equal", X, y, epochs)[0]
            times, seconds, load = cost_fit(spec, X, y, epochs)
        if load is None or load < harness.IDLE_THRESHOLD or attempt > args.retry_busy or (
                args.budget[0] <= 0):
            break
        args.budget[0] -= seconds
    return {"epoch_seconds": times, "paired_equal_seconds": pair, "fit_seconds": seconds,
            "other_load": load, "attempts": attempt}


def run_cost(args: argparse.Namespace, threads: int) -> list[dict[str, Any]]:
    """Every (method, mode) on both tables, ``rounds`` interleaved rounds."""
    variants = [(m, mode, m if mode is None else f"{m} ({mode})",
                 m if mode is None else WEIGHTINGS[m](mode=mode)) for m in METHODS
                for mode in (MODES if WEIGHTINGS[m].level == "gradient" else (None,))]
    records, data = [], make_data(args.cost_n)
    for n_tasks, (X, y) in {3: (data.X, data.y_frame()), 10: make_data_10(args.cost_n)}.items():
        for *_, spec in variants:  # warm-up: lazy imports, solver set-up
            harness.guarded({}, lambda s=spec, d=(X[:512], y.iloc[:512]): {"_": cost_fit(s, *d, 1)})
        for rnd in range(args.rounds):
            for method, mode, label, spec in variants if rnd % 2 == 0 else variants[::-1]:
                rec = harness.guarded(harness.record(label, f"synthetic T={n_tasks}", COST["random_state"],
                                     weighting=method, mode=mode, n_tasks=n_tasks, n=args.cost_n,
                                     round=rnd, level=WEIGHTINGS[method].level),
                              lambda s=spec, lb=label, d=(X, y): measure_cost(
                                  s, lb, *d, args.cost_epochs, threads, args))
                records.append(rec)
                print(f"T={n_tasks} round {rnd} {label}: {rec['error'] or rec['epoch_seconds']}",
                      flush=True)
    return records


def net(cls: type, method: str, seed: int, settings: dict[str, Any]) -> Any:
    """``cls(weighting=method)``; ``SEPARATE``: one network per task, "equal" weighting."""
    sep = method == SEPARATE
    return cls(weighting="equal" if sep else method, random_state=seed, device="cpu",
               architecture=SEPARATE if sep else "shared_bottom", **{**harness.AS_BEFORE, **settings})


def fit_census(method: str, seed: int, c: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """Fit one weighting (or the separate reference) on Census; per-task test AUC."""
    est = net(MultiTaskClassifier, method, seed, settings)
    _, seconds, load = harness.timed(lambda: est.fit(c.X_train, c.y_train))
    return {"metrics": harness.task_aucs(est, c.X_test, c.y_test), "fit_seconds": seconds,
            "other_load": load, "epoch_seconds": harness.epoch_seconds(est), "epochs": int(est.n_epochs_),
            "best_epoch": int(np.argmin(est.history_[:, "valid_loss"])) + 1}


def run_census(args: argparse.Namespace, run_seeds: list[int]) -> tuple[list, list, dict, Any]:
    """Choose lr and batch size for "equal" on a validation split, then every method x seed."""
    ds = census(args.census_rows)
    strata = ds.y.iloc[ds.train][["income_50k", "never_married"]].astype(int) @ [2, 1]
    fit_i, val_i = train_test_split(ds.train, test_size=TUNE_VALID_FRACTION, random_state=0,
                                    stratify=strata)
    tune_data, tuning = prepare_census(dataclasses.replace(ds, train=fit_i, test=val_i)), []
    for lr, batch in args.census_grid:
        settings = {**CENSUS, "lr": lr, "batch_size": batch, "max_epochs": args.census_epochs}
        idle(args.wait_idle_fit, args.budget)
        tuning.append(harness.guarded(harness.record("equal", "census validation", 0, settings=settings),
                              lambda s=settings: fit_census("equal", 0, tune_data, s)))
        print(f"census tuning lr={lr:g} batch={batch}: {tuning[-1]['metrics']}", flush=True)
    good = [r for r in tuning if not r["error"]] or tuning[:1]
    chosen = max(good, key=lambda r: sum(r["metrics"].values()))["settings"]
    c, records = prepare_census(ds), []
    for seed, method in itertools.product(run_seeds, [SEPARATE, *METHODS]):
        idle(args.wait_idle_fit, args.budget)
        records.append(harness.guarded(harness.record(method, "census", seed), lambda m=method, s=seed:
                               fit_census(m, s, c, chosen)))
        print(f"census seed {seed} {method}: {records[-1]['metrics']}", flush=True)
    return records, tuning, chosen, c.description + "; " + ds.description


def relative_rmse(y_true: Any, y_pred: Any, train_mean: np.ndarray) -> dict[str, float]:
    """Per-target test RMSE / RMSE of predicting ``train_mean``, and their average."""
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    rel = np.sqrt(((t - p) ** 2).mean(0)) / np.sqrt(((t - train_mean) ** 2).mean(0))
    return {**dict(zip(y_true.columns, map(float, rel))), "average": float(rel.mean())}


def fit_meats(method: str, seed: int, split: tuple, settings: dict[str, Any]) -> dict[str, Any]:
    """One method on seed ``seed``'s split: relative RMSE, last-epoch task weights."""
    X_tr, X_te, y_tr, y_te = split
    if method == "RidgeCV":
        est = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True)
        _, seconds, load = harness.timed(lambda: est.fit(X_tr.astype(np.float64), y_tr))
        return {"metrics": relative_rmse(y_te, est.predict(X_te.astype(np.float64)),
                                         y_tr.to_numpy().mean(0)), "fit_seconds": seconds,
                "other_load": load, "alpha": [float(a) for a in np.atleast_1d(est.alpha_)]}
    est = net(MultiTaskRegressor, method, seed, settings)
    _, seconds, load = harness.timed(lambda: est.fit(X_tr, y_tr))
    last = est.history_[-1]
    return {"metrics": relative_rmse(y_te, est.predict(X_te), y_tr.to_numpy().mean(0)),
            "fit_seconds": seconds, "other_load": load, "epoch_seconds": harness.epoch_seconds(est),
            "epochs": int(est.n_epochs_), "weights": {t: float(last[f"weight_{t}"])
                                                      for t in y_tr.columns}}


def meats_cv(X: np.ndarray, y: pd.DataFrame, settings: dict[str, Any], folds: int
             ) -> dict[str, Any]:
    """K-fold average relative RMSE of "equal" (scaler fitted on each fold's training rows)."""
    scores, t0 = [], time.perf_counter()
    for tr, va in KFold(folds, shuffle=True, random_state=0).split(X):
        scaler = StandardScaler().fit(X[tr])
        est = MultiTaskRegressor(weighting="equal", random_state=0, device="cpu",
                                 **{**harness.AS_BEFORE, **settings})
        est.fit(scaler.transform(X[tr]).astype(np.float32), y.iloc[tr])
        pred = est.predict(scaler.transform(X[va]).astype(np.float32))
        scores.append(relative_rmse(y.iloc[va], pred, y.iloc[tr].to_numpy().mean(0))["average"])
    return {"settings": settings, "scores": scores, "seconds": time.perf_counter() - t0}


def run_meats(args: argparse.Namespace, run_seeds: list[int]) -> tuple[list, list, dict, str]:
    """Choose the settings by CV on seed 0's training part, then every method x seed."""
    X, y = meats()
    X_tr0, _, y_tr0, _ = meats_split(X, y, 0, scale=False)
    cv = [meats_cv(X_tr0, y_tr0, s, args.meats_folds) for s in args.meats_grid]
    chosen, records = min(cv, key=lambda r: statistics.mean(r["scores"]))["settings"], []
    for seed in run_seeds:
        split = meats_split(X, y, seed)
        for method in ("RidgeCV", SEPARATE, *METHODS):
            records.append(harness.guarded(harness.record(method, "meats", seed), lambda m=method, d=split, s=seed:
                                   fit_meats(m, s, d, chosen)))
            print(f"meats seed {seed} {method}: {records[-1]['metrics']}", flush=True)
    return records, cv, chosen, (f"{len(X)} rows, {X.shape[1]} features, targets "
                                 + ", ".join(y.columns))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, help=f"quality repetitions, seeds 0..n-1 ({SEEDS})")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 seed, few epochs")
    p.add_argument("--results-dir", help="folder of the results file")
    args = p.parse_args(argv)
    q, size = args.quick, QUICK if args.quick else FULL
    vars(args).update(size, budget=[size["wait_budget"]])
    warnings.filterwarnings("ignore", module="cvxpy")  # NashMTL's solver notices
    warnings.filterwarnings("ignore", message=".*(not DPP|Solution may be inaccurate).*")
    run, t0, timing = harness.Run("weighting", q, argv), time.perf_counter(), {}
    harness.warm_up_process()
    threads, run_seeds = torch.get_num_threads(), harness.seeds(args.seeds or (1 if q else SEEDS))
    records = run_cost(args, threads)
    timing["cost"], t0 = time.perf_counter() - t0, time.perf_counter()
    census_recs, tuning, census_settings, census_desc = run_census(args, run_seeds)
    timing["census"], t0 = time.perf_counter() - t0, time.perf_counter()
    meats_recs, cv, meats_settings, meats_desc = run_meats(args, run_seeds)
    timing["meats"] = time.perf_counter() - t0
    config = {"seeds": run_seeds, "threads": threads, "methods": METHODS, "reference": SEPARATE,
              "levels": {m: WEIGHTINGS[m].level for m in METHODS}, "modes": list(MODES),
              "cost": COST, "cost_target": COST_TARGET, "cost_references": COST_REFERENCES,
              "idle_threshold": harness.IDLE_THRESHOLD, **size, "seconds": timing,
              "waited_seconds": size["wait_budget"] - args.budget[0], "census": census_desc,
              "census_settings": census_settings, "tune_valid_fraction": TUNE_VALID_FRACTION,
              "meats": meats_desc, "meats_settings": meats_settings, "as_before": harness.AS_BEFORE}
    extra = {"census_tuning": tuning, "meats_cv": cv}
    path = run.save(records + census_recs + meats_recs, config, extra, args.results_dir)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
