"""The column selection and categorical codes of a fitted
:class:`~skmtl.tabular.TabularEncoder` as ONNX (and ONNX-ML) operators.

The numeric transform, binary flags and missing-value indicators are computed in the
torch graph (:class:`~skmtl.export._torch_graph.NumericEncoding`); what needs strings
(category keys) or integers (a date's parts, :mod:`skmtl.export._dates`) is done here,
before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto
from skl2onnx.common.data_types import StringTensorType

from ._dates import date_parts, day_codes


def _column(scope, operator, container, j: int, per_column: bool) -> tuple[str, Any]:
    """The name and type of X's column ``j``, shape (n, 1)."""
    if per_column:
        variable = operator.inputs[j]
        return variable.onnx_name, variable.type
    matrix = operator.inputs[0]
    index = scope.get_unique_variable_name("skmtl_column_index")
    container.add_initializer(index, TensorProto.INT64, [1], [j])
    name = scope.get_unique_variable_name(f"skmtl_column{j}")
    container.add_node("Gather", [matrix.onnx_name, index], [name], axis=1,
                       name=scope.get_unique_operator_name("Gather"))
    return name, matrix.type


def _cast(scope, container, name: str, to: int) -> str:
    out = scope.get_unique_variable_name(f"{name}_cast")
    container.add_node("Cast", [name], [out], to=to, name=scope.get_unique_operator_name("Cast"))
    return out


def _concat(scope, container, names: list[str], seed: str) -> str:
    if len(names) == 1:
        return names[0]
    out = scope.get_unique_variable_name(seed)
    container.add_node("Concat", names, [out], axis=1, name=scope.get_unique_operator_name("Concat"))
    return out


#: What :func:`skmtl.export.onnx_inputs` makes of a missing value in a string input.
MISSING_STRINGS = ("nan", "None", "<NA>", "NaT")


def _codes(scope, container, name: str, kind: Any, keys: np.ndarray, column: Any,
           infrequent: np.ndarray) -> str:
    """The integer codes of a column, as ``TabularEncoder.transform``: 0 for missing; with
    infrequent categories, 1 for them and for unseen ones and 2..K + 1 for the frequent
    ``keys`` in order; without, 1..K for the keys and 0 for unseen ones."""
    out = scope.get_unique_variable_name("skmtl_codes")
    shared = int(len(infrequent) > 0)
    all_keys = [*keys, *infrequent]
    values = [*range(1 + shared, len(keys) + 1 + shared), *[1] * len(infrequent)]
    attrs: dict[str, Any] = {"default_int64": shared}  # an unseen category
    nan_input = None
    if isinstance(kind, StringTensorType):
        strings = [str(k) for k in all_keys]
        if shared:  # a missing value arrives as one of these strings: code 0, not 1
            markers = [m for m in MISSING_STRINGS if m not in strings]
            strings, values = strings + markers, values + [0] * len(markers)
        attrs["keys_strings"] = strings or ["\x00"]
    else:
        try:
            floats = [float(k) for k in all_keys]
        except ValueError:
            raise TypeError(
                f"Categorical column {column!r} has text categories (e.g. {all_keys[0]!r}) but "
                "is given to the ONNX model as numbers; export with a DataFrame sample X so "
                "that the column becomes a string input.") from None
        name = _cast(scope, container, name, TensorProto.FLOAT)
        nan_input = name
        attrs["keys_floats"] = floats or [float("nan")]
    attrs["values_int64s"] = values or [0]  # a column without categories: always code 0
    container.add_node("LabelEncoder", [name], [out], op_domain="ai.onnx.ml", op_version=2,
                       name=scope.get_unique_operator_name("LabelEncoder"), **attrs)
    if shared and nan_input is not None:  # a missing number (NaN): code 0, not the default
        isnan = scope.get_unique_variable_name("skmtl_isnan")
        container.add_node("IsNaN", [nan_input], [isnan],
                           name=scope.get_unique_operator_name("IsNaN"))
        zero = scope.get_unique_variable_name("skmtl_zero_code")
        container.add_initializer(zero, TensorProto.INT64, [], [0])
        masked = scope.get_unique_variable_name("skmtl_codes")
        container.add_node("Where", [isnan, zero, out], [masked],
                           name=scope.get_unique_operator_name("Where"))
        out = masked
    return out


