"""What an affinity measurement returns: the T x T matrix, its standard error and counts."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class AffinityResult:
    """A task-affinity matrix measured during a training run.

    ``matrix.loc[i, j]`` is the affinity of task ``i`` onto task ``j`` (for gradient
    affinity the matrix is symmetric: the cosine of the two tasks' gradients).

    Parameters
    ----------
    matrix : pandas.DataFrame of shape (n_tasks, n_tasks)
        Mean affinity over the measured steps; index and columns are the task names.
        NaN where a pair was never measured (e.g. two tasks never labelled in the same
        batch).
    standard_error : pandas.DataFrame of shape (n_tasks, n_tasks)
        Standard error of that mean over the measured steps (NaN with fewer than two).
    n_measurements : pandas.DataFrame of shape (n_tasks, n_tasks)
        How many steps measured each pair.
    method : {"gradient", "lookahead"}
        How the affinity was measured.
    seconds : float
        Wall-clock time of the training run that measured it.
    """

    matrix: pd.DataFrame
    standard_error: pd.DataFrame
    n_measurements: pd.DataFrame
    method: str
    seconds: float = float("nan")

    @property
    def tasks(self) -> list[str]:
        """The task names, in the matrix's order."""
        return [str(t) for t in self.matrix.index]
