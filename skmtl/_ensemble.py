"""An ensemble of skmtl models, combined task by task."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MultiOutputMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMultiTask
from ._predict import _available_if_probabilities, mean_score

_EPS = 1e-12


class MultiTaskEnsemble(MultiOutputMixin, BaseEstimator):
    """Average or vote several skmtl models, task by task.

    Each member is a clone of one of ``estimators`` (different configurations),
    repeated ``n_seeds`` times with different ``random_state`` values. Per task,
    regression outputs are averaged; classification tasks average the members'
    probabilities (``voting="soft"``, after each member's temperature scaling, if any)
    or take the majority label (``"hard"``); multi-label tasks do the same label by label.

    Parameters
    ----------
    estimators : list of skmtl estimators
        Unfitted templates (MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor).
    n_seeds : int, default=1
        Members per template, each with its own ``random_state``.
    voting : {"soft", "hard"}, default="soft"
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds when ``n_seeds > 1`` (or always, when set).

    Attributes
    ----------
    estimators_ : list of fitted estimators
    tasks_ : list of Task
        The members' (identical) fitted tasks.
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
        "estimators": [list],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "voting": [StrOptions({"soft", "hard"})],
        "random_state": ["random_state"],
    }

    def __init__(self, estimators, *, n_seeds=1, voting="soft", random_state=None):
        self.estimators = estimators
        self.n_seeds = n_seeds
        self.voting = voting
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Fit every member on the same data.

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame

        Returns
        -------
        self : MultiTaskEnsemble
        """
        self._validate_params()
        if not self.estimators or not all(isinstance(e, BaseMultiTask) for e in self.estimators):
            raise TypeError("estimators must be a non-empty list of skmtl estimators.")
        rng = check_random_state(self.random_state)
        members = []
        for template in self.estimators:
            for _ in range(self.n_seeds):
                member = clone(template)
                if self.n_seeds > 1 or self.random_state is not None:
                    member.set_params(random_state=int(rng.randint(np.iinfo(np.int32).max)))
                members.append(member.fit(X, y))
        first = members[0]
        for member in members[1:]:
            same = [(t.name_, t.kind, tuple(getattr(t, "classes_", ())))
                    for t in member.tasks_] == [(t.name_, t.kind, tuple(getattr(t, "classes_", ())))
                                                 for t in first.tasks_]
            if not same:
                raise ValueError("The ensemble's members resolved different tasks; give them "
                                 "the same `tasks`.")
        self.estimators_ = members
        self.tasks_ = first.tasks_
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _combined(self, X) -> list[np.ndarray]:
        """Per task, a combined raw output that the tasks decode and score as usual."""
        check_is_fitted(self)
        per_member = [(m, m._outputs(X)) for m in self.estimators_]
        combined = []
        for t, task in enumerate(self.tasks_):
            outs = [out[t] for _, out in per_member]
            if not task.is_classification:
                combined.append(np.mean(outs, axis=0))
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
        combined = self._combined(X)
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

    def score_tasks(self, X, y) -> dict[str, float]:
        """Per-task scores of the combined predictions (see ``MultiTaskNet.score_tasks``).

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame

        Returns
        -------
        dict
        """
        combined = self._combined(X)
        return self.estimators_[0].taskset_.score_tasks(y, combined)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of :meth:`score_tasks`.

        Parameters
        ----------
        X : array-like, DataFrame or dict of arrays
        y : array-like, Series or DataFrame
        sample_weight : None
            Not supported.

        Returns
        -------
        float
        """
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported by score yet; pass None.")
        return mean_score(self.score_tasks(X, y))