def encode_inputs(scope, operator, container, encoder: Any) -> list[str]:
    """The torch graph's inputs for a model with a ``preprocessor_``.

    Parameters
    ----------
    scope, operator, container
        skl2onnx's conversion objects; ``operator.inputs`` is either one matrix with
        X's columns or one (n, 1) input per column (a date column: int64, see
        :mod:`skmtl.export._dates`).
    encoder : skmtl.tabular.TabularEncoder
        Fitted.

    Returns
    -------
    list of str
        ``numbers`` (float64, the non-categorical columns in X's order) when there are
        such columns, then ``codes`` (int64, one per categorical column) when there are.
    """
    n = len(encoder.input_columns_)
    per_column = len(operator.inputs) == n and n > 1
    if not per_column and len(operator.inputs) != 1:
        raise ValueError(
            f"The model reads {n} columns, but the ONNX graph has {len(operator.inputs)} "
            "inputs; give one matrix input or one input per column.")
    sources = encoder._sources()  # each encoded column's input and date part
    dates: dict[int, tuple[dict[str, str], str, str]] = {}  # X's position: its parts

    def column(j: int) -> tuple[str, Any]:
        """The name and type of encoded column ``j`` (a date's number: float64)."""
        i, part = sources[j]
        name, kind = _column(scope, operator, container, i, per_column)
        if part is None:
            return name, kind
        if isinstance(kind, StringTensorType):
            raise TypeError(f"Column {encoder.input_columns_[i]!r} holds dates for the model, but "
                            "the ONNX input given for it holds strings; export with a sample "
                            "where it holds dates.")
        if i not in dates:
            with_time = encoder.dates_[encoder.input_columns_[i]][0]
            dates[i] = date_parts(scope, container, name, with_time)
        return dates[i][0].get(part, name), kind

    names = []
    plain = sorted(encoder.numeric_ + encoder.binary_)
    if plain:
        if per_column or encoder.dates_:
            columns = []
            for j in plain:
                name, kind = column(j)
                if isinstance(kind, StringTensorType):
                    raise TypeError(f"Column {encoder.columns_[j]!r} is numeric for the model, "
                                    "but the ONNX input given for it holds strings.")
                columns.append(_cast(scope, container, name, TensorProto.DOUBLE))
            names.append(_concat(scope, container, columns, "skmtl_numbers"))
        else:
            matrix = operator.inputs[0]
            if isinstance(matrix.type, StringTensorType):
                raise TypeError("The model's ONNX input is a matrix of strings; export with a "
                                "DataFrame sample X (one input per column) instead.")
            index = scope.get_unique_variable_name("skmtl_numeric_index")
            container.add_initializer(index, TensorProto.INT64, [len(plain)], plain)
            selected = scope.get_unique_variable_name("skmtl_numeric_columns")
            container.add_node("Gather", [matrix.onnx_name, index], [selected], axis=1,
                               name=scope.get_unique_operator_name("Gather"))
            names.append(_cast(scope, container, selected, TensorProto.DOUBLE))
    if encoder.categorical_:
        codes = []
        for j, keys, rare in zip(encoder.categorical_, encoder.keys_, encoder.infrequent_keys_):
            name, kind = column(j)
            i, part = sources[j]
            if part == "date":
                _, days, missing = dates[i]
                codes.append(day_codes(scope, container, days, missing, keys, rare))
            else:
                codes.append(_codes(scope, container, name, kind, keys, encoder.columns_[j],
                                    rare))
        names.append(_concat(scope, container, codes, "skmtl_all_codes"))
    return names
