"""Gradient-level balancing: aggregate the per-task gradients with a torchjd aggregator."""

from __future__ import annotations

import torch
from sklearn.utils._param_validation import StrOptions

from ._base import Balancer, Weighting


def implied_weights(aggregator, matrix: torch.Tensor, update: torch.Tensor) -> torch.Tensor:
    """The weights ``w`` with ``update = w @ matrix`` (exact for Gramian-based aggregators).

    Parameters
    ----------
    aggregator : torchjd.aggregation.Aggregator
    matrix : torch.Tensor of shape (n_tasks, n)
        The Jacobian, one row per task.
    update : torch.Tensor of shape (n,)
        The aggregator's output.

    Returns
    -------
    torch.Tensor of shape (n_tasks,)
    """
    weighting = getattr(aggregator, "weighting", None)
    if weighting is not None:
        return weighting(matrix).detach()
    solution = torch.linalg.lstsq(matrix.T.double(), update.double().unsqueeze(1)).solution
    return solution.squeeze(1).to(update.dtype).detach()


class AggregatingBalancer(Balancer):
    """Combine the present tasks' gradients with a torchjd aggregator.

    The step's :class:`~skmtl.weighting._jacobian.TaskGradients` gives the Jacobian of
    the present tasks' losses (on the shared representation or parameters, by
    ``mode``); the aggregator turns it into one update, which goes back to the shared
    parameters. A task absent from the batch (no labelled row of positive weight) is
    not a row of the Jacobian: a zero row would draw MGDA's weight onto itself and
    zero the update. Its weight for the step is 0.

    Parameters
    ----------
    n_tasks : int
    make_aggregator : callable
        ``make_aggregator(k)`` returns a torchjd aggregator for ``k`` rows. One
        aggregator is kept per set of present tasks, so stateful ones (NashMTL) keep a
        state of the right size.
    mode : {"representation", "parameters"}
    save_state, load_state : callable, default=None
        For a stateful aggregator: ``save_state(aggregator)`` gives its state as a dict
        of tensors and numbers, ``load_state(aggregator, state)`` restores it. The
        states of all kept aggregators are the balancer's extra state, so a checkpoint
        (``state_dict``) holds them and a resumed fit continues exactly where it stopped.
    """

    jacobian = "shared"

    def __init__(self, n_tasks: int, make_aggregator, mode: str, save_state=None,
                 load_state=None):
        super().__init__(n_tasks)
        self.make_aggregator = make_aggregator
        self.mode = mode
        self.save_state = save_state
        self.load_state = load_state
        self._aggregators: dict[tuple[int, ...], object] = {}

    def get_extra_state(self) -> dict:
        """The kept aggregators' states, keyed by their present tasks (``"0,2"``)."""
        if self.save_state is None:
            return {}
        return {",".join(map(str, tasks)): self.save_state(aggregator)
                for tasks, aggregator in self._aggregators.items()}

    def set_extra_state(self, state: dict) -> None:
        """Restore the states :meth:`get_extra_state` gave."""
        for key, saved in state.items():
            tasks = tuple(int(t) for t in key.split(","))
            self.load_state(self.aggregator(tasks), saved)

    def aggregator(self, tasks: tuple[int, ...]):
        """The aggregator used when exactly ``tasks`` are present."""
        if tasks not in self._aggregators:
            self._aggregators[tasks] = self.make_aggregator(len(tasks))
        return self._aggregators[tasks]

    def aggregate(self, matrix: torch.Tensor, aggregator=None) -> tuple[torch.Tensor, torch.Tensor]:
        """The aggregated update of a Jacobian and the task weights it implies.

        Weighted torchjd aggregators (all but GradDrop) are asked for their weights
        once, and the update is ``weights @ matrix``, exactly as their ``forward``
        computes it; for the others the weights are recovered by least squares.

        Parameters
        ----------
        matrix : torch.Tensor of shape (k, n)
        aggregator : torchjd.aggregation.Aggregator, default=None
            None: the one for all tasks.

        Returns
        -------
        update : torch.Tensor of shape (n,)
        weights : torch.Tensor of shape (k,)
        """
        if aggregator is None:
            aggregator = self.aggregator(tuple(range(len(matrix))))
        weighting = getattr(aggregator, "weighting", None)
        if weighting is not None:
            # The solvers (e.g. MGDA's Frank-Wolfe loop) are many tiny tensor operations;
            # inference mode trims the per-operation overhead (about 25 % for MGDA's).
            with torch.inference_mode():
                weights = weighting(matrix)
            weights = weights.clone()  # a normal tensor again
            return weights @ matrix, weights
        update = aggregator(matrix)
        return update, implied_weights(aggregator, matrix, update)

    def backward(self, losses, present, gradients=None):
        if gradients is None:  # nothing shared is trainable: nothing to aggregate
            return self.independent(losses, present)
        tasks = tuple(t for t, p in enumerate(present) if p)
        weights = torch.zeros(self.n_tasks, dtype=losses[0].dtype, device=losses[0].device)
        if not tasks:
            return weights
        matrix = gradients.jacobian(losses, tasks)
        if len(tasks) == 1:  # one gradient: nothing to combine
            update, present_weights = matrix[0], torch.ones(1, device=matrix.device)
        else:
            update, present_weights = self.aggregate(matrix, self.aggregator(tasks))
        gradients.apply(update)
        weights[list(tasks)] = present_weights.to(weights)
        return weights


class Aggregation(Weighting):
    """Base class of gradient-level methods, each wrapping a torchjd aggregator.

    Every step computes each task's gradient and lets the aggregator combine them into
    one update (instead of summing them). Two modes:

    * ``"representation"``: the Jacobian of the task losses with respect to the shared
      representation ``z`` (one backward per task through the heads only, then one
      backward of the aggregated ``dz`` through the trunk). Far cheaper; valid when all
      tasks read one shared representation, i.e. ``architecture="shared_bottom"``
      (with or without a user trunk). It balances the tasks' gradients on ``z``, not
      on the parameters (Sener and Koltun's MGDA-UB argument).
    * ``"parameters"``: the exact Jacobian with respect to all shared parameters (one
      row per task), for any architecture.
    * ``"auto"`` (default): ``"representation"`` where valid, else ``"parameters"``.

    Task-specific parameters always receive their own task's gradient. The weights
    the aggregator implies on the task gradients are recorded each epoch. Tasks
    without a labelled row in a batch are left out of that step's aggregation (weight
    0). With no trainable shared parameter (``architecture="separate"``,
    ``freeze="trunk"``) there is nothing to aggregate: each task trains its own
    parameters with its own gradient.

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    level = "gradient"
    _parameter_constraints = {"mode": [StrOptions({"auto", "representation", "parameters"})]}

    def __init__(self, mode="auto"):
        self.mode = mode

    def _aggregator(self, n_tasks: int):
        raise NotImplementedError

    def _build(self, n_tasks, module):
        can_split = getattr(module, "has_shared_representation", False)
        mode = self.mode
        if mode == "auto":
            mode = "representation" if can_split else "parameters"
        elif mode == "representation" and not can_split:
            raise ValueError(
                f"{type(self).__name__}(mode='representation') needs one shared representation "
                f"read by every task, which {type(module).__name__} does not have; use "
                "architecture='shared_bottom' or mode='parameters'."
            )
        balancer = AggregatingBalancer(n_tasks, self._aggregator, mode,
                                       getattr(self, "_save_state", None),
                                       getattr(self, "_load_state", None))
        balancer.aggregator(tuple(range(n_tasks)))  # a missing solver fails here, before training
        return balancer
