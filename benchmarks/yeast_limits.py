"""Yeast: how far below 0.19 the Hamming loss goes, on the training rows only.

``python benchmarks/yeast_limits.py [--quick] [--seeds N]`` writes
``benchmarks/results/yeast_limits.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only yeast_limits`` renders it (prose: ``templates/yeast_limits.md``).

The issue's target for yeast is a Hamming loss of at most 0.185 with thresholds chosen on
training folds. This benchmark asks how far the methods at hand get, and how far any
choice of thresholds could get, without reading the test rows: 5-fold cross-validation
on the 1,500 training rows of the standard split (``KFold(5, shuffle=True,
random_state=seed)``), every model with ``random_state=seed``, decisions at probability
0.5 unless a row says otherwise.  Per seed and fold:

* *skmtl defaults*: ``MultiTaskNet()`` on the 14 labels (14 binary tasks);
* *ensemble of 8 networks*: ``MultiTaskEnsemble([MultiTaskNet()], n_seeds=8)``;
* *5-fold cross-fitted ensemble, out-of-fold thresholds*:
  ``MultiTaskEnsemble([MultiTaskNet()], cv=5, threshold="accuracy")`` (its folds are
  inside the fitted rows);
* *stacked*: a second ``MultiTaskNet()`` on X plus every label's out-of-fold probability
  from 5 networks fitted on the other inner folds (at predict: the probabilities of
  the skmtl-defaults network fitted on all fitted rows), a way to use the labels'
  correlations (as classifier chains and two-stage binary relevance do);
* *hgb*: one ``HistGradientBoostingClassifier`` per label; *random forest*: one
  ``RandomForestClassifier`` (500 trees) over the 14 labels;
* *ensemble of 8 + hgb*: the two's probabilities averaged (equal weights, fixed in
  advance);
* *oracle thresholds* rows: the skmtl-defaults network and the ensemble of 8 with each
  label's threshold chosen on the **held-out fold itself** (``skmtl._thresholds.
  best_threshold``, accuracy).  No method can do this; it bounds what any threshold rule
  could add to those probabilities.

The derived rows (blend, oracle) reuse the fits of their components, whose fit times they
report.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
from datasets import yeast
from harness import Run, guarded, import_skmtl, record, timed, warm_up_process
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskEnsemble, MultiTaskNet  # noqa: E402
from skmtl._thresholds import best_threshold  # noqa: E402

FOLDS, INNER_FOLDS, ENSEMBLE, TREES, TARGET = 5, 5, 8, 500, 0.185
QUICK = {"rows": 300, "labels": 3, "folds": 2, "inner_folds": 2, "seeds": 1, "max_epochs": 3,
         "ensemble": 2, "trees": 20}
REFERENCE = "skmtl defaults"


def method_names(k: int, inner: int, trees: int) -> dict[str, str]:
    """Each method's key to its name in the results (with this run's sizes)."""
    return {"net": REFERENCE, "ens": f"ensemble of {k} networks",
            "cv": f"{inner}-fold cross-fitted ensemble, out-of-fold thresholds",
            "stack": "stacked: X + out-of-fold label probabilities", "hgb": "hgb",
            "rf": f"random forest ({trees} trees)",
            "blend": f"ensemble of {k} + hgb (probabilities averaged)",
            "oracle_net": f"{REFERENCE}, oracle thresholds",
            "oracle_ens": f"ensemble of {k}, oracle thresholds"}


def positive(model: Any, X: pd.DataFrame) -> np.ndarray:
    """Each label's positive-class probability, shape (n_rows, n_labels)."""
    return np.column_stack([p[:, 1] for p in model.predict_proba(X)])


def hamming(proba: np.ndarray, truth: pd.DataFrame, cuts: Any = 0.5) -> float:
    return float(((proba >= np.asarray(cuts)) != truth.to_numpy().astype(bool)).mean())


def oracle_cuts(proba: np.ndarray, truth: pd.DataFrame) -> np.ndarray:
    """Each label's threshold maximising its accuracy on these very rows (a bound)."""
    values = truth.to_numpy().astype(float)
    return np.array([best_threshold(proba[:, j], values[:, j], "accuracy")
                     for j in range(values.shape[1])])


