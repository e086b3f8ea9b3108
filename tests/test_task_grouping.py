"""TaskGrouping: affinity -> partition -> one skmtl network per group."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from skmtl import MultiTaskClassifier, MultiTaskNet, TaskGrouping
from skmtl.affinity import make_task_clusters, partition_tasks
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, batch_size=64, lr=1e-2, random_state=0,
            device="cpu")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():  # 3-epoch fits warn that they stopped early
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def clusters():
    X, y, truth = make_task_clusters(240, random_state=0)
    A = pd.DataFrame(np.where(truth[:, None] == truth[None], 0.5, 0.0), index=y.columns,
                     columns=y.columns)
    return X, y, truth, A


def test_given_matrix_groups_like_partition_tasks(clusters):
    X, y, _, A = clusters
    A = A.copy()
    A.loc["c0_t2", "c0_t0"] = A.loc["c0_t0", "c0_t2"] = -1.0  # split cluster 0
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=3, affinity=A).fit(X, y)
    assert grouping.groups_ == partition_tasks(A, 3)
    assert grouping.groups_ == [["c0_t0", "c0_t1"], ["c0_t2"], ["c1_t0", "c1_t1", "c1_t2"]]
    assert grouping.n_groups_ == 3
    assert [[t.name_ for t in est.tasks_] for est in grouping.estimators_] == grouping.groups_
    assert [t.name_ for t in grouping.tasks_] == list(y.columns)
    result = grouping.affinity_
    assert result.method == "given" and result.seconds == 0
    pd.testing.assert_frame_equal(result.matrix, A)
    assert result.standard_error.isna().all().all()
    assert (result.n_measurements == 0).all().all()
    assert not hasattr(grouping, "validation_losses_")
    assert grouping.n_features_in_ == X.shape[1]
    # every group's network was trained with the same seed
    assert {est.random_state for est in grouping.estimators_} == {0}


def test_given_frame_is_aligned_on_task_names_and_array_on_column_order(clusters):
    X, y, truth, A = clusters
    shuffled = A.loc[A.index[::-1], A.columns[[3, 0, 5, 1, 4, 2]]]
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=shuffled).fit(X, y)
    assert grouping.groups_ == [list(y.columns[:3]), list(y.columns[3:])]
    pd.testing.assert_frame_equal(grouping.affinity_.matrix, A)
    # a plain array follows y's column order; with an array y the tasks are "0", "1", ...
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2,
                            affinity=A.to_numpy()).fit(X, y.to_numpy())
    assert grouping.groups_ == [["0", "1", "2"], ["3", "4", "5"]]


def test_gradient_affinity_recovers_the_true_clusters():
    X, y, truth = make_task_clusters(2000, random_state=0)
    template = MultiTaskNet(hidden_layer_sizes=(64, 64), batch_size=128, lr=1e-2, max_epochs=2,
                            affinity_interval=1, random_state=0, device="cpu")
    grouping = TaskGrouping(template, n_groups=2, affinity="gradient", affinity_epochs=5,
                            random_state=0).fit(X, y)
    assert grouping.affinity_.method == "gradient"
    assert grouping.affinity_.seconds > 0
    assert (grouping.affinity_.n_measurements.to_numpy() > 0).all()
    labels = np.empty(len(truth), dtype=int)
    for g, group in enumerate(grouping.groups_):
        labels[[list(y.columns).index(name) for name in group]] = g
    assert adjusted_rand_score(truth, labels) == 1.0


def test_lookahead_affinity_is_measured_when_asked(clusters):
    X, y, _, _ = clusters
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity="lookahead",
                            affinity_epochs=1).fit(X, y.iloc[:, [0, 1, 3]])
    assert grouping.affinity_.method == "lookahead"
    assert list(grouping.affinity_.matrix.index) == ["c0_t0", "c0_t1", "c1_t0"]
    assert grouping.groups_ == partition_tasks(grouping.affinity_.matrix, 2)


def test_auto_picks_the_lowest_validation_loss(clusters):
    X, y, _, A = clusters
    template = MultiTaskNet(**FAST)
    grouping = TaskGrouping(template, n_groups="auto", affinity=A, max_groups=3).fit(X, y)
    losses = grouping.validation_losses_
    # the candidates are the best partitions into at most 1, 2, 3 groups: one group and
    # the two clusters (at most 3 groups gives the clusters again: splitting one lowers
    # the score), each tried once
    assert partition_tasks(A, 3) == partition_tasks(A, 2) != partition_tasks(A, 1)
    assert sorted(losses) == [1, 2]
    assert all(np.isfinite(v) and v > 0 for v in losses.values())
    errors = grouping.validation_standard_errors_
    lowest = min(losses, key=lambda k: (losses[k], k))
    assert grouping.n_groups_ == lowest and errors[lowest] == 0 and errors[3 - lowest] > 0
    assert grouping.groups_ == partition_tasks(A, lowest)
    # the loss of one group for all: the sum over tasks of each task's MSE on its
    # standardised target, on each of 10 blocks of the held-out rows, averaged over the
    # blocks (the template's seed splits and trains)
    train, held = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
    one = clone(template).fit(X[train], y.iloc[train])
    pred = one.predict(X[held])
    truth = y.iloc[held].to_numpy()
    expected = np.mean([
        sum(np.mean(((pred[t.name_].to_numpy()[b] - truth[b, k]) / t.scale_) ** 2)
            for k, t in enumerate(one.tasks_))
        for b in np.array_split(np.arange(len(held)), 10)
    ])
    assert losses[1] == pytest.approx(expected, rel=1e-4)


def test_lowest_mean_loss_wins_and_ties_go_to_fewer_groups():
    from skmtl._grouping import _lowest

    base = np.array([1.0, 1.2, 0.8, 1.1, 0.9])
    noise = np.array([0.04, -0.05, 0.02, 0.05, -0.04])
    choice, means, errors = _lowest({1: base + 0.2, 2: base + noise, 3: base - 0.01})
    assert choice == 3 and means[3] == pytest.approx(0.99) and errors[3] == 0
    # the standard error of the paired difference over the blocks
    assert errors[2] == pytest.approx(np.std(noise + 0.01, ddof=1) / np.sqrt(5))
    assert errors[1] == pytest.approx(0.0)  # a constant difference
    assert _lowest({1: base, 2: base[::-1]})[0] == 1  # equal means: fewer groups
    assert _lowest({}) == (None, {}, {})


def test_auto_is_capped_by_the_number_of_tasks(clusters):
    X, y, _, A = clusters
    # two conflicting tasks: one group for both, or one each (at most 2, not 4, groups)
    two = pd.DataFrame([[1.0, -0.5], [-0.5, 1.0]], index=["c0_t0", "c1_t0"],
                       columns=["c0_t0", "c1_t0"])
    grouping = TaskGrouping(MultiTaskNet(**FAST), affinity=two, max_groups=4).fit(
        X, y[["c0_t0", "c1_t0"]])
    assert sorted(grouping.validation_losses_) == [1, 2]


def test_predictions_follow_y_columns_and_x_index(clusters):
    X, y, _, A = clusters
    order = ["c0_t0", "c1_t0", "c0_t1", "c1_t1"]  # groups interleave in y
    y4, A4 = y[order], A.loc[order, order]
    index = pd.Index(np.arange(len(y))[::-1] * 10, name="id")
    Xf = pd.DataFrame(X, index=index, columns=[f"x{i}" for i in range(X.shape[1])])
    yf = y4.set_index(index)
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A4).fit(Xf, yf)
    assert grouping.groups_ == [["c0_t0", "c0_t1"], ["c1_t0", "c1_t1"]]
    assert list(grouping.feature_names_in_) == list(Xf.columns)
    test = Xf.iloc[[5, 1, 7]]
    pred = grouping.predict(test)
    assert list(pred.columns) == order
    assert list(pred.index) == list(test.index)
    # each column is its group's network's prediction, on the same rows
    first, second = grouping.estimators_
    np.testing.assert_allclose(pred["c0_t1"], first.predict(test)["c0_t1"])
    np.testing.assert_allclose(pred["c1_t0"], second.predict(test)["c1_t0"])
    residual = pred["c0_t0"] - yf.loc[test.index, "c0_t0"]
    assert list(residual.index) == list(test.index) and residual.notna().all()
    scores = grouping.score_tasks(test, yf.loc[test.index])
    assert list(scores) == order
    assert grouping.score(test, yf.loc[test.index]) == pytest.approx(np.mean(list(scores.values())))
    # arrays in, arrays out, shaped like y
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2,
                            affinity=A4.to_numpy()).fit(X, y4.to_numpy())
    out = grouping.predict(X[:7])
    assert isinstance(out, np.ndarray) and out.shape == (7, 4) and out.dtype == np.float64
    np.testing.assert_allclose(out[:, 1], grouping.estimators_[1].predict(X[:7])[1])


def test_one_task_needs_no_affinity_run_and_keeps_y_shape(clusters):
    X, y, _, _ = clusters
    grouping = TaskGrouping(MultiTaskNet(**FAST)).fit(X, y["c0_t0"].to_numpy())
    assert grouping.groups_ == [["0"]] and grouping.validation_losses_ == {}
    assert grouping.affinity_.matrix.shape == (1, 1) and grouping.affinity_.seconds == 0
    assert grouping.predict(X[:5]).shape == (5,)
    series = TaskGrouping(MultiTaskNet(**FAST), n_groups=1).fit(X, y["c0_t0"])
    assert series.predict(X[:5]).name == "c0_t0"


def mixed_data(n=240, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = pd.DataFrame({
        "size": X[:, 0] * 2 + rng.normal(0, 0.1, n),
        "kind": np.where(X[:, 1] > 0, "cat", "dog"),
        "level": np.digitize(X[:, 2], [-0.5, 0.5]),
    })
    y["level"] = y["level"].map({0: "low", 1: "mid", 2: "high"})
    return X, y


def test_classification_and_regression_mix_with_probabilities():
    X, y = mixed_data()
    A = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
    template = MultiTaskNet(tasks={"level": "classification"}, **FAST)
    grouping = TaskGrouping(template, n_groups=2, affinity=A).fit(X, y)
    assert grouping.groups_ == [["size"], ["kind", "level"]]
    assert grouping.estimators_[1].tasks == {"level": "classification"}
    assert grouping.estimators_[0].tasks == {}
    assert [t.kind for t in grouping.tasks_] == ["regression", "classification",
                                                  "classification"]
    probas = grouping.predict_proba(X[:6])
    assert [p.shape for p in probas] == [(6, 2), (6, 3)]
    np.testing.assert_allclose([p.sum(axis=1) for p in probas], 1, rtol=1e-5)
    expected = grouping.estimators_[1].predict_proba(X[:6])
    for got, want in zip(probas, expected):
        np.testing.assert_allclose(got, want)
    pred = grouping.predict(X[:6])
    assert set(pred["kind"]) <= {"cat", "dog"} and set(pred["level"]) <= {"low", "mid", "high"}
    # a regression-only grouping has no probabilities
    regression = TaskGrouping(MultiTaskNet(**FAST), n_groups=1, affinity=np.zeros((1, 1)))
    regression.fit(X, y[["size"]])
    assert not hasattr(regression, "predict_proba")
    # one classification task alone: a single array, as the skmtl estimators return
    single = TaskGrouping(MultiTaskClassifier(**FAST), n_groups=1).fit(X, y["kind"])
    assert single.predict_proba(X[:3]).shape == (3, 2)


def test_task_specs_are_split_between_the_groups():
    X, y = mixed_data()
    tasks = [Regression("size", name="S"), Classification("kind"), Classification("level")]
    A = pd.DataFrame([[0, 1, 0], [1, 0, 0], [0, 0, 0]], index=["S", "kind", "level"],
                     columns=["S", "kind", "level"], dtype=float)
    grouping = TaskGrouping(MultiTaskNet(tasks=tasks, **FAST), n_groups=2, affinity=A).fit(X, y)
    assert grouping.groups_ == [["S", "kind"], ["level"]]
    assert [t.column for t in grouping.estimators_[0].tasks] == ["size", "kind"]
    assert [t.column for t in grouping.estimators_[1].tasks] == ["level"]
    assert list(grouping.predict(X[:2]).columns) == ["size", "kind", "level"]
    assert list(grouping.score_tasks(X, y)) == ["S", "kind", "level"]


def multilabel_data(n=300):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["x0", "x1", "x2", "x3"],
                     index=np.arange(n) + 500)
    y = pd.DataFrame({"t1": (X.x0 > 0).astype(int),  # tags t1 / t3 (one MultiLabel task)
                      "r": 2 * X.x1 + rng.normal(scale=0.1, size=n),
                      "t3": (X.x0 + X.x2 > 0).astype(float),
                      "k": np.where(X.x3 > 0, "up", "down")}, index=X.index)
    y.loc[y.index[:40], "t3"] = np.nan  # a tag missing on some rows
    return X, y


@pytest.mark.parametrize("declared", ["list", "dict"])
def test_a_multilabel_task_is_grouped_as_one_unit(declared):
    # its columns (not next to each other in y) stay together, in one network, as one task
    X, y = multilabel_data()
    tags = MultiLabel(["t1", "t3"], name="tags")
    tasks = [tags] if declared == "list" else {"tags": tags, "k": "classification"}
    names = ["tags", "r", "k"]
    A = pd.DataFrame([[0, 0, 1], [0, 0, 0], [1, 0, 0]], index=names, columns=names, dtype=float)
    grouping = TaskGrouping(MultiTaskNet(tasks=tasks, **FAST), n_groups=2, affinity=A).fit(X, y)
    assert grouping.groups_ == [["tags", "k"], ["r"]]
    first, second = grouping.estimators_
    assert [t.name_ for t in first.tasks_] == ["tags", "k"]
    assert list(first.tasks_[0].columns_) == ["t1", "t3"]
    assert [t.name_ for t in second.tasks_] == ["r"]
    assert [t.name_ for t in grouping.tasks_] == ["tags", "r", "k"]
    pred = grouping.predict(X.iloc[:5])
    assert list(pred.columns) == list(y.columns) and (pred.index == X.index[:5]).all()
    pd.testing.assert_frame_equal(pred[["t1", "t3", "k"]], first.predict(X.iloc[:5]))
    assert pred["t1"].dtype == y["t1"].dtype and set(pred["t1"]) <= {0, 1}
    proba = grouping.predict_proba_frame(X.iloc[:5])
    assert list(proba["tags"].columns) == ["t1", "t3"]
    np.testing.assert_allclose(proba["tags"], first.predict_proba_frame(X.iloc[:5])["tags"])
    scores = grouping.score_tasks(X, y)
    assert list(scores) == ["tags", "r", "k"]
    assert scores["tags"] == first.score_tasks(X, y[["t1", "t3", "k"]])["tags"]
    restored = pickle.loads(pickle.dumps(grouping))
    pd.testing.assert_frame_equal(restored.predict(X), grouping.predict(X))


def test_a_multilabel_task_takes_part_in_measured_affinity_and_auto():
    X, y = multilabel_data()
    template = MultiTaskNet(tasks=[MultiLabel(["t1", "t3"], name="tags")], **FAST)
    grouping = TaskGrouping(template, n_groups="auto", affinity_epochs=2).fit(X, y)
    assert list(grouping.affinity_.matrix.index) == ["tags", "r", "k"]
    assert set(grouping.validation_losses_) >= {1}
    assert sorted(n for group in grouping.groups_ for n in group) == ["k", "r", "tags"]
    assert list(grouping.predict(X).columns) == list(y.columns)


def test_a_grouping_pickled_with_one_column_per_task_still_predicts(clusters):
    # before MultiLabel tasks could be grouped, each task kept its one column, not a list
    X, y, _, A = clusters
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A).fit(X, y)
    state = grouping.__getstate__()
    state["_columns"] = {name: columns[0] for name, columns in state["_columns"].items()}
    old = TaskGrouping.__new__(TaskGrouping)
    old.__setstate__(state)
    pd.testing.assert_frame_equal(old.predict(X), grouping.predict(X))
    assert old.score_tasks(X, y) == grouping.score_tasks(X, y)


def test_pickle_clone_and_nested_params(clusters):
    X, y, _, A = clusters
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A).fit(X, y)
    restored = pickle.loads(pickle.dumps(grouping))
    pd.testing.assert_frame_equal(restored.predict(X[:9]), grouping.predict(X[:9]))
    assert restored.groups_ == grouping.groups_
    fresh = clone(grouping)
    assert not hasattr(fresh, "groups_")
    assert fresh.get_params()["n_groups"] == 2
    fresh.set_params(estimator__max_epochs=1, n_groups=1)
    assert fresh.estimator.max_epochs == 1 and grouping.estimator.max_epochs == 3
    fresh.fit(X, y)
    assert fresh.n_groups_ == 1 and all(est.n_epochs_ == 1 for est in fresh.estimators_)


def test_grid_search_over_the_number_of_groups(clusters):
    X, y, _, A = clusters
    search = GridSearchCV(TaskGrouping(MultiTaskNet(**FAST), affinity=A),
                          {"n_groups": [1, 2]}, cv=2).fit(X, y)
    assert search.best_params_["n_groups"] in (1, 2)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_groups_ == search.best_params_["n_groups"]


def test_bad_input_is_refused_clearly(clusters):
    X, y, _, A = clusters
    template = MultiTaskNet(**FAST)
    wrong = A.rename(index={"c0_t0": "zzz"}, columns={"c0_t0": "zzz"})
    with pytest.raises(ValueError, match=r"label its rows and columns with the task names"):
        TaskGrouping(template, n_groups=2, affinity=wrong).fit(X, y)
    with pytest.raises(ValueError, match=r"affinity has shape \(2, 2\), but y has 6 task"):
        TaskGrouping(template, n_groups=2, affinity=np.zeros((2, 2))).fit(X, y)
    with pytest.raises(ValueError, match=r"n_groups=7 but y has 6 task"):
        TaskGrouping(template, n_groups=7, affinity=A).fit(X, y)
    with pytest.raises(InvalidParameterError, match="estimator"):
        TaskGrouping("net").fit(X, y)
    with pytest.raises(InvalidParameterError, match="n_groups"):
        TaskGrouping(template, n_groups=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="affinity"):
        TaskGrouping(template, affinity="cosine").fit(X, y)
    grouping = TaskGrouping(template, n_groups=1, affinity=A).fit(X, y)
    with pytest.raises(ValueError, match="missing"):
        grouping.score_tasks(X, y.drop(columns="c1_t2"))


@pytest.mark.parametrize("architecture", ["shared_bottom", "mmoe"])
def test_tasks_from_different_datasets(architecture):
    # cluster 0 is labelled on the first rows only, cluster 1 on the last rows only (two
    # datasets stacked), plus scattered missing labels; both affinity modes (the
    # representation of shared_bottom, the shared parameters of mmoe) and "auto"
    X, y, truth = make_task_clusters(600, random_state=1)
    y = y.copy()
    y.iloc[400:, :3] = np.nan
    y.iloc[:200, 3:] = np.nan
    y.iloc[::7, 1] = np.nan
    X = pd.DataFrame(X, index=np.arange(600) + 1000)
    template = MultiTaskNet(architecture=architecture, hidden_layer_sizes=(32,), max_epochs=4,
                            batch_size=64, lr=1e-2, random_state=0, device="cpu")
    grouping = TaskGrouping(template, affinity_epochs=3, max_groups=3, random_state=0).fit(X, y)
    counts = grouping.affinity_.n_measurements.to_numpy()
    assert (counts > 0).all()  # rows 200-399 carry both clusters: every pair is measured
    assert 1 in grouping.validation_losses_ and set(grouping.validation_losses_) <= {1, 2, 3}
    assert grouping.n_groups_ in grouping.validation_losses_
    assert all(np.isfinite(v) for v in grouping.validation_losses_.values())
    assert sorted(name for group in grouping.groups_ for name in group) == sorted(y.columns)
    pred = grouping.predict(X.iloc[::50])
    assert list(pred.columns) == list(y.columns) and list(pred.index) == list(X.index[::50])
    assert not pred.isna().any().any()  # every task is predicted for every row
    scores = grouping.score_tasks(X, y)
    assert set(scores) == set(y.columns) and all(np.isfinite(list(scores.values())))


def test_separate_networks_measure_nothing_and_say_so(clusters):
    X, y, _, A = clusters
    template = MultiTaskNet(architecture="separate", **FAST)
    with pytest.raises(ValueError, match=r"^TaskGrouping measures affinity='gradient' by "
                       r"training its estimator with task_affinity=True for affinity_epochs=10, "
                       r"which refused: task_affinity=True compares the tasks' gradients"):
        TaskGrouping(template, n_groups=2).fit(X, y)
    # options the estimator itself refuses are refused as its own fit would, not as the
    # measuring run's
    alternating = MultiTaskNet(schedule="alternating", weighting="dwa", **FAST)
    with pytest.raises(InvalidParameterError, match="^schedule='alternating' trains one task"):
        TaskGrouping(alternating, n_groups=2).fit(X, y)
    # a given matrix needs no measuring run
    grouping = TaskGrouping(template, n_groups=2, affinity=A).fit(X, y)
    assert grouping.groups_ == [list(y.columns[:3]), list(y.columns[3:])]


def test_inside_a_pipeline_with_a_dataframe(clusters):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _, A = clusters
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])],
                         index=[f"row{i}" for i in range(len(X))])
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"),
                         TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A))
    pipe.fit(frame.iloc[:200], y.iloc[:200])
    test = frame.iloc[200:]
    pred = pipe.predict(test)
    # the habit: a residual pairs each prediction with its own row
    residual = pred["c0_t0"] - y.iloc[200:].set_axis(test.index)["c0_t0"]
    assert list(residual.index) == list(test.index) and residual.notna().all()
    assert list(pipe[-1].feature_names_in_) == list(frame.columns)
    assert np.isfinite(pipe.score(test, y.iloc[200:].set_axis(test.index)))


@pytest.mark.parametrize("affinity", ["gradient", "given"])
def test_sample_weight_of_zero_is_a_missing_label(clusters, affinity):
    # weights reach the affinity run, the candidates of "auto" (fits and validation losses)
    # and the final fits: a weight of 0 on an entry trains as a missing label there
    X, y, _, A = clusters
    weights = np.ones(y.shape)
    weights[::3, 1] = 0
    weights[1::5, 4] = 0
    missing = y.mask(weights == 0)
    settings = dict(affinity=A if affinity == "given" else "gradient", affinity_epochs=2,
                    max_groups=3, random_state=0)
    weighted = TaskGrouping(MultiTaskNet(**FAST), **settings).fit(X, y, sample_weight=weights)
    masked = TaskGrouping(MultiTaskNet(**FAST), **settings).fit(X, missing)
    assert weighted.groups_ == masked.groups_
    # equal up to float32 rounding (the weighted and the masked means sum differently)
    pd.testing.assert_frame_equal(weighted.affinity_.matrix, masked.affinity_.matrix,
                                  rtol=1e-4, atol=1e-5)
    assert weighted.validation_losses_ == pytest.approx(masked.validation_losses_, rel=1e-4)
    pd.testing.assert_frame_equal(weighted.predict(X), masked.predict(X), rtol=1e-4, atol=1e-5)
    # a DataFrame of weights names the tasks; the same weights in another column order
    frame = pd.DataFrame(weights, columns=y.columns)[list(y.columns[::-1])]
    again = TaskGrouping(MultiTaskNet(**FAST), **settings).fit(X, y, sample_weight=frame)
    pd.testing.assert_frame_equal(again.predict(X), weighted.predict(X))


def test_sample_weight_in_scores(clusters):
    X, y, _, A = clusters
    grouping = TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A).fit(X, y)
    rows = np.random.RandomState(0).uniform(0.1, 2.0, size=len(y))
    scores = grouping.score_tasks(X, y, sample_weight=rows)
    for estimator, group in zip(grouping.estimators_, grouping.groups_):
        expected = estimator.score_tasks(X, y[group], sample_weight=rows)
        assert {t: scores[t] for t in group} == pytest.approx(expected)
    assert scores != pytest.approx(grouping.score_tasks(X, y))
    assert grouping.score(X, y, sample_weight=rows) == pytest.approx(np.mean(list(scores.values())))
    with pytest.raises(ValueError, match="sample_weight"):
        grouping.score(X, y, sample_weight=np.ones((len(y), 2)))
    with pytest.raises(ValueError, match="sample_weight"):
        TaskGrouping(MultiTaskNet(**FAST), n_groups=2, affinity=A).fit(
            X, y, sample_weight=np.ones(len(y) - 1))


def test_a_class_only_in_the_validation_rows_of_auto_is_kept():
    """n_groups='auto' fits its candidates on 80 % of the rows and scores them on the rest:
    a class whose only row is held out is still one of every candidate's classes (before,
    the candidates refused it as a label they were not built with)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = pd.DataFrame({"r": X[:, 0], "c": np.where(X[:, 1] > 0, "hi", "lo").astype(object)})
    seed = 3
    _, held_out = train_test_split(np.arange(40), test_size=0.2, random_state=seed)
    y.loc[held_out[0], "c"] = "rare"  # the one row of its class, held out
    grouping = TaskGrouping(MultiTaskNet(**{**FAST, "random_state": seed}), affinity_epochs=1,
                            random_state=seed).fit(X, y)
    assert set(grouping.validation_losses_) == {1, 2}
    for estimator in grouping.estimators_:
        if "c" in [task.name_ for task in estimator.tasks_]:
            assert estimator.tasks_[-1].classes_.tolist() == ["hi", "lo", "rare"]
    assert grouping.predict_proba_frame(X)["c"].columns.tolist() == ["hi", "lo", "rare"]
