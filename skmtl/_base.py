"""The estimator machinery shared by MultiTaskNet, MultiTaskClassifier and MultiTaskRegressor.

Split as scikit-learn's MLP is: parameter checks and the fit (incremental or not) here,
building the network in :mod:`skmtl._build`, prediction in :mod:`skmtl._predict`.
"""

from __future__ import annotations

import inspect
import os
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, MultiOutputMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from skorch.callbacks import Checkpoint

from ._build import OPTIMIZERS, BuildMixin, _as_tensors, auto_batch_size, resolved_weight_decay
from ._calibration import fit_temperature
from ._device import check_available, resolve_device
from ._freeze import apply_freeze
from ._predict import PredictMixin
from ._sample_weight import task_weights, weigh_statistics
from ._threads import limit_worker_threads
from ._thresholds import fit_thresholds
from ._training import MultiTaskNeuralNet, _distributed, group_holdout
from ._training._compile import check_compile, compile_options
from ._training._placement import data_nbytes, keep_on_host
from ._training._precision import PRECISIONS, check_precision
from ._validation import (
    check_aligned,
    check_frame,
    check_groups,
    check_X,
    is_input_dict,
    n_dims,
    n_rows,
    uses_frame,
    warn_repeated_rows,
)
from .architectures import (
    ACTIVATIONS,
    ARCHITECTURES,
    Architecture,
    MultiInput,
    get_architecture,
)
from .callbacks import ConvergenceMonitor, LRSchedule, ResumeCheckpoint, _resume
from .callbacks._affinity import affinity_mode, history_affinity
from .tabular import BIN_EDGES
from .tasks import Task, TaskSet
from .weighting import WEIGHTINGS, Equal, Weighting, get_weighting

#: ``early_stopping="auto"`` holds out a validation split and stops early from this many rows
#: with a label (benchmarks/defaults.py: early stopping helped on every table of the
#: development suite, whose fits have 1,000 rows or more, and in its round 4 on 8 of 9 small
#: tables of 144 to 602 training rows; below 100 rows a 10 % split holds under 10 rows).
EARLY_STOPPING_ROWS = 100

#: Parameters that define the network: a warm-started or incremental fit cannot change them.
_STRUCTURE = ("tasks", "architecture", "trunk", "weighting", "hidden_layer_sizes",
              "head_layer_sizes", "activation", "dropout", "optimizer", "categorical_features",
              "min_frequency", "max_categories", "numeric_transform", "numeric_embedding",
              "n_bins", "bin_edges")


def _labelled_rows(targets: np.ndarray, weights: np.ndarray, slices: list[slice]) -> int:
    """Rows with at least one label of positive weight."""
    present = np.column_stack([~np.isnan(targets[:, part]).all(axis=1) for part in slices])
    return int((present & (weights > 0)).any(axis=1).sum())


