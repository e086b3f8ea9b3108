"""Measurement helpers shared by every benchmark script: the only place for them.

Timing (wall time, per-epoch times, paired ratios, other processes' CPU load),
seeds and repetitions, summaries (mean ± std, confidence interval, median with
spread), Δ_MTL, the machine and software description, and the results files.
Benchmark scripts import this module (and ``datasets``); they never import each
other.  Rendering lives in ``report.py``.

Results format
--------------
Every benchmark writes one JSON file, ``benchmarks/results/<name>.json`` (a
``--quick`` run: ``build/benchmarks-quick/results/<name>.json``), with
:func:`save_results`::

    {
      "benchmark": "penguins",          # the script's name
      "schema": 1,                      # SCHEMA below
      "quick": false,                   # smoke run?
      "command": "python benchmarks/penguins.py",
      "runner": "python benchmarks/run.py" or null,
      "machine": {...},                 # machine_info(): cpu, cores, versions, threads, load
      "skmtl": "skmtl 0.1.0 from skmtl/__init__.py",
      "total_seconds": 181.3,           # wall time of the whole script
      "other_load": 0.02,               # cores used by other processes during the run
      "config": {...},                  # what the renderer needs to describe the run:
                                        # seeds, folds, settings, data description, citation
      "records": [                      # one per method x dataset x seed (x fold / rate)
        {"method": "skmtl shared_bottom", "dataset": "penguins", "seed": 0,
         "fold": 3,                     # benchmark-specific keys are allowed
         "metrics": {"species_acc": 0.99, ...},
         "fit_seconds": 0.83,           # wall time of fit, null if not timed
         "epoch_seconds": [0.008, ...], # raw per-epoch times (skmtl history "dur"), or null
         "other_load": 0.01,            # other processes' cores during the fit, or null
         "error": null},                # "TypeError: ..." when the fit failed
        ...
      ],
      "extra": {...}                    # benchmark-specific tables (tuning, label masks)
    }

A report is rendered from these files alone (``python benchmarks/report.py``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import shlex
import statistics
import sys
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

#: Root of the repository (the folder that contains ``benchmarks/``).
REPO_ROOT: Path = Path(__file__).resolve().parent.parent
#: Version of the results format described in the module docstring.
SCHEMA: int = 1
#: Results of full runs (committed) and of ``--quick`` runs (never committed).
RESULTS_DIR: Path = REPO_ROOT / "benchmarks" / "results"
QUICK_RESULTS_DIR: Path = REPO_ROOT / "build" / "benchmarks-quick" / "results"
#: Other processes' load (cores) above which a timing is flagged as disturbed.
IDLE_THRESHOLD: float = 0.1
#: skmtl keywords: X as the script preprocessed it, as before raw-table encoding.
AS_BEFORE: dict[str, Any] = {"numeric_transform": "none", "numeric_embedding": None}


# ------------------------------------------------------------------ machine, software
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU, cores, OS, versions, torch / BLAS threads, load average and UTC date."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for dist in ("torch", "skorch", "scikit-learn", "numpy", "pandas"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = "not installed"
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - every benchmark needs torch
        info["torch_threads"] = None
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas_threads"] = (
            ", ".join(f"{p.get('internal_api')}={p.get('num_threads')}" for p in pools)
            or "none found"
        )
    except ImportError:
        info["blas_threads"] = "threadpoolctl not installed"
    try:
        info["load_avg"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not available on this platform
        info["load_avg"] = "unavailable"
    info["date_utc"] = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return info


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that started this process, copy-pasteable, as ``python <script> ...``."""
    args = list(sys.argv if argv is None else argv)
    if args:
        script = Path(args[0]).resolve()
        try:
            args[0] = script.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            args[0] = str(script)
    return shlex.join(["python", *args])


