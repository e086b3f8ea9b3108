"""Synthetic tasks with a known grouping, to check affinity measures and task grouping."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state


def make_task_clusters(n_samples: int = 2000, *, n_clusters: int = 2, tasks_per_cluster: int = 3,
                       n_features: int = 6, noise: float = 0.3, negated: bool = False,
                       random_state=None) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Regression tasks in clusters: related within a cluster, unrelated across.

    Each cluster ``c`` reads its own block of ``n_features`` independent standard normal
    inputs ``X_c``. A latent ``u_c = X_c @ w_c / sqrt(n_features)`` goes through one
    nonlinear map ``m(u) = sin(2 u) + u``, and every task of the cluster is a noisy
    variant of it: ``y = a * m(u_c) + b + noise * e`` with its own scale ``a`` (drawn in
    [0.5, 1.5]), offset ``b`` and independent noise ``e``. Tasks of one cluster are
    therefore related (they need the same feature of the input), tasks of different
    clusters are not (independent inputs, independent latents).

    Parameters
    ----------
    n_samples : int, default=2000
    n_clusters : int, default=2
    tasks_per_cluster : int, default=3
    n_features : int, default=6
        Input columns per cluster; X has ``n_clusters * n_features`` columns.
    noise : float, default=0.3
        Standard deviation of each task's noise (the signal ``m(u)`` has a standard
        deviation of about 1.3).
    negated : bool, default=False
        Make the last task of the first cluster the exact negation of the first task
        (``-y``, no separate noise): a related task whose head only flips sign.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_samples, n_clusters * n_features)
    y : DataFrame of shape (n_samples, n_clusters * tasks_per_cluster)
        Columns ``"c<cluster>_t<task>"``.
    clusters : ndarray of int of shape (n_clusters * tasks_per_cluster,)
        The true cluster of each column of ``y``.

    Examples
    --------
    >>> from skmtl.affinity import make_task_clusters
    >>> X, y, clusters = make_task_clusters(100, random_state=0)
    >>> X.shape, list(y.columns[:2]), clusters.tolist()
    ((100, 12), ['c0_t0', 'c0_t1'], [0, 0, 0, 1, 1, 1])
    """
    for name, value, low in (("n_samples", n_samples, 1), ("n_clusters", n_clusters, 1),
                             ("tasks_per_cluster", tasks_per_cluster, 1),
                             ("n_features", n_features, 1)):
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if negated and tasks_per_cluster < 2:
        raise ValueError("negated=True needs tasks_per_cluster >= 2 (the negated copy is "
                         "the last task of the first cluster).")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got {noise!r}.")
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_clusters * n_features))
    columns, targets, clusters = [], [], []
    for c in range(n_clusters):
        block = X[:, c * n_features:(c + 1) * n_features]
        latent = block @ rng.standard_normal(n_features) / np.sqrt(n_features)
        mapped = np.sin(2 * latent) + latent
        for t in range(tasks_per_cluster):
            scale, offset = rng.uniform(0.5, 1.5), rng.normal(0, 0.5)
            value = scale * mapped + offset + noise * rng.standard_normal(n_samples)
            if negated and c == 0 and t == tasks_per_cluster - 1:
                value = -targets[0]
            columns.append(f"c{c}_t{t}")
            targets.append(value)
            clusters.append(c)
    y = pd.DataFrame(np.column_stack(targets), columns=columns)
    return X, y, np.asarray(clusters)
