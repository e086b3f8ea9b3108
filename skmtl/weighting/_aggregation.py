"""Gradient-level balancing: aggregate the per-task gradients with a torchjd aggregator."""

from __future__ import annotations

import torch
from sklearn.utils._param_validation import StrOptions
from torchjd.autojac import backward as jac_backward
from torchjd.autojac import jac_to_grad

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
    """Backward pass that aggregates the task gradients with a torchjd aggregator.

    Parameters
    ----------
    n_tasks : int
    aggregator : torchjd.aggregation.Aggregator
    mode : {"representation", "parameters"}
        Whose Jacobian is aggregated: the shared representation's (one backward per
        task through the heads, then one through the trunk) or the shared parameters'.
    """

    def __init__(self, n_tasks: int, aggregator, mode: str):
        super().__init__(n_tasks)
        self.aggregator = aggregator
        self.mode = mode

    def aggregate(self, matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The aggregated update of a Jacobian and the task weights it implies.

        Weighted torchjd aggregators (all but GradDrop) are asked for their weights
        once, and the update is ``weights @ matrix``, exactly as their ``forward``
        computes it; for the others the weights are recovered by least squares.

        Parameters
        ----------
        matrix : torch.Tensor of shape (n_tasks, n)

        Returns
        -------
        update : torch.Tensor of shape (n,)
        weights : torch.Tensor of shape (n_tasks,)
        """
        weighting = getattr(self.aggregator, "weighting", None)
        if weighting is not None:
            # The solvers (e.g. MGDA's Frank-Wolfe loop) are many tiny tensor operations;
            # inference mode trims the per-operation overhead (about 25 % for MGDA's).
            with torch.inference_mode():
                weights = weighting(matrix)
            weights = weights.clone()  # a normal tensor again
            return weights @ matrix, weights
        update = self.aggregator(matrix)
        return update, implied_weights(self.aggregator, matrix, update)

    def train_step(self, module, criterion, X, y, active=None):
        if self.mode == "representation":
            return self._representation_step(module, criterion, X, y)
        y_pred = module(X)
        losses, counts = criterion.task_losses(y_pred, y)
        scaled = losses * criterion.weights
        task_params = [p for t in range(self.n_tasks) for p in module.task_parameters(t)
                       if p.requires_grad]
        if task_params:  # each task's own parameters get that task's gradient
            torch.autograd.backward(scaled.sum(), inputs=task_params, retain_graph=True)
        shared = [p for p in module.shared_parameters() if p.requires_grad]
        jac_backward(scaled, inputs=shared)
        has_weighting = getattr(self.aggregator, "weighting", None) is not None
        if has_weighting:
            weights = jac_to_grad(shared, self.aggregator).detach()
        else:  # e.g. GradDrop: recover the weights from the Jacobian and the update
            matrix = torch.cat([p.jac.reshape(self.n_tasks, -1) for p in shared], dim=1)
            before = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in shared]
            jac_to_grad(shared, self.aggregator)
            update = torch.cat([(p.grad - b).reshape(-1) for p, b in zip(shared, before)])
            weights = implied_weights(self.aggregator, matrix, update)
        return {"loss": scaled.detach().sum(), "y_pred": y_pred, "task_losses": losses.detach(),
                "task_counts": counts, "task_weights": weights.to(scaled) * criterion.weights}

    def _representation_step(self, module, criterion, X, y):
        """One backward per task through its head only, one through the trunk.

        Each task's backward yields its row of the Jacobian with respect to the shared
        representation and, at the same time, the gradient of its own parameters.
        """
        features = module.represent(X)
        detached = features.detach().requires_grad_()
        y_pred = module.heads_forward(detached)
        loss_list, counts = criterion.task_loss_list(y_pred, y)
        static = criterion.weights.tolist()
        rows = []
        for t, loss in enumerate(loss_list):
            scaled = loss if static[t] == 1.0 else loss * static[t]
            params = [p for p in module.task_parameters(t) if p.requires_grad]
            grads = torch.autograd.grad(scaled, [detached, *params], allow_unused=True,
                                        retain_graph=t < self.n_tasks - 1)
            rows.append(torch.zeros_like(detached) if grads[0] is None else grads[0])
            for p, g in zip(params, grads[1:]):
                if g is not None:
                    p.grad = g if p.grad is None else p.grad + g
        matrix = torch.stack(rows).reshape(self.n_tasks, -1)
        update, weights = self.aggregate(matrix)
        features.backward(update.view_as(features))
        losses = torch.stack(loss_list).detach()
        return {"loss": (losses * criterion.weights).sum(), "y_pred": y_pred,
                "task_losses": losses, "task_counts": counts,
                "task_weights": weights.to(losses) * criterion.weights}


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
    the aggregator implies on the task gradients are recorded each epoch.

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
        return AggregatingBalancer(n_tasks, self._aggregator(n_tasks), mode)
