"""The task-affinity plots: what they draw (cells, labels, group outlines, lines) and
their errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skorch.history import History

from skmtl import MultiTaskRegressor
from skmtl.affinity import AffinityResult, make_task_clusters
from skmtl.plotting import plot_affinity_history, plot_task_affinity

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*stopped at max_epochs")

TASKS = ["a", "b", "c", "d"]
MATRIX = pd.DataFrame([[1.0, 0.1, 0.8, -0.2],
                       [0.2, 1.0, np.nan, 0.6],
                       [0.7, 0.0, 1.0, -0.1],
                       [-0.3, 0.5, -0.2, 1.0]], index=TASKS, columns=TASKS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def _image(ax) -> np.ma.MaskedArray:
    (image,) = ax.get_images()
    return image.get_array()


def test_heatmap_cells_labels_and_annotations():
    ax = plot_task_affinity(MATRIX)
    data = _image(ax)
    assert data.shape == (4, 4)
    np.testing.assert_array_equal(data.filled(np.nan), MATRIX.to_numpy())
    assert data.mask[1, 2] and data.mask.sum() == 1  # the NaN cell is left blank
    assert _labels(ax.get_xticklabels()) == TASKS
    assert _labels(ax.get_yticklabels()) == TASKS
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 15 and texts[:4] == ["1.00", "0.10", "0.80", "-0.20"]  # one NaN
    small = plot_task_affinity(MATRIX * 0.003 + 1e-5)  # decimals follow the largest value
    assert [t.get_text() for t in small.texts][:4] == ["0.0030", "0.0003", "0.0024", "-0.0006"]
    (image,) = ax.get_images()
    # centred at 0, spanning the largest off-diagonal magnitude (0.8; the diagonal's 1 is
    # clipped), so that the pairs' colours are not washed out by the diagonal
    assert image.get_clim() == (-0.8, 0.8)
    assert image.get_cmap().name == "RdBu_r"
    assert not [p for p in ax.patches if isinstance(p, Rectangle)]


def test_groups_reorder_and_outline():
    ax = plot_task_affinity(MATRIX, groups=[["b", "d"], ["a", "c"]], annotate=False)
    order = ["b", "d", "a", "c"]
    assert _labels(ax.get_xticklabels()) == order and _labels(ax.get_yticklabels()) == order
    np.testing.assert_array_equal(_image(ax).filled(np.nan),
                                  MATRIX.loc[order, order].to_numpy())
    rectangles = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(r.get_xy(), r.get_width(), r.get_height()) for r in rectangles] == [
        ((-0.5, -0.5), 2, 2), ((1.5, 1.5), 2, 2)]
    assert len(ax.texts) == 0


def test_affinity_result_array_and_given_axes():
    result = AffinityResult(MATRIX, MATRIX.abs() / 10, MATRIX.notna().astype(int), "lookahead")
    fig, ax = plt.subplots()
    assert plot_task_affinity(result, ax=ax) is ax
    assert "lookahead" in ax.get_title()
    ax = plot_task_affinity(np.eye(3), annotate=False)
    assert _labels(ax.get_xticklabels()) == ["0", "1", "2"]


class _FittedGrouping:
    """What plot_task_affinity reads from a fitted TaskGrouping."""

    def __init__(self, affinity, groups):
        self.affinity_ = affinity
        self.groups_ = groups


def test_task_grouping_groups_by_default_and_can_be_overridden():
    result = AffinityResult(MATRIX, MATRIX * 0, MATRIX * 0 + 3, "gradient")
    grouping = _FittedGrouping(result, [["a", "c"], ["b"], ["d"]])
    ax = plot_task_affinity(grouping)
    assert _labels(ax.get_xticklabels()) == ["a", "c", "b", "d"]
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 3
    ax = plot_task_affinity(grouping, groups=[TASKS])
    assert _labels(ax.get_xticklabels()) == TASKS
    assert len([p for p in ax.patches if isinstance(p, Rectangle)]) == 1


@pytest.mark.parametrize("groups, match", [
    ([["a", "b"], ["c"]], r"in no group: \['d'\]"),
    ([["a", "b"], ["c", "d", "e"]], r"unknown: \['e'\]"),
    ([["a", "b"], ["b", "c", "d"]], r"in several: \['b'\]"),
])
def test_groups_must_partition_the_tasks(groups, match):
    with pytest.raises(ValueError, match=match):
        plot_task_affinity(MATRIX, groups=groups)


def test_heatmap_input_errors():
    with pytest.raises(TypeError, match="affinity must be a DataFrame"):
        plot_task_affinity([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="square"):
        plot_task_affinity(MATRIX.iloc[:, :3])
    X, y, _ = make_task_clusters(40, tasks_per_cluster=1, random_state=0)
    est = MultiTaskRegressor(max_epochs=1, hidden_layer_sizes=(8,), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="task_affinity=True"):
        plot_task_affinity(est)
    with pytest.raises(ValueError, match="task_affinity=True"):
        plot_affinity_history(est)


def _history(matrices) -> History:
    history = History()
    for epoch, matrix in enumerate(matrices, start=1):
        history.new_epoch()
        history.record("epoch", epoch)
        for name in ("x", "y", "z"):
            history.record(f"train_loss_{name}", 1.0)
        history.record("task_affinity", matrix)
    return history


NAN = float("nan")
EPOCHS = [
    [[1, 0.5, -0.1], [0.5, 1, 0.2], [-0.1, 0.2, 1]],
    [[1, 0.6, NAN], [0.6, 1, 0.3], [NAN, 0.3, 1]],
    [[1, 0.7, 0.0], [0.7, 1, 0.4], [0.0, 0.4, 1]],
]


def test_history_lines_per_pair():
    ax = plot_affinity_history(_history(EPOCHS))
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert list(lines) == ["x / y", "x / z", "y / z"]
    np.testing.assert_array_equal(lines["x / y"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["x / y"].get_ydata(), [0.5, 0.6, 0.7])
    np.testing.assert_array_equal(lines["x / z"].get_ydata(), [-0.1, NAN, 0.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(lines)


def test_history_selected_pairs_and_errors():
    ax = plot_affinity_history(_history(EPOCHS), pairs=[("z", "y")])
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["z / y"]
    np.testing.assert_array_equal(labelled[0].get_ydata(), [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="two task names"):
        plot_affinity_history(_history(EPOCHS), pairs=[("x", "w")])
    with pytest.raises(TypeError, match="fitted skmtl estimator"):
        plot_affinity_history("history")
    empty = History()
    empty.new_epoch()
    empty.record("epoch", 1)
    with pytest.raises(ValueError, match="task_affinity=True"):
        plot_affinity_history(empty)


def test_fitted_estimator_with_task_affinity():
    X, y, _ = make_task_clusters(80, tasks_per_cluster=2, random_state=0)
    est = MultiTaskRegressor(max_epochs=2, task_affinity=True, affinity_interval=1,
                             hidden_layer_sizes=(8,), device="cpu", early_stopping=False,
                             random_state=0).fit(X, y)
    names = list(y.columns)
    ax = plot_task_affinity(est)
    assert _labels(ax.get_xticklabels()) == names
    np.testing.assert_allclose(_image(ax).filled(np.nan), est.task_affinity_.to_numpy())
    ax = plot_affinity_history(est)
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(labelled) == 6 and labelled[0].get_label() == f"{names[0]} / {names[1]}"
    first = [np.asarray(m)[0, 1] for m in est.history_[:, "task_affinity"]]
    np.testing.assert_allclose(labelled[0].get_ydata(), first)
