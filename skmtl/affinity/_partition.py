"""Split tasks into groups that help each other: the partition of highest affinity score."""

from __future__ import annotations

from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from ._result import AffinityResult

#: Up to this many tasks every partition is scored (Bell(10) = 115,975 partitions).
EXHAUSTIVE_TASKS = 10

#: Partitions scored per vectorised batch (bounds the (batch, T, T) temporaries).
_BATCH = 8192

#: Random starts of the local search beyond :data:`EXHAUSTIVE_TASKS` tasks.
_RANDOM_STARTS = 8

#: Relative tolerance under which two scores are a tie (then fewer groups win).
_TIE = 1e-9


def _as_matrix(affinity: Any) -> tuple[np.ndarray, list[str]]:
    """The affinity as a float (T, T) array (NaN -> 0, diagonal 0) and the task names."""
    if isinstance(affinity, AffinityResult):
        affinity = affinity.matrix
    if isinstance(affinity, pd.DataFrame):
        index = [str(label) for label in affinity.index]
        columns = [str(label) for label in affinity.columns]
        if len(set(index)) != len(index):
            raise ValueError(f"affinity has duplicated task names in its index: {index}.")
        if sorted(index) != sorted(columns):
            raise ValueError(
                f"affinity's index {index} and columns {columns} must name the same tasks "
                "(matrix.loc[i, j] is the affinity of task i onto task j)."
            )
        frame = affinity.set_axis(index, axis=0).set_axis(columns, axis=1)
        names, values = index, frame[index].to_numpy()
    else:
        values = np.asarray(affinity)
        names = None
    if values.ndim != 2 or values.shape[0] != values.shape[1] or values.shape[0] == 0:
        raise ValueError(
            f"affinity must be a non-empty square (n_tasks, n_tasks) matrix; got shape "
            f"{values.shape}."
        )
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError("affinity must hold numbers (NaN where a pair was not measured).") from None
    if np.isinf(values).any():
        raise ValueError("affinity holds infinite values; only finite numbers or NaN are allowed.")
    if names is None:
        names = [str(i) for i in range(len(values))]
    values = np.nan_to_num(values, nan=0.0)
    np.fill_diagonal(values, 0.0)
    return values, names


def _scores(labels: np.ndarray, A: np.ndarray) -> np.ndarray:
    """The score of each row of ``labels`` (shape (P, T): a group label per task).

    Computed in batches: for each task j, the mean of ``A[i, j]`` over the other members
    ``i`` of its group (0 for a task alone), summed over j.
    """
    T = A.shape[0]
    off = ~np.eye(T, dtype=bool)
    out = np.empty(len(labels))
    for start in range(0, len(labels), _BATCH):
        part = labels[start:start + _BATCH]
        same = (part[:, :, None] == part[:, None, :]) & off  # (P, i, j)
        counts = same.sum(axis=1)
        sums = np.einsum("pij,ij->pj", same, A)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        out[start:start + _BATCH] = means.sum(axis=1)
    return out


@lru_cache(maxsize=EXHAUSTIVE_TASKS)
def _set_partitions(n: int) -> np.ndarray:
    """Every partition of ``n`` items as restricted growth strings, shape (Bell(n), n).

    Row ``r`` labels item ``k`` with ``r[k] <= max(r[:k]) + 1``, so the groups are
    numbered in the order of their first item. Read-only (cached).
    """
    rows = np.zeros((1, 1), dtype=np.int8)
    highest = np.zeros(1, dtype=np.int8)
    for _ in range(1, n):
        choices = highest.astype(np.int64) + 2  # labels 0..highest+1
        parent = np.repeat(np.arange(len(rows)), choices)
        starts = np.repeat(np.cumsum(choices) - choices, choices)
        label = (np.arange(len(parent)) - starts).astype(np.int8)
        rows = np.column_stack([rows[parent], label])
        highest = np.maximum(highest[parent], label)
    rows.setflags(write=False)
    return rows


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel groups 0, 1, ... in the order of their first task."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse]


def _better(score: float, groups: int, best_score: float, best_groups: int) -> bool:
    """Whether (score, groups) beats the best so far: a higher score, or a tie and fewer groups."""
    tol = _TIE * max(1.0, abs(best_score))
    return score > best_score + tol or (score >= best_score - tol and groups < best_groups)


