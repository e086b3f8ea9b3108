"""Mixed precision of the training step and of prediction (``precision=``).

The forward pass runs under :func:`torch.autocast`; the network's outputs are cast back
to float32 before any loss is computed, so losses, balancers and the optimizer work in
float32 (the weights stay float32 throughout). ``"16"`` also scales the gradients
(:class:`torch.amp.GradScaler`): the scale multiplies the gradient entering the network
at its outputs, so the balancer sees the true losses, and the network's gradients are
unscaled before the optimizer step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

#: ``precision=`` values and the autocast dtype of each (None: no autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"32": None, "bf16": torch.bfloat16,
                                             "16": torch.float16}


def check_precision(precision: str, device: str, owner: str = "The estimator") -> None:
    """Raise a ValueError when ``precision`` cannot train on ``device``.

    Parameters
    ----------
    precision : {"32", "bf16", "16"}
    device : str
        The resolved training device (``"cpu"``, ``"cuda:0"``, ...).
    owner : str, default="The estimator"
        Name used in the message.
    """
    kind = torch.device(device).type
    if precision == "16" and kind != "cuda":
        raise ValueError(
            f"{owner} got precision='16' with device={device!r}: float16 training needs "
            "gradient scaling, which skmtl supports on CUDA only. Use precision='bf16' on "
            "the CPU (bfloat16 autocast, no scaling needed), or precision='32'."
        )
    if precision == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(
            f"{owner} got precision='bf16' but the GPU of device={device!r} does not support "
            "bfloat16; use precision='16' (float16 with gradient scaling) or '32'."
        )


def _as_float32(outputs: Any) -> Any:
    """Outputs of lower-precision autocast as float32 (other dtypes unchanged)."""
    if isinstance(outputs, torch.Tensor):
        return outputs.float() if outputs.dtype in (torch.bfloat16, torch.float16) else outputs
    return type(outputs)(_as_float32(out) for out in outputs)


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; multiplies the incoming gradient by ``scale`` (a tensor)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(scale)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (scale,) = ctx.saved_tensors
        return grad * scale.to(grad.dtype), None


class MixedPrecision:
    """Autocast of the forward passes and, for ``"16"``, gradient scaling.

    Parameters
    ----------
    precision : {"bf16", "16"}
        Autocast dtype: bfloat16, or float16 with a :class:`torch.amp.GradScaler`.
    device : str
        The training device; its type is the autocast device type of the training step.

    Attributes
    ----------
    scaler : torch.amp.GradScaler or None
        The gradient scaler (``"16"`` only); its state lasts across fit calls.
    """

    def __init__(self, precision: str, device: str):
        self.precision = precision
        self.dtype = PRECISIONS[precision]
        self.device_type = torch.device(device).type
        self.scaler = torch.amp.GradScaler(self.device_type) if precision == "16" else None

    def autocast(self, device_type: str | None = None):
        """The autocast context for a forward pass on ``device_type`` (the training
        device's by default). Float16 is only used on CUDA: a network trained with
        ``"16"`` and moved to the CPU predicts in float32."""
        device_type = device_type or self.device_type
        enabled = not (self.dtype is torch.float16 and device_type != "cuda")
        return torch.autocast(device_type, dtype=self.dtype, enabled=enabled)

    def forward(self, forward, module: torch.nn.Module, X: Any, *args: Any) -> tuple:
        """Run ``forward(module, X, *args)`` (returning ``(outputs, extra)``) under autocast.

        Returns the outputs in float32 (their gradient multiplied by the scale with
        ``"16"``) and ``extra`` unchanged.
        """
        with self.autocast():
            y_pred, extra = forward(module, X, *args)
        y_pred = _as_float32(y_pred)
        if self.scaler is not None and torch.is_grad_enabled():
            # public API, no device sync: scale() multiplies by the current scale tensor
            scale = self.scaler.scale(torch.ones((), device=y_pred[0].device))
            y_pred = tuple(_ScaleGradient.apply(out, scale) for out in y_pred)
        return y_pred, extra

    def infer(self, module: torch.nn.Module, X: Any, **kwargs: Any) -> Any:
        """``module(X, **kwargs)`` under autocast on the device of the module's weights,
        with the outputs in float32."""
        device_type = next(iter(module.parameters()), torch.empty(0)).device.type
        with self.autocast(device_type):
            return _as_float32(module(X, **kwargs))

    def step(self, optimizers: Iterable[torch.optim.Optimizer],
             unscaled: Iterable[torch.nn.Parameter], before_step=None) -> None:
        """Unscale the gradients, then step every optimizer and update the scale.

        Parameters
        ----------
        optimizers : iterable of torch.optim.Optimizer
        unscaled : iterable of torch.nn.Parameter
            Parameters whose gradient did not go through the network's outputs (the
            balancer's own, e.g. uncertainty weighting's log-variances): they were not
            scaled, so they are multiplied by the scale before the common unscaling.
        before_step : callable or None, default=None
            Called with the unscaled gradients in place, before the optimizer steps
            (e.g. skorch's ``on_grad_computed`` notification).
        """
        optimizers = list(optimizers)
        for param in unscaled:
            if param.grad is not None:
                param.grad.mul_(self.scaler.scale(torch.ones((), device=param.grad.device)))
        for optimizer in optimizers:
            self.scaler.unscale_(optimizer)
        if before_step is not None:
            before_step()
        for optimizer in optimizers:
            self.scaler.step(optimizer)  # skipped when a gradient is inf or NaN
        self.scaler.update()
