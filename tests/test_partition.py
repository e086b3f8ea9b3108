"""partition_tasks / partition_score: the grouping of tasks of highest affinity score."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skmtl.affinity import AffinityResult, partition_score, partition_tasks
from skmtl.affinity._partition import _heuristic, _scores, _set_partitions


def set_partitions(items):
    """Every partition of ``items`` (a list), by the textbook recursion."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in set_partitions(rest):
        yield [[first], *smaller]
        for g in range(len(smaller)):
            yield smaller[:g] + [[first, *smaller[g]]] + smaller[g + 1:]


def naive_score(A, groups):
    """The score, written plainly: per task, the mean affinity onto it from its group."""
    total = 0.0
    for group in groups:
        for j in group:
            others = [A[i][j] for i in group if i != j]
            values = [0.0 if np.isnan(v) else v for v in others]
            total += sum(values) / len(values) if values else 0.0
    return total


def brute_force(A, n_groups, exact=False):
    """Best score and, among the partitions reaching it, the fewest groups."""
    T = len(A)
    options = [p for p in set_partitions(list(range(T)))
               if (len(p) == n_groups if exact else len(p) <= n_groups)]
    scores = np.array([naive_score(A, p) for p in options])
    best = scores.max()
    tied = [p for p, s in zip(options, scores) if s >= best - 1e-9 * max(1, abs(best))]
    return best, min(len(p) for p in tied)


def as_names(groups):
    return [[str(t) for t in group] for group in groups]


def test_set_partitions_are_the_bell_numbers_and_distinct():
    bell = [1, 1, 2, 5, 15, 52, 203, 877, 4140, 21147, 115975]
    for n in range(1, 11):
        rows = _set_partitions(n)
        assert rows.shape == (bell[n], n)
        assert len(np.unique(rows, axis=0)) == bell[n]
    # restricted growth: each label at most one more than the labels before it
    rows = _set_partitions(6).astype(int)
    assert (rows[:, 0] == 0).all()
    assert (rows[:, 1:] <= np.maximum.accumulate(rows, axis=1)[:, :-1] + 1).all()


matrices = st.integers(2, 7).flatmap(
    lambda T: arrays(np.float64, (T, T),
                     elements=st.one_of(st.floats(-1, 1, allow_nan=False),
                                        st.just(0.5), st.just(np.nan))))


@settings(max_examples=60, deadline=None)
@given(A=matrices, data=st.data())
def test_exhaustive_search_equals_brute_force(A, data):
    T = len(A)
    n_groups = data.draw(st.integers(1, T))
    exact = data.draw(st.booleans())
    groups = partition_tasks(A, n_groups, exact=exact)
    best, fewest = brute_force(A, n_groups, exact)
    found = [[int(t) for t in g] for g in groups]
    assert naive_score(A, found) == pytest.approx(best, abs=1e-9)
    assert partition_score(A, groups) == pytest.approx(best, abs=1e-9)
    assert len(groups) == fewest  # ties: fewer groups
    assert (len(groups) == n_groups) if exact else (len(groups) <= n_groups)
    # every task once; groups ordered by first task, tasks in matrix order
    assert sorted(t for g in found for t in g) == list(range(T))
    assert [g[0] for g in found] == sorted(g[0] for g in found)
    assert all(g == sorted(g) for g in found)


def test_the_mean_per_task_does_not_favour_one_big_group():
    # two clusters with positive affinity across: the within-sum would merge everything
    A = np.full((4, 4), 0.1)
    A[:2, :2] = A[2:, 2:] = 0.8
    assert partition_tasks(A, 4) == [["0", "1"], ["2", "3"]]
    assert partition_score(A, [["0", "1"], ["2", "3"]]) == pytest.approx(4 * 0.8)
    assert partition_score(A, [["0", "1", "2", "3"]]) == pytest.approx(4 * (0.8 + 0.2) / 3)
    assert partition_tasks(A, 1) == [["0", "1", "2", "3"]]


def test_ties_go_to_fewer_groups():
    # every pair unrelated: all partitions score 0, so one group
    assert partition_tasks(np.zeros((5, 5)), 5) == [["0", "1", "2", "3", "4"]]
    # equal affinity everywhere: any grouping without singletons ties; fewest groups win
    assert partition_tasks(np.full((4, 4), 0.3), 4) == [["0", "1", "2", "3"]]


def test_nan_counts_as_zero_and_negative_affinity_splits():
    A = np.array([[1.0, np.nan, 0.6], [np.nan, 1.0, -0.2], [0.6, -0.2, 1.0]])
    # task 1 hurts and is hurt by task 2; unmeasured with task 0
    assert partition_tasks(A, 3) == [["0", "2"], ["1"]]
    assert partition_score(A, [["0", "1"], ["2"]]) == 0.0
    assert partition_score(A, [["0", "1", "2"]]) == pytest.approx(0.3 + -0.1 + 0.2)