def _exhaustive(A: np.ndarray, n_groups: int, exact: bool) -> np.ndarray:
    labels = _set_partitions(len(A))
    counts = labels.max(axis=1) + 1
    keep = counts == n_groups if exact else counts <= n_groups
    labels, counts = labels[keep], counts[keep]
    scores = _scores(labels, A)
    best = scores.max()
    tied = scores >= best - _TIE * max(1.0, abs(best))
    fewest = counts[tied].min()
    return labels[np.flatnonzero(tied & (counts == fewest))[0]].astype(np.int64)


def _agglomerate(A: np.ndarray, n_groups: int, exact: bool) -> np.ndarray:
    """Greedy merging from singletons; the best partition met that has a valid group count."""
    T = len(A)
    labels = np.arange(T)
    best, best_score = None, -np.inf
    while True:
        k = labels.max() + 1
        if k <= n_groups and (not exact or k == n_groups):
            score = _scores(labels[None], A)[0]
            if best is None or _better(score, k, best_score, best.max() + 1):
                best, best_score = labels.copy(), score
        if k == 1 or (exact and k <= n_groups):
            return best
        pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
        merged = np.array([_canonical(np.where(labels == b, a, labels)) for a, b in pairs])
        labels = merged[np.argmax(_scores(merged, A))]


def _neighbours(labels: np.ndarray, n_groups: int, exact: bool) -> np.ndarray:
    """Partitions one move (a task to another or a new group) or one swap away."""
    T = len(labels)
    k = labels.max() + 1
    sizes = np.bincount(labels, minlength=k)
    candidates = []
    targets = range(k + 1) if k < n_groups else range(k)
    for t in range(T):
        if exact and sizes[labels[t]] == 1:
            continue  # emptying its group would leave too few groups
        for g in targets:
            if g != labels[t] and not (g == k and sizes[labels[t]] == 1):
                moved = labels.copy()
                moved[t] = g
                candidates.append(moved)
    for a in range(T):
        for b in range(a + 1, T):
            if labels[a] != labels[b]:
                swapped = labels.copy()
                swapped[a], swapped[b] = labels[b], labels[a]
                candidates.append(swapped)
    if not candidates:
        return np.empty((0, T), dtype=np.int64)
    return np.array([_canonical(c) for c in candidates])


def _local_search(labels: np.ndarray, A: np.ndarray, n_groups: int, exact: bool) -> np.ndarray:
    """Best-improvement moves and swaps until none raises the score (or ties with fewer groups)."""
    labels = _canonical(labels)
    score = _scores(labels[None], A)[0]
    while True:
        options = _neighbours(labels, n_groups, exact)
        if not len(options):
            return labels
        scores = _scores(options, A)
        counts = options.max(axis=1) + 1
        order = np.lexsort((counts, -scores))  # highest score, then fewest groups
        pick = order[0]
        if not _better(scores[pick], counts[pick], score, labels.max() + 1):
            return labels
        labels, score = options[pick], scores[pick]


def _heuristic(A: np.ndarray, n_groups: int, exact: bool) -> np.ndarray:
    T = len(A)
    starts = [_agglomerate(A, n_groups, exact)]
    if not exact:
        starts.append(np.zeros(T, dtype=np.int64))  # never worse than one group
    rng = np.random.default_rng(0)  # deterministic: the same matrix, the same groups
    for _ in range(_RANDOM_STARTS):
        k = n_groups if exact else int(rng.integers(1, n_groups + 1))
        labels = np.concatenate([np.arange(k), rng.integers(0, k, T - k)])
        starts.append(rng.permutation(labels))
    best, best_score = None, -np.inf
    for start in starts:
        labels = _local_search(start, A, n_groups, exact)
        score = _scores(labels[None], A)[0]
        if best is None or _better(score, labels.max() + 1, best_score, best.max() + 1):
            best, best_score = labels, score
    return best


def _check_n_groups(n_groups: Any, n_tasks: int) -> int:
    if isinstance(n_groups, bool) or not isinstance(n_groups, Integral):
        raise TypeError(f"n_groups must be an int; got {n_groups!r}.")
    if not 1 <= n_groups <= n_tasks:
        raise ValueError(
            f"n_groups must be between 1 and the number of tasks ({n_tasks}); got {n_groups}."
        )
    return int(n_groups)


def _groups(labels: np.ndarray, names: list[str]) -> list[list[str]]:
    labels = _canonical(np.asarray(labels))
    return [[names[t] for t in np.flatnonzero(labels == g)] for g in range(labels.max() + 1)]


