"""TaskGrouping: measure task affinity, group the tasks, train one network per group."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, MultiOutputMixin, clone
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._base import BaseMultiTask
from ._declared import all_classes, fit_with_classes
from ._estimators import MultiTaskNet
from ._predict import ProbabilityFrameMixin, _available_if_probabilities, mean_score
from ._sample_weight import task_weights
from ._validation import check_aligned, check_groups
from .affinity import AffinityResult, partition_tasks
from .callbacks._resume import checkpoint_params, in_subdirectory
from .tasks._taskset import TaskSet, _spec_from_value, as_target_frame


def _validation_losses(estimator: BaseMultiTask, X: Any, y: pd.DataFrame,
                       sample_weight: pd.DataFrame | None = None) -> dict[str, float]:
    """Each task's loss on held-out rows, as the fitted network's criterion computes it.

    The criterion's evaluation losses (no label smoothing) on the task's encoded targets,
    weighted by ``sample_weight`` (a column per task of the estimator; None: 1), times
    the task's ``weight`` (as in the network's own validation loss); NaN for a task
    without a labelled row of positive weight.
    """
    outputs = estimator._outputs(X)
    targets = estimator.taskset_.encode(y)
    if sample_weight is None:
        weights = np.ones((len(targets), len(estimator.tasks_)), dtype=np.float32)
    else:
        names = [task.name_ for task in estimator.tasks_]
        weights = sample_weight[names].to_numpy(dtype=np.float32)
    criterion = estimator.net_.criterion_
    device = criterion.weights.device
    encoded = torch.as_tensor(np.concatenate([targets, weights], axis=1), device=device)
    dense = criterion.dense
    try:
        criterion.set_data(encoded)  # which tasks of these rows miss labels
        with torch.no_grad():
            losses, totals = criterion.task_losses(
                [torch.as_tensor(out, device=device) for out in outputs], encoded)
    finally:
        criterion.dense = dense
    return {
        task.name_: float(loss) * float(task.weight) if float(total) > 0 else float("nan")
        for task, loss, total in zip(estimator.tasks_, losses, totals)
    }


#: blocks of held-out rows over which ``n_groups="auto"`` reports standard errors
_BLOCKS = 10


def _lowest(blocks: dict[int, np.ndarray]) -> tuple[int | None, dict[int, float], dict[int, float]]:
    """The candidate of lowest validation loss, from losses on blocks of held-out rows.

    Parameters
    ----------
    blocks : dict
        Number of groups to its validation loss on each block (the same blocks for all).

    Returns
    -------
    choice : int or None
        The number of groups of lowest mean loss (a tie: the fewest); None without
        candidates.
    means : dict
        Each candidate's mean loss over the blocks.
    standard_errors : dict
        The standard error, over the blocks, of each candidate's paired difference to
        the chosen one (0 for it): how clear the choice is.
    """
    if not blocks:
        return None, {}, {}
    means = {k: float(np.mean(v)) for k, v in blocks.items()}
    choice = min(means, key=lambda k: (means[k], k))
    errors = {}
    for k, values in blocks.items():
        difference = values - blocks[choice]
        errors[k] = (float(np.std(difference, ddof=1) / np.sqrt(len(difference)))
                     if len(difference) > 1 else 0.0)
    return choice, means, errors


class TaskGrouping(ProbabilityFrameMixin, MultiOutputMixin, BaseEstimator):
    """Group the tasks that help each other and train one skmtl network per group.

    Fitting runs in three steps:

    1. **Affinity.** A short training run of ``estimator`` on all the tasks
       (``affinity_epochs`` epochs) measures how the tasks help or hurt each other:
       gradient affinity (:func:`skmtl.affinity.gradient_affinity`) or lookahead
       affinity (:func:`skmtl.affinity.lookahead_affinity`). A matrix may be given
       instead; then no run is made.
    2. **Grouping.** :func:`skmtl.affinity.partition_tasks` splits the tasks into at
       most ``n_groups`` groups of highest within-group affinity (its score decides how
       many groups, up to ``n_groups``: splitting related tasks apart lowers it). With
       ``n_groups="auto"``, the candidates are the best partitions into at most ``k``
       groups for every ``k`` from 1 to ``min(n_tasks, max_groups)`` (distinct ones
       only: from one network for all tasks up to as many groups as the affinity
       supports); each is trained (one clone of ``estimator`` per group) on
       ``1 - validation_fraction`` of the rows and scored on the others by the
       validation loss: the sum over the tasks of each task's loss on the held-out
       rows, with the loss its network trains it with (times its ``weight``). Every
       task keeps its own loss in every candidate, so the sums are comparable; the
       lowest wins (a tie goes to fewer groups). The candidates come from the affinity
       rather than being the best partition into exactly ``k`` groups for every ``k``:
       those split related tasks apart just to have ``k`` groups, and more networks
       (more parameters) can lower a validation loss by themselves.
    3. **Training.** One clone of ``estimator`` per group is fitted on all the rows, on
       the group's columns of ``y``.

    Every clone (affinity run, candidates, final networks) gets the same
    ``random_state``, so candidates differ only by their grouping.

    Parameters
    ----------
    estimator : skmtl estimator or None, default=None
        Unfitted template (:class:`~skmtl.MultiTaskNet`, :class:`~skmtl.MultiTaskClassifier`
        or :class:`~skmtl.MultiTaskRegressor`); None uses ``MultiTaskNet()``. When its
        ``tasks`` declares specs per column (a list or a dict), each group's clone gets
        the specs of its columns.
    n_groups : int or "auto", default="auto"
        Most networks to train (the grouping may use fewer), or "auto": choose the
        number of groups, at most ``max_groups``, by validation loss.
    affinity : {"gradient", "lookahead"}, array-like, DataFrame or AffinityResult, default="gradient"
        How to measure affinity, or a square matrix (``affinity[i, j]``: affinity of
        task ``i`` onto task ``j``). An array's rows and columns follow the tasks' order
        (y's columns); a DataFrame's (or AffinityResult's) labels must be the task names.
    affinity_epochs : int, default=10
        Epochs of the affinity run (its ``max_epochs``).
    affinity_interval : int, default=1
        The affinity run measures every this many training steps (the run exists to
        measure, so by default at every step; a larger interval makes it cheaper and
        noisier, which matters most for ``affinity="lookahead"``, whose cost per
        measurement grows with the number of tasks).
    max_groups : int, default=4
        Largest number of groups that ``n_groups="auto"`` tries.
    validation_fraction : float, default=0.2
        Share of the rows held out to compare the candidates of ``n_groups="auto"``.
    random_state : int, RandomState instance or None, default=None
        Draws the seed that every clone gets and the validation split. None with a
        template whose ``random_state`` is set: the template's seed (and a random split).

    Attributes
    ----------
    groups_ : list of list of str
        The task names of each group, ordered by their first task's position in ``y``.
    estimators_ : list of skmtl estimators
        One fitted estimator per group, in the order of ``groups_``.
    affinity_ : AffinityResult
        The affinity the grouping was chosen from. For a given matrix: that matrix with
        NaN standard errors, 0 measurements, method "given" and 0 seconds. With a single
        task no affinity is measured (a 1 x 1 NaN matrix).
    n_groups_ : int
        Number of groups (networks) trained.
    validation_losses_ : dict
        With ``n_groups="auto"``: each number of groups tried to its validation loss
        (the mean over the blocks of held-out rows; empty when only one grouping was
        possible, e.g. a single task).
    validation_standard_errors_ : dict
        With ``n_groups="auto"``: each number of groups tried to the standard error of
        its validation loss's difference to the lowest one (0 for the lowest).
    tasks_ : list of Task
        The fitted tasks, in y's column order (each read from its group's estimator).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X is a DataFrame with string column names.

    See Also
    --------
    skmtl.affinity.partition_tasks : The grouping searched.
    skmtl.affinity.gradient_affinity : The default affinity measure.

    Examples
    --------
    >>> from skmtl import MultiTaskNet, TaskGrouping
    >>> from skmtl.affinity import make_task_clusters
    >>> X, y, clusters = make_task_clusters(300, random_state=0)
    >>> A = (clusters[:, None] == clusters[None]).astype(float)  # a known affinity
    >>> grouping = TaskGrouping(MultiTaskNet(max_epochs=3), n_groups=2, affinity=A,
    ...                         random_state=0).fit(X, y)
    >>> grouping.groups_
    [['c0_t0', 'c0_t1', 'c0_t2'], ['c1_t0', 'c1_t1', 'c1_t2']]
    >>> grouping.predict(X[:2]).shape
    (2, 6)
    """

    _parameter_constraints = {
        "estimator": [BaseMultiTask, None],
        "n_groups": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "affinity": [StrOptions({"gradient", "lookahead"}), "array-like", AffinityResult],
        "affinity_epochs": [Interval(Integral, 1, None, closed="left")],
        "affinity_interval": [Interval(Integral, 1, None, closed="left")],
        "max_groups": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    # ``groups`` is a splitter's metadata first: a meta-estimator routes it to ``fit`` only
    # when asked (set_fit_request(groups=True)), so that GridSearchCV(..., cv=GroupKFold())
    # with metadata routing on keeps working as before ``fit`` took groups
    __metadata_request__fit = {"groups": False}

    def __init__(self, estimator=None, *, n_groups="auto", affinity="gradient",
                 affinity_epochs=10, affinity_interval=1, max_groups=4,
                 validation_fraction=0.2, random_state=None):
        self.estimator = estimator
        self.n_groups = n_groups
        self.affinity = affinity
        self.affinity_epochs = affinity_epochs
        self.affinity_interval = affinity_interval
        self.max_groups = max_groups
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a grouping fitted before MultiLabel tasks could be grouped kept one
        column per task."""
        columns = state.get("_columns")
        if columns is not None:
            state["_columns"] = {name: value if isinstance(value, list) else [value]
                                 for name, value in columns.items()}
        self.__dict__.update(state)

    def _unfitted_taskset(self) -> TaskSet:
        """The tasks the template reads y with, unfitted."""
        return self._template()._unfitted_taskset()

    def _template(self) -> BaseMultiTask:
        return MultiTaskNet() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._template())
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    # -- fit -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, groups=None):
        """Measure the affinity, choose the groups and fit one estimator per group.

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks), DataFrame or Series
            One column per task, or several for a task that reads several (a
            :class:`~skmtl.tasks.MultiLabel` task, which is grouped as one unit: its
            columns stay together in one network). NaN marks a missing label, as for
            the skmtl estimators.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task; a DataFrame's columns are the
            task names), as for the skmtl estimators: given to the affinity run, to
            every group's fit (its tasks' columns) and to the validation losses of
            ``n_groups="auto"``.
        groups : array-like of shape (n_samples,), default=None
            Each row's group (rows that share a customer, a patient, ...; not to be
            confused with the task groups). The rows ``n_groups="auto"`` validates on
            are then whole groups (``GroupShuffleSplit``), and every group estimator's
            ``fit`` gets them, so that its validation rows are whole groups too (see
            ``MultiTaskNet.fit``). The affinity run does not use them.

        Returns
        -------
        self : TaskGrouping
        """
        return self._fit(X, y, sample_weight, groups)

    def _fit_with_classes(self, X, y, classes: dict, sample_weight=None, groups=None):
        """``fit`` with ``classes`` (column -> every class of that classification column)
        declared to every group's estimator, for rows that lack some of them (a fold of
        ``skmtl.model_selection.cross_val_predict``; see ``skmtl._declared``)."""
        return self._fit(X, y, sample_weight, groups, classes)

    def _fit(self, X, y, sample_weight=None, groups=None, classes=None):
        self._validate_params()
        template = self._template()
        frame, _ = as_target_frame(y)
        n = _num_samples(X)
        # before anything takes rows by position
        check_aligned(X, y=y, sample_weight=sample_weight, groups=groups)
        rows = check_groups(groups, n)
        # fitted on y as given: it shapes the predictions like y (see predict)
        taskset = self._unfitted_taskset().fit(y, n_samples=n)
        names = [task.name_ for task in taskset.tasks_]
        weights = None if sample_weight is None else pd.DataFrame(
            task_weights(sample_weight, n, taskset), columns=names)
        if self.n_groups != "auto" and self.n_groups > len(names):
            raise ValueError(
                f"n_groups={self.n_groups} but y has {len(names)} task(s); n_groups must be "
                "at most the number of tasks (or 'auto')."
            )
        # a task reading several columns (MultiLabel) is grouped as one unit
        self._columns = {task.name_: list(task.columns_) for task in taskset.tasks_}
        self._taskset = taskset
        # every class of each classification column: y's, and those declared
        self._classes = {**all_classes(taskset), **(classes or {})}
        seed = self._seed(template)
        self.affinity_ = self._affinity(template, X, frame, names, seed, weights)
        matrix = self.affinity_.matrix
        if self.n_groups == "auto":
            candidates: dict[int, list[list[str]]] = {}
            for k in range(1, min(len(names), self.max_groups) + 1):
                partition = partition_tasks(matrix, k)
                candidates.setdefault(len(partition), partition)  # distinct partitions
            blocks = self._compare(template, candidates, X, frame, seed, weights, rows)
            best, self.validation_losses_, self.validation_standard_errors_ = _lowest(blocks)
            groups = candidates[min(candidates) if best is None else best]
        else:
            groups = partition_tasks(matrix, self.n_groups)
        self.groups_ = groups
        self.estimators_ = [self._fit_group(template, group, X, frame, seed, weights, rows,
                                            name=f"group{k}")
                            for k, group in enumerate(groups)]
        self.n_groups_ = len(groups)
        by_name = {task.name_: task for est in self.estimators_ for task in est.tasks_}
        self.tasks_ = [by_name[name] for name in names]
        first = self.estimators_[0]
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _seed(self, template: BaseMultiTask) -> Any:
        if self.random_state is None and template.random_state is not None:
            return template.random_state
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _affinity(self, template: BaseMultiTask, X: Any, frame: pd.DataFrame,
                  names: list[str], seed: Any, weights: pd.DataFrame | None) -> AffinityResult:
        """The affinity to group by: measured by a short run, or the one given."""
        given = self.affinity
        if isinstance(given, str):
            if len(names) == 1:  # nothing to measure
                nan = pd.DataFrame([[np.nan]], index=names, columns=names)
                return AffinityResult(nan, nan.copy(), nan.fillna(0).astype(int), given, 0.0)
            from . import affinity as measures

            measure = getattr(measures, f"{given}_affinity")
            run = in_subdirectory(clone(template).set_params(random_state=seed), None)
            run._check_params()  # the estimator's own options refuse as they would in its fit
            try:
                result = measure(run, X, frame, max_epochs=self.affinity_epochs,
                                 interval=self.affinity_interval, sample_weight=weights)
            except ValueError as exc:  # say which run refused, and the way around it
                how = " with task_affinity=True" if given == "gradient" else ""
                raise ValueError(
                    f"TaskGrouping measures affinity={given!r} by training its estimator{how} "
                    f"for affinity_epochs={self.affinity_epochs}, which refused: {exc} (Or "
                    "pass `affinity` a matrix measured otherwise.)") from exc
            return self._aligned(result, names, "the measured affinity")
        if isinstance(given, AffinityResult):
            return self._aligned(given, names, "affinity")
        if isinstance(given, pd.DataFrame):
            matrix = given
        else:
            values = np.asarray(given)
            if values.shape != (len(names), len(names)):
                raise ValueError(
                    f"affinity has shape {values.shape}, but y has {len(names)} task(s): give a "
                    f"({len(names)}, {len(names)}) matrix in the order of y's columns."
                )
            matrix = pd.DataFrame(values, index=names, columns=names)
        nan = pd.DataFrame(np.nan, index=matrix.index, columns=matrix.columns)
        counts = pd.DataFrame(0, index=matrix.index, columns=matrix.columns)
        return self._aligned(AffinityResult(matrix, nan, counts, "given", 0.0), names, "affinity")

    @staticmethod
    def _aligned(result: AffinityResult, names: list[str], what: str) -> AffinityResult:
        """``result`` with its rows and columns in task order (its labels must be the names)."""
        index = [str(label) for label in result.matrix.index]
        columns = [str(label) for label in result.matrix.columns]
        if sorted(index) != sorted(names) or sorted(columns) != sorted(names):
            raise ValueError(
                f"{what} is labelled {index} x {columns}, but the tasks are {names}; label "
                "its rows and columns with the task names (or pass an array in y's column "
                "order)."
            )

        def align(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.set_axis(index, axis=0).set_axis(columns, axis=1)
            return frame.loc[names, names]

        return AffinityResult(align(result.matrix), align(result.standard_error),
                              align(result.n_measurements), result.method, result.seconds)

    def _group_columns(self, group: list[str]) -> list[Any]:
        """The columns of y that the tasks of ``group`` read, in y's order."""
        wanted = {column for name in group for column in self._columns[name]}
        return [column for column in self._taskset.columns_ if column in wanted]

    def _subset(self, template: BaseMultiTask, group: list[str], seed: Any,
                name: str | None = None) -> BaseMultiTask:
        """An unfitted clone for ``group``: its columns' task specs, the shared seed, and
        ``checkpoint``'s subdirectory ``name`` (no checkpoint when ``name`` is None)."""
        columns = self._group_columns(group)
        tasks = template.tasks
        if isinstance(tasks, dict):
            tasks = {column: spec for column, spec in tasks.items()
                     if _spec_from_value(spec, column)._declared_columns()[0] in columns}
        elif not isinstance(tasks, str):
            tasks = [spec for spec in tasks if spec._declared_columns()[0] in columns]
        estimator = clone(template).set_params(tasks=tasks, random_state=seed)
        if (name is not None and checkpoint_params(estimator)
                and self.random_state is None and template.random_state is None):
            # unseeded: it draws its seeds in fit, or takes its checkpoint's
            estimator.set_params(random_state=None)
        # one fit per group; a trial run (n_groups="auto", name None) is not saved
        return in_subdirectory(estimator, name)

    def _fit_group(self, template: BaseMultiTask, group: list[str], X: Any,
                   frame: pd.DataFrame, seed: Any, weights: pd.DataFrame | None,
                   rows: np.ndarray | None = None, name: str | None = None) -> BaseMultiTask:
        """The estimator of the task group ``group``; ``rows``: each row's group of rows
        (``fit``'s ``groups``), or None; ``name``: its checkpoint's subdirectory (None: a
        trial run, not saved)."""
        estimator = self._subset(template, group, seed, name)
        # the rows of a validation split may lack a class: fitted with all y's classes
        return fit_with_classes(estimator, X, frame[self._group_columns(group)], self._classes,
                                sample_weight=None if weights is None else weights[group],
                                **({} if rows is None else {"groups": rows}))

    def _compare(self, template: BaseMultiTask, candidates: dict[int, list[list[str]]],
                 X: Any, frame: pd.DataFrame, seed: Any, weights: pd.DataFrame | None,
                 rows: np.ndarray | None = None) -> dict[int, np.ndarray]:
        """Validation loss of each candidate grouping on each of 10 blocks of the
        held-out rows (none when there is one candidate); with ``rows`` (each row's group
        of rows), the held-out rows and the blocks are whole groups of rows."""
        if len(candidates) < 2:
            return {}
        # an int seed splits reproducibly; a template's RandomState is copied, not advanced
        split = seed if isinstance(seed, Integral) else check_random_state(
            copy.deepcopy(seed)).randint(np.iinfo(np.int32).max)
        if rows is None:
            train, held_out = train_test_split(np.arange(len(frame)),
                                               test_size=self.validation_fraction,
                                               random_state=split)
            blocks = np.array_split(np.arange(len(held_out)), min(_BLOCKS, len(held_out)))
        else:
            splitter = GroupShuffleSplit(1, test_size=self.validation_fraction,
                                         random_state=split)
            train, held_out = next(splitter.split(np.zeros((len(frame), 0)), groups=rows))
            codes, distinct = pd.factorize(pd.Series(rows[held_out]).astype(str))
            blocks = [np.flatnonzero(np.isin(codes, part)) for part in
                      np.array_split(np.arange(len(distinct)), min(_BLOCKS, len(distinct)))]
        X_train, X_held = _safe_indexing(X, train), _safe_indexing(X, held_out)
        y_train, y_held = frame.iloc[train], frame.iloc[held_out]
        w_train = None if weights is None else weights.iloc[train]
        w_held = None if weights is None else weights.iloc[held_out]
        rows_train = None if rows is None else rows[train]
        losses = {}
        for k, groups in candidates.items():
            per_block = np.zeros((len(blocks), len(groups)))
            for g, group in enumerate(groups):
                estimator = self._fit_group(template, group, X_train, y_train, seed, w_train,
                                            rows_train)
                columns = self._group_columns(group)
                for b, block in enumerate(blocks):
                    task_losses = _validation_losses(
                        estimator, _safe_indexing(X_held, block), y_held[columns].iloc[block],
                        None if w_held is None else w_held.iloc[block])
                    per_block[b, g] = np.nansum(list(task_losses.values()))
            losses[k] = per_block.sum(axis=1)
        return losses

    # -- predict ---------------------------------------------------------------------
    def predict(self, X):
        """Predict every task with its group's estimator.

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        DataFrame, Series or ndarray
            Shaped like the ``y`` given to fit, columns in y's order: a DataFrame with
            y's columns (and X's index when X is a DataFrame), a Series, or an array.
        """
        check_is_fitted(self)
        # each group's estimator was fitted on its columns of y as a DataFrame
        columns = {column: part[column] for estimator in self.estimators_
                   for part in [estimator.predict(X)] for column in part.columns}
        return self._taskset.arrange(columns)

    @_available_if_probabilities
    def predict_proba(self, X):
        """Class probabilities of every classification task, in task order.

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        list of ndarray, or ndarray
            As :meth:`skmtl.MultiTaskNet.predict_proba`: one array per classification
            task (regression tasks skipped); a single array when there is one task.
        """
        check_is_fitted(self)
        probas = {}
        for estimator in self.estimators_:
            classifiers = [task for task in estimator.tasks_ if task.is_classification]
            if not classifiers:
                continue
            out = estimator.predict_proba(X)
            out = [out] if len(estimator.tasks_) == 1 else out
            probas.update(zip((task.name_ for task in classifiers), out))
        ordered = [probas[task.name_] for task in self.tasks_ if task.is_classification]
        return ordered[0] if len(self.tasks_) == 1 else ordered

    def score_tasks(self, X, y, sample_weight=None) -> dict[str, float]:
        """Score each task with its group's estimator (see ``MultiTaskNet.score_tasks``).

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)
        y : array-like, Series or DataFrame
            True targets, with the columns seen in fit.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        dict
            Task name to its score (accuracy or R²), in task order.
        """
        check_is_fitted(self)
        check_aligned(X, y=y, sample_weight=sample_weight)
        frame = self._taskset.check_columns(y)
        names = [task.name_ for task in self.tasks_]
        weights = None if sample_weight is None else pd.DataFrame(
            task_weights(sample_weight, len(frame), self._taskset), columns=names)
        scores = {}
        for estimator, group in zip(self.estimators_, self.groups_):
            columns = self._group_columns(group)
            scores.update(estimator.score_tasks(
                X, frame[columns], sample_weight=None if weights is None else weights[group]))
        return {task.name_: scores[task.name_] for task in self.tasks_}

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of :meth:`score_tasks` (NaN scores skipped).

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)
        y : array-like, Series or DataFrame
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        float
        """
        return mean_score(self.score_tasks(X, y, sample_weight))
