"""Models made of several fitted estimators, as one torch module exported to ONNX:
:class:`skmtl.MultiTaskEnsemble` (its members' outputs combined as ``predict`` combines
them) and :class:`skmtl.TaskGrouping` (each task from its group's estimator).

Each member reads its own inputs (its own encoding of the same ONNX inputs: members
fitted on different rows have different category codes and quantiles); ``counts`` says
how many of the module's inputs each member takes, in order.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..tasks._regression import output_to_values, values_to_output
from ._postprocess import TaskOutputs
from ._torch_graph import ExportModule, NetworkOutputs

#: As ``skmtl._ensemble``: added to probabilities before their log.
_EPS = 1e-12


def _split(inputs: tuple[torch.Tensor, ...], counts: list[int]) -> list[tuple[torch.Tensor, ...]]:
    parts, start = [], 0
    for count in counts:
        parts.append(inputs[start:start + count])
        start += count
    return parts


class EnsembleModule(nn.Module):
    """A fitted ``MultiTaskEnsemble``: its members' raw outputs combined per task as
    ``MultiTaskEnsemble._combined`` does (the mean of regression values in the first
    member's target space; the mean of probabilities, after each member's temperature,
    or of votes with ``voting="hard"``), then decoded with the ensemble's thresholds.

    Parameters
    ----------
    ensemble : MultiTaskEnsemble
        Fitted.
    counts : list of int
        The number of inputs each member reads.
    """

    def __init__(self, ensemble: Any, counts: list[int]):
        super().__init__()
        members = ensemble.estimators_
        self.counts = list(counts)
        self.members = nn.ModuleList(NetworkOutputs(m) for m in members)
        self.kinds = [task.kind for task in ensemble.tasks_]
        self.soft = ensemble.voting == "soft"
        # per member and task: temperature, and the target's link, mean, scale (regression)
        self.temperatures = [[float((getattr(m, "temperatures_", None) or {}).get(t.name_, 1.0))
                              for t in m.tasks_] for m in members]
        self.affine = [[(getattr(t, "link_", "identity"), float(getattr(t, "mean_", 0.0)),
                         float(getattr(t, "scale_", 1.0))) for t in m.tasks_] for m in members]
        self.tasks = nn.ModuleList(TaskOutputs(ensemble, task) for task in ensemble.tasks_)

    def _combine(self, t: int, outs: list[torch.Tensor]) -> torch.Tensor:
        kind = self.kinds[t]
        if kind == "regression":  # each member's values, in the first member's space
            values = [output_to_values(out.double(), *affine[t])
                      for out, affine in zip(outs, self.affine)]
            return values_to_output(torch.stack(values).mean(dim=0), *self.affine[0][t])
        if self.soft:
            logits = [out.double() / temperature[t]
                      for out, temperature in zip(outs, self.temperatures)]
            p = torch.stack([torch.sigmoid(z) if kind == "multilabel" else torch.softmax(z, dim=1)
                             for z in logits]).mean(dim=0)
        elif kind == "multilabel":
            p = torch.stack([(out > 0).double() for out in outs]).mean(dim=0)
        else:
            p = torch.stack([nn.functional.one_hot(torch.argmax(out, dim=1), out.shape[1])
                             .double() for out in outs]).mean(dim=0)
        if kind == "multilabel":
            return torch.log(p + _EPS) - torch.log(1 - p + _EPS)
        return torch.log(p + _EPS)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every task's outputs, flattened into one tuple (see ``TaskOutputs``)."""
        per_member = [member(*given) for member, given
                      in zip(self.members, _split(inputs, self.counts))]
        result: list[torch.Tensor] = []
        for t, task in enumerate(self.tasks):
            result.extend(task(self._combine(t, [outs[t] for outs in per_member])))
        return tuple(result)


class GroupingModule(nn.Module):
    """A fitted ``TaskGrouping``: each group's estimator exported as it is, its tasks'
    outputs put in the order of the grouping's tasks.

    Parameters
    ----------
    grouping : TaskGrouping
        Fitted.
    counts : list of int
        The number of inputs each group's estimator reads.
    """

    def __init__(self, grouping: Any, counts: list[int]):
        super().__init__()
        self.counts = list(counts)
        self.groups = nn.ModuleList(ExportModule(est) for est in grouping.estimators_)
        # where each task's outputs come from: (group, position of its first output, width)
        place, sources = {}, []
        for g, est in enumerate(grouping.estimators_):
            k = 0
            for task in est.tasks_:
                width = 1 if task.kind == "regression" else 2
                place[task.name_] = (g, k, width)
                k += width
        for task in grouping.tasks_:
            sources.append(place[task.name_])
        self.sources = sources

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every task's outputs in the grouping's task order (see ``TaskOutputs``)."""
        per_group = [group(*given) for group, given
                     in zip(self.groups, _split(inputs, self.counts))]
        result: list[torch.Tensor] = []
        for g, k, width in self.sources:
            result.extend(per_group[g][k:k + width])
        return tuple(result)