def partition_score(affinity: Any, groups: list[list[str]]) -> float:
    """The score of a grouping of the tasks, as :func:`partition_tasks` maximises it.

    For each task ``j``, the mean affinity onto ``j`` from the other members of its
    group (0 for a task alone), summed over the tasks. NaN affinities count as 0 and the
    diagonal is ignored.

    Parameters
    ----------
    affinity : pandas.DataFrame, AffinityResult or array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]`` is the affinity of task ``i`` onto task ``j``. An array's
        tasks are named ``"0"``, ``"1"``, ...
    groups : list of list of str
        A partition of the task names: every task in exactly one group.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.affinity import partition_score
    >>> A = np.array([[1, .5, 0], [.5, 1, 0], [0, 0, 1]])
    >>> partition_score(A, [["0", "1"], ["2"]])
    1.0
    """
    A, names = _as_matrix(affinity)
    position = {name: t for t, name in enumerate(names)}
    seen = [task for group in groups for task in group]
    unknown = [task for task in seen if task not in position]
    if unknown:
        raise ValueError(f"groups name tasks {unknown} that the affinity lacks; its tasks "
                         f"are {names}.")
    if sorted(seen) != sorted(names):
        raise ValueError(f"groups must place every task of the affinity ({names}) in exactly "
                         f"one group; got {groups}.")
    labels = np.empty(len(names), dtype=np.int64)
    for g, group in enumerate(groups):
        labels[[position[task] for task in group]] = g
    return float(_scores(labels[None], A)[0])


def partition_tasks(affinity: Any, n_groups: int, *, exact: bool = False) -> list[list[str]]:
    """Split the tasks into at most ``n_groups`` groups of high mutual affinity.

    The score maximised (the network-selection score of Fifty et al., 2021, restricted
    to disjoint groups) is, summed over the tasks ``j``, the mean affinity onto ``j``
    from the other members of ``j``'s group; a task alone in its group contributes 0,
    and NaN affinities (pairs never measured) count as 0. Taking the *mean* per task,
    rather than the sum of every within-group affinity, matters: with positive
    affinities the plain sum grows with every task added, so one big group would always
    win; the mean instead asks whether each task's group helps it more than another
    group would, so weakly related tasks end up apart. Grouping a task only with tasks
    of negative affinity onto it scores below leaving it alone. Of equal scores, the
    partition with fewer groups wins (fewer networks to train). Within a group of ``s``
    tasks every ordered pair weighs ``1 / (s - 1)``, so only ``A[i, j] + A[j, i]``
    matters: an asymmetric matrix (lookahead affinity) is grouped as its symmetric part.

    Up to 10 tasks, every partition is scored (Bell(10) = 115,975 of them, in well
    under a second). Beyond, a heuristic searches: greedy agglomeration (from single
    tasks, repeatedly merge the two groups whose union scores highest), then from that
    partition, from one group and from 8 random ones (fixed seed, so results are
    reproducible), local search taking the best single-task move (to another group or a
    new one) or swap of two tasks until none improves the score; the best result wins.
    It is not guaranteed optimal.

    Parameters
    ----------
    affinity : pandas.DataFrame, AffinityResult or array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]`` is the affinity of task ``i`` onto task ``j`` (it may be
        asymmetric, as lookahead affinity is). A DataFrame's index and columns name the
        tasks (the same names, columns in any order); an array's tasks are named
        ``"0"``, ``"1"``, ... The diagonal is ignored; entries must be finite or NaN.
    n_groups : int
        Most groups allowed, between 1 and the number of tasks.
    exact : bool, default=False
        Return exactly ``n_groups`` groups (the best partition of that size).

    Returns
    -------
    list of list of str
        The groups of task names, ordered by their first task's position in the
        matrix; tasks inside a group in matrix order.

    See Also
    --------
    partition_score : The score of a given grouping.
    skmtl.TaskGrouping : Measures the affinity, partitions, and trains a network per group.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.affinity import partition_tasks
    >>> A = np.array([[1, .4, 0, 0], [.4, 1, 0, .1], [0, 0, 1, .5], [0, .1, .5, 1]])
    >>> partition_tasks(A, 2)
    [['0', '1'], ['2', '3']]
    >>> partition_tasks(A, 1)
    [['0', '1', '2', '3']]
    """
    A, names = _as_matrix(affinity)
    n_groups = _check_n_groups(n_groups, len(names))
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be True or False; got {exact!r}.")
    search = _exhaustive if len(names) <= EXHAUSTIVE_TASKS else _heuristic
    return _groups(search(A, n_groups, bool(exact)), names)