def import_skmtl() -> str:
    """Import skmtl from this checkout (not an installed copy); return ``"skmtl X from Y"``."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(1, str(REPO_ROOT))
    import skmtl

    where = Path(skmtl.__file__).resolve()
    try:
        where = where.relative_to(REPO_ROOT)
    except ValueError:
        pass
    return f"skmtl {skmtl.__version__} from {where.as_posix()}"


def warm_up_process() -> None:
    """Pay one-off process-wide costs before timing (the first Adam step imports dynamo)."""
    import torch

    param = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.Adam([param], lr=1e-3)
    (param**2).sum().backward()
    optimizer.step()


# ----------------------------------------------------------------------------- timing
#: System-wide and own CPU time at one instant (see :func:`cpu_snapshot`).
CpuSnapshot = namedtuple("CpuSnapshot", "wall system_busy own")


def cpu_snapshot() -> CpuSnapshot | None:
    """System-wide non-idle CPU seconds (``/proc/stat``) and this process's; None if unknown."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest is part of user)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    times = os.times()
    return CpuSnapshot(time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"),
                       times.user + times.system)


def other_cpu_load(start: CpuSnapshot | None, end: CpuSnapshot | None) -> float | None:
    """Average number of cores busy with *other* processes between two snapshots."""
    if start is None or end is None or end.wall <= start.wall:
        return None
    others = (end.system_busy - start.system_busy) - (end.own - start.own)
    return max(others, 0.0) / (end.wall - start.wall)


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float | None]:
    """Run ``fn``; return its result, wall seconds and other processes' load (cores)."""
    before = cpu_snapshot()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    return out, seconds, other_cpu_load(before, cpu_snapshot())


def epoch_seconds(estimator: Any) -> list[float] | None:
    """Raw per-epoch wall times (s, to 1 µs) of a fitted skmtl / skorch estimator (``dur``)."""
    history = getattr(estimator, "history_", None)
    if history is None:
        history = getattr(getattr(estimator, "net_", None), "history", None)
    if history is None:
        return None
    return [round(float(d), 6) for d in history[:, "dur"]]


def weighted_load(parts: Sequence[tuple[float | None, float]]) -> float | None:
    """Time-weighted mean of ``(load, seconds)`` pairs (None when no load is known)."""
    known = [(load, s) for load, s in parts if load is not None]
    total = sum(s for _, s in known)
    return sum(load * s for load, s in known) / total if known and total > 0 else None


@contextmanager
def same_torch_threads(expected: int, label: str) -> Iterator[None]:
    """Run the block with ``expected`` torch threads; warn and restore if it changed them."""
    import torch

    if torch.get_num_threads() != expected:
        torch.set_num_threads(expected)
    try:
        yield
    finally:
        now = torch.get_num_threads()
        if now != expected:
            print(f"  WARNING: {label} changed torch threads {expected} -> {now}; restored",
                  flush=True)
            torch.set_num_threads(expected)


def wait_until_idle(max_wait: float, threshold: float = IDLE_THRESHOLD) -> None:
    """Wait (up to ``max_wait`` s, then go on) until other processes use < ``threshold``
    cores, sampled over 2-second windows."""
    t0, waited = time.perf_counter(), False
    while True:
        start = cpu_snapshot()
        time.sleep(2.0)
        load = other_cpu_load(start, cpu_snapshot())
        elapsed = time.perf_counter() - t0
        if load is None or load < threshold:
            if waited:
                print(f"[idle after {elapsed:.0f} s]", end=" ", flush=True)
            return
        if elapsed >= max_wait:
            print(f"[still busy after {elapsed:.0f} s: going on]", end=" ", flush=True)
            return
        if not waited:
            print(f"[other load {load:.2f} cores: waiting]", end=" ", flush=True)
            waited = True
        time.sleep(3.0)


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Per-repetition ratios ``numerator[i] / denominator[i]`` (cancels slow machine drift)."""
    if len(numerator) != len(denominator):
        raise ValueError(f"{len(numerator)} vs {len(denominator)} repetitions: not paired")
    if any(d <= 0 for d in denominator):
        raise ValueError("denominator times must be positive")
    return [n / d for n, d in zip(numerator, denominator)]


# --------------------------------------------------------------------- seeds, summary
def seeds(n: int) -> list[int]:
    """The seeds of ``n`` repetitions: ``0 .. n-1`` (every script uses the same scheme)."""
    if n < 1:
        raise ValueError("at least one repetition")
    return list(range(n))


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def mean_std(values: Sequence[float | None], fmt: str = ".3f") -> str | None:
    """``"mean ± std"`` (sample std, ddof=1); the value alone for one; None for none."""
    vals = _finite(values)
    if not vals:
        return None
    if len(vals) == 1:
        return format(vals[0], fmt)
    return f"{statistics.mean(vals):{fmt}} ± {format(statistics.stdev(vals), fmt.lstrip('+'))}"


def confidence_interval(values: Sequence[float | None], level: float = 0.95
                        ) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean (None for fewer than two values)."""
    vals = _finite(values)
    if len(vals) < 2:
        return None
    from scipy import stats

    half = stats.t.ppf(0.5 + level / 2, len(vals) - 1) * statistics.stdev(vals) / math.sqrt(
        len(vals))
    mean = statistics.mean(vals)
    return mean - half, mean + half


