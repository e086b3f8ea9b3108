"""Data-parallel training across processes, directly on ``torch.distributed``.

When the estimators are fitted in several processes that form a process group (started
by ``torchrun`` or ``accelerate launch --multi_gpu``, or initialised by the caller), each process
holds all the rows, and training is data-parallel:

* every process uses the same seeds and starts from rank 0's parameters;
* every epoch, all processes take rank 0's permutation of the training rows, and each
  trains on its contiguous share of every global batch (``batch_size`` rows in all);
* before the balancer's backward, one small all-reduce gives every process the global
  labelled-row count of each task, and each process scales its per-task mean loss by
  ``world_size * local_count / global_count``: the mean over processes of these losses
  is then the global batch's loss, and for balancers linear in the losses (equal,
  static weights, uncertainty) the mean of their gradients is the global batch's
  gradient; gradient aggregators combine each process's share and are approximate;
* after the balancer's backward, one all-reduce of a single flat buffer averages every
  trainable gradient (the module's and the balancer's learned task weights), together
  with the step's task losses and task weights, so the optimizers take identical steps
  and the histories agree;
* validation runs on all the held-out rows in every process (identical parameters give
  identical early-stopping decisions); only rank 0 prints and writes checkpoints.

Why not skorch's ``AccelerateMixin``: it expects a ``DataLoader`` to shard, wraps the
module in ``DistributedDataParallel`` and backpropagates one scalar loss through
``accelerator.backward``. skmtl's step lets the balancer run its own backward (for
gradient aggregators, per-task Jacobians through ``torch.autograd.grad``/``torchjd``),
which DDP's reducer hooks do not follow, and its batches are slices of tensors already on
the device. Carrying the step through the mixin would mean copying skorch's ``train_step``
and ``run_single_epoch``; reducing the gradients after the balancer is both smaller and
correct for every balancer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.distributed as dist

from ..callbacks import ResumeCheckpoint


def world() -> tuple[int, int] | None:
    """``(rank, world_size)`` when training is data-parallel, else None.

    Returns
    -------
    tuple of int or None
        None unless a process group of more than one process is initialised.
    """
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


def is_main() -> bool:
    """Whether this process prints and writes: rank 0, or any process outside a group."""
    part = world()
    return part is None or part[0] == 0


def main_only(verbose: int) -> int:
    """``verbose`` in the main process, 0 in the others."""
    return int(verbose) if is_main() else 0


def _launched() -> bool:
    """Whether a launcher (torchrun, accelerate launch) started several processes."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ


def setup(device: str, n_rows: int) -> str:
    """Join the launcher's process group if needed; return this process's device.

    Outside a launcher and without an initialised group, nothing happens. Otherwise the
    group is initialised from the launcher's environment (``nccl`` for CUDA, ``gloo``
    on the CPU) unless the caller did it, a CUDA device without an index becomes the
    process's ``LOCAL_RANK`` GPU, and the processes check that they hold the same number
    of rows.

    Parameters
    ----------
    device : str
        The resolved ``device`` parameter.
    n_rows : int
        Rows of X given to this fit call.

    Returns
    -------
    str
    """
    if not dist.is_available() or not (dist.is_initialized() or _launched()):
        return device
    target = torch.device(device)
    if target.type == "cuda" and target.index is None:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if target.type == "cuda" else "gloo")
    if world() is None:
        return device
    counts = torch.tensor([n_rows, -n_rows], device=_comm_device())
    dist.all_reduce(counts, op=dist.ReduceOp.MAX)
    if counts[0].item() != -counts[1].item():
        raise ValueError(
            f"Data-parallel training (a process group of {dist.get_world_size()} processes) "
            f"needs every process to fit on all the rows, which each process then shares "
            f"out batch by batch; the processes got between {-int(counts[1])} and "
            f"{int(counts[0])} rows. Give every process the same X and y."
        )
    return device


