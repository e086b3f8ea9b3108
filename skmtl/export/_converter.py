"""skl2onnx's parser, shape calculator and converter for skmtl's estimators (and their
ensembles and task groupings), registered
with ``update_registered_converter`` so that skl2onnx converts them alone or as the last
step of a Pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import torch
from onnx import TensorProto, numpy_helper
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)

from .._base import BaseMultiTask
from .._ensemble import MultiTaskEnsemble
from .._estimators import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from .._grouping import TaskGrouping
from ._combined import EnsembleModule, GroupingModule
from ._encoder import encode_inputs
from ._torch_graph import ExportModule, export_graph

#: Highest opset of the default domain asked of torch's exporter.
TORCH_OPSET = 18
#: The operator name skl2onnx knows skmtl's estimators by.
ALIAS = "SkmtlMultiTask"


def label_type(classes: np.ndarray) -> tuple[Any, int, np.ndarray]:
    """The ONNX type of a classification task's labels and its classes in that type.

    Integer classes are int64, booleans bool, other numbers float64, and anything else
    (text, mixed objects) their ``str``.
    """
    values = np.asarray(classes)
    if values.dtype.kind in "iu":
        return Int64TensorType, TensorProto.INT64, values.astype(np.int64)
    if values.dtype.kind == "b":
        return BooleanTensorType, TensorProto.BOOL, values.astype(bool)
    if values.dtype.kind == "f":
        return DoubleTensorType, TensorProto.DOUBLE, values.astype(np.float64)
    return StringTensorType, TensorProto.STRING, np.array([str(c) for c in values], dtype=object)


def output_specs(model: Any) -> list[tuple[str, Any]]:
    """(name, skl2onnx type) of every output, in the torch graph's output order."""
    specs = []
    for task in model.tasks_:
        name = task.name_
        if task.kind == "regression":
            specs.append((name, FloatTensorType([None])))
        elif task.kind == "multilabel":
            specs.append((name, Int64TensorType([None, task.n_outputs_])))
            specs.append((f"{name}_proba", FloatTensorType([None, task.n_outputs_])))
        else:
            specs.append((name, label_type(task.classes_)[0]([None])))
            specs.append((f"{name}_proba", FloatTensorType([None, task.n_outputs_])))
    return specs


def _parser(scope, model, inputs, custom_parsers=None):
    operator = scope.declare_local_operator(ALIAS, model)
    operator.inputs = list(inputs)
    for name, kind in output_specs(model):
        operator.outputs.append(scope.declare_local_variable(name, kind))
    return list(operator.outputs)


def _shape_calculator(operator) -> None:
    """Output types are set by the parser; only the batch size is checked."""


def _torch_inputs(scope, operator, container, model: Any) -> tuple[list[str], list[torch.Tensor]]:
    """The torch graph's input names (in the container) and a sample batch of each."""
    encoder = getattr(model, "preprocessor_", None)
    if encoder is not None:
        names = encode_inputs(scope, operator, container, encoder)
        samples = []
        if encoder.numeric_ or encoder.binary_:
            samples.append(torch.zeros(2, len(encoder.numeric_) + len(encoder.binary_),
                                       dtype=torch.float64))
        if encoder.categorical_:
            samples.append(torch.zeros(2, len(encoder.categorical_), dtype=torch.int64))
        return names, samples
    shapes = model.input_shapes_
    variables = list(operator.inputs)
    if isinstance(shapes, dict):  # the inputs in the order of the fitted dict's keys
        by_name = {variable.raw_name: variable for variable in variables}
        missing = [str(key) for key in shapes if str(key) not in by_name]
        if missing:
            raise ValueError(f"The model reads inputs {[str(k) for k in shapes]}, but X has no "
                             f"{missing}.")
        variables = [by_name[str(key)] for key in shapes]
        shapes = list(shapes.values())
    else:
        shapes = [shapes]
    if len(variables) != len(shapes):
        raise ValueError(f"The model reads {len(shapes)} input(s), but the ONNX graph gives "
                         f"it {len(variables)}.")
    names = []
    for variable in variables:
        if isinstance(variable.type, FloatTensorType):
            names.append(variable.onnx_name)
            continue
        cast = scope.get_unique_variable_name(f"{variable.onnx_name}_float")
        container.add_node("Cast", [variable.onnx_name], [cast], to=TensorProto.FLOAT,
                           name=scope.get_unique_operator_name("Cast"))
        names.append(cast)
    return names, [torch.zeros((2, *shape), dtype=torch.float32) for shape in shapes]


