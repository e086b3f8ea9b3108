"""scikit-learn's ``QuantileTransformer(output_distribution="normal")`` as torch operations
that torch's ONNX exporter can trace (no ``searchsorted``, no ``ndtri``)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats
from torch import nn

#: scikit-learn's margin for values at the ends of the fitted quantiles.
_BOUNDS = 1e-7

# Acklam's rational approximation of the standard normal quantile function (relative
# error below 1.2e-9, far under float32's resolution).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)
_P_LOW = 0.02425


def _polynomial(coefficients: tuple[float, ...], x: torch.Tensor) -> torch.Tensor:
    result = torch.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def normal_ppf(p: torch.Tensor) -> torch.Tensor:
    """The standard normal quantile of probabilities strictly inside (0, 1).

    Parameters
    ----------
    p : torch.Tensor of float64

    Returns
    -------
    torch.Tensor
        Same shape; accurate to about 1e-9 relative.
    """
    q = p - 0.5
    r = q * q
    central = _polynomial(_A, r) * q / (_polynomial(_B, r) * r + 1.0)
    tail_p = torch.minimum(p, 1.0 - p)
    t = torch.sqrt(-2.0 * torch.log(tail_p))
    tail = _polynomial(_C, t) / (_polynomial(_D, t) * t + 1.0)  # the lower tail's value
    tail = torch.where(p > 0.5, -tail, tail)
    return torch.where(tail_p < _P_LOW, tail, central)


#: Quantiles per block of the two-level search (memory per value: blocks + block size).
_BLOCK = 32


class Interp(nn.Module):
    """``np.interp(x, xp, fp)`` column by column, for ``x`` of shape (n, f).

    ONNX has no sorted search: the position of each value among ``xp`` is a count of
    comparisons, in two levels (first the block of 32, then inside it) when ``xp`` is
    long, so that memory grows with ``n * f * (m / 32 + 32)`` rather than ``n * f * m``.

    Parameters
    ----------
    xp : ndarray of shape (m, f)
        Increasing in each column (repeated values allowed).
    fp : ndarray of shape (m,)
    """

    def __init__(self, xp: np.ndarray, fp: np.ndarray):
        super().__init__()
        m, f = xp.shape
        self.m = m
        self.register_buffer("xp", torch.as_tensor(xp))
        self.register_buffer("fp", torch.as_tensor(np.repeat(fp[:, None], f, axis=1)))
        self.two_levels = m > 2 * _BLOCK
        if self.two_levels:
            n_blocks = -(-m // _BLOCK)
            padded = np.vstack([xp, np.full((n_blocks * _BLOCK - m, f), np.inf)])
            # row c * n_blocks + b holds block b of column c
            self.register_buffer("blocks", torch.as_tensor(
                np.ascontiguousarray(padded.T).reshape(f * n_blocks, _BLOCK)))
            self.register_buffer("starts", torch.as_tensor(padded[::_BLOCK].copy()))
            self.register_buffer("offsets", torch.arange(f, dtype=torch.long)[None, :] * n_blocks)

    def count(self, x: torch.Tensor) -> torch.Tensor:
        """How many of each column's ``xp`` are <= ``x`` (int64, shape of ``x``)."""
        if not self.two_levels:
            return (x.unsqueeze(1) >= self.xp.unsqueeze(0)).long().sum(dim=1)
        block = ((x.unsqueeze(1) >= self.starts.unsqueeze(0)).long().sum(dim=1) - 1).clamp(min=0)
        inside = self.blocks[block + self.offsets]  # (n, f, _BLOCK)
        return block * _BLOCK + (x.unsqueeze(2) >= inside).long().sum(dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The interpolated values, float64 (n, f)."""
        m = self.m
        # position j with xp[j] <= x < xp[j + 1], as NumPy picks it (-1 left, m - 1 right)
        j = self.count(x) - 1
        j0 = j.clamp(0, m - 2)
        x0 = torch.gather(self.xp, 0, j0)
        x1 = torch.gather(self.xp, 0, j0 + 1)
        f0 = torch.gather(self.fp, 0, j0)
        f1 = torch.gather(self.fp, 0, j0 + 1)
        inside = (f1 - f0) / (x1 - x0) * (x - x0) + f0
        inside = torch.where(j < 0, self.fp[:1].expand_as(x), inside)
        return torch.where(j >= m - 1, self.fp[-1:].expand_as(x), inside)


class QuantileNormal(nn.Module):
    """A fitted ``QuantileTransformer(output_distribution="normal")``'s transform.

    It reproduces scikit-learn's steps in float64: the average of the forward and
    backward interpolations on the fitted quantiles, the margins at both ends, the
    normal quantile function and the final clipping. Missing values stay NaN.

    Parameters
    ----------
    transformer : sklearn.preprocessing.QuantileTransformer
        Fitted, with ``output_distribution="normal"``.
    """

    def __init__(self, transformer):
        super().__init__()
        quantiles = np.asarray(transformer.quantiles_, dtype=np.float64)
        references = np.asarray(transformer.references_, dtype=np.float64)
        self.forward_interp = Interp(quantiles, references)
        self.backward_interp = Interp(-quantiles[::-1].copy(), -references[::-1].copy())
        self.register_buffer("low", torch.as_tensor(quantiles[:1]))
        self.register_buffer("high", torch.as_tensor(quantiles[-1:]))
        self.clip_min = float(stats.norm.ppf(_BOUNDS - np.spacing(1)))
        self.clip_max = float(stats.norm.ppf(1 - (_BOUNDS - np.spacing(1))))
        self.p_min = float(_BOUNDS - np.spacing(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform ``x`` (n, n_columns), float64."""
        forward = self.forward_interp(x)
        backward = self.backward_interp(-x)
        p = 0.5 * (forward - backward)
        p = torch.where(x + _BOUNDS > self.high, torch.ones_like(p), p)
        p = torch.where(x - _BOUNDS < self.low, torch.zeros_like(p), p)
        p = p.clamp(self.p_min, 1.0 - self.p_min)
        z = normal_ppf(p).clamp(self.clip_min, self.clip_max)
        return torch.where(torch.isnan(x), x, z)
