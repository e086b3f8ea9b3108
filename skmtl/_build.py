"""Building the network and the skorch net that trains it (and updating it for a warm fit)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from scipy import sparse
from sklearn.base import clone
from skorch.callbacks import EarlyStopping, ProgressBar

from ._pretrain import pretrain_autoencoder
from ._training import (
    HoldoutSplit,
    MultiTaskCriterion,
    MultiTaskNeuralNet,
    SparseRows,
    TensorBatchIterator,
    TensorData,
)
from ._training._compile import compile_options
from ._training._distributed import FollowerCheckpoint, is_main, main_only
from ._training._placement import to_pinned
from .architectures import LayerSettings, get_architecture
from .callbacks import (
    ConvergenceMonitor,
    FiniteLossGuard,
    GradientAffinity,
    LRSchedule,
    PerTaskLoss,
    ResumeCheckpoint,
    TaskWeights,
    WeightAveraging,
    _resume,
)
from .tabular import FeatureEmbedding
from .tasks import TaskSet
from .weighting import get_weighting

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


#: ``weight_decay="auto"`` with AdamW (decoupled decay): chosen on the development suite's
#: training rows (benchmarks/weight_decay.py, docs/benchmarks.md "Weight decay").
AUTO_WEIGHT_DECAY = 0.3


def resolved_weight_decay(weight_decay: float | str, optimizer: Any) -> float:
    """``weight_decay`` as a number: ``"auto"`` is :data:`AUTO_WEIGHT_DECAY` for AdamW
    (``"adamw"`` or ``torch.optim.AdamW``, whose decay is decoupled from the gradient) and
    0 for any other optimizer (whose decay would be an L2 penalty in the gradient)."""
    if weight_decay != "auto":
        return float(weight_decay)
    return AUTO_WEIGHT_DECAY if OPTIMIZERS.get(optimizer, optimizer) is torch.optim.AdamW else 0.0


def _silent(*args: Any, **kwargs: Any) -> None:
    """A print replacement that prints nothing (picklable, unlike a lambda)."""


def _fused_supported(optimizer: type[torch.optim.Optimizer], device: str) -> bool:
    """Whether ``optimizer`` has a fused (single-kernel) implementation on ``device``."""
    try:
        optimizer([torch.zeros(1, device=device, requires_grad=True)], lr=0.1, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _as_tensors(X: Any, device: str, host: bool = False) -> Any:
    """A checked array (or dict of arrays) as tensor(s) on ``device``, copied once.

    A sparse matrix stays on the host as :class:`~skmtl._training.SparseRows`, densified
    on ``device`` one batch at a time. With ``host`` (data too large for the device, see
    :func:`~skmtl._training._placement.keep_on_host`) dense arrays go to pinned host
    memory instead, and the batch iterator streams them to ``device``.
    """
    if sparse.issparse(X):
        return SparseRows(X, device)
    convert = to_pinned if host else partial(torch.tensor, device=device)
    if isinstance(X, dict):
        return {key: convert(value) for key, value in X.items()}
    return convert(X)


def auto_batch_size(n: int) -> int:
    """``batch_size="auto"``: the batch size for a fit call on ``n`` rows.

    The largest power of two at most ``n / 32`` (so at least 32 steps an epoch), kept
    within [32, 256]; 512 from 131,072 rows (256 steps an epoch and more). So 32 up to
    2,047 rows, 64 up to 4,095, 128 up to 8,191, and 256 (the fixed default) from 8,192
    to 131,071 rows.
    """
    if n >= 131_072:
        return 512
    size = 1 << max(int(n) // 32, 1).bit_length() - 1
    return int(min(max(size, 32), 256))


class BuildMixin:
    """Network building of :class:`~skmtl._base.BaseMultiTask`: the module, the skorch
    net (optimizer, criterion, balancer, callbacks, validation split), and bringing a
    fitted net up to the current parameters for a warm-started or incremental fit."""

    # -- building --------------------------------------------------------------------
    def _callbacks(self, task_names: list[str]) -> list:
        verbose = main_only(self.verbose)  # data-parallel training: only rank 0 prints
        callbacks: list = [
            ("per_task_loss", PerTaskLoss(task_names)),
            ("task_weights", TaskWeights(task_names)),
            ("finite_loss", FiniteLossGuard(task_names)),
            ("convergence", ConvergenceMonitor(type(self).__name__, self.n_iter_no_change, self.tol)),
        ]
        if self.task_affinity:
            callbacks.append(("task_affinity", GradientAffinity(task_names, self.affinity_interval)))
        if self.lr_schedule != "constant":
            callbacks.append(("lr_schedule", LRSchedule(self.lr_schedule, self.lr)))
        if self.ema_decay is not None:  # before early stopping: it keeps the average's best
            callbacks.append(("weight_averaging", WeightAveraging(self.ema_decay)))
        if self.early_stopping_:
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print if verbose else _silent,
                ),
            ))
        if verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks += [clone(cb, safe=False) for cb in (self.callbacks or [])]
        if self.checkpoint is not None:  # last, so that it saves the other callbacks' work
            sink = print if verbose else _silent
            writer = ResumeCheckpoint if is_main() else FollowerCheckpoint  # rank 0 writes
            callbacks.append((_resume.CALLBACK_NAME, writer.from_param(self.checkpoint, sink)))
        return callbacks

    def _train_split(self) -> HoldoutSplit | None:
        fraction = self.validation_fraction
        if fraction is None:
            fraction = 0.1 if (self.early_stopping_ or self.temperature_scaling
                               or isinstance(self.threshold, str)) else None
        return None if fraction is None else HoldoutSplit(fraction, seed=self.split_seed_)

    def _build_module(self, X: Any, taskset: TaskSet) -> torch.nn.Module:
        settings = LayerSettings(
            hidden_layer_sizes=self._layer_sizes("hidden_layer_sizes"),
            head_layer_sizes=self._layer_sizes("head_layer_sizes"),
            activation=self.activation,
            dropout=self.dropout,
        )
        sample = _as_tensors({k: v[:2] for k, v in X.items()} if isinstance(X, dict) else X[:2], "cpu")
        if isinstance(sample, SparseRows):
            sample = sample.dense()
        n_features = None if isinstance(X, dict) or X.ndim != 2 else X.shape[1]
        return get_architecture(self.architecture).build(
            n_features, [task.n_outputs_ for task in taskset.tasks_], settings,
            trunk=self.trunk, sample=sample, stem=self._stem(X),
        )

    def _stem(self, X: Any) -> Callable[[], torch.nn.Module] | None:
        """Factory of the input layer embedding the encoded table's columns, or None.

        A table encoded by ``preprocessor_`` (without a user ``trunk``) with categorical
        columns or ``numeric_embedding`` is read through
        :class:`~skmtl.tabular.FeatureEmbedding`; X read as given (sparse, images, dicts,
        a trunk) is not, and ``numeric_embedding`` does not apply to it.
        """
        encoder = getattr(self, "preprocessor_", None)
        if encoder is None or self.trunk is not None:
            return None
        n_numeric = len(encoder.numeric_)
        n_plain = len(encoder.binary_) + len(encoder.indicators_)
        embedding = self.numeric_embedding if n_numeric else None
        if not encoder.cardinalities_ and embedding is None:
            return None
        numeric = torch.as_tensor(X[:, :n_numeric]) if embedding == "piecewise_linear" else None
        n_bins = None if self.n_bins == "auto" else int(self.n_bins)
        return partial(FeatureEmbedding, n_numeric, n_plain, encoder.cardinalities_, embedding,
                       numeric, n_bins, self.bin_edges, encoder.unseen_codes(),
                       self.category_dropout)

    def _initialize(self, X: Any, inputs: Any, taskset: TaskSet, device: str) -> MultiTaskNeuralNet:
        """Build the network (and pretrain it) and the skorch net that trains it."""
        optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        optimizer_kwargs = {
            "optimizer__weight_decay": self.weight_decay_,
            # learned balancing parameters (log-variances, GradNorm weights) get no decay
            "optimizer__param_groups": [("balancer_.*", {"weight_decay": 0.0})],
        }
        if optimizer is torch.optim.SGD:
            optimizer_kwargs["optimizer__momentum"] = 0.9
        # not SGD: torch's fused SGD fails when a parameter gets its first gradient after
        # others have momentum buffers (a task absent from the first batches)
        if (isinstance(self.optimizer, str) and optimizer is not torch.optim.SGD
                and _fused_supported(optimizer, device)):
            optimizer_kwargs["optimizer__fused"] = True
        task_names = [task.name_ for task in taskset.tasks_]
        module = self._build_module(X, taskset)
        if self.pretrain == "autoencoder":
            self.pretrain_history_ = pretrain_autoencoder(
                module, inputs, epochs=self.pretrain_epochs, noise=self.pretrain_noise,
                optimizer=optimizer, lr=self.lr, batch_size=self.batch_size_, device=device,
                verbose=main_only(self.verbose), weight_decay=self.weight_decay_,
            ).history
        spec = get_weighting(self.weighting)
        balancer = spec.build(len(task_names), module)
        net = MultiTaskNeuralNet(
            module=module,
            criterion=MultiTaskCriterion(taskset.tasks_, taskset.target_slices_,
                                         label_smoothing=self.label_smoothing),
            balancer=balancer,
            schedule=self.schedule,
            jacobian_mode=getattr(balancer, "mode", "parameters"),
            precision=self.precision,
            compile_options=compile_options(self.compile),
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size_,
            dataset=TensorData,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_train__shard=True,  # data-parallel training: each process's share
            iterator_valid=TensorBatchIterator,
            train_split=self._train_split(),
            callbacks=self._callbacks(task_names),
            device=device,
            verbose=main_only(self.verbose),
            **optimizer_kwargs,
        )
        self._structure_ = self._structure()
        return net.initialize()

    def _update_net(self, net: MultiTaskNeuralNet) -> None:
        """Make a fitted net follow the current parameters (warm start, partial_fit).

        Weights and optimizer state are kept; epochs, learning rate (and its schedule),
        weight decay, batch size, label smoothing, category dropout, schedule, validation
        split, verbosity and callbacks are the current ones.
        """
        net.max_epochs = self.max_epochs
        net.batch_size = self.batch_size_
        net.criterion_.set_label_smoothing(self.label_smoothing)
        for layer in net.module_.modules():  # a training-time replacement, not structure
            if isinstance(layer, FeatureEmbedding):
                layer.category_dropout = float(self.category_dropout)
        net.schedule = self.schedule
        net.precision = self.precision
        net.compile_options = compile_options(self.compile)
        net.verbose = main_only(self.verbose)
        net.train_split = self._train_split()
        net.set_params(lr=self.lr)  # skorch updates the optimizer's groups, keeps its state
        balancer = {id(p) for p in net.balancer_.parameters()}
        for group in net.optimizer_.param_groups:
            own = any(id(p) in balancer for p in group["params"])
            group["weight_decay"] = 0.0 if own else self.weight_decay_
        net.callbacks = self._callbacks(list(net.criterion_.names))
        net.initialize_callbacks()
