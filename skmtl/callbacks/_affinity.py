"""Gradient affinity between tasks, measured during training and recorded per epoch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from skorch.callbacks import Callback, PrintLog
from skorch.utils import to_tensor

from ..weighting._jacobian import shared_trainable

#: History keys the callback records every epoch.
AFFINITY_KEY, COUNT_KEY, SQUARE_KEY = "task_affinity", "task_affinity_n", "task_affinity_sq"


def affinity_mode(module: torch.nn.Module, context: str = "") -> str:
    """Where the gradient affinity of ``module``'s tasks is measured.

    Parameters
    ----------
    module : MultiTaskModule
    context : str, default=""
        The settings that built the network (e.g. ``"architecture='separate'"``), quoted
        in the error.

    Returns
    -------
    {"representation", "parameters"}
        "representation" when every task reads one shared representation
        (``module.has_shared_representation``), else "parameters" (the trainable
        shared parameters).

    Raises
    ------
    ValueError
        When the tasks share nothing trainable, so their gradients have nothing in
        common to compare.
    """
    if module.has_shared_representation:
        return "representation"
    if shared_trainable(module, "parameters"):
        return "parameters"
    built = f", built with {context}" if context else ""
    raise ValueError(
        f"task_affinity=True compares the tasks' gradients on what they share, but this "
        f"network ({type(module).__name__}{built}) has no shared representation and no "
        "trainable shared parameter. Use an architecture that shares (e.g. "
        "architecture='shared_bottom' or 'mmoe'), do not freeze every shared layer "
        "(freeze=None or 'all_but_heads' only with a shared representation), or set "
        "task_affinity=False."
    )


class GradientAffinity(Callback):
    """Record the cosine similarity between the tasks' gradients during training.

    Every ``interval``-th training step (counted across epochs and across the fit
    calls that continue a network), before the step, the callback measures on that
    step's batch each task's gradient of its own masked training loss (without the
    static task weights: the cosine is scale-free) with respect to:

    * the shared representation ``z`` every head reads (``module.represent``), when the
      network has one (``has_shared_representation``: shared-bottom networks, with or
      without a user trunk or tabular embeddings, and TabM); the gradient of the
      batch's loss with respect to the ``(rows, width)`` matrix ``z``, flattened; only
      the heads are differentiated (the trunk runs once without a graph), so the
      measurement is cheap. Two tasks labelled on different rows of a batch have
      gradients on different rows of ``z``: their cosine there is 0;
    * otherwise the trainable shared parameters (MMoE, CGC, PLE, cross-stitch): one
      forward pass and one backward pass per task through the shared layers, so a
      measurement costs about ``T / 4`` to ``T / 2`` training steps for ``T`` tasks
      (raise ``interval`` for many tasks).

    The cosine of tasks ``i`` and ``j`` is recorded for that step when both have a
    labelled row of positive weight in the batch and a non-zero, finite gradient. The
    measurement runs with the network in eval mode (restored afterwards) and only
    through :func:`torch.autograd.grad`, so it draws no dropout randomness, changes no
    batch-norm statistic and leaves the parameters' ``.grad`` alone: training with
    the callback ends with exactly the parameters it would without.

    At the end of each epoch it records in the History, as ``T x T`` nested lists in
    task order:

    * ``task_affinity``: the mean cosine over the epoch's measured steps (NaN for a
      pair never measured that epoch; 1.0 on the diagonal for a measured task);
    * ``task_affinity_n``: how many steps measured each pair (the diagonal: each task);
    * ``task_affinity_sq``: the mean squared cosine, from which the standard error over
      steps follows (see :func:`history_affinity`).

    The sums stay on the device during the epoch and are read once at its end. In
    data-parallel training each process measures on its share of the batch, and one
    all-reduce pools the processes' sums and counts, so every process records the same
    values (``task_affinity_n`` then counts the measurements of all processes).

    Parameters
    ----------
    task_names : sequence of str
        Names of the tasks, in the network's output order.
    interval : int, default=10
        Measure every ``interval``-th training step.

    Examples
    --------
    The estimators add it with ``task_affinity=True``:

    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> X = np.random.RandomState(0).normal(size=(256, 3))
    >>> Y = np.column_stack([X[:, 0], 2 * X[:, 0], X[:, 1]])
    >>> model = MultiTaskRegressor(task_affinity=True, affinity_interval=2, max_epochs=3,
    ...                            random_state=0).fit(X, Y)
    >>> np.asarray(model.history_[-1, "task_affinity"]).shape
    (3, 3)
    """

    def __init__(self, task_names: Sequence[str], interval: int = 10):
        self.task_names = task_names
        self.interval = interval

    def initialize(self):
        if isinstance(self.interval, bool) or not isinstance(self.interval, Integral) \
                or self.interval < 1:
            raise ValueError(f"interval of GradientAffinity must be an int >= 1; got "
                             f"{self.interval!r}.")
        self.mode_: str | None = None
        self.steps_ = 0
        self._reset()
        return self

    def _reset(self) -> None:
        # the epoch's sums on the device, shape (3, T, T): cosines, squared cosines and
        # counts of every pair
        self.sums_: torch.Tensor | None = None

    def on_train_begin(self, net, **kwargs):
        self.mode_ = affinity_mode(net.module_)
        for _, callback in net.callbacks_:  # matrices do not fit in the printed table
            if isinstance(callback, PrintLog):
                callback.keys_ignored_ |= {AFFINITY_KEY, COUNT_KEY, SQUARE_KEY}
        # steps continue the network's count (warm start, partial_fit, resumed checkpoint)
        self.steps_ = sum(int(row.get("train_batch_count", 0)) for row in net.history)

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self.steps_ += 1
        if self.steps_ % self.interval == 0:
            self._measure(net, batch)

    def _gradients(self, net, X, y) -> tuple[torch.Tensor, torch.Tensor]:
        """Each task's flattened gradient (rows of a (T, D) float32 matrix) and the
        per-task labelled-row totals."""
        module = net.module_
        representation = self.mode_ == "representation"

        def forward(module, X):
            if representation:
                with torch.no_grad():  # only the heads are differentiated
                    z = module.represent(X)
                z = z.detach().requires_grad_()
                return module.heads_forward(z), [z]
            return module(X), [p for p in module.shared_parameters() if p.requires_grad]

        amp = net._mixed_precision()
        if amp is None:
            y_pred, inputs = forward(module, X)
        else:  # autocast as in the step (and with "16", the scaled gradient: cosine unchanged)
            y_pred, inputs = amp.forward(forward, module, X)
        losses, totals = net.criterion_.task_losses(y_pred, y, training=True)
        # one backward per task: on the CPU, faster than torchjd's batched Jacobian
        # (vmap), 2x for the heads only and 1.2-5x through shared parameters (measured)
        sizes = [x.numel() for x in inputs]
        rows = torch.zeros(len(losses), sum(sizes), device=inputs[0].device)
        for t, loss in enumerate(losses):
            if not loss.requires_grad:
                continue
            grads = torch.autograd.grad(loss, inputs, retain_graph=t < len(losses) - 1,
                                        allow_unused=True)
            for g, part in zip(grads, rows[t].split(sizes)):
                if g is not None:
                    part.copy_(g.reshape(-1))
        return rows, totals

    def _measure(self, net, batch) -> None:
        """The cosines of one batch, added to the epoch's sums (on the device)."""
        Xi, yi = batch
        with evaluating(net.module_), torch.enable_grad():
            rows, totals = self._gradients(net, to_tensor(Xi, device=net.device), yi)
        # sums in float64 (float32 on MPS, which has no float64)
        dtype = torch.float32 if rows.device.type == "mps" else torch.float64
        gram = (rows @ rows.T).to(dtype)
        norms = gram.diagonal().sqrt()
        ok = ((totals.to(norms.device) > 0) & (norms > 0) & torch.isfinite(norms)).to(dtype)
        valid = ok[:, None] * ok[None, :]
        cosine = (gram / (norms[:, None] * norms[None, :])).clamp_(-1.0, 1.0)
        cosine.fill_diagonal_(1.0)
        cosine = cosine.nan_to_num_(0.0, 0.0, 0.0).mul_(valid)  # unmeasured pairs: 0
        step = torch.stack([cosine, cosine * cosine, valid])
        self.sums_ = step if self.sums_ is None else self.sums_.add_(step)

    def on_epoch_end(self, net, **kwargs):
        n = len(self.task_names)
        packed = torch.zeros(3, n, n, dtype=torch.float64) if self.sums_ is None else self.sums_
        packed = _pool(packed)
        # the epoch's one read from the device
        sums, squares, counts = packed.cpu().double().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, sums / counts, np.nan)
            square = np.where(counts > 0, squares / counts, np.nan)
        net.history.record(AFFINITY_KEY, mean.tolist())
        net.history.record(COUNT_KEY, counts.astype(int).tolist())
        net.history.record(SQUARE_KEY, square.tolist())
        self._reset()  # a pickled net holds no device tensors


