"""skmtl's multi-label losses on Yeast, and temperature scaling on Census-Income KDD.

``python benchmarks/multilabel.py [--quick] [--seeds N] [--threads N]`` writes
``benchmarks/results/multilabel.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only multilabel`` renders it (prose: ``templates/multilabel.md``).

Yeast (``datasets.yeast``, split 1,500 / 917): ``MultiLabel`` networks with five losses
(settings chosen once for BCE, seed 0, by 5-fold CV inside the training rows), a
soft-voting ensemble, the 14 labels as 14 separate binary tasks (the single-task
reference), ``MLPClassifier`` and a random forest per label; a label is predicted when
its probability is > 0.5.  Census-Income KDD income > 50K: one network fitted without
and with ``temperature_scaling`` per seed.  One record per method x dataset x seed.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from typing import Any

import harness
import numpy as np
import sklearn.metrics as skm
import torch
from datasets import census, prepare_census, yeast
from harness import expected_calibration_error as ece
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

harness.import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskClassifier, MultiTaskEnsemble  # noqa: E402
from skmtl.losses import BCELoss, DiceLoss, FocalLoss  # noqa: E402
from skmtl.tasks import Classification, MultiLabel  # noqa: E402

THRESHOLD, TARGET_HAMMING, CV_FOLDS, CV_SEED, TUNE_SEED, SEEDS = 0.5, 0.185, 5, 0, 0, 3
ENSEMBLE_SIZE, TREES, QUICK_TREES, ECE_BINS = 5, 500, 50, 15
#: Census: the training settings of the architectures benchmark; validation rows also fit T.
CENSUS = {"lr": 3e-3, "batch_size": 1024, "n_iter_no_change": 5, "validation_fraction": 0.2,
          "max_epochs": 30}
QUICK_CENSUS = {"rows": 10_000, "epochs": 3}
LOSSES = {
    "BCE": lambda: "bce", 'BCE, pos_weight="balanced"': lambda: BCELoss(pos_weight="balanced"),
    "focal (gamma=2)": lambda: FocalLoss(gamma=2.0),
    'weighted focal (gamma=2, class_weight="balanced")':
        lambda: FocalLoss(gamma=2.0, class_weight="balanced"),
    "soft Dice (smooth=1)": lambda: DiceLoss(smooth=1.0),
}
#: Published Yeast figures (not measured here; own labelled rows): method, hamming, micro_f1,
#: citation.  None is listed yet.
PAPERS: list[dict[str, Any]] = []
SEPARATE = "skmtl separate: 14 binary Classification tasks"
CALIBRATION = ("without temperature scaling", "with temperature scaling")


def grid(quick: bool) -> list[dict[str, Any]]:
    """Settings searched for BCE: 36 (hidden x dropout x weight decay x (lr, batch)); quick: 2."""
    product = ([((256,), .5, 0.0, (1e-3, 64)), ((128, 128), .2, 0.0, (1e-3, 64))] if quick else
               itertools.product([(256,), (512,), (256, 256)], [0.2, 0.5], [0.0, 1e-3],
                                 [(1e-3, 64), (3e-4, 64), (1e-3, 128)]))
    return [dict(hidden_layer_sizes=h, dropout=d, lr=lr, weight_decay=wd, batch_size=b,
                 max_epochs=10 if quick else 300, n_iter_no_change=10)
            for h, d, wd, (lr, b) in product]


def metrics(Y_true: Any, Y_pred: Any) -> dict[str, float]:
    """Hamming loss, micro-F1, example-based Jaccard, micro precision and recall."""
    t, p = np.asarray(Y_true, dtype=np.int64), np.asarray(Y_pred, dtype=np.int64)
    kw: dict[str, Any] = {"average": "micro", "zero_division": 0}
    return {"hamming": float(skm.hamming_loss(t, p)), "micro_f1": float(skm.f1_score(t, p, **kw)),
            "jaccard": float(skm.jaccard_score(t, p, average="samples", zero_division=0)),
            "micro_precision": float(skm.precision_score(t, p, **kw)),
            "micro_recall": float(skm.recall_score(t, p, **kw))}


def multilabel_net(loss: Any, settings: dict[str, Any], seed: int, labels: list[str]) -> Any:
    return MultiTaskClassifier(tasks=[MultiLabel(labels, loss=loss)], random_state=seed,
                               device="cpu", early_stopping=True, **{**harness.AS_BEFORE, **settings})


def cross_validate(name: str, loss: Any, settings: dict[str, Any], X: np.ndarray, Y: Any,
                   folds: list[Any]) -> dict[str, Any]:
    """K-fold CV on the training rows (scaler refitted on each fold's fitted part)."""
    out: dict[str, Any] = {"name": name, "settings": settings, "hamming": [], "micro_f1": [],
                           "epochs": [], "error": None}

    def all_folds() -> dict[str, Any]:
        for fit, val in folds:
            scaler = StandardScaler().fit(X[fit])
            est = multilabel_net(loss, settings, TUNE_SEED, list(Y.columns))
            est.fit(scaler.transform(X[fit]).astype(np.float32), Y.iloc[fit])
            pred = np.asarray(est.predict_proba(scaler.transform(X[val]).astype(np.float32)))
            m = {**metrics(Y.iloc[val], pred > THRESHOLD), "epochs": int(est.n_epochs_)}
            for key in ("hamming", "micro_f1", "epochs"):
                out[key].append(m[key])
        return {}

    _, out["seconds"], _ = harness.timed(lambda: harness.guarded(out, all_folds))
    print(f"CV {name} {settings}: {np.mean(out['hamming'] or [np.nan]):.4f}", flush=True)
    return out


def cv_score(r: dict[str, Any]) -> float:
    return float(np.mean(r["hamming"])) if r["hamming"] and not r["error"] else float("inf")


def fit_yeast(method: str, settings: dict[str, Any], seed: int, data: dict[str, Any],
              ensemble_loss: str, trees: int) -> dict[str, Any]:
    """Fit one Yeast method on the training rows; its record's fields (test metrics, timing)."""
    X, Y, X_te, labels = data["X"], data["Y"], data["X_test"], list(data["Y"].columns)
    if method == SEPARATE:
        est = MultiTaskClassifier(tasks=[Classification(lab) for lab in labels],
                                  architecture="separate", random_state=seed, device="cpu",
                                  early_stopping=True, **{**harness.AS_BEFORE, **settings})
    elif method.startswith("skmtl MultiLabel, "):
        loss = LOSSES[method.removeprefix("skmtl MultiLabel, ")]()
        est = multilabel_net(loss, settings, seed, labels)
    elif method.startswith("skmtl ensemble"):
        est = MultiTaskEnsemble([multilabel_net(LOSSES[ensemble_loss](), settings, seed, labels)],
                                n_seeds=ENSEMBLE_SIZE, voting="soft", random_state=seed)
    elif method.startswith("scikit-learn"):
        est = MLPClassifier(settings["hidden_layer_sizes"], batch_size=settings["batch_size"],
                            learning_rate_init=settings["lr"], early_stopping=True,
                            max_iter=settings["max_epochs"], random_state=seed)
    else:
        est = MultiOutputClassifier(RandomForestClassifier(trees, random_state=seed, n_jobs=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, seconds, load = harness.timed(lambda: est.fit(X, Y if "skmtl" in method else Y.to_numpy()))
    out: dict[str, Any] = {"fit_seconds": seconds, "other_load": load}
    ensemble = "ensemble" in method
    pred = None if ensemble else np.asarray(est.predict(X_te), dtype=np.int64)
    if "skmtl" in method:  # P > 0.5 (for separate: each task's P(label = 1))
        proba = est.predict_proba(X_te)
        if method == SEPARATE:
            assert all([int(c) for c in cl] == [0, 1] for cl in est.classes_), est.classes_
            proba = np.column_stack([np.asarray(p)[:, 1] for p in proba])
        by_proba = (np.asarray(proba) > THRESHOLD).astype(np.int64)
        if not ensemble and not np.array_equal(pred, by_proba):
            raise AssertionError("predict() differs from predict_proba() > 0.5")
        pred, nets = by_proba, est.estimators_ if ensemble else [est]
        out["epoch_seconds"] = [t for net in nets for t in harness.epoch_seconds(net) or []]
        out["epochs"] = [int(net.n_epochs_) for net in nets] if ensemble else int(est.n_epochs_)
        out["best_epoch"] = None if ensemble else int(np.argmin(est.history_[:, "valid_loss"])) + 1
    elif method.startswith("scikit-learn"):
        out["epochs"] = int(est.n_iter_)
    wrong = pred != data["Y_test"].to_numpy(dtype=np.int64)
    return {**out, "metrics": metrics(data["Y_test"], pred),
            "label_errors": dict(zip(data["Y_test"].columns, wrong.mean(axis=0)))}


def same_network(a: Any, b: Any, X: np.ndarray) -> bool:
    """Identical weights, validation histories and test predictions."""
    sa, sb = a.net_.module_.state_dict(), b.net_.module_.state_dict()
    return bool(sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
                and list(a.history_[:, "valid_loss"]) == list(b.history_[:, "valid_loss"])
                and np.array_equal(np.asarray(a.predict(X)), np.asarray(b.predict(X))))


def fit_census(est: Any, c: Any, first: Any) -> dict[str, Any]:
    """Fit ``est`` on the income task; its record's fields (``first``: the unscaled fit)."""
    y = c.y_test["income_50k"].to_numpy()
    _, s, load = harness.timed(lambda: est.fit(c.X_train, c.y_train["income_50k"]))
    proba = np.asarray(est.predict_proba(c.X_test), dtype=np.float64)
    assert list(est.classes_) == [False, True], est.classes_
    temps, valid = dict(est.temperatures_), est.history_[:, "valid_loss"]
    return dict(fit_seconds=s, other_load=load, epoch_seconds=harness.epoch_seconds(est),
                epochs=int(est.n_epochs_), best_epoch=int(np.argmin(valid)) + 1,
                temperature=float(next(iter(temps.values()))) if temps else 1.0,
                identical_network=None if first is None else same_network(first, est, c.X_test),
                metrics={"ece": ece(proba, y.astype(np.int64), ECE_BINS),
                         "log_loss": float(skm.log_loss(y, proba, labels=[False, True])),
                         "brier": float(skm.brier_score_loss(y, proba[:, 1])),
                         "accuracy": float(np.mean(proba.argmax(axis=1) == y))})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, help=f"repetitions, seeds 0..n-1 (default {SEEDS})")
    p.add_argument("--quick", action="store_true", help="1 seed, 2 settings, few epochs")
    p.add_argument("--threads", type=int, help="torch and BLAS threads (default: theirs)")
    p.add_argument("--results-dir", help="folder of the results file")
    args = p.parse_args(argv)
    q = args.quick
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    run, timing, t0 = harness.Run("multilabel", q, argv), {}, time.perf_counter()
    harness.warm_up_process()
    ds = yeast()
    scaler = StandardScaler().fit(X_raw := ds.X.iloc[ds.train].to_numpy())
    data = {"X": scaler.transform(X_raw).astype(np.float32),
            "X_test": scaler.transform(ds.X.iloc[ds.test].to_numpy()).astype(np.float32),
            "Y": ds.y.iloc[ds.train].reset_index(drop=True),
            "Y_test": ds.y.iloc[ds.test].reset_index(drop=True)}
    folds = list(KFold(CV_FOLDS, shuffle=True, random_state=CV_SEED).split(X_raw))
    cv = [cross_validate("BCE", "bce", s, X_raw, data["Y"], folds) for s in grid(q)]
    chosen = min(range(len(cv)), key=lambda i: cv_score(cv[i]))  # first in grid order on ties
    settings = cv[chosen]["settings"]
    loss_cv = [cv[chosen] if name == "BCE" else
               cross_validate(name, make(), settings, X_raw, data["Y"], folds)
               for name, make in LOSSES.items()]
    ensemble_loss = min(loss_cv, key=cv_score)["name"]
    timing["Yeast tuning"], t0 = time.perf_counter() - t0, time.perf_counter()
    trees = QUICK_TREES if q else TREES
    methods = [SEPARATE, *(f"skmtl MultiLabel, {n}" for n in LOSSES),
               f"skmtl ensemble: {ENSEMBLE_SIZE} x {ensemble_loss}, soft voting",
               "scikit-learn MLPClassifier", f"per-label RandomForest ({trees} trees per label)"]
    records, run_seeds = [], harness.seeds(args.seeds or (1 if q else SEEDS))
    for seed, method in itertools.product(run_seeds, methods):
        records.append(rec := harness.guarded(harness.record(method, "yeast", seed), lambda m=method, s=seed:
                                      fit_yeast(m, settings, s, data, ensemble_loss, trees)))
        print(f"[seed {seed}] {method}: {rec['metrics'] or rec['error']}", flush=True)
    timing["Yeast test runs"], t0 = time.perf_counter() - t0, time.perf_counter()
    cds = census(rows := QUICK_CENSUS["rows"] if q else None)
    c, epochs = prepare_census(cds), QUICK_CENSUS["epochs"] if q else CENSUS["max_epochs"]
    for seed in run_seeds:  # the same network without, then with temperature scaling
        first = None
        for method, scaling in zip(CALIBRATION, (False, True)):
            est = MultiTaskClassifier(temperature_scaling=scaling, early_stopping=True,
                                      device="cpu", random_state=seed,
                                      **{**harness.AS_BEFORE, **CENSUS, "max_epochs": epochs})
            records.append(harness.guarded(harness.record(method, "census", seed),
                                   lambda e=est, f=first: fit_census(e, c, f)))
            first = est if first is None and not records[-1]["error"] else first
            print(f"[seed {seed}] census {method}: {records[-1]['metrics']}", flush=True)
    timing["Census calibration"] = time.perf_counter() - t0
    config = {"seeds": run_seeds, "threads": args.threads, "threshold": THRESHOLD,
              "target_hamming": TARGET_HAMMING, "cv_folds": CV_FOLDS, "cv_seed": CV_SEED,
              "tune_seed": TUNE_SEED, "settings": settings, "ensemble_loss": ensemble_loss,
              "ensemble_size": ENSEMBLE_SIZE, "trees": trees, "methods": methods,
              "reference": SEPARATE, "yeast": ds.description, "yeast_citation": ds.citation,
              "census": c.description + (f"; {cds.description}" if rows else ""),
              "census_citation": cds.citation, "census_settings": {**CENSUS, "max_epochs": epochs},
              "calibration_methods": list(CALIBRATION), "ece_bins": ECE_BINS, "seconds": timing,
              "paper_references": PAPERS, "as_before": harness.AS_BEFORE}
    extra = {"cv": cv, "loss_cv": loss_cv, "chosen": chosen}
    print(f"wrote {run.save(records, config, extra, args.results_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