def _comm_device() -> torch.device:
    """Where tensors handed to the collectives live (CUDA for nccl, else the CPU)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def same_seeds(*seeds: int) -> tuple[int, ...]:
    """Rank 0's seeds in every process (the seeds themselves outside a group).

    Parameters
    ----------
    *seeds : int

    Returns
    -------
    tuple of int
    """
    if world() is None:
        return seeds
    values = torch.tensor(seeds, dtype=torch.int64, device=_comm_device())
    dist.broadcast(values, 0)
    return tuple(int(v) for v in values.tolist())


def same_start(net) -> None:
    """Give every process rank 0's parameters and buffers (module and balancer).

    Parameters
    ----------
    net : MultiTaskNeuralNet
    """
    if world() is None:
        return
    tensors = [*net.module_.state_dict().values(), *net.balancer_.state_dict().values()]
    for tensor in tensors:
        if isinstance(tensor, torch.Tensor):
            moved = tensor.to(_comm_device())
            dist.broadcast(moved, 0)
            tensor.copy_(moved)


def same_order(order: torch.Tensor) -> torch.Tensor:
    """Rank 0's permutation of the training rows, in every process.

    Parameters
    ----------
    order : torch.Tensor of int64
        This process's draw.

    Returns
    -------
    torch.Tensor of int64
    """
    moved = order.to(_comm_device())
    dist.broadcast(moved, 0)
    return moved.to(order.device)


def shard(start: int, stop: int, rank: int, size: int) -> slice:
    """This process's contiguous share of the rows ``start:stop`` of a global batch.

    The shares of the ``size`` processes differ by at most one row (the first ones are
    larger), as with ``torch.tensor_split``.

    Parameters
    ----------
    start, stop : int
    rank, size : int

    Returns
    -------
    slice
    """
    q, r = divmod(stop - start, size)
    lo = start + rank * q + min(rank, r)
    return slice(lo, lo + q + (rank < r))


class StepSync:
    """The collectives of one data-parallel training step.

    Parameters
    ----------
    params : sequence of torch.nn.Parameter
        The trainable parameters whose gradients are averaged, in the same order in
        every process.
    size : int
        Number of processes.

    Attributes
    ----------
    rows : int
        Rows of the global batch (set by :meth:`global_losses`).
    """

    def __init__(self, params: Sequence[torch.nn.Parameter], size: int):
        self.params = list(params)
        self.size = size
        self.rows = 0

    def global_losses(self, losses: list[torch.Tensor], totals: torch.Tensor,
                      rows: int) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Scale the shard's per-task losses so that their mean over processes is the
        global batch's; return them and the global per-task counts.

        Parameters
        ----------
        losses : list of torch.Tensor
            The shard's per-task mean losses.
        totals : torch.Tensor of shape (n_tasks,)
            The shard's per-task labelled-row weights.
        rows : int
            Rows of the shard.

        Returns
        -------
        losses : list of torch.Tensor
        totals : torch.Tensor
            Global per-task labelled-row weights (a task is present in the step when its
            global count is positive).
        """
        packed = torch.cat([totals.detach().double(),
                            torch.tensor([rows], dtype=torch.float64, device=totals.device)])
        moved = packed.to(_comm_device())
        dist.all_reduce(moved)
        packed = moved.to(totals.device)
        total, self.rows = packed[:-1], int(packed[-1].item())
        scale = torch.where(total > 0, self.size * totals.double() / total.clamp_min(1e-300), 0.0)
        scaled = []
        for loss, s in zip(losses, scale.to(losses[0].dtype)):
            # an empty shard's mean is NaN; it is scaled by 0 and selected away
            scaled.append(torch.where(s > 0, loss * s, torch.zeros_like(loss)))
        return scaled, total.to(totals.dtype)

    def average(self, task_losses: torch.Tensor,
                task_weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Average the gradients, task losses and task weights over the processes.

        One all-reduce of a single flat buffer. A parameter that has no gradient in any
        process keeps none (the optimizer skips it, as in one process).

        Parameters
        ----------
        task_losses : torch.Tensor of shape (n_tasks,)
            The step's scaled per-task losses (detached).
        task_weights : torch.Tensor of shape (n_tasks,)

        Returns
        -------
        task_losses, task_weights : torch.Tensor
            The global batch's per-task losses; the mean task weights.
        """
        device = task_losses.device
        # one buffer, in float64 only when a parameter is (float32 otherwise)
        dtype = torch.float64 if any(p.dtype == torch.float64 for p in self.params) else torch.float32
        pieces = [torch.zeros(p.numel(), device=device, dtype=dtype) if p.grad is None
                  else p.grad.detach().reshape(-1).to(device=device, dtype=dtype)
                  for p in self.params]
        flags = torch.tensor([p.grad is not None for p in self.params], dtype=dtype,
                             device=device)
        n_tasks = len(task_losses)
        flat = torch.cat([*pieces, flags, task_losses.to(dtype), task_weights.to(dtype)])
        moved = flat.to(_comm_device())
        dist.all_reduce(moved)
        flat = moved.to(device) / self.size
        n_grad = sum(piece.numel() for piece in pieces)
        had = (flat[n_grad:n_grad + len(self.params)] > 0).tolist()
        offset = 0
        for p, piece, has in zip(self.params, pieces, had):
            n = piece.numel()
            if has:
                p.grad = flat[offset:offset + n].view_as(p).to(p.dtype)
            offset += n
        losses, weights = flat[-2 * n_tasks:-n_tasks], flat[-n_tasks:]
        return losses.to(task_losses.dtype), weights.to(task_weights.dtype)


def step_sync(net) -> StepSync | None:
    """The collectives of ``net``'s training step, or None outside data-parallel training.

    Parameters
    ----------
    net : MultiTaskNeuralNet

    Returns
    -------
    StepSync or None
    """
    part = world()
    if part is None:
        return None
    params = [p for _, p in net.get_all_learnable_params() if p.requires_grad]
    return StepSync(params, part[1])


class FollowerCheckpoint(ResumeCheckpoint):
    """The checkpoint callback of a process other than rank 0: it reads, never writes.

    Resuming restores the same saved state in every process; only rank 0 saves.
    """

    def save(self, net) -> None:
        """Write nothing (rank 0 writes)."""
        self.dirty_ = False