def median_spread(values: Sequence[float | None], fmt: str = ".2f", spread: str = "range"
                  ) -> str | None:
    """``"median (min–max)"`` (``spread="iqr"``: quartiles) over repetitions; None for none."""
    vals = sorted(_finite(values))
    if not vals:
        return None
    med = statistics.median(vals)
    if len(vals) == 1:
        return format(med, fmt)
    if spread == "iqr":
        low, high = (statistics.quantiles(vals, n=4)[i] for i in (0, 2))
    elif spread == "range":
        low, high = vals[0], vals[-1]
    else:
        raise ValueError(f"spread must be 'range' or 'iqr', not {spread!r}")
    return f"{med:{fmt}} ({low:{fmt}}–{high:{fmt}})"


def delta_mtl(
    scores: Mapping[str, float],
    single: Mapping[str, float],
    lower_is_better: Sequence[str] = (),
) -> float:
    """Δ_MTL (%) = ``100 / T * sum_t (-1)^{l_t} (M_t - S_t) / S_t``, ``l_t = 1`` when lower
    is better (Maninis et al., CVPR 2019): positive when ``scores`` beat ``single``."""
    if set(scores) != set(single):
        raise ValueError(f"tasks differ: {sorted(scores)} vs {sorted(single)}")
    if not scores:
        raise ValueError("no tasks")
    lower = set(lower_is_better)
    unknown = lower - set(scores)
    if unknown:
        raise ValueError(f"lower_is_better names unknown tasks {sorted(unknown)}")
    total = 0.0
    for task, value in scores.items():
        reference = single[task]
        if reference == 0:
            raise ValueError(f"single-task metric of {task!r} is 0; Δ_MTL is undefined")
        sign = -1.0 if task in lower else 1.0
        total += sign * (value - reference) / abs(reference)
    return 100.0 * total / len(scores)


def expected_calibration_error(proba: Any, y_true: Any, n_bins: int = 15) -> float:
    """ECE of the max-probability confidence, equal-width bins ``(k/B, (k+1)/B]`` (Guo et
    al., ICML 2017): sum over bins of share of rows * |accuracy - mean confidence|."""
    import numpy as np

    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == np.asarray(y_true)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    return float(sum((bins == b).mean() * abs(correct[bins == b].mean()
                                              - confidence[bins == b].mean())
                     for b in range(n_bins) if (bins == b).any()))


# ---- census scoring
def positive_proba(proba: Any, classes: Any) -> Any:
    """Column of ``proba`` for the positive class (``True`` or 1)."""
    import numpy as np

    return np.asarray(proba)[:, list(classes).index(True)]