def fold_records(X: pd.DataFrame, y: pd.DataFrame, fitted: np.ndarray, held: np.ndarray,
                 seed: int, fold: int, quick: bool) -> list[dict[str, Any]]:
    """Every method's record for one fold: fitted on ``fitted`` rows, scored on ``held``."""
    Xf, yf, Xh, yh = X.iloc[fitted], y.iloc[fitted], X.iloc[held], y.iloc[held]
    extra = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    k, inner, trees = sizes(quick)
    name = method_names(k, inner, trees)
    probas: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    records = []

    def network(**params: Any) -> MultiTaskNet:
        return MultiTaskNet(random_state=seed, **params, **extra)

    def stacked() -> np.ndarray:
        oof = np.zeros(yf.shape)
        for a, b in KFold(inner, shuffle=True, random_state=1000 + seed).split(Xf):
            oof[b] = positive(network().fit(Xf.iloc[a], yf.iloc[a]), Xf.iloc[b])
        names = [f"p_{c}" for c in y.columns]
        level_two = network().fit(pd.concat(
            [Xf, pd.DataFrame(oof, index=Xf.index, columns=names)], axis=1), yf)
        first = network().fit(Xf, yf)
        return positive(level_two, pd.concat(
            [Xh, pd.DataFrame(positive(first, Xh), index=Xh.index, columns=names)], axis=1))

    fits = {
        "net": lambda: positive(network().fit(Xf, yf), Xh),
        "ens": lambda: positive(MultiTaskEnsemble(
            [network()], n_seeds=k, random_state=seed).fit(Xf, yf), Xh),
        "cv": lambda: MultiTaskEnsemble(
            [network()], cv=inner, threshold="accuracy", random_state=seed).fit(Xf, yf),
        "stack": stacked,
        "hgb": lambda: np.column_stack([HistGradientBoostingClassifier(random_state=seed)
                                        .fit(Xf, yf[c]).predict_proba(Xh)[:, 1]
                                        for c in y.columns]),
        "rf": lambda: np.column_stack([p[:, 1] for p in RandomForestClassifier(
            trees, n_jobs=2, random_state=seed).fit(Xf, yf).predict_proba(Xh)]),
    }
    for key, fit in fits.items():
        def measure(key: str = key, fit: Any = fit) -> dict[str, Any]:
            out, secs, load = timed(fit)
            seconds[key] = secs
            if isinstance(out, MultiTaskEnsemble):  # decisions follow its thresholds
                pred = out.predict(Xh).to_numpy().astype(bool)
                h = float((pred != yh.to_numpy().astype(bool)).mean())
            else:
                probas[key] = out
                h = hamming(out, yh)
            return {"metrics": {"hamming": h}, "fit_seconds": secs, "other_load": load}
        records.append(guarded(record(name[key], "yeast", seed, fold=fold), measure))
    records.append(guarded(record(name["blend"], "yeast", seed, fold=fold), lambda: {
        "metrics": {"hamming": hamming((probas["ens"] + probas["hgb"]) / 2, yh)},
        "fit_seconds": seconds["ens"] + seconds["hgb"]}))
    for key, base in (("oracle_net", "net"), ("oracle_ens", "ens")):
        records.append(guarded(record(name[key], "yeast", seed, fold=fold), lambda base=base: {
            "metrics": {"hamming": hamming(probas[base], yh, oracle_cuts(probas[base], yh))},
            "fit_seconds": seconds[base]}))
    for rec in records:
        print(f"seed {seed} fold {fold} {rec['method']}: {rec['metrics']} "
              f"{rec['fit_seconds'] or 0:.1f}s {rec['error'] or ''}", flush=True)
    return records


def sizes(quick: bool) -> tuple[int, int, int]:
    """The ensemble size, the inner folds and the forest's trees of a run."""
    return ((QUICK["ensemble"], QUICK["inner_folds"], QUICK["trees"]) if quick
            else (ENSEMBLE, INNER_FOLDS, TREES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="300 rows, 3 labels, 2 folds, 1 seed, 3 epochs, small ensembles")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("yeast_limits", args.quick, argv)
    data = yeast()
    X = data.X.iloc[data.train].reset_index(drop=True)
    y = data.y.iloc[data.train].reset_index(drop=True)
    if args.quick:
        X, y = X.iloc[:QUICK["rows"]], y.iloc[:QUICK["rows"], :QUICK["labels"]]
    folds = QUICK["folds"] if args.quick else FOLDS
    warm_up_process()
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # --quick's 3-epoch fits
        for seed in range(QUICK["seeds"] if args.quick else args.seeds):
            splits = KFold(folds, shuffle=True, random_state=seed).split(X)
            for fold, (fitted, held) in enumerate(splits):
                records += fold_records(X, y, fitted, held, seed, fold, args.quick)
    k, inner, trees = sizes(args.quick)
    name = method_names(k, inner, trees)
    config = {"quick": QUICK if args.quick else None, "target": TARGET, "folds": folds,
              "inner_folds": inner, "ensemble": k, "trees": trees, "reference": REFERENCE,
              "methods": list(name.values()),
              "oracle": {name["oracle_net"]: name["net"], name["oracle_ens"]: name["ens"]},
              "rows": len(X), "labels": list(y.columns), "citation": data.citation}
    print(run.save(records, config, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
