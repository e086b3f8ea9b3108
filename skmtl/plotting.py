"""Plots of a fitted estimator's training history (matplotlib, imported lazily)."""

from __future__ import annotations

from typing import Any

from skorch.history import History

__all__ = ["plot_task_losses", "plot_task_metrics", "plot_task_weights"]


def _history(source: Any) -> History:
    history = getattr(source, "history_", source)
    if not isinstance(history, History):
        raise TypeError("Pass a fitted skmtl estimator or its `history_` (a skorch History).")
    return history


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def _task_names(source: Any, history: History) -> list[str]:
    tasks = getattr(source, "tasks_", None)
    if tasks is not None:
        return [task.name_ for task in tasks]
    # a bare History: every per-task key but skorch's own ``train_loss_best``
    return [k[len("train_loss_"):] for k in history[0]
            if k.startswith("train_loss_") and k != "train_loss_best"]


def _series(source: Any, history: History, prefix: str) -> dict[str, list[float]]:
    return {
        task: [row.get(prefix + task, float("nan")) for row in history]
        for task in _task_names(source, history)
        if prefix + task in history[0]
    }


def plot_task_weights(estimator: Any, ax: Any = None) -> Any:
    """Plot each task's effective weight per epoch (``weight_<task>`` in the History).

    Parameters
    ----------
    estimator : fitted skmtl estimator or skorch History
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    history, ax = _history(estimator), _axes(ax)
    epochs = [row["epoch"] for row in history]
    for task, values in _series(estimator, history, "weight_").items():
        ax.plot(epochs, values, marker="o", markersize=3, label=task)
    ax.set(xlabel="epoch", ylabel="effective task weight", title="Task weights")
    ax.legend(title="task")
    return ax


def plot_task_losses(estimator: Any, ax: Any = None, validation: bool = True) -> Any:
    """Plot each task's mean training (and validation) loss per epoch.

    Parameters
    ----------
    estimator : fitted skmtl estimator or skorch History
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    validation : bool, default=True
        Also draw ``valid_loss_<task>`` (dashed) when recorded.

    Returns
    -------
    matplotlib.axes.Axes
    """
    history, ax = _history(estimator), _axes(ax)
    epochs = [row["epoch"] for row in history]
    for task, values in _series(estimator, history, "train_loss_").items():
        (line,) = ax.plot(epochs, values, label=f"{task} (train)")
        if validation and f"valid_loss_{task}" in history[0]:
            valid = [row.get(f"valid_loss_{task}", float("nan")) for row in history]
            ax.plot(epochs, valid, linestyle="--", color=line.get_color(), label=f"{task} (valid)")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title="Per-task losses")
    ax.legend()
    return ax


def plot_task_metrics(scores: Any, ax: Any = None, metric: str = "score") -> Any:
    """Grouped bars of a per-task metric for several methods.

    Parameters
    ----------
    scores : dict or pandas.DataFrame
        ``{method: {task: value}}`` (e.g. one ``score_tasks`` result per method), or a
        DataFrame with methods as rows and tasks as columns.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    metric : str, default="score"
        The y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import numpy as np
    import pandas as pd

    table = scores if isinstance(scores, pd.DataFrame) else pd.DataFrame(scores).T
    ax = _axes(ax)
    n_methods = len(table.index)
    width = 0.8 / max(n_methods, 1)
    positions = np.arange(len(table.columns))
    for i, (method, row) in enumerate(table.iterrows()):
        ax.bar(positions + (i - (n_methods - 1) / 2) * width, row.to_numpy(dtype=float), width,
               label=str(method))
    ax.set_xticks(positions, [str(c) for c in table.columns])
    ax.set(xlabel="task", ylabel=metric, title=f"Per-task {metric}")
    ax.legend(title="method")
    return ax
