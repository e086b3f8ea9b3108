"""A fitted estimator's network, with skmtl's numeric encoding before it and the tasks'
decoding after it, as one torch module exported to an ONNX graph by torch."""

from __future__ import annotations

import copy
import io
import warnings
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from ..architectures import combine_members
from ..tabular._encoder import binary_scale
from ._postprocess import TaskOutputs
from ._quantile import QuantileNormal


class NumericEncoding(nn.Module):
    """The numeric part of a fitted :class:`~skmtl.tabular.TabularEncoder`'s transform.

    Reads the non-categorical columns (float64, NaN for missing values, in X's column
    order) and the categorical codes (int64, from the ONNX-ML label encoders before
    the graph), and returns the float32 matrix ``TabularEncoder.transform`` returns.

    Parameters
    ----------
    encoder : skmtl.tabular.TabularEncoder
        Fitted.
    """

    def __init__(self, encoder: Any):
        super().__init__()
        plain = sorted(encoder.numeric_ + encoder.binary_)
        position = {j: i for i, j in enumerate(plain)}
        self.numeric = [position[j] for j in encoder.numeric_]
        self.binary = [position[j] for j in encoder.binary_]
        self.indicators = [position[j] for j in encoder.indicators_]
        self.n_codes = len(encoder.categorical_)
        self.transform = None
        self.affine = False
        transformer = encoder.transformer_
        if transformer is not None and self.numeric:
            if encoder.numeric_transform == "quantile":
                self.transform = QuantileNormal(transformer)
            else:  # RobustScaler / StandardScaler: (x - centre) / scale
                centre = getattr(transformer, "center_", getattr(transformer, "mean_", None))
                scale = transformer.scale_
                n = len(self.numeric)
                self.affine = True
                self.register_buffer("shift", torch.as_tensor(
                    np.zeros(n) if centre is None else np.asarray(centre, dtype=np.float64)))
                self.register_buffer("scale", torch.as_tensor(
                    np.ones(n) if scale is None else np.asarray(scale, dtype=np.float64)))
        scales = np.array([binary_scale(values) for values in encoder.binary_values_],
                          dtype=np.float64).reshape(-1, 2)
        self.register_buffer("binary_low", torch.as_tensor(scales[:, 0]))
        self.register_buffer("binary_inverse_span", torch.as_tensor(scales[:, 1]))

    def forward(self, numbers: torch.Tensor | None, codes: torch.Tensor | None) -> torch.Tensor:
        """The encoded matrix of a batch."""
        parts = []
        if self.numeric:
            values = numbers[:, self.numeric]
            if self.transform is not None:
                values = self.transform(values)
            elif self.affine:
                values = (values - self.shift) / self.scale
            values = torch.where(torch.isnan(values), torch.zeros_like(values), values)
            parts.append(values.float())
        if self.binary:  # as TabularEncoder: low -> 0, high -> 1, clipped; missing -> 0
            values = numbers[:, self.binary]
            values = torch.where(torch.isnan(values), self.binary_low.expand_as(values), values)
            parts.append(torch.clamp((values - self.binary_low) * self.binary_inverse_span,
                                     0.0, 1.0).float())
        if self.indicators:
            parts.append(torch.isnan(numbers[:, self.indicators]).float())
        if self.n_codes:
            parts.append(codes.float())
        return torch.cat(parts, dim=1)


class NetworkOutputs(nn.Module):
    """Inputs -> (encoding) -> network -> each task's raw output, TabM members combined:
    what the estimator's ``_outputs`` gives, before the tasks' decoding.

    Parameters
    ----------
    estimator : BaseMultiTask
        A fitted skmtl estimator.
    """

    def __init__(self, estimator: Any):
        super().__init__()
        self.network = copy.deepcopy(estimator.net_.module_).cpu().eval()
        encoder = getattr(estimator, "preprocessor_", None)
        self.encoding = None if encoder is None else NumericEncoding(encoder)
        self.has_numbers = encoder is not None and bool(encoder.numeric_ or encoder.binary_)
        self.has_codes = encoder is not None and bool(encoder.categorical_)
        self.kinds = [task.kind for task in estimator.tasks_]
        shapes = getattr(estimator, "input_shapes_", None)
        self.input_keys = list(shapes) if isinstance(shapes, dict) else None

    def forward(self, *inputs: torch.Tensor) -> list[torch.Tensor]:
        """Every task's raw output, float32 (n, width)."""
        if self.encoding is not None:
            given = list(inputs)
            numbers = given.pop(0) if self.has_numbers else None
            codes = given.pop(0) if self.has_codes else None
            X = self.encoding(numbers, codes)
        elif len(inputs) == 1:
            X = inputs[0]
        else:
            X = dict(zip(self.input_keys, inputs))
        outputs = self.network(X)
        return [combine_members(out, kind) for out, kind in zip(outputs, self.kinds)]


class ExportModule(nn.Module):
    """:class:`NetworkOutputs` then each task's decoding (:class:`TaskOutputs`): what
    ``predict`` and ``predict_proba`` give.

    Parameters
    ----------
    estimator : BaseMultiTask
        Fitted; its tasks, temperatures and thresholds decode the outputs.
    """

    def __init__(self, estimator: Any):
        super().__init__()
        self.outputs = NetworkOutputs(estimator)
        self.tasks = nn.ModuleList(TaskOutputs(estimator, task) for task in estimator.tasks_)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every task's outputs, flattened into one tuple (see ``TaskOutputs``)."""
        result: list[torch.Tensor] = []
        for out, task in zip(self.outputs(*inputs), self.tasks):
            result.extend(task(out))
        return tuple(result)


def export_graph(module: ExportModule, samples: list[torch.Tensor], input_names: list[str],
                 output_names: list[str], opset: int, culprit: str) -> onnx.ModelProto:
    """Export ``module`` with torch's ONNX exporter (TorchScript-based, batch axis dynamic).

    Parameters
    ----------
    module : ExportModule
    samples : list of torch.Tensor
        One sample batch per input.
    input_names, output_names : list of str
    opset : int
        Opset of the default ONNX domain.
    culprit : str
        The module to name when torch cannot export it.

    Returns
    -------
    onnx.ModelProto
    """
    buffer = io.BytesIO()
    axes = {name: {0: "n"} for name in input_names + output_names}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.no_grad():
                torch.onnx.export(
                    module, tuple(samples), buffer, input_names=input_names,
                    output_names=output_names, dynamic_axes=axes, opset_version=opset,
                    dynamo=False, do_constant_folding=True,
                )
    except Exception as exc:  # noqa: BLE001 - any failure of torch's exporter is reported
        raise TypeError(
            f"torch.onnx.export cannot export the network of this model ({culprit}); "
            f"torch's exporter said: {type(exc).__name__}: {exc}. Only networks built from "
            "operations that ONNX supports can be exported: replace the unsupported layer, "
            "or keep the model in Python."
        ) from exc
    return onnx.load_from_string(buffer.getvalue())
