"""skorch NeuralNet extended with per-task losses and a balancer in every step."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.dataset import get_len
from skorch.utils import TeeGenerator, to_tensor

from ..weighting._jacobian import shared_trainable, step_gradients
from ._compile import compile_errors, compile_module
from ._data import TensorBatchIterator
from ._distributed import StepSync, step_sync
from ._precision import MixedPrecision


def gradient_kind(module, balancer, jacobian_mode: str = "parameters") -> str | None:
    """Which per-task gradients a training step takes for ``balancer`` on ``module``.

    Parameters
    ----------
    module : MultiTaskModule
    balancer : Balancer
    jacobian_mode : {"representation", "parameters"}
        Where a balancer asking for the shared Jacobian gets it.

    Returns
    -------
    {None, "representation", "parameters", "last_shared"}
        None when the balancer needs none, or when nothing shared is trainable.
    """
    kind = balancer.jacobian
    if kind == "shared":
        kind = jacobian_mode
    return kind if shared_trainable(module, kind) else None


def train_step(module, criterion, balancer, X, y, kind: str | None,
               alternate=None, precision: MixedPrecision | None = None,
               sync: StepSync | None = None) -> dict:
    """One training step: forward -> masked per-task losses -> balancer's backward.

    Parameters
    ----------
    module : MultiTaskModule
    criterion : MultiTaskCriterion
    balancer : Balancer
    X : torch.Tensor or dict of torch.Tensor
    y : torch.Tensor
        Encoded targets then per-task row weights.
    kind : {None, "representation", "parameters", "last_shared"}
        See :func:`gradient_kind`.
    alternate : callable or None, default=None
        Alternating training: maps the present tasks to the one task trained.
    precision : MixedPrecision or None, default=None
        Autocast of the forward pass (outputs back in float32 before the losses); None
        runs it in float32.
    sync : StepSync or None, default=None
        Data-parallel training: this process's batch is its share of the global batch,
        whose per-task losses, gradients and weights the step reduces across processes.

    Returns
    -------
    dict
        ``loss``, ``y_pred``, ``task_losses``, ``task_counts`` and ``task_weights``
        (and ``sync`` with ``sync``).
    """
    if precision is None:
        y_pred, gradients = step_gradients(module, X, kind)
    else:
        y_pred, gradients = precision.forward(step_gradients, module, X, kind)
    losses, totals = criterion.task_losses(y_pred, y, training=True)
    if sync is not None:  # the shard's share of the global batch's losses, global counts
        losses, totals = sync.global_losses(losses, totals, len(y))
    # Which tasks are present. Dense tasks are in every batch. Otherwise a balancer
    # with ``device_presence`` gets a device mask; the others (and the alternating
    # schedule) branch in Python on a list, read back from the device (one sync).
    if all(criterion.dense):
        present = [True] * len(losses)
    elif alternate is None and getattr(balancer, "device_presence", False):
        present = totals > 0
    else:
        present = (totals > 0).tolist()
    scaled = [loss if w == 1.0 else loss * w for loss, w in zip(losses, criterion.static_weights)]
    if alternate is not None:
        present = alternate(present)
        # the other tasks get no gradient at all (not a zero one, which a momentum
        # optimizer would still apply), so their heads stay unchanged
        scaled = [s if p else s.detach() for s, p in zip(scaled, present)]
    weights = balancer.backward(scaled, present, gradients)
    detached = torch.stack(losses).detach()
    if sync is not None:  # average the gradients, and the losses and weights reported
        detached, weights = sync.average(detached, weights.to(detached))
    step = {"loss": (detached * criterion.weights).sum(), "y_pred": y_pred,
            "task_losses": detached, "task_counts": totals,
            "task_weights": weights.to(detached) * criterion.weights}
    if sync is not None:
        step["sync"] = sync
    return step


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` whose training step runs forward -> masked per-task losses
    -> balancer -> optimizer.

    The criterion must be a :class:`~skmtl._training.MultiTaskCriterion`; the balancer
    (``balancer``, a :class:`~skmtl.weighting.Balancer`) becomes ``balancer_``, whose
    parameters the optimizer trains in a group without weight decay. Each train and
    validation step returns, besides skorch's ``loss`` and ``y_pred``,
    ``task_losses`` (a detached tensor of shape ``(n_tasks,)``), ``task_counts`` (the
    total weight of each task's labelled rows) and, in training, ``task_weights``,
    which callbacks receive in ``on_batch_end``.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNet``.
    balancer : Balancer
        Turns the per-task losses into gradients.
    schedule : {"joint", "alternating"}, default="joint"
        "alternating" trains one task per step, round-robin over the tasks present in
        the batch.
    jacobian_mode : {"representation", "parameters"}, default="parameters"
        Where a balancer that asks for the shared Jacobian gets it.
    precision : {"32", "bf16", "16"}, default="32"
        Autocast of the forward passes (see :class:`~skmtl._training._precision.MixedPrecision`).
    compile_options : dict or None, default=None
        Keyword arguments of ``torch.compile`` for the module's forward; None: not
        compiled. (skorch's own ``compile`` would replace ``module_`` by its wrapper.)
    """

    # Pickled apart and loaded with a map_location, as skorch does for ``module_``, so
    # that a net fitted on CUDA unpickles on a CPU-only machine: the ``module``,
    # ``criterion`` and ``balancer`` given as instances are the fitted objects
    # themselves, callbacks keep tensors (EarlyStopping's best weights), and so does
    # the gradient scaler. (Prefixes: "module" also covers ``module_``.)
    cuda_dependent_attributes_ = ["module", "criterion", "balancer", "callbacks",
                                  "mixed_precision_"]

    def __init__(self, *args, balancer=None, schedule: str = "joint",
                 jacobian_mode: str = "parameters", precision: str = "32",
                 compile_options: dict | None = None, **kwargs):
        # set before skorch's __init__, which treats later torch-module attributes as
        # components to register
        self.balancer = balancer
        self.schedule = schedule
        self.jacobian_mode = jacobian_mode
        self.precision = precision
        self.compile_options = compile_options
        super().__init__(*args, **kwargs)

    def _mixed_precision(self) -> MixedPrecision | None:
        """The autocast (and gradient scaler) of ``precision``; None for "32".

        Built on first use and kept while ``precision`` is unchanged, so that a
        warm-started fit continues with the scaler's state.
        """
        if self.precision == "32":
            return None
        amp = getattr(self, "mixed_precision_", None)
        if amp is None or amp.precision != self.precision:
            amp = MixedPrecision(self.precision, self.device)
            self.mixed_precision_ = amp
        return amp

    def _network(self):
        """What the steps call: ``module_``, or its torch.compile wrapper (built on first
        use, dropped when pickling)."""
        if self.compile_options is None:
            return self.module_
        built = self.__dict__.get("_compiled")  # (module, options, wrapper)
        if built is None or built[0] is not self.module_ or built[1] != self.compile_options:
            built = (self.module_, self.compile_options,
                     compile_module(self.module_, self.compile_options))
            object.__setattr__(self, "_compiled", built)  # not a skorch component
        return built[2]

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_compiled", None)  # a compiled module cannot be pickled
        return state

    def initialize_criterion(self):
        """Initialise the criterion and the balancer (a criterion-like module)."""
        super().initialize_criterion()
        if self.balancer is None:
            from ..weighting import Equal

            self.balancer_ = Equal().build(len(self.criterion_.names))
        else:
            self.balancer_ = self.balancer
        self.steps_done_ = 0
        return self

    def get_all_learnable_params(self):
        """The module's parameters, then the balancer's, named ``balancer_.<name>``."""
        balancer = {id(p) for p in self.balancer_.parameters()} if hasattr(self, "balancer_") else set()
        for name, param in super().get_all_learnable_params():
            yield ("balancer_." + name if id(param) in balancer else name), param

    def refresh_gradient_kind(self) -> None:
        """Decide, from what is trainable now, which per-task gradients steps take.

        Called at the start of every fit (freezing may have changed): a balancer that
        needs shared gradients gets none when nothing shared is trainable.
        """
        self.gradient_kind_ = gradient_kind(self.module_, self.balancer_, self.jacobian_mode)

    def infer(self, x, **fit_params):
        """Run the module on one batch; a dict of inputs is passed as one argument."""
        x = to_tensor(x, device=self.device)
        amp = self._mixed_precision()
        if amp is None and self.compile_options is None:
            return self.module_(x, **fit_params)
        with compile_errors():
            module = self._network()
            return module(x, **fit_params) if amp is None else amp.infer(module, x, **fit_params)

    def train_step_single(self, batch, **fit_params):
        """Forward, masked per-task losses, then the balancer's backward."""
        self._set_training(True)
        Xi, yi = batch
        with compile_errors():
            return train_step(
                self._network(), self.criterion_, self.balancer_,
                to_tensor(Xi, device=self.device), yi, getattr(self, "gradient_kind_", None),
                self._alternate if self.schedule == "alternating" else None,
                sync=step_sync(self), precision=self._mixed_precision(),
            )

    def train_step(self, batch, **fit_params):
        """skorch's step; with ``precision="16"``, gradients are unscaled (before the
        ``on_grad_computed`` callbacks) and the optimizers stepped by the scaler."""
        amp = self._mixed_precision()
        if amp is None or amp.scaler is None:
            return super().train_step(batch, **fit_params)
        accumulator = self.get_train_step_accumulator()
        self._zero_grad_optimizer()
        accumulator.store_step(self.train_step_single(batch, **fit_params))

        def notify():
            self.notify("on_grad_computed", named_parameters=TeeGenerator(
                self.get_all_learnable_params()), batch=batch, training=True)

        amp.step([getattr(self, name + "_") for name in self._optimizers],
                 self.balancer_.parameters(), before_step=notify)
        return accumulator.get_step()

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """In data-parallel training, record the global batch's size, not the shard's."""
        if training and (sync := kwargs.get("sync")) is not None:
            self.history.record_batch("train_batch_size", sync.rows)

    def _alternate(self, present: list[bool]) -> list[bool]:
        """The one task this step trains: the next present task, round-robin."""
        n = len(present)
        start = self.steps_done_ % n
        self.steps_done_ += 1
        for k in range(n):
            t = (start + k) % n
            if present[t]:
                return [i == t for i in range(n)]
        return [False] * n

    def validation_step(self, batch, **fit_params):
        """Forward and per-task losses on one validation batch, without gradients."""
        self._set_training(False)
        Xi, yi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            losses, totals = self.criterion_.task_losses(y_pred, yi)
            losses = torch.stack(losses)
            loss = self.criterion_.combine(losses)
        return {"loss": loss, "y_pred": y_pred, "task_losses": losses, "task_counts": totals}

    @property
    def _default_callbacks(self):
        # skorch's PrintLog formats a table of the History every epoch even when nothing
        # is printed (5-10 % of a small table's fit); with ``verbose=0`` it is left
        # out. ``initialize_callbacks`` reads this again, so a later ``verbose`` counts.
        callbacks = super()._default_callbacks
        if self.verbose:
            return callbacks
        return [(name, callback) for name, callback in callbacks if name != "print_log"]

    def _set_training(self, training=True):
        # skorch sets the mode of every module on every batch; skip the recursive
        # ``train()`` call when the module is already in the requested mode.
        if getattr(self, "module_", None) is not None and self.module_.training == training:
            return
        super()._set_training(training)

    def _zero_grad_optimizer(self, set_to_none=None):
        super()._zero_grad_optimizer(set_to_none=True)

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; a :class:`TensorBatchIterator` delivers batches on the net's device.

        Data on the device are sliced there; data kept in (pinned) host memory because
        they are too large for the device stream to it a chunk of batches at a time.
        """
        iterator = super().get_iterator(dataset, training=training)
        if isinstance(iterator, TensorBatchIterator) and iterator.device is None:
            iterator.device = self.device
        return iterator

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop, except that on CUDA the batch losses are read once an epoch.

        skorch reads every batch's loss to the host (``loss.item()``), a device sync per
        step. On a CUDA device the losses stay there during the loop and are written
        into the History's batch rows in one transfer when it ends, so epoch-level
        callbacks see the same History as on the CPU; ``on_batch_end`` callbacks do not
        find ``<prefix>_loss`` in the current batch row yet.
        """
        if iterator is None or not _is_cuda(self.device):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        rows, losses = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            rows.append(self.history[-1]["batches"][-1])
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            for row, value in zip(rows, torch.stack(losses).tolist()):
                row[prefix + "_loss"] = value
        self.history.record(prefix + "_batch_count", len(rows))


def _is_cuda(device) -> bool:
    return device is not None and torch.device(device).type == "cuda"
