"""Plots of a fitted estimator's training history (matplotlib, imported lazily)."""

from __future__ import annotations

from typing import Any

from skorch.history import History

__all__ = ["plot_affinity_history", "plot_task_affinity", "plot_task_losses",
           "plot_task_metrics", "plot_task_weights"]


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


def _affinity_frame(affinity: Any) -> tuple[Any, list[list[str]] | None, str]:
    """``affinity`` as a square DataFrame, the groups it comes with, and its method."""
    import numpy as np
    import pandas as pd

    from .affinity import AffinityResult

    if isinstance(affinity, AffinityResult):
        return affinity.matrix, None, affinity.method
    if isinstance(affinity, pd.DataFrame):
        return affinity, None, ""
    if isinstance(affinity, np.ndarray):
        names = [str(i) for i in range(len(affinity))]
        return pd.DataFrame(affinity, index=names, columns=names), None, ""
    if hasattr(affinity, "groups_") and hasattr(affinity, "affinity_"):  # a TaskGrouping
        frame, _, method = _affinity_frame(affinity.affinity_)
        return frame, [list(g) for g in affinity.groups_], method
    if hasattr(affinity, "task_affinity_"):
        return affinity.task_affinity_, None, "gradient"
    if hasattr(affinity, "net_"):
        raise ValueError(
            f"This {type(affinity).__name__} has no task_affinity_: fit it with "
            "task_affinity=True, or pass an affinity matrix (e.g. the result of "
            "skmtl.affinity.gradient_affinity or lookahead_affinity).")
    raise TypeError(
        "affinity must be a DataFrame, a square array, an AffinityResult, a skmtl "
        "estimator fitted with task_affinity=True or a fitted TaskGrouping; got "
        f"{type(affinity).__name__}.")


def _group_order(tasks: list[str], groups: Any) -> list[list[str]]:
    """Check that ``groups`` is a partition of ``tasks`` (as lists of names)."""
    groups = [[str(t) for t in group] for group in groups]
    listed = [t for group in groups for t in group]
    unknown = sorted(set(listed) - set(tasks))
    missing = [t for t in tasks if t not in listed]
    repeated = sorted({t for t in listed if listed.count(t) > 1})
    if unknown or missing or repeated or any(not group for group in groups):
        raise ValueError(
            "groups must split the affinity's tasks into non-empty groups, each task in "
            f"exactly one; unknown: {unknown}, in no group: {missing}, in several: "
            f"{repeated}.")
    return groups


