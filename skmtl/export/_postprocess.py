"""Each task's head output turned into what ``predict`` and ``predict_proba`` return, as
torch operations exported with the network."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..tasks._regression import output_to_values


class TaskOutputs(nn.Module):
    """One task's decoded outputs from its (members-combined) head output.

    A classification task gives the index of the predicted class in ``classes_``
    (int64, mapped to the class labels after the graph) and the class probabilities
    (float32, ``classes_`` order); a multi-label task gives its 0/1 labels (int64) and
    per-label probabilities (float32); a regression task gives its values in the
    target's scale (float32; ``exp`` of the output first for a loss of log link).
    Temperature scaling and decision thresholds, when fitted, are applied as ``predict``
    and ``predict_proba`` apply them: labels and probabilities are computed in float64
    from the network's float32 output.

    Parameters
    ----------
    estimator : BaseMultiTask
        The fitted estimator (``temperatures_``, ``thresholds_``).
    task : Task
        One of its fitted tasks.
    """

    def __init__(self, estimator: Any, task: Any):
        super().__init__()
        self.kind = task.kind
        self.temperature = float((getattr(estimator, "temperatures_", None) or {}).get(task.name_, 1.0))
        threshold = (getattr(estimator, "thresholds_", None) or {}).get(task.name_)
        self.thresholded = threshold is not None
        self.register_buffer("threshold", torch.as_tensor(
            np.asarray(0.5 if threshold is None else threshold, dtype=np.float64)))
        self.mean = float(getattr(task, "mean_", 0.0))
        self.scale = float(getattr(task, "scale_", 1.0))
        self.link = getattr(task, "link_", "identity")

    def forward(self, out: torch.Tensor) -> list[torch.Tensor]:
        """The task's outputs (see the class description)."""
        if self.kind == "regression":
            return [output_to_values(out.double()[:, 0], self.link, self.mean,
                                     self.scale).float()]
        logits = out.double() / self.temperature
        if self.kind == "multilabel":
            proba = torch.sigmoid(logits)
            labels = proba >= self.threshold if self.thresholded else out > 0
            return [labels.long(), proba.float()]
        proba = torch.softmax(logits, dim=1)
        if self.thresholded:
            index = (proba[:, 1] >= self.threshold).long()
        else:
            index = torch.argmax(out, dim=1)
        return [index, proba.float()]