class BaseMultiTask(PredictMixin, BuildMixin, MultiOutputMixin, BaseEstimator):
    """Shared implementation of skmtl's estimators; use one of its subclasses.

    See :class:`skmtl.MultiTaskNet` for the parameters.
    """

    #: Task type given to every column not read by an explicit spec (None: infer).
    _forced_task: type[Task] | None = None

    _parameter_constraints: dict = {
        "tasks": [StrOptions({"auto"}), list, tuple, dict],
        "architecture": [StrOptions(set(ARCHITECTURES)), Architecture],
        "trunk": [torch.nn.Module, type, None],
        "weighting": [StrOptions(set(WEIGHTINGS)), Weighting],
        "schedule": [StrOptions({"joint", "alternating"})],
        "freeze": [StrOptions({"trunk", "all_but_heads"}), list, None],
        "warm_start": ["boolean"],
        "pretrain": [StrOptions({"autoencoder"}), None],
        "pretrain_epochs": [Interval(Integral, 1, None, closed="left")],
        "pretrain_noise": [Interval(Real, 0, None, closed="left")],
        "temperature_scaling": ["boolean"],
        "threshold": [StrOptions({"accuracy", "f1"}), Interval(Real, 0, 1, closed="neither"),
                      None],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "head_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
        "min_frequency": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"),
                          Interval(Real, 0, 1, closed="neither"), None],
        "max_categories": [Interval(Integral, 2, None, closed="left"), None],
        "category_dropout": [Interval(Real, 0, 1, closed="left")],
        "numeric_transform": [StrOptions({"quantile", "robust", "standard", "none"})],
        "numeric_embedding": [StrOptions({"periodic", "piecewise_linear"}), None],
        "n_bins": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "bin_edges": [StrOptions(set(BIN_EDGES))],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "lr_schedule": [StrOptions({"constant", "cosine", "flat_cosine"})],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "checkpoint": [str, os.PathLike, Checkpoint, None],
        "precision": [StrOptions(set(PRECISIONS))],
        "compile": ["boolean", dict],
        "task_affinity": ["boolean"],
        "affinity_interval": [Interval(Integral, 1, None, closed="left")],
    }

    # ``groups`` is a splitter's metadata first: a meta-estimator routes it to ``fit`` only
    # when asked (set_fit_request(groups=True)), so that GridSearchCV(..., cv=GroupKFold())
    # with metadata routing on keeps working as before ``fit`` took groups
    __metadata_request__fit = {"groups": False}
    __metadata_request__partial_fit = {"groups": False}

    def __init__(
        self,
        tasks="auto",
        *,
        architecture="shared_bottom",
        trunk=None,
        weighting="equal",
        schedule="joint",
        freeze=None,
        warm_start=False,
        pretrain=None,
        pretrain_epochs=20,
        pretrain_noise=0.1,
        temperature_scaling=False,
        threshold=None,
        categorical_features="from_dtype",
        min_frequency="auto",
        max_categories=None,
        category_dropout=0.0,
        numeric_transform="quantile",
        numeric_embedding="piecewise_linear",
        n_bins="auto",
        bin_edges="mass_aware",
        hidden_layer_sizes=(128, 128),
        head_layer_sizes=(),
        activation="relu",
        dropout=0.0,
        optimizer="adamw",
        lr=1e-3,
        weight_decay="auto",
        lr_schedule="constant",
        label_smoothing=0.0,
        ema_decay=0.999,
        max_epochs=100,
        batch_size="auto",
        early_stopping="auto",
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint=None,
        precision="32",
        compile=False,
        task_affinity=False,
        affinity_interval=10,
    ):
        self.tasks = tasks
        self.architecture = architecture
        self.trunk = trunk
        self.weighting = weighting
        self.schedule = schedule
        self.freeze = freeze
        self.warm_start = warm_start
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_noise = pretrain_noise
        self.temperature_scaling = temperature_scaling
        self.threshold = threshold
        self.categorical_features = categorical_features
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.category_dropout = category_dropout
        self.numeric_transform = numeric_transform
        self.numeric_embedding = numeric_embedding
        self.n_bins = n_bins
        self.bin_edges = bin_edges
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_layer_sizes = head_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.ema_decay = ema_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint = checkpoint
        self.precision = precision
        self.compile = compile
        self.task_affinity = task_affinity
        self.affinity_interval = affinity_interval

    # -- tags ----------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = self.trunk is None  # encoded as missing
        tags.input_tags.string = self.trunk is None  # encoded as categories
        tags.input_tags.sparse = self.trunk is None  # a plain 2-D X may be scipy sparse
        return tags

    # MLPClassifier's names for what the history holds (AttributeError until fitted)
    @property
    def n_iter_(self) -> int:
        return self.n_epochs_

    @property
    def loss_curve_(self) -> list[float]:
        return [float(row.get("train_loss", np.nan)) for row in self.history_]

    def _unfitted_taskset(self) -> TaskSet:
        """The tasks this estimator reads y with, unfitted: ``tasks`` as declared, every
        other column inferred (or of the type the estimator forces)."""
        return TaskSet(self.tasks, force=self._forced_task)

    # -- parameter checks ----------------------------------------------------------
    def _layer_sizes(self, name: str) -> tuple[int, ...]:
        value = getattr(self, name)
        sizes = (value,) if isinstance(value, Integral) else tuple(value)
        if not all(isinstance(size, Integral) and size >= 1 for size in sizes):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(self).__name__} must be a sequence of "
                f"positive ints. Got {value!r} instead."
            )
        return tuple(int(s) for s in sizes)

    def _check_params(self) -> str:
        """Checks beyond ``_parameter_constraints``, before any training; returns the device."""
        self._validate_params()
        self._layer_sizes("hidden_layer_sizes")
        self._layer_sizes("head_layer_sizes")
        weighting = get_weighting(self.weighting)
        weighting._validate_params()
        architecture = get_architecture(self.architecture)
        architecture._validate_params()
        if self.schedule == "alternating" and not isinstance(weighting, Equal):
            raise InvalidParameterError(
                f"schedule='alternating' trains one task per step, so it cannot be combined "
                f"with weighting={self.weighting!r}; use weighting='equal'."
            )
        if self.pretrain == "autoencoder" and getattr(architecture, "name", "") != "shared_bottom":
            raise InvalidParameterError(
                f"pretrain='autoencoder' pretrains one shared trunk, so it needs "
                f"architecture='shared_bottom'; got architecture={self.architecture!r}."
            )
        try:
            device = resolve_device(self.device)
            torch.device(device)
        except RuntimeError:
            raise InvalidParameterError(
                f"The 'device' parameter of {type(self).__name__} must be 'auto' or a torch "
                f"device such as 'cpu', 'cuda' or 'cuda:1'. Got {self.device!r} instead."
            ) from None
        check_available(device, type(self).__name__)
        check_precision(self.precision, device, type(self).__name__)
        check_compile(compile_options(self.compile), device)
        return device

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        """Each ``__init__`` parameter's default: what a model pickled before the parameter
        existed was trained with."""
        return {name: param.default
                for name, param in inspect.signature(cls.__init__).parameters.items()
                if param.default is not inspect.Parameter.empty}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for name, default in self._param_defaults().items():  # parameters added since
            self.__dict__.setdefault(name, default)

    def _structure(self) -> dict[str, str]:
        """What defines the network, to detect changes between warm/incremental fits."""
        return {name: repr(getattr(self, name)) for name in _STRUCTURE}

    def _check_structure(self) -> None:
        built = getattr(self, "_structure_", None)
        if built is None:
            return
        current = self._structure()
        # a parameter added after the network was built was built with its default
        defaults = self._param_defaults()
        was = {k: built.get(k, repr(defaults.get(k))) for k in current}
        changed = {k: (v, was[k]) for k, v in current.items() if was[k] != v}
        if changed:
            what = "; ".join(f"{k} is {new} but the network was built with {old}"
                             for k, (new, old) in changed.items())
            raise ValueError(
                f"warm_start=True and partial_fit continue the fitted network, which these "
                f"parameters define: {what}. Set warm_start=False (or call fit) to train a "
                "new network, or restore them."
            )

    # -- fit -------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, groups=None):
        """Train the multi-task network.

        With ``warm_start=True`` and a fitted estimator, training continues from the
        fitted weights and optimizer state for ``max_epochs`` more epochs (same tasks and
        features), with the current ``lr``, ``batch_size``, ``callbacks`` and other
        training parameters.

        Parameters
        ----------
        X : array-like, DataFrame or scipy sparse matrix of shape (n_samples, n_features)
            Numeric inputs without missing values. A sparse X (converted to CSR) stays
            sparse and is densified one batch at a time (not with a ``trunk``).
        y : array-like of shape (n_samples,) or (n_samples, n_columns), Series or DataFrame
            Targets, one column per task (a :class:`~skmtl.tasks.MultiLabel` task reads
            several). NaN, None or pd.NA mark a missing label: that (row, task) pair is
            left out of the task's loss.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weight of each row, or of each (row, task) pair (columns in task order, or a
            DataFrame whose columns are the task names). Every loss is a weighted mean
            over the labelled rows; an entry of weight 0 has no influence on training
            (nor on a regression task's standardisation). None weighs every row 1.
        groups : array-like of shape (n_samples,), default=None
            Each row's group (a customer, a patient, a storm: rows that share one). The
            validation rows (early stopping, ``threshold``, ``temperature_scaling``) are
            then whole groups, about ``validation_fraction`` of them (0.1 by default,
            chosen by a hash of the model's split seed and the group), the same groups
            in every fit or ``partial_fit`` call with the same model, so that validation
            measures new groups, as a grouped test split does, instead of rows of groups
            trained on. None: random rows. Not used without a validation split.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=self.warm_start, groups=groups)

    def partial_fit(self, X, y, classes=None, sample_weight=None, groups=None):
        """Train one more epoch on the data given.

        The first call builds the network from this data (and ``classes``); later calls
        continue from the current weights and optimizer state and need the same tasks
        and features. Each call uses the current training parameters (``lr``, ...).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like, Series or DataFrame
        classes : array-like, list of array-like or dict, default=None
            Classes of the classification tasks, required on the first call to a
            classifier when a batch may miss some classes (as in scikit-learn), or all the
            labels of a task (whose later batches bring them): an array for a single task,
            a list (one array per column of y, None for non-classification columns) or a
            dict mapping a column to its classes. A column with declared classes is a
            classification task. Ignored after the first call.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            As in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            As in :meth:`fit`: a group is held out for validation in every call.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes, epochs=1,
                         groups=groups)

    def _validate_input(self, X, y, incremental: bool, stream: bool = False):
        """Check X and y; return the array(s) of X and whether training resumes.
        ``stream``: a ``partial_fit`` call, whose first call's encoding keeps the
        categories that a ``category`` column's dtype declares, rows or not."""
        if self.trunk is None and (is_input_dict(X) or (n_dims(X) or 0) > 2):
            raise ValueError(
                "X is a dict of inputs or has more than 2 dimensions; give a `trunk` that "
                "reads it (e.g. a CNN for images, or skmtl.architectures.MultiInput({...}) "
                "for a dict of inputs)."
            )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        resume = incremental and hasattr(self, "net_")
        if resume:
            self._check_structure()
        if uses_frame(self, X, reset=not resume):
            X_array = check_frame(self, X, reset=not resume, continuing=resume,
                                  declared=stream)
        else:
            if not resume:
                self.preprocessor_ = None
            X_array = check_X(self, X, reset=not resume, allow_nd=self.trunk is not None)
        return X_array, resume

    def _fit_with_classes(self, X, y, classes: dict, sample_weight=None, groups=None):
        """``fit`` with ``classes`` (column -> every class of that classification column)
        declared, as ``partial_fit``'s ``classes`` does: for rows that lack some of them
        (a fold, a training split; see ``skmtl._declared``)."""
        return self._fit(X, y, sample_weight, incremental=self.warm_start, classes=classes,
                         groups=groups)

    def _fit(self, X, y, sample_weight=None, incremental: bool = False, classes=None,
             epochs: int | None = None, groups=None):
        device = self._check_params()
        # rows paired by position: refused before anything (the encoder) is fitted
        check_aligned(X, y=y, sample_weight=sample_weight, groups=groups)
        X_array, resume = self._validate_input(X, y, incremental, stream=epochs is not None)
        if not resume and isinstance(self.trunk, MultiInput) and is_input_dict(X_array):
            self.trunk.check_scales(X_array, owner=type(self).__name__)
        n = n_rows(X_array)
        groups = check_groups(groups, n)
        device = _distributed.setup(device, n)  # data-parallel: this process's device
        # resolved from the rows of each fit (or partial_fit) call
        self.batch_size_ = auto_batch_size(n) if self.batch_size == "auto" else int(self.batch_size)
        self.weight_decay_ = resolved_weight_decay(self.weight_decay, self.optimizer)
        if resume:
            taskset = self.taskset_
            taskset.check_columns(y, n_samples=n)
            # a task the first partial_fit call did not label takes its statistics from
            # the first call that does
            first_labelled = taskset.fit_first_labels(y)
            weights = task_weights(sample_weight, n, taskset)
            targets = weigh_statistics(taskset, y, taskset.encode(y), weights,
                                       tasks=first_labelled)
            device = str(self._weights_device())
        else:
            # partial_fit (``epochs`` given): a stream's first rows may lack a task's labels
            taskset = self._unfitted_taskset().fit(y, n_samples=n, classes=classes,
                                                   allow_unlabelled=epochs is not None)
            weights = task_weights(sample_weight, n, taskset)
            targets = weigh_statistics(taskset, y, taskset.encode(y), weights)
            random_state = check_random_state(self.random_state)
            self.seed_ = int(random_state.randint(np.iinfo(np.int32).max))
            self.split_seed_ = int(random_state.randint(np.iinfo(np.int32).max))
            self.seed_, self.split_seed_ = _distributed.same_seeds(self.seed_, self.split_seed_)
        # "auto": from 100 rows with a label (a split of unlabelled rows cannot validate)
        self.early_stopping_ = (
            _labelled_rows(targets, weights, taskset.target_slices_) >= EARLY_STOPPING_ROWS
            and epochs is None if self.early_stopping == "auto" else bool(self.early_stopping))
        description, saved = self._read_checkpoint(taskset, X_array, resume, epochs,
                                                   (targets, weights), groups)
        seed = self.seed_
        if resume:  # a different but reproducible stream for every continuation
            seed = (seed + 7919 * len(self.net_.history)) % np.iinfo(np.int32).max
        devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
        encoded = np.concatenate([targets, weights], axis=1)
        # data too large for the CUDA device stay in pinned host memory, streamed per chunk
        host = keep_on_host(data_nbytes(X_array, encoded), device)
        inputs = _as_tensors(X_array, device, host=host)
        encoded = _as_tensors(encoded, device, host=host)
        limit_worker_threads()  # one torch thread per Dask worker thread (see _threads.py)
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            if resume:
                net = self.net_
                self._update_net(net)
                for param in net.module_.parameters():  # the current `freeze` applies
                    param.requires_grad_(True)
            else:
                net = self._initialize(X_array, inputs, taskset, device)
                _distributed.same_start(net)
            if net.train_split is not None:  # whole groups, or random rows
                split = net.train_split
                split.held_out = (None if groups is None
                                  else group_holdout(groups, split.fraction, split.seed))
                if groups is None and not resume:
                    warn_repeated_rows(X, split, owner=type(self).__name__)
            self.frozen_parameters_ = apply_freeze(net.module_, self.freeze)
            net.refresh_gradient_kind()
            if self.task_affinity:  # nothing shared to compare: fail before training
                affinity_mode(net.module_,
                              f"architecture={self.architecture!r}, freeze={self.freeze!r}")
            self._warn_nothing_to_balance(net)
            net.criterion_.set_data(encoded)
            self._fit_loop(net, inputs, encoded, epochs, description, saved)
        self.taskset_ = taskset
        self.tasks_ = taskset.tasks_
        self.net_ = net
        self.history_ = net.history
        self.device_ = device
        self.n_epochs_ = len(net.history)
        if self.task_affinity:  # over every epoch that measured it (warm fits accumulate)
            self.task_affinity_ = history_affinity(net.history, [t.name_ for t in self.tasks_])[0]
        else:
            self.__dict__.pop("task_affinity_", None)
        self.temperatures_ = (self._fit_temperatures(inputs, targets, weights)
                              if self.temperature_scaling else {})
        self.thresholds_ = fit_thresholds(self, inputs, targets, weights)  # every fit call
        return self

    def _warn_nothing_to_balance(self, net: MultiTaskNeuralNet) -> None:
        if net.balancer_.jacobian is not None and net.gradient_kind_ is None:
            warnings.warn(
                f"weighting={self.weighting!r} balances the tasks' gradients on shared "
                f"parameters, but none is trainable here (architecture="
                f"{self.architecture!r}, freeze={self.freeze!r}); each task trains its own "
                "parameters with its own gradient.", UserWarning, stacklevel=3,
            )

    def _read_checkpoint(self, taskset: TaskSet, X: Any, continuing: bool,
                         epochs: int | None, labels: tuple = (),
                         groups: np.ndarray | None = None) -> tuple[dict | None, dict | None]:
        """With ``checkpoint``: this fit's description and the saved fit to resume (if any).

        A new network resumes the checkpoint in the directory, after checking that it was
        written for the same tasks, data (X, ``labels`` (the encoded targets and weights)
        and ``groups``, which choose the validation rows), ``random_state`` and other
        parameters (all but those ``_resume.RESUMABLE_PARAMS`` names), and with its seeds.
        """
        if self.checkpoint is None:
            return None, None
        if epochs is not None:
            raise ValueError(
                "checkpoint= saves and resumes fit, not partial_fit; set checkpoint=None for "
                "partial_fit (and pickle the estimator between calls to keep its state)."
            )
        hashed = () if groups is None else (pd.util.hash_array(groups),)
        description = _resume.describe_fit(taskset, X, _resume.fingerprint(X, *labels, *hashed),
                                           self.random_state, _resume.describe_params(self))
        path = ResumeCheckpoint.from_param(self.checkpoint).path
        saved = None if continuing else _resume.read_checkpoint(path)
        if saved is not None:
            _resume.check_same_fit(saved["description"], description, path,
                                   _resume.resume_keys(saved["description"], description))
            self.seed_, self.split_seed_ = saved["seed_"], saved["split_seed_"]
        return description, saved

    def _fit_loop(self, net: MultiTaskNeuralNet, inputs: Any, encoded: torch.Tensor,
                  epochs: int | None, description: dict | None = None,
                  saved: dict | None = None) -> None:
        """Run ``epochs`` epochs (``max_epochs`` when None) from the net's current state.

        With ``checkpoint``, the net first takes the state of ``saved`` (the checkpoint
        being resumed, if any) and then runs only the epochs it lacks.
        """
        # the lr schedule and the convergence check span the epochs of this fit call
        # (from the current history row; a resumed checkpoint's epochs belong to it);
        # partial_fit (``epochs`` given) plans none: constant lr, no warning
        for _, callback in net.callbacks_:
            if isinstance(callback, (ConvergenceMonitor, LRSchedule)):
                callback.plan_fit(len(net.history), self.max_epochs if epochs is None else None)
        if self.checkpoint is not None:
            seeds = {"seed_": self.seed_, "split_seed_": self.split_seed_}
            epochs = _resume.prepare(net, description, seeds, saved, epochs)
        net.partial_fit(inputs, encoded, epochs=epochs)

    def _fit_temperatures(self, inputs: Any, targets: np.ndarray,
                          weights: np.ndarray) -> dict[str, float]:
        """Per-classification-task temperatures fitted on the held-out validation rows
        (``weights``: the fit call's sample weights per (row, task))."""
        _, index = self.net_.train_split.split(len(targets))
        held_out = {k: v[index] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[index.to(inputs.device)]
        outputs = self._forward(held_out)
        index = index.numpy()
        return {
            task.name_: fit_temperature(out, targets[index][:, part], task.kind == "multilabel",
                                        weights[index, t])
            for t, (task, out, part) in enumerate(zip(self.tasks_, outputs,
                                                      self.taskset_.target_slices_))
            if task.is_classification
        }