def _pool(packed: torch.Tensor) -> torch.Tensor:
    """In data-parallel training, the sum of ``packed`` over the processes."""
    from .._training import _distributed  # imported late: it imports this package

    if _distributed.world() is None:
        return packed
    moved = packed.to(_distributed._comm_device())
    torch.distributed.all_reduce(moved)
    return moved


def history_affinity(history, task_names: Sequence[str]
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The gradient affinity over every epoch of ``history`` that recorded it.

    Pools the epochs' measurements: the mean is each epoch's mean weighted by its
    count, and the standard error is that of the mean of all the measured steps
    (their standard deviation over the square root of their number), which treats
    the steps as independent (they are not quite: consecutive steps see a similar
    network, so it understates the uncertainty somewhat).

    Parameters
    ----------
    history : skorch.history.History
        Rows with ``task_affinity``, ``task_affinity_n`` and ``task_affinity_sq``
        (recorded by :class:`GradientAffinity`); other rows are skipped.
    task_names : sequence of str

    Returns
    -------
    matrix, standard_error, n_measurements : pandas.DataFrame of shape (T, T)
        Index and columns are ``task_names``. NaN where a pair was never measured (the
        standard error also with a single measurement).
    """
    names = [str(name) for name in task_names]
    n = len(names)
    total, sums, squares = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    for row in history:
        if AFFINITY_KEY not in row:
            continue
        counts = np.asarray(row[COUNT_KEY], dtype=float)
        measured = counts > 0
        total += counts
        sums += np.where(measured, np.asarray(row[AFFINITY_KEY], dtype=float) * counts, 0.0)
        squares += np.where(measured, np.asarray(row[SQUARE_KEY], dtype=float) * counts, 0.0)
    return pooled(sums, squares, total, names)


def pooled(sums: np.ndarray, squares: np.ndarray, counts: np.ndarray,
           task_names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean and standard error of measurements pooled per task pair.

    Parameters
    ----------
    sums, squares, counts : ndarray of shape (T, T)
        Per pair: the sum of the measured values, of their squares, and their number.
    task_names : sequence of str

    Returns
    -------
    mean, standard_error, n_measurements : pandas.DataFrame of shape (T, T)
        NaN mean without a measurement, NaN standard error with fewer than two.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
        variance = np.maximum(squares - counts * mean ** 2, 0.0) / (counts - 1)
        error = np.where(counts > 1, np.sqrt(variance / counts), np.nan)
    names = [str(name) for name in task_names]

    def frame(values):
        return pd.DataFrame(values, index=names, columns=names)

    return frame(mean), frame(error), frame(counts.astype(int))


@contextmanager
def evaluating(module: torch.nn.Module) -> Iterator[None]:
    """Run ``module`` in eval mode (no dropout draw, no batch-norm statistics update),
    then give every submodule back its own mode."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