def test_asymmetric_affinity_scores_as_its_symmetric_part():
    # task 0 helps task 1 a lot (A[0, 1]) but 1 hurts 0 (A[1, 0]); task 2 helps 0 mildly
    A = np.array([[0.0, 0.9, 0.0], [-0.5, 0.0, 0.0], [0.3, 0.0, 0.0]])
    # {0, 1}: 0.9 - 0.5 = 0.4; {0, 2}: 0.3 + 0 = 0.3; {0, 1, 2}: (-0.5+0.3)/2 + 0.9/2 + 0 = 0.35
    assert partition_score(A, [["0", "1"], ["2"]]) == pytest.approx(0.4)
    assert partition_score(A, [["0", "2"], ["1"]]) == pytest.approx(0.3)
    assert partition_score(A, [["0", "1", "2"]]) == pytest.approx(0.35)
    assert partition_tasks(A, 2) == [["0", "1"], ["2"]]
    # within a group of size s every ordered pair has weight 1 / (s - 1): only
    # A[i, j] + A[j, i] matters, so a matrix, its transpose and its symmetric part agree
    rng = np.random.default_rng(0)
    for T in (5, 12):
        B = rng.normal(size=(T, T))
        for n_groups in (2, 3):
            groups = partition_tasks(B, n_groups)
            assert partition_tasks(B.T, n_groups) == groups
            assert partition_tasks((B + B.T) / 2, n_groups) == groups
            assert partition_score(B, groups) == pytest.approx(partition_score(B.T, groups))


def test_names_from_frames_and_results_and_column_order():
    names = ["b", "a", "c"]
    A = pd.DataFrame([[1, 0.7, 0], [0.7, 1, 0], [0, 0, 1]], index=names, columns=names)
    assert partition_tasks(A, 2) == [["b", "a"], ["c"]]
    # columns in another order are aligned on the index
    assert partition_tasks(A[["c", "a", "b"]], 2) == [["b", "a"], ["c"]]
    result = AffinityResult(A, A * np.nan, A * 0, "gradient", 0.0)
    assert partition_tasks(result, 2) == [["b", "a"], ["c"]]
    assert partition_tasks(A, 2, exact=True) == [["b", "a"], ["c"]]
    assert partition_tasks(A, 3, exact=True) == [["b"], ["a"], ["c"]]


def planted(n_clusters, size, seed, within=0.5, noise=0.1):
    rng = np.random.default_rng(seed)
    clusters = np.repeat(np.arange(n_clusters), size)
    A = np.where(clusters[:, None] == clusters[None], within, 0.0)
    return A + rng.normal(0, noise, A.shape), clusters


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_heuristic_finds_planted_clusters_beyond_ten_tasks(seed):
    A, clusters = planted(3, 5, seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(A))  # clusters interleaved in the matrix
    A, clusters = A[np.ix_(order, order)], clusters[order]
    expected = [[str(t) for t in np.flatnonzero(clusters == c)] for c in np.unique(clusters)]
    expected.sort(key=lambda g: int(g[0]))
    assert partition_tasks(A, 3) == expected
    assert partition_tasks(A, 3, exact=True) == expected
    # allowed more groups, it scores at least as well as the clusters
    assert partition_score(A, partition_tasks(A, 6)) >= partition_score(A, expected) - 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_heuristic_is_never_worse_than_one_group(seed):
    A = np.random.default_rng(seed).normal(0.2, 0.5, (13, 13))
    one = [[str(t) for t in range(13)]]
    for n_groups in (2, 4):
        groups = partition_tasks(A, n_groups)
        assert len(groups) <= n_groups
        assert partition_score(A, groups) >= partition_score(A, one) - 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_heuristic_close_to_the_optimum_on_small_matrices(seed):
    # where the exhaustive answer is known, the heuristic reaches it on these matrices
    A = np.random.default_rng(seed).normal(0, 0.5, (8, 8))
    L = _heuristic(A, 3, False)
    labels = _set_partitions(8)
    labels = labels[labels.max(axis=1) < 3]
    assert _scores(L[None], A)[0] == pytest.approx(_scores(labels, A).max())


def test_exhaustive_on_ten_tasks_is_fast_enough_to_run_here():
    A = np.random.default_rng(0).normal(size=(10, 10))
    groups = partition_tasks(A, 10)
    assert sorted(int(t) for g in groups for t in g) == list(range(10))
    best = _scores(_set_partitions(10), np.where(np.eye(10, dtype=bool), 0, A)).max()
    assert partition_score(A, groups) == pytest.approx(best)


@pytest.mark.parametrize("affinity, n_groups, error, match", [
    (np.zeros((2, 3)), 1, ValueError, "square"),
    (np.zeros(3), 1, ValueError, "square"),
    (np.zeros((0, 0)), 1, ValueError, "non-empty"),
    (np.array([[0, np.inf], [0, 0]]), 1, ValueError, "infinite"),
    (np.array([["a", "b"], ["c", "d"]]), 1, ValueError, "numbers"),
    (np.zeros((3, 3)), 0, ValueError, r"between 1 and the number of tasks \(3\)"),
    (np.zeros((3, 3)), 4, ValueError, r"between 1 and the number of tasks \(3\)"),
    (np.zeros((3, 3)), 2.0, TypeError, "n_groups must be an int"),
    (np.zeros((3, 3)), True, TypeError, "n_groups must be an int"),
    (pd.DataFrame(np.zeros((2, 2)), index=["a", "b"], columns=["a", "c"]), 1, ValueError,
     "must name the same tasks"),
])
def test_bad_input_is_refused_clearly(affinity, n_groups, error, match):
    with pytest.raises(error, match=match):
        partition_tasks(affinity, n_groups)


def test_partition_score_checks_the_groups():
    A = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"lacks"):
        partition_score(A, [["0", "1"], ["x"]])
    with pytest.raises(ValueError, match="exactly one group"):
        partition_score(A, [["0", "1"]])
    with pytest.raises(ValueError, match="exactly one group"):
        partition_score(A, [["0", "1"], ["1", "2"]])
    with pytest.raises(TypeError, match="exact"):
        partition_tasks(A, 1, exact="yes")