def plot_task_affinity(affinity: Any, groups: Any = None, ax: Any = None,
                       annotate: bool = True) -> Any:
    """Heatmap of a task-affinity matrix, optionally ordered and outlined by task groups.

    Row ``i``, column ``j`` is the affinity of task ``i`` onto task ``j``, coloured with
    a diverging colormap centred at 0 (red: the tasks help each other, blue: they
    conflict) whose range is the largest off-diagonal magnitude (the diagonal's colour is
    clipped to it); NaN cells (pairs never measured) are left blank.

    Parameters
    ----------
    affinity : DataFrame, array, AffinityResult, fitted estimator or fitted TaskGrouping
        A square matrix with the task names as index and columns (an array's tasks are
        named "0", "1", ...); an :class:`~skmtl.affinity.AffinityResult`; a skmtl
        estimator fitted with ``task_affinity=True`` (its ``task_affinity_``); or a
        fitted :class:`~skmtl.TaskGrouping` (its ``affinity_``, and its ``groups_`` when
        ``groups`` is None).
    groups : list of list of str, default=None
        A partition of the tasks: they are drawn group by group, and each group is
        outlined with a rectangle.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    annotate : bool, default=True
        Write each cell's value in it.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        When ``affinity`` is none of the above.
    ValueError
        When the matrix is not square with the same names on both axes, an estimator
        was fitted without ``task_affinity=True``, or ``groups`` is not a partition of
        the tasks.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    frame, default_groups, method = _affinity_frame(affinity)
    tasks = [str(t) for t in frame.index]
    if frame.shape[0] != frame.shape[1] or tasks != [str(t) for t in frame.columns]:
        raise ValueError("The affinity matrix must be square, with the same task names as "
                         f"index and columns; got index {tasks} and columns "
                         f"{[str(t) for t in frame.columns]}.")
    groups = default_groups if groups is None else groups
    if groups is not None:
        groups = _group_order(tasks, groups)
        order = [t for group in groups for t in group]
    else:
        order = tasks
    values = frame.set_axis(tasks, axis=0).set_axis(tasks, axis=1).loc[order, order]
    values = values.to_numpy(dtype=float)
    # the colours span the largest off-diagonal magnitude: a task's affinity onto itself
    # (1 for gradient affinity) would otherwise wash the pairs' colours out
    off = values[~np.eye(len(order), dtype=bool)] if len(order) > 1 else values.ravel()
    finite = off[np.isfinite(off)]
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    ax = _axes(ax)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-limit, vmax=limit)
    positions = np.arange(len(order))
    ax.set_xticks(positions, order, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(positions, order)
    ax.set(xlabel="onto task j", ylabel="task i",
           title=f"Task affinity ({method})" if method else "Task affinity")
    ax.figure.colorbar(image, ax=ax, label="affinity of i onto j")
    if annotate:  # one number of decimals for all: two significant digits of the largest
        decimals = max(2, 1 - int(np.floor(np.log10(limit))))
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                text = f"{round(value, decimals) + 0.0:.{decimals}f}"  # no "-0.00"
                ax.text(j, i, text, ha="center", va="center", fontsize="small",
                        color="white" if abs(value) > 0.6 * limit else "black")
    if groups is not None:
        start = 0
        for group in groups:
            ax.add_patch(Rectangle((start - 0.5, start - 0.5), len(group), len(group),
                                   fill=False, edgecolor="black", linewidth=2))
            start += len(group)
    return ax


def plot_affinity_history(estimator: Any, pairs: Any = None, ax: Any = None) -> Any:
    """Plot the gradient affinity of task pairs per epoch (``history_[:, "task_affinity"]``).

    Parameters
    ----------
    estimator : skmtl estimator fitted with ``task_affinity=True``, or its skorch History
    pairs : list of (str, str), default=None
        The task pairs to draw; None: every pair ``(i, j)`` with ``i`` before ``j``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        When ``estimator`` is neither a fitted skmtl estimator nor a History.
    ValueError
        When the History holds no task affinity (fit with ``task_affinity=True``), or
        a pair names an unknown task.
    """
    import numpy as np

    history = _history(estimator)
    rows = [row.get("task_affinity") for row in history]
    recorded = [np.asarray(r, dtype=float) for r in rows if r is not None]
    if not recorded:
        raise ValueError("The History holds no task affinity: fit the estimator with "
                         "task_affinity=True.")
    n = recorded[0].shape[0]
    names = _task_names(estimator, history)
    if len(names) != n:  # a bare History without per-task losses
        names = [str(i) for i in range(n)]
    if pairs is None:
        pairs = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)]
    pairs = [tuple(str(t) for t in pair) for pair in pairs]
    for pair in pairs:
        if len(pair) != 2 or any(t not in names for t in pair):
            raise ValueError(f"Each pair must be two task names among {names}; got {pair}.")
    epochs = [row["epoch"] for row in history]
    ax = _axes(ax)
    for a, b in pairs:
        i, j = names.index(a), names.index(b)
        values = [float("nan") if r is None else float(np.asarray(r, dtype=float)[i, j])
                  for r in rows]
        ax.plot(epochs, values, marker="o", markersize=3, label=f"{a} / {b}")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set(xlabel="epoch", ylabel="gradient affinity (cosine)", title="Task affinity per epoch")
    ax.legend(title="pair")
    return ax
