"""TabM (k members in one network) against ensembles of k independent networks, in one run.

``python benchmarks/ensembles.py [--quick] [--seeds N] [--only DATASET ...]`` writes
``benchmarks/results/ensembles.json`` (``--quick``: under build/); ``python
benchmarks/report.py --only ensembles`` renders it (prose: ``templates/ensembles.md``).

Every model is fitted on the raw DataFrame with skmtl's defaults and ``random_state`` the
seed.  Per dataset and seed: one network (``MultiTaskNet()``, the reference of the ratios);
``architecture=TabM(k=...)`` for k = 4 and 8, the "tabm-mini" form (one per-member scaling of
the input, the rest shared) and a narrower TabM (widths 64); and
``MultiTaskEnsemble([MultiTaskNet()], n_seeds=k)`` for k = 4 and 8 (k networks fitted one
after the other, probabilities averaged).  Datasets: Census-Income KDD (a fixed 20,000-row
subsample of the training split, the whole test split), movies and yeast, as in
``benchmarks/tabular.py``.  Metrics on the test rows: ROC AUC (binary), R² (regression),
Hamming loss (yeast); the fit and the predict wall times on 2 cores.  ``--only`` fits those
datasets and keeps the other datasets' records of the results file, with the provenance of
the runs that measured them.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from datasets import CATEGORICAL_COLUMNS, Dataset, census, movies, subsample_split, yeast
from harness import (
    Run,
    fit_grid,
    import_skmtl,
    in_order,
    kept_runs,
    n_parameters,
    results_path,
    table_metrics,
    timed,
    warm_up_process,
)
from sklearn.exceptions import ConvergenceWarning

import_skmtl()  # this checkout's skmtl
from skmtl import MultiTaskEnsemble, MultiTaskNet  # noqa: E402
from skmtl.architectures import TabM  # noqa: E402

DATASETS = ("census", "movies", "yeast")
CENSUS_ROWS = 20_000
QUICK = {"rows": 3_000, "seeds": 1, "max_epochs": 3}
REFERENCE = "one network"
#: method -> (architecture or None, ensemble members or None)
METHODS: dict[str, tuple[Any, int | None]] = {
    REFERENCE: (None, None),
    "TabM k=4": (TabM(k=4), None),
    "TabM k=8": (TabM(k=8), None),
    "TabM-mini k=8": (TabM(k=8, arch_type="tabm-mini"), None),
    "TabM k=8, widths (64, 64)": (TabM(k=8, hidden_layer_sizes=(64, 64)), None),
    "ensemble of 4 networks": (None, 4),
    "ensemble of 8 networks": (None, 8),
}


def load(name: str, quick: bool) -> Dataset:
    """The dataset ``name`` (census: coded columns as categories, training rows subsampled)."""
    data = {"yeast": yeast, "movies": movies}.get(name, partial(census, CENSUS_ROWS))()
    if data.name == "census":
        data = replace(data, X=data.X.astype({c: "category" for c in CATEGORICAL_COLUMNS}))
    return subsample_split(data, QUICK["rows"]) if quick else data


def fit(method: str, data: Dataset, seed: int, quick: bool) -> dict[str, Any]:
    """Fit ``method`` on the training rows; its record's fields."""
    X, y, X_te, y_te = data.holdout()
    architecture, members = METHODS[method]
    params: dict[str, Any] = {"max_epochs": QUICK["max_epochs"]} if quick else {}
    if architecture is not None:
        params["architecture"] = architecture
    net = MultiTaskNet(random_state=seed, **params)
    est = net if members is None else MultiTaskEnsemble([net], n_seeds=members,
                                                         random_state=seed)
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, out["fit_seconds"], out["other_load"] = timed(lambda: est.fit(X, y))
    nets = [est] if members is None else est.estimators_
    out["epochs"] = float(np.mean([m.n_epochs_ for m in nets]))
    out["parameters"] = int(sum(n_parameters(m) for m in nets))
    (pred, proba), out["predict_seconds"], _ = timed(lambda: (est.predict(X_te),
                                                              est.predict_proba(X_te)))
    tasks = nets[0].tasks_
    names = [t.name_ for t in tasks if t.is_classification]
    probas = dict(zip(names, proba if isinstance(proba, list) else [proba]))
    classes = {t.name_: list(t.classes_) for t in tasks if t.is_classification}
    if data.name == "yeast":
        out["metrics"] = table_metrics(data.name, y_te, lambda t: pred[t].to_numpy())
    else:
        out["metrics"] = table_metrics(data.name, y_te, lambda t: (
            probas[t][:, classes[t].index(True)] if t in probas else pred[t].to_numpy()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3,000-row subsamples, 1 seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run("ensembles", args.quick, argv)
    path = results_path("ensembles", args.quick, args.results_dir)
    kept, described, earlier = kept_runs(path, args.only, DATASETS)  # the others stay
    warm_up_process()

    def load_and_describe(name: str) -> Dataset:
        data = load(name, args.quick)
        described[name] = {"citation": data.citation, "train_rows": len(data.train),
                           "test_rows": len(data.test), "tasks": list(data.y.columns)}
        return data

    records = fit_grid(args.only, QUICK["seeds"] if args.quick else args.seeds, load_and_describe,
                       lambda name: list(METHODS),
                       lambda method, data, seed: fit(method, data, seed, args.quick))
    config = {"quick": QUICK if args.quick else None, "datasets": in_order(described, DATASETS),
              "reference": REFERENCE, "methods": {m: repr(a) if a is not None else
                                                  f"MultiTaskEnsemble(n_seeds={k})" if k else
                                                  "MultiTaskNet()" for m, (a, k) in
                                                  METHODS.items()}}
    print(run.save(kept + records, config, {"earlier_runs": earlier}, folder=args.results_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
