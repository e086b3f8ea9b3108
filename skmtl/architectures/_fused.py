"""Prediction through oneDNN's fused dense kernel: a linear layer and its ReLU in one call.

On the CPU, ``torch.nn.Linear`` runs its matrix product through MKL and the ReLU that
follows is a second pass over the activations. oneDNN (``torch.ops.mkldnn._linear_pointwise``,
the kernel torch's inductor compiler emits for the same pattern) computes the product, adds
the bias and applies the ReLU in one call. On a (256, 256) MLP predicting 1,000,000 rows on
2 cores (the serving benchmark's network), it ran about 10 % faster than the modules' own
forward in interleaved runs (1.13 against 1.02 million rows/s, medians of 5); the
benchmark's two floor rows compare the two kernels' bare products. Its outputs differ from
MKL's by float32 rounding (a few 1e-7 on unit-scale activations).

It is used only where nothing can tell the difference: no gradient is recorded (prediction,
validation), the input is a float32 CPU tensor, no autocast is active, no module involved
has hooks, and torch is not tracing, scripting, exporting or compiling (those see the
ordinary modules). Everywhere else, and if the kernel is missing or fails once, the
modules run as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

#: Set to False after the kernel failed once in this process (then never tried again).
_USABLE: bool = hasattr(torch.ops, "mkldnn") and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def usable() -> bool:
    """Whether the kernel exists here (and has not failed in this process)."""
    return _USABLE and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled


def _kernel():
    return torch.ops.mkldnn._linear_pointwise


def _compiling() -> bool:
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling():
        return True
    return torch.jit.is_tracing() or torch.jit.is_scripting()


def _autocast_cpu() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()


def applies(x: object) -> bool:
    """Whether the fused kernel may run on input ``x`` here and now (see the module)."""
    return (
        not torch.is_grad_enabled()  # first: training (every step) stops here
        and usable()
        and isinstance(x, torch.Tensor)
        and x.dtype == torch.float32
        and x.device.type == "cpu"
        and x.ndim == 2
        and not _autocast_cpu()
        and not _compiling()
    )


def hooked(module: nn.Module) -> bool:
    """Whether ``module`` has forward hooks or forward pre-hooks of its own."""
    return bool(module._forward_hooks or module._forward_pre_hooks)


def _plain(module: nn.Module, kind: type[nn.Module]) -> bool:
    return type(module) is kind and not hooked(module)


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
           relu: bool = False) -> torch.Tensor | None:
    """``relu(x @ weight.T + bias)`` (or without the ReLU) in one oneDNN call; None if the
    kernel failed (it is then switched off for the process)."""
    global _USABLE
    try:
        return _kernel()(x, weight, bias, "relu" if relu else "none", [], "")
    except (RuntimeError, NotImplementedError):
        _USABLE = False
        return None


class Dense:
    """A plain ``nn.Linear`` (and the plain ``nn.ReLU`` after it, if any) as one call of the
    fused kernel, on the layer's own weight and bias; torch's ``linear`` (and ``relu``) where
    the kernel does not take the input or fails."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, relu: bool):
        self.weight, self.bias, self.relu = weight, bias, relu

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if _USABLE and x.ndim == 2 and x.is_contiguous():
            out = _linear(x, self.weight, self.bias, self.relu)
            if out is not None:
                return out
        out = nn.functional.linear(x, self.weight, self.bias)
        return torch.relu(out) if self.relu else out


def steps(stack: nn.Sequential) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """``stack``'s layers as calls for prediction: a :class:`Dense` for each plain
    ``nn.Linear`` (with the plain ``nn.ReLU`` after it), nothing for a plain ``nn.Dropout``
    in eval mode, every other layer (hooked ones included) as the module itself."""
    layers, out, i = list(stack), [], 0
    while i < len(layers):
        module = layers[i]
        if _plain(module, nn.Linear):
            relu = i + 1 < len(layers) and _plain(layers[i + 1], nn.ReLU)
            out.append(Dense(module.weight, module.bias, relu))
            i += 2 if relu else 1
            continue
        if not (type(module) is nn.Dropout and not module.training and not hooked(module)):
            out.append(module)
        i += 1
    return out


def run(calls: list[Callable[[torch.Tensor], torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """``x`` through ``calls`` (from :func:`steps`) in order."""
    for call in calls:
        x = call(x)
    return x


def sequential(stack: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``stack(x)``, through :func:`steps` (the fused kernel) when :func:`applies` holds and
    ``stack`` itself has no hooks; else the modules as they are.

    Parameters
    ----------
    stack : torch.nn.Sequential
    x : torch.Tensor

    Returns
    -------
    torch.Tensor
    """
    if hooked(stack) or not applies(x):
        return stack(x)
    return run(steps(stack), x)
