"""An ensemble of skmtl models, combined task by task."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MultiOutputMixin, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._base import BaseMultiTask
from ._declared import all_classes, fit_with_classes
from ._predict import (
    ProbabilityFrameMixin,
    _available_if_probabilities,
    mean_score,
    weighted_scores,
)
from ._sample_weight import task_weights
from ._thresholds import (
    apply_thresholds,
    best_thresholds,
    is_thresholded,
    positive_probabilities,
)
from ._validation import check_aligned, check_groups
from .callbacks._resume import checkpoint_params, in_subdirectory
from .tasks import TaskSet, as_target_frame

_EPS = 1e-12


class MultiTaskEnsemble(ProbabilityFrameMixin, MultiOutputMixin, BaseEstimator):
    """Average or vote several skmtl models, task by task.

    Each member is a clone of one of ``estimators`` (different configurations),
    repeated ``n_seeds`` times with different ``random_state`` values. Per task,
    regression outputs are averaged; classification tasks average the members'
    probabilities (``voting="soft"``, after each member's temperature scaling, if any)
    or take the majority label (``"hard"``); multi-label tasks do the same label by label.

    With ``cv``, the members are cross-fitted: each template and seed gives one member
    per fold, fitted on the other folds' rows, so every training row is predicted by
    members that never saw it (out-of-fold). ``threshold`` chooses per-label decision
    thresholds of binary and multi-label tasks on those out-of-fold probabilities, i.e.
    on all training rows rather than on one small validation split.

    Parameters
    ----------
    estimators : skmtl estimator or list of skmtl estimators
        Unfitted templates (MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor); one
        estimator is a list of one (and its parameters are then searchable as
        ``estimators__<name>``).
    n_seeds : int, default=1
        Members per template (and per fold, with ``cv``), each with its own
        ``random_state``.
    cv : int, cross-validation splitter or None, default=None
        None: every member is fitted on all rows. An int k: k folds, shuffled
        (``KFold(k, shuffle=True)``), a new shuffle for each of the ``n_seeds`` seeds
        (repeated k-fold). A splitter (an object with ``split`` and ``get_n_splits``,
        such as ``KFold`` or ``GroupKFold``): its folds, the same for every seed; it is
        called as ``split(X, y, groups)``. Rows that no fold holds out have no out-of-fold
        prediction and do not count for ``threshold``.
    threshold : {"accuracy", "f1"} or None, default=None
        Decision thresholds of binary classification tasks (on the positive class's
        probability) and multi-label tasks (one per label): the cut point maximising
        that metric (accuracy, i.e. one minus the Hamming loss, or F1) on the labelled
        rows' out-of-fold probabilities (see
        :func:`skmtl.MultiTaskNet`'s ``threshold``; ties go to the point closest to
        0.5). Needs ``cv`` and ``voting="soft"``. ``predict``, ``score`` and
        ``score_tasks`` follow the thresholds; ``predict_proba`` does not change. The
        members' own ``threshold`` is not used: they are combined by probability.
    voting : {"soft", "hard"}, default="soft"
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds when ``n_seeds > 1`` (or always, when set), and the
        fold shuffles of an int ``cv``.

    Attributes
    ----------
    estimators_ : list of fitted estimators
        In the order template, seed, then fold.
    tasks_ : list of Task
        The members' (identical) fitted tasks.
    held_out_rows_ : list of ndarray
        Per member (as ``estimators_``), the positions of the rows it was not fitted
        on: its fold with ``cv``, empty without.
    thresholds_ : dict
        Task name to the decision threshold of each binary classification task (a
        float) and multi-label task (an array, one per label); empty when
        ``threshold`` is None.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskClassifier, MultiTaskEnsemble
    >>> X = np.random.RandomState(0).normal(size=(100, 3)); y = X[:, 0] > 0
    >>> ens = MultiTaskEnsemble([MultiTaskClassifier(max_epochs=5)], n_seeds=3, random_state=0)
    >>> ens.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimators": [list, BaseMultiTask],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left"),
               HasMethods(["split", "get_n_splits"]), None],
        "threshold": [StrOptions({"accuracy", "f1"}), None],
        "voting": [StrOptions({"soft", "hard"})],
        "random_state": ["random_state"],
    }

    # ``groups`` is a splitter's metadata first: a meta-estimator routes it to ``fit`` only
    # when asked (set_fit_request(groups=True)), so that GridSearchCV(..., cv=GroupKFold())
    # with metadata routing on keeps working as before ``fit`` took groups
    __metadata_request__fit = {"groups": False}

    def __init__(self, estimators, *, n_seeds=1, cv=None, threshold=None, voting="soft",
                 random_state=None):
        self.estimators = estimators
        self.n_seeds = n_seeds
        self.cv = cv
        self.threshold = threshold
        self.voting = voting
        self.random_state = random_state

    def _templates(self) -> list[BaseMultiTask]:
        """``estimators`` as a list, checked: one estimator is a list of one."""
        if isinstance(self.estimators, BaseMultiTask):
            return [self.estimators]
        wrong = [type(e).__name__ for e in self.estimators if not isinstance(e, BaseMultiTask)]
        if not self.estimators or wrong:
            raise TypeError("estimators must be a skmtl estimator or a non-empty list of them "
                            "(MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor)"
                            + (f"; got {', '.join(wrong)}." if wrong else "; got an empty list."))
        return list(self.estimators)

    def _unfitted_taskset(self) -> TaskSet:
        """The tasks the members read y with, unfitted (the first template's: every
        member must resolve the same ones)."""
        return self._templates()[0]._unfitted_taskset()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit every member on the same data (each cross-fitted member on its folds' rows).

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task), passed to every member's
            ``fit`` (its rows' weights, with ``cv``) and weighing the out-of-fold rows
            for ``threshold``; an entry of weight 0 is a missing label.
        groups : array-like of shape (n_samples,), default=None
            Each row's group (rows that share a customer, a patient, ...). An int ``cv``
            then makes folds of whole groups (``GroupKFold(k, shuffle=True)``), a
            splitter gets them (``split(X, y, groups)``), and every member's ``fit`` gets
            its rows' groups, so that its validation rows are whole groups too (see
            ``MultiTaskNet.fit``).

        Returns
        -------
        self : MultiTaskEnsemble
        """
        return self._fit(X, y, sample_weight, groups)

    def _fit_with_classes(self, X, y, classes: dict, sample_weight=None, groups=None):
        """``fit`` with ``classes`` (column -> every class of that classification column)
        declared to every member, for rows that lack some of them (a fold of
        ``skmtl.model_selection.cross_val_predict``; see ``skmtl._declared``)."""
        return self._fit(X, y, sample_weight, groups, classes)

    def _fit(self, X, y, sample_weight=None, groups=None, classes=None):
        self._validate_params()
        templates = self._templates()
        if self.threshold is not None and self.cv is None:
            raise ValueError(f"threshold={self.threshold!r} chooses thresholds on out-of-fold "
                             "predictions: set cv (e.g. cv=5), or set `threshold` on the "
                             "members to choose them on each member's validation rows.")
        if self.threshold is not None and self.voting != "soft":
            raise ValueError(f"threshold={self.threshold!r} cuts the averaged probabilities: "
                             "it needs voting='soft'.")
        rng = check_random_state(self.random_state)
        n = _num_samples(next(iter(X.values())) if isinstance(X, dict) else X)
        # before the folds take rows by position
        check_aligned(X, y=y, sample_weight=sample_weight, groups=groups)
        groups = check_groups(groups, n)
        folds = self._folds(X, y, rng, groups)  # one list of (train, held-out) per seed
        # the classes of all the rows (and those declared), for a member whose rows lack
        # one (resolved here, before any member trains: a y the members would refuse is
        # refused now, as are folds without labels of a task)
        declared = dict(classes or {})
        member_classes = {id(template): declared for template in templates}
        if self.cv is not None:
            for template in templates:
                taskset = template._unfitted_taskset().fit(y, n_samples=n)
                _check_folds_label_every_task(taskset, y, folds, self.cv)
                member_classes[id(template)] = {**all_classes(taskset), **declared}
        members, held_out = [], []
        for template in templates:
            for seed in range(self.n_seeds):
                for train, test in folds[seed]:
                    member = clone(template)
                    saved = bool(checkpoint_params(member))
                    if self.n_seeds > 1 or self.random_state is not None:
                        drawn = int(rng.randint(np.iinfo(np.int32).max))
                        # unseeded, a member draws its seeds in fit, or takes its
                        # checkpoint's, so that a killed ensemble resumes
                        member.set_params(random_state=None if saved and self.random_state
                                          is None else drawn)
                    in_subdirectory(member, f"member{len(members)}")  # one fit, one directory
                    params = _fit_params(train, sample_weight=sample_weight, groups=groups)
                    if train is None:
                        members.append(fit_with_classes(member, X, y,
                                                        member_classes[id(template)], **params))
                        held_out.append(np.array([], dtype=np.intp))
                    else:
                        members.append(fit_with_classes(  # a fold may lack a class
                            member, _rows(X, train), _safe_indexing(y, train),
                            member_classes[id(template)], **params))
                        held_out.append(np.asarray(test, dtype=np.intp))
        first = members[0]

        def resolved(member):
            return [(t.name_, t.kind, tuple(np.asarray(getattr(t, "classes_", [])).tolist()))
                    for t in member.tasks_]

        def shown(task):
            return task[1] + (f" {list(task[2])}" if task[2] else "")

        expected = resolved(first)
        for member in members[1:]:
            if (found := resolved(member)) != expected:
                differ = [f"{a[0]!r}: {shown(a)} vs {shown(b)}"
                          for a, b in zip(expected, found) if a != b]
                raise ValueError(
                    "The ensemble's members resolved different tasks ("
                    + ("; ".join(differ) or "different task names")
                    + "): declare `tasks` (e.g. tasks={column: 'classification'}) and give "
                    "every template the same ones, so that each member, whatever its rows, "
                    "reads y the same way.")
        self.estimators_ = members
        self.held_out_rows_ = held_out
        self.tasks_ = first.tasks_
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        self.thresholds_ = ({} if self.threshold is None
                            else self._out_of_fold_thresholds(X, y, held_out, sample_weight))
        return self

    def _folds(self, X, y, rng, groups=None) -> list[list[tuple]]:
        """Per seed, the (training rows, held-out rows) of each member; (None, None) without
        cv. With ``groups``, an int cv makes folds of whole groups."""
        if self.cv is None:
            return [[(None, None)]] * self.n_seeds
        n = _num_samples(next(iter(X.values())) if isinstance(X, dict) else X)
        if isinstance(self.cv, Integral):
            units = n if groups is None else len(pd.unique(groups))
            if self.cv > units:
                raise ValueError(f"cv={self.cv} folds need at least {self.cv} "
                                 f"{'rows' if groups is None else 'groups'}; got {units}.")
            kind = KFold if groups is None else GroupKFold
            splitters = [kind(self.cv, shuffle=True,
                              random_state=int(rng.randint(np.iinfo(np.int32).max)))
                         for _ in range(self.n_seeds)]
        else:
            splitters = [self.cv] * self.n_seeds
        rows = np.zeros((n, 0))  # the splitters see the row count only (and y, groups)
        return [list(s.split(rows, y, groups)) for s in splitters]

    def _out_of_fold_thresholds(self, X, y, held_out, sample_weight=None) -> dict:
        """Per thresholded task, the thresholds that maximise ``threshold`` on the
        out-of-fold probabilities (each row's mean over the members that held it out),
        rows weighted by ``sample_weight``."""
        first = self.estimators_[0]
        tasks = [(t, task) for t, task in enumerate(self.tasks_) if is_thresholded(task)]
        if not tasks:
            return {}
        truth = first.taskset_.encode(y)
        n = len(truth)
        sums = {t: np.zeros((n, task.n_outputs_ if task.kind == "multilabel" else 1))
                for t, task in tasks}
        counts = np.zeros(n)
        for member, rows in zip(self.estimators_, held_out):
            if len(rows) == 0:
                continue
            outputs = member._outputs(_rows(X, rows))
            for t, task in tasks:
                sums[t][rows] += positive_probabilities(
                    task, outputs[t], member.temperatures_.get(task.name_, 1.0))
            counts[rows] += 1
        seen = counts > 0
        probabilities = {t: sums[t][seen] / counts[seen, None] for t, _ in tasks}
        weights = (None if sample_weight is None
                   else task_weights(sample_weight, n, first.taskset_)[seen])
        return best_thresholds(tasks, probabilities, truth[seen], first.taskset_.target_slices_,
                               self.threshold, weights)

    def _combined(self, X) -> list[np.ndarray]:
        """Per task, a combined raw output that the tasks decode and score as usual."""
        check_is_fitted(self)
        per_member = [(m, m._outputs(X)) for m in self.estimators_]
        combined = []
        for t, task in enumerate(self.tasks_):
            outs = [out[t] for _, out in per_member]
            if not task.is_classification:
                # members fitted on different rows (cv) scale their targets differently:
                # the mean of their predictions, in the first member's output space
                values = np.mean([pd.DataFrame(m.tasks_[t].decode(out)).to_numpy(np.float64)
                                  for (m, _), out in zip(per_member, outs)], axis=0)
                combined.append(task.output_of(values) if hasattr(task, "output_of")
                                else task.encode(pd.DataFrame(values, columns=task.columns_)))
                continue
            if self.voting == "soft":
                probas = [task.predict_proba(out / m.temperatures_.get(task.name_, 1.0))
                          for (m, _), out in zip(per_member, outs)]
                p = np.mean(probas, axis=0)
            elif task.kind == "multilabel":
                p = np.mean([np.asarray(out) > 0 for out in outs], axis=0)
            else:
                n_classes = task.n_outputs_
                p = np.mean([np.eye(n_classes)[np.argmax(out, axis=1)] for out in outs], axis=0)
            if task.kind == "multilabel":  # logits whose sign is the majority / mean decision
                combined.append(np.log(p + _EPS) - np.log(1 - p + _EPS))
            else:
                combined.append(np.log(p + _EPS))
        return combined

    def predict(self, X):
        """Combined predictions, shaped like the members' (and the fitted y).

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays

        Returns
        -------
        DataFrame, Series or ndarray
        """
        combined = apply_thresholds(self, self._combined(X))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return self.estimators_[0].taskset_.decode(combined, index=index)

    @_available_if_probabilities
    def predict_proba(self, X):
        """Combined class probabilities (vote shares with ``voting="hard"``).

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays

        Returns
        -------
        list of ndarray, or ndarray
            As :meth:`skmtl.MultiTaskNet.predict_proba`.
        """
        combined = self._combined(X)
        probas = []
        for task, out in zip(self.tasks_, combined):
            if task.is_classification:
                probas.append(1 / (1 + np.exp(-out)) if task.kind == "multilabel"
                              else np.exp(out) / np.exp(out).sum(axis=1, keepdims=True))
        return probas[0] if len(self.tasks_) == 1 else probas

    def score_tasks(self, X, y, sample_weight=None) -> dict[str, float]:
        """Per-task scores of the combined predictions (see ``MultiTaskNet.score_tasks``).

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        dict
        """
        check_aligned(X, y=y, sample_weight=sample_weight)
        combined = apply_thresholds(self, self._combined(X))
        return weighted_scores(self.estimators_[0].taskset_, y, combined, sample_weight)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of :meth:`score_tasks`.

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        float
        """
        return mean_score(self.score_tasks(X, y, sample_weight))


def _check_folds_label_every_task(taskset: TaskSet, y, folds: list, cv) -> None:
    """Refuse (before any model trains) folds whose training rows hold no label of a
    task: that fold's model could not learn it. ``folds``: lists of (train, test) folds."""
    frame, _ = as_target_frame(y)
    labelled = {task.name_: frame[task.columns_].notna().any(axis=1).to_numpy()
                for task in taskset.tasks_}
    for seed_folds in folds:
        for k, (train, _) in enumerate(seed_folds):
            for name, rows in labelled.items():
                if not rows[train].any():
                    raise ValueError(
                        f"cv={cv!r}: the training rows of fold {k} hold no label of task "
                        f"{name!r} ({int(rows.sum())} labelled row(s) in all), so that fold's "
                        "model could not learn it. Use fewer folds (cv), or a splitter whose "
                        "training rows hold labels of every task.")


def _fit_params(rows=None, **params) -> dict:
    """``fit``'s keywords for the ``params`` given (``sample_weight``, ``groups``), of
    ``rows`` only when given; none for None. A DataFrame stays one, so that a
    ``sample_weight`` frame's columns still name the tasks."""
    return {name: value if rows is None else _safe_indexing(value, rows)
            for name, value in params.items() if value is not None}


def _rows(X, rows):
    """Rows ``rows`` of X (array, DataFrame, sparse matrix or dict of those)."""
    if isinstance(X, dict):
        return {key: _safe_indexing(value, rows) for key, value in X.items()}
    return _safe_indexing(X, rows)