def task_aucs(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Test ROC AUC per boolean task of a fitted skmtl classifier (``y``: a DataFrame)."""
    from sklearn.metrics import roc_auc_score

    probas = estimator.predict_proba(X)
    return {task: float(roc_auc_score(y[task], positive_proba(probas[i], estimator.classes_[i])))
            for i, task in enumerate(y.columns)}


def is_regression(column: Any) -> bool:
    """Whether a target column (a Series) is a regression: floats with more than 2 values."""
    import pandas as pd

    values = column.dropna()
    return bool(pd.api.types.is_float_dtype(values) and values.nunique() > 2)


def is_multiclass(column: Any) -> bool:
    """Whether a target column (a Series) is a classification with more than 2 classes."""
    return not is_regression(column) and column.nunique(dropna=True) > 2


#: The least prediction a Poisson or Gamma deviance reads (a squared-error model may
#: predict 0 or a negative value, where the deviance is undefined).
DEVIANCE_FLOOR = 1e-3


def table_metrics(name: str, y_true: Any, predict: Callable[[str], Any],
                  deviances: Mapping[str, str] | None = None) -> dict[str, float]:
    """Per-task test metric of a raw-table benchmark on each task's labelled rows: ROC AUC
    (binary; ``predict(task)`` gives the positive probability), accuracy (more than 2
    classes; ``predict(task)`` gives the predicted labels) or R² (regression); for
    ``name == "yeast"`` the Hamming loss over all labels (``predict(task)`` gives 0/1 labels or
    probabilities, cut at 0.5). Each regression task of ``deviances`` (task ->
    ``"poisson"`` or ``"gamma"``) also has ``"<task> deviance"``, its mean Poisson or
    Gamma deviance (predictions below :data:`DEVIANCE_FLOOR` read as it), and
    ``"<task> negative"``, the share of its predictions below 0."""
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        hamming_loss,
        mean_gamma_deviance,
        mean_poisson_deviance,
        r2_score,
        roc_auc_score,
    )

    deviance = {"poisson": mean_poisson_deviance, "gamma": mean_gamma_deviance}
    deviances = deviances or {}

    if name == "yeast":
        pred = np.column_stack([np.asarray(predict(t), dtype=float) > 0.5 for t in y_true.columns])
        return {"hamming": float(hamming_loss(y_true.to_numpy(), pred.astype(int)))}
    out = {}
    for task in y_true.columns:
        keep, truth = y_true[task].notna().to_numpy(), y_true[task]
        if is_multiclass(truth):
            labels = np.asarray(predict(task), dtype=object)
            out[task] = float(accuracy_score(truth[keep].astype(str), labels[keep].astype(str)))
            continue
        p = np.asarray(predict(task), dtype=float)
        out[task] = float(r2_score(truth[keep], p[keep]) if is_regression(truth) else
                          roc_auc_score(truth[keep].astype(bool), p[keep]))
        if task in deviances:
            out[f"{task} deviance"] = float(deviance[deviances[task]](
                truth[keep], np.maximum(p[keep], DEVIANCE_FLOOR)))
            out[f"{task} negative"] = float(np.mean(p[keep] < 0))
    return out


def date_numbers(X: Any) -> Any:
    """X with each date column replaced by its numbers only (``<column>.year``, ``.month``,
    ``.day``, ``.dayofweek``, ``.dayofyear``, and ``.hour`` when some time is not midnight;
    ``skmtl.tabular.date_columns`` without the day): a date column as one gives it by
    hand."""
    import pandas as pd

    from skmtl.tabular import date_columns

    parts = {}
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            parts |= date_columns(column, name, with_day=False)
        else:
            parts[name] = column
    return pd.DataFrame(parts, index=X.index)


def hgb_frame(X: Any, reference: Any) -> Any:
    """X for per-task HistGradientBoosting: date columns as their numbers
    (:func:`date_numbers`), text columns (object or string dtype) as categories of the
    training rows (``reference``), columns with more than 255 of them as ordinal codes."""
    import numpy as np
    import pandas as pd

    X, reference = date_numbers(X), date_numbers(reference)
    for col in [c for c in X.columns
                if X[c].dtype == object or isinstance(X[c].dtype, pd.StringDtype)]:
        cats = pd.Categorical(reference[col].dropna().astype(str)).categories
        X[col] = pd.Categorical(X[col].astype(str).where(X[col].notna()), categories=cats)
        if len(cats) > 255:
            X[col] = X[col].cat.codes.replace(-1, np.nan).astype(float)
    return X


def fit_per_task_hgb(X: Any, y: Any, seed: int, losses: Mapping[str, str] | None = None
                     ) -> dict[str, Any]:
    """One HistGradientBoosting model per column of ``y`` (scikit-learn defaults, native
    categorical columns), each on its task's labelled rows of ``X`` (an :func:`hgb_frame`);
    a regression task of ``losses`` with that ``loss`` (e.g. ``"poisson"``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    models = {}
    for task in y.columns:
        keep = y[task].notna().to_numpy()
        if is_regression(y[task]):
            models[task] = HistGradientBoostingRegressor(
                loss=(losses or {}).get(task, "squared_error"),
                categorical_features="from_dtype", random_state=seed)
            models[task].fit(X[keep], y[task][keep].astype(float))
        else:
            models[task] = HistGradientBoostingClassifier(
                categorical_features="from_dtype", random_state=seed)
            labels = y[task][keep]
            models[task].fit(X[keep], labels.astype(str) if is_multiclass(y[task])
                             else labels.astype(bool))
    return models


def per_task_scores(models: Mapping[str, Any], X: Any, y: Any) -> Callable[[str], Any]:
    """``predict(task)`` for :func:`table_metrics` from per-task scikit-learn-style models:
    the positive-class probability of a binary classifier, the labels of a classifier with
    more classes, a regressor's values."""
    return lambda t: (models[t].predict(X) if is_regression(y[t]) or is_multiclass(y[t])
                      else models[t].predict_proba(X)[:, 1])


def describe(data: Any) -> dict[str, Any]:
    """A raw-table benchmark's description of a ``datasets.Dataset`` for its results file."""
    return {"citation": data.citation, "description": data.description,
            "train_rows": len(data.train), "test_rows": len(data.test),
            "tasks": list(data.y.columns)}


def scored(name: str, y_te: Any, predict: Callable[[str], Any],
           deviances: Mapping[str, str] | None = None,
           subsets: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A record's ``"metrics"`` (:func:`table_metrics` on all test rows) and, with
    ``subsets`` (label -> boolean mask over the test rows), its ``"subset_metrics"``: label
    -> the same metrics on the rows of the mask only (the others' labels read as
    missing)."""
    import numpy as np

    out: dict[str, Any] = {"metrics": table_metrics(name, y_te, predict, deviances)}
    if subsets:
        out["subset_metrics"] = {
            label: table_metrics(name, y_te.where(np.broadcast_to(
                np.asarray(mask, dtype=bool)[:, None], y_te.shape)), predict, deviances)
            for label, mask in subsets.items()}
    return out


def fit_hgb_table(name: str, X: Any, y: Any, X_te: Any, y_te: Any, seed: int,
                  deviances: Mapping[str, str] | None = None, deviance_losses: bool = False,
                  subsets: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One HistGradientBoosting per task of ``y`` (:func:`fit_per_task_hgb` on
    :func:`hgb_frame`; ``deviance_losses``: each task of ``deviances`` with its loss,
    ``"poisson"`` or ``"gamma"``), scored on the test rows: the record's fields (timing,
    :func:`scored`)."""
    out: dict[str, Any] = {}
    Xh, Xh_te = hgb_frame(X, X), hgb_frame(X_te, X)
    models, out["fit_seconds"], out["other_load"] = timed(
        lambda: fit_per_task_hgb(Xh, y, seed, deviances if deviance_losses else None))
    return out | scored(name, y_te, per_task_scores(models, Xh_te, y), deviances, subsets)


def fit_skmtl_table(est: Any, name: str, X: Any, y: Any, X_te: Any, y_te: Any,
                    deviances: Mapping[str, str] | None = None,
                    subsets: Mapping[str, Any] | None = None, **fit_params: Any
                    ) -> dict[str, Any]:
    """Fit a skmtl estimator on a raw table (``fit_params``: more arguments of ``fit``, such
    as ``groups``) and score it on the test rows (``deviances``, ``subsets``: as
    :func:`scored`): the record's
    fields (timing, whether a ConvergenceWarning was raised, epochs (of an ensemble: its
    members' median; epoch_seconds: all its members' epochs), :func:`table_metrics`;
    for ``name == "yeast"`` the Hamming loss of ``predict``'s decisions, so that thresholds
    apply)."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    out: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        _, out["fit_seconds"], out["other_load"] = timed(lambda: est.fit(X, y, **fit_params))
    out["convergence_warning"] = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    nets = getattr(est, "estimators_", None) or [est]  # a MultiTaskEnsemble: its members
    times = [epoch_seconds(net) for net in nets]
    out |= {"epoch_seconds": None if None in times else [t for ts in times for t in ts],
            "epochs": int(round(float(np.median([net.n_epochs_ for net in nets])))),
            "batch_size": int(nets[0].batch_size_)}
    classifiers = [t for t in est.tasks_ if t.is_classification]
    pred = est.predict(X_te)
    proba = est.predict_proba(X_te) if classifiers else []  # none for regressions only
    probas = dict(zip([t.name_ for t in classifiers],
                      proba if isinstance(proba, list) else [proba]))
    positive = {t.name_: list(t.classes_).index(True) if True in list(t.classes_) else 1
                for t in classifiers}
    if name == "yeast":
        return out | scored(name, y_te, lambda t: pred[t].to_numpy(), subsets=subsets)
    return out | scored(name, y_te, lambda t: (
        pred[t].to_numpy(dtype=object) if is_multiclass(y_te[t]) else
        probas[t][:, positive[t]] if t in probas else pred[t].to_numpy(dtype=float)),
        deviances, subsets)


def n_parameters(est: Any) -> int:
    """Trainable scalars of a fitted skmtl estimator's network."""
    return int(sum(p.numel() for p in est.net_.module_.parameters()))


def fit_census_classifier(est: Any, c: Any) -> dict[str, Any]:
    """Fit a skmtl classifier on ``c`` (``datasets.CensusData``): record fields with the test
    ROC AUC per task, timings, epochs run, best epoch and parameter count."""
    import numpy as np

    _, seconds, load = timed(lambda: est.fit(c.X_train, c.y_train))
    return {"metrics": task_aucs(est, c.X_test, c.y_test),
            "fit_seconds": seconds, "other_load": load, "epoch_seconds": epoch_seconds(est),
            "epochs": int(est.n_epochs_), "parameters": n_parameters(est),
            "best_epoch": int(np.argmin(est.history_[:, "valid_loss"])) + 1}


# ---------------------------------------------------------------------- results files
def record(method: str, dataset: str, seed: int, **fields: Any) -> dict[str, Any]:
    """One results record with the standard keys (see the module docstring)."""
    out: dict[str, Any] = {"method": method, "dataset": dataset, "seed": seed, "metrics": {},
                           "fit_seconds": None, "epoch_seconds": None, "other_load": None,
                           "error": None}
    out.update(fields)
    return out


def guarded(rec: dict[str, Any], fn: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    """``rec`` updated with the fields ``fn()`` returns; if ``fn`` raises, the traceback is
    printed and ``rec["error"]`` says what failed (a failure is recorded, never worked around)."""
    try:
        rec.update(fn())
    except Exception as exc:  # noqa: BLE001 - recorded in the results file
        import traceback

        print(traceback.format_exc(), file=sys.stderr, flush=True)
        rec["error"] = f"{type(exc).__name__}: {exc}"
    return rec


def fit_grid(datasets: Sequence[str], n_seeds: int, load: Callable[[str], Any],
             methods: Callable[[str], Sequence[str]],
             fit: Callable[[str, Any, int], Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records of ``fit(method, data, seed)`` for every dataset (``load(name)``), seed
    (:func:`seeds`) and method (``methods(name)``), each :func:`guarded` and printed."""
    records = []
    for name in datasets:
        data = load(name)
        for seed in seeds(n_seeds):
            for method in methods(name):
                rec = guarded(record(method, name, seed), partial(fit, method, data, seed))
                print(f"{name} seed {seed} {method}: {rec['metrics']} "
                      f"{rec['fit_seconds'] or 0:.1f}s {rec['error'] or ''}", flush=True)
                records.append(rec)
    return records


def fit_table_grid(datasets: Sequence[str], n_seeds: int, load: Callable[[str], Any],
                   methods: Callable[[str], Sequence[str]],
                   fit: Callable[[str, Any, int], Mapping[str, Any]]
                   ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """:func:`fit_grid` over raw tables; also each dataset's :func:`describe`, by name."""
    described: dict[str, dict[str, Any]] = {}

    def load_and_describe(name: str) -> Any:
        data = load(name)
        described[name] = describe(data)
        return data

    return fit_grid(datasets, n_seeds, load_and_describe, methods, fit), described


def run_table_benchmark(name: str, description: str, datasets: Sequence[str],
                        quick_help: str, quick_seeds: int,
                        load: Callable[[str, bool], Any],
                        methods: Callable[[str], Sequence[str]],
                        fit: Callable[[str, Any, int, bool], Mapping[str, Any]],
                        config: Callable[[bool], dict[str, Any]],
                        argv: Sequence[str] | None = None) -> int:
    """The command line of a raw-table benchmark.

    ``python benchmarks/<name>.py [--quick] [--seeds N] [--only DATASET ...]
    [--results-dir DIR]``: per dataset of ``datasets`` (``load(dataset, quick)``) and seed,
    each of ``methods(dataset)`` fitted by ``fit(method, data, seed, quick)`` (the
    record's fields); ``--only`` keeps the other datasets' records of the results file, with
    the provenance of the runs that measured them (:func:`kept_runs`). The results' config
    is ``config(quick)`` plus ``datasets`` (their descriptions, in the order of
    ``datasets``)."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=list(datasets), default=list(datasets))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    run = Run(name, args.quick, argv)
    path = results_path(name, args.quick, args.results_dir)
    kept, described, earlier = kept_runs(path, args.only, datasets)  # the others stay
    warm_up_process()
    records, fitted = fit_table_grid(
        args.only, quick_seeds if args.quick else args.seeds,
        lambda dataset: load(dataset, args.quick), methods,
        lambda method, data, seed: fit(method, data, seed, args.quick))
    payload = config(args.quick) | {"datasets": in_order(described | fitted, datasets)}
    print(run.save(kept + records, payload, {"earlier_runs": earlier}, folder=args.results_dir))
    return 0


def kept_runs(path: str | Path, refitted: Sequence[str], datasets: Sequence[str]
              ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """For a benchmark run with ``--only``, from the results file at ``path`` (if any): the
    records and dataset descriptions of the datasets not ``refitted`` (among
    ``datasets``), which the new run keeps, and their provenance, one entry per earlier
    run (its command, date, run time, other load and the kept datasets it measured), for
    ``Run.save``'s ``extra["earlier_runs"]``."""
    if not Path(path).exists():
        return [], {}, []
    previous = load_results(path)
    described = {n: d for n, d in previous["config"]["datasets"].items()
                 if n not in refitted and n in datasets}
    records = [r for r in previous["records"] if r["dataset"] in described]
    runs = [dict(r) for r in previous.get("extra", {}).get("earlier_runs", [])]
    covered = {name for r in runs for name in r["datasets"]}
    runs.append({"command": previous["command"], "date_utc": previous["machine"]["date_utc"],
                 "total_seconds": previous["total_seconds"],
                 "other_load": previous.get("other_load"),
                 "datasets": [n for n in previous["config"]["datasets"] if n not in covered]})
    for run in runs:
        run["datasets"] = [n for n in run["datasets"] if n not in refitted]
    return records, described, [r for r in runs if r["datasets"]]


def in_order(described: Mapping[str, Any], datasets: Sequence[str]) -> dict[str, Any]:
    """``described`` (dataset name -> description) in the order of ``datasets``."""
    return {n: described[n] for n in datasets if n in described}


#: ``--quick`` of the development-suite benchmarks (bins, averaging).
DEVELOPMENT_QUICK = {"rows": 2_000, "seeds": 1, "max_epochs": 3}


def run_development_suite(name: str, description: str, methods: Mapping[str, Mapping[str, Any]],
                          estimator: Callable[..., Any],
                          load: Callable[[str, int | None], Any], datasets: Sequence[str],
                          config: Callable[[dict[str, Any]], dict[str, Any]],
                          argv: Sequence[str] | None = None) -> int:
    """The command line of a benchmark that compares settings of ``estimator`` (and one HGB
    per task) on a development suite of tables, training rows only.

    ``python benchmarks/<name>.py [--quick] [--seeds N] [--only DATASET ...]
    [--results-dir DIR]``: per dataset of ``datasets`` (``load(dataset, quick_rows)``
    returns its development split) and seed, ``estimator(random_state=seed,
    **methods[method])`` for each method, then ``"hgb"``, fitted on the split's fitted rows
    and scored on its held-out rows. ``--only`` fits those datasets and keeps the other
    datasets' records of the results file, with the provenance of the runs that measured
    them (:func:`kept_runs`). The results' config is ``config(descriptions)``
    plus ``quick`` and ``datasets`` (the descriptions, in the order of ``datasets``).
    """
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="{rows:,}-row subsamples, {seeds} seed, {max_epochs} epochs"
                        .format(**DEVELOPMENT_QUICK))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=list(datasets), default=list(datasets))
    parser.add_argument("--results-dir", help="folder of the results file")
    args = parser.parse_args(argv)
    quick = DEVELOPMENT_QUICK if args.quick else None

    def fit(method: str, data: Any, seed: int) -> Mapping[str, Any]:
        X, y, X_te, y_te = data.holdout()
        if method == "hgb":
            return fit_hgb_table(data.name, X, y, X_te, y_te, seed)
        extra = {"max_epochs": quick["max_epochs"]} if quick else {}
        est = estimator(random_state=seed, **methods[method], **extra)
        return fit_skmtl_table(est, data.name, X, y, X_te, y_te)

    run = Run(name, args.quick, argv)
    path = results_path(name, args.quick, args.results_dir)
    kept, described, earlier = kept_runs(path, args.only, datasets)  # the others stay
    warm_up_process()
    records, fitted = fit_table_grid(
        args.only, quick["seeds"] if quick else args.seeds,
        lambda dataset: load(dataset, quick["rows"] if quick else None),
        lambda dataset: [*methods, "hgb"], fit)
    described = in_order(described | fitted, datasets)
    payload = config(described) | {"quick": quick, "datasets": described}
    print(run.save(kept + records, payload, {"earlier_runs": earlier}, folder=args.results_dir))
    return 0


def results_path(name: str, quick: bool = False, folder: str | Path | None = None) -> Path:
    """``<folder>/<name>.json``; the folder defaults to the full or quick results folder."""
    base = Path(folder) if folder is not None else (QUICK_RESULTS_DIR if quick else RESULTS_DIR)
    return (base if base.is_absolute() else REPO_ROOT / base) / f"{name}.json"


class Run:
    """One benchmark run: collects the metadata at start, then :meth:`save` writes the file."""

    def __init__(self, name: str, quick: bool, argv: Sequence[str] | None = None) -> None:
        self.name, self.quick = name, quick
        self.command = command_line(None if argv is None else [sys.argv[0], *argv])
        self.machine = machine_info()
        self.skmtl = import_skmtl()
        self._start, self._t0 = cpu_snapshot(), time.perf_counter()

    def save(self, records: Sequence[Mapping[str, Any]], config: Mapping[str, Any],
             extra: Mapping[str, Any] | None = None, folder: str | Path | None = None) -> Path:
        """Write the results file; return its path."""
        payload = {
            "benchmark": self.name, "schema": SCHEMA, "quick": self.quick,
            "command": self.command, "runner": os.environ.get("SKMTL_BENCH_RUNNER"),
            "machine": self.machine, "skmtl": self.skmtl,
            "total_seconds": time.perf_counter() - self._t0,
            "other_load": other_cpu_load(self._start, cpu_snapshot()),
            "config": dict(config), "records": list(records), "extra": dict(extra or {}),
        }
        return save_results(payload, results_path(self.name, self.quick, folder))


def save_results(payload: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``payload`` as indented JSON (NaN becomes null); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if hasattr(value, "item"):  # numpy scalars
            return clean(value.item())
        return value

    text = json.dumps(clean(payload), indent=1, ensure_ascii=False)
    # lists of numbers (per-epoch times, seeds) on one line each: a readable, diffable file
    text = re.sub(r"\[\s*((?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results file, checking its schema version."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    if payload.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {payload.get('schema')!r}, expected {SCHEMA}")
    return payload