def _module(scope, operator, container, model: Any
            ) -> tuple[torch.nn.Module, list[str], list[torch.Tensor]]:
    """The torch module to export for ``model``, its input names (in the container) and a
    sample batch of each: one estimator's, or every member's in turn (ensembles and task
    groupings, whose members each encode the ONNX inputs their own way)."""
    if isinstance(model, BaseMultiTask):
        names, samples = _torch_inputs(scope, operator, container, model)
        return ExportModule(model), names, samples
    names, samples, counts = [], [], []
    for member in model.estimators_:
        given, batch = _torch_inputs(scope, operator, container, member)
        names, samples, counts = names + given, samples + batch, counts + [len(given)]
    combined = EnsembleModule if isinstance(model, MultiTaskEnsemble) else GroupingModule
    return combined(model, counts), names, samples


def _culprit(model: Any) -> str:
    if not isinstance(model, BaseMultiTask):  # an ensemble or grouping: its first member's
        return _culprit(model.estimators_[0])
    trunk = getattr(model, "trunk", None)
    if trunk is not None:
        name = trunk.__name__ if isinstance(trunk, type) else type(trunk).__name__
        return f"the trunk {name}"
    return f"its module {type(model.net_.module_).__name__}"


def _embed(scope, container, graph: onnx.GraphProto, inputs: list[str], outputs: list[str],
           opset: int) -> None:
    """Copy ``graph``'s nodes into the container, its inputs and outputs renamed."""
    renamed = dict(zip([i.name for i in graph.input], inputs))
    renamed.update(zip([o.name for o in graph.output], outputs))

    def name_of(old: str) -> str:
        if old == "":
            return ""
        if old not in renamed:
            renamed[old] = scope.get_unique_variable_name(f"skmtl_{old.strip('/').replace('/', '_')}")
        return renamed[old]

    for tensor in graph.initializer:
        container.add_initializer(name_of(tensor.name), tensor.data_type, list(tensor.dims),
                                  numpy_helper.from_array(numpy_helper.to_array(tensor)))
    for node in graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        op_type, given = node.op_type, list(node.input)
        while given and given[-1] == "":  # skl2onnx cannot order empty (omitted) inputs
            given.pop()
        if op_type == "Clip" and len(given) == 3 and given[1] == "":
            op_type, given = "Min", [given[0], given[2]]  # Clip with a maximum only
        elif op_type == "Clip" and len(given) == 2:
            op_type = "Max"  # Clip with a minimum only
        if "" in given:
            raise TypeError(f"The exported network has a {node.op_type} node with an omitted "
                            "optional input, which skl2onnx cannot embed.")
        container.add_node(op_type, [name_of(i) for i in given],
                           [name_of(o) for o in node.output], op_domain=node.domain,
                           op_version=opset, name=scope.get_unique_operator_name(node.op_type),
                           **attrs)


def _converter(scope, operator, container) -> None:
    model = operator.raw_operator
    module, names, samples = _module(scope, operator, container, model)
    specs = output_specs(model)
    graph_inputs = [f"input{i}" for i in range(len(names))]
    graph_outputs = [f"output{i}" for i in range(len(specs))]
    opset = min(TORCH_OPSET, container.target_opset or TORCH_OPSET)
    exported = export_graph(module, samples, graph_inputs, graph_outputs, opset, _culprit(model))
    # label indices go through a Gather into the classes; the rest straight to the outputs
    final = [variable.onnx_name for variable in operator.outputs]
    targets = list(final)
    k = 0
    for task in model.tasks_:
        if task.kind == "classification":
            _, onnx_type, classes = label_type(task.classes_)
            index = scope.get_unique_variable_name(f"{task.name_}_index")
            table = scope.get_unique_variable_name(f"{task.name_}_classes")
            container.add_initializer(table, onnx_type, [len(classes)], classes.tolist())
            container.add_node("Gather", [table, index], [final[k]], axis=0,
                               name=scope.get_unique_operator_name("Gather"))
            targets[k] = index
        k += 1 if task.kind == "regression" else 2
    _embed(scope, container, exported.graph, names, targets, opset)


def register() -> None:
    """Register skmtl's estimators with skl2onnx (idempotent)."""
    for estimator in (MultiTaskNet, MultiTaskClassifier, MultiTaskRegressor, MultiTaskEnsemble,
                      TaskGrouping):
        update_registered_converter(estimator, ALIAS, _shape_calculator,
                                    _converter, parser=_parser)
