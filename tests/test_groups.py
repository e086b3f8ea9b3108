"""Validation rows as whole groups (``fit(..., groups=...)``).

When rows share an entity (a customer, a patient, a storm), random validation rows hold
rows of the groups trained on: early stopping then measures how well the network
remembers those groups, not how it does on new ones, and runs on. With ``groups`` the
validation rows are whole groups, in every fit and partial_fit call.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold

from skmtl import MultiTaskEnsemble, MultiTaskNet, TaskGrouping
from skmtl._training import group_holdout

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(hidden_layer_sizes=(16,), max_epochs=4, random_state=0)


def _grouped(n_groups: int = 40, size: int = 6, seed: int = 0):
    """Rows in groups of ``size``; each group has its own offset (what random validation
    rows would let a network remember), a binary and a regression task, missing labels."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], size)
    offset = np.repeat(rng.normal(size=n_groups), size)
    X = pd.DataFrame({"a": rng.normal(size=len(groups)), "b": offset + rng.normal(size=len(groups)) * 0.1})
    y = pd.DataFrame({"r": X["a"] + offset, "c": np.where(X["a"] + offset > 0, "up", "down")})
    y.loc[y.index[::7], "c"] = None
    return X, y, groups


def _held_groups(model, groups):
    """The groups of the rows ``model`` validated on, and of those it trained on."""
    train, valid = model.net_.train_split.split(len(groups))
    return set(groups[valid.numpy()]), set(groups[train.numpy()])


def test_group_holdout_holds_out_whole_groups_the_same_in_every_call():
    groups = np.repeat(np.arange(200), 3)
    held = group_holdout(groups, 0.1, seed=5)
    per_group = held.reshape(200, 3)
    assert (per_group.all(axis=1) == per_group.any(axis=1)).all()  # whole groups
    assert 0.05 < per_group[:, 0].mean() < 0.15  # about the fraction of the groups
    # a chunk of the rows (partial_fit) holds out the same groups; another seed others
    np.testing.assert_array_equal(group_holdout(groups[100:400], 0.1, seed=5), held[100:400])
    assert not np.array_equal(group_holdout(groups, 0.1, seed=6), held)
    # values of any type; at least one group held out and one kept
    few = group_holdout(np.array(["x", "x", None, "y"], dtype=object), 0.01, seed=0)
    assert few.any() and not few.all()
    with pytest.raises(ValueError, match=r"groups has 1 distinct value\(s\); .* at least 2"):
        group_holdout(np.zeros(10), 0.1, seed=0)


@pytest.mark.parametrize("settings", [
    dict(), dict(threshold="accuracy", temperature_scaling=True), dict(architecture="mmoe"),
    dict(weighting="mgda"), dict(architecture="tabm")])
def test_fit_validates_on_whole_groups_and_without_groups_as_before(settings):
    X, y, groups = _grouped()
    params = {**FAST, "early_stopping": True, **settings}
    model = MultiTaskNet(**params).fit(X, y, groups=groups)
    valid, train = _held_groups(model, groups)
    assert valid and train and not valid & train
    held = group_holdout(groups, 0.1, model.net_.train_split.seed)
    assert valid == set(groups[held])
    if "threshold" in settings:  # chosen on those rows
        assert set(model.thresholds_) == {"c"}
    plain = MultiTaskNet(**params).fit(X, y)
    assert _held_groups(plain, groups)[0] & _held_groups(plain, groups)[1]  # random rows
    again = MultiTaskNet(**params).fit(X, y, groups=None)
    np.testing.assert_array_equal(again.predict(X).to_numpy(), plain.predict(X).to_numpy())


def test_partial_fit_and_warm_start_keep_the_same_groups_out():
    X, y, groups = _grouped()
    model = MultiTaskNet(**{**FAST, "early_stopping": True})
    model.partial_fit(X.iloc[:120], y.iloc[:120], classes={"c": ["down", "up"]},
                      groups=groups[:120])
    first, _ = _held_groups(model, groups[:120])
    model.partial_fit(X.iloc[120:], y.iloc[120:], groups=groups[120:])
    second, trained = _held_groups(model, groups[120:])
    everything = set(groups[group_holdout(groups, 0.1, model.net_.train_split.seed)])
    assert first | second == everything and not trained & everything
    warm = MultiTaskNet(**{**FAST, "early_stopping": True, "warm_start": True})
    warm.fit(X, y, groups=groups).fit(X, y, groups=groups)
    assert _held_groups(warm, groups)[0] == set(
        groups[group_holdout(groups, 0.1, warm.net_.train_split.seed)])
    warm.fit(X, y)  # a later call without groups: random rows again
    assert warm.net_.train_split.held_out is None


def test_groups_are_checked_and_unused_without_a_validation_split():
    X, y, groups = _grouped()
    with pytest.raises(ValueError, match=r"groups must give one group per row of X, shape "
                       r"\(240,\); got shape \(10,\)"):
        MultiTaskNet(**FAST).fit(X, y, groups=groups[:10])
    with pytest.raises(ValueError, match="groups has 1 distinct value"):
        MultiTaskNet(**{**FAST, "early_stopping": True}).fit(X, y, groups=np.zeros(len(X)))
    unsplit = MultiTaskNet(**{**FAST, "early_stopping": False}).fit(X, y, groups=groups)
    plain = MultiTaskNet(**{**FAST, "early_stopping": False}).fit(X, y)
    assert unsplit.net_.train_split is None
    np.testing.assert_array_equal(unsplit.predict(X).to_numpy(), plain.predict(X).to_numpy())


def test_ensemble_folds_and_members_use_whole_groups():
    X, y, groups = _grouped()
    net = MultiTaskNet(**{**FAST, "early_stopping": True})
    ensemble = MultiTaskEnsemble([net], cv=3, n_seeds=2, threshold="accuracy",
                                 random_state=0).fit(X, y, groups=groups)
    assert len(ensemble.estimators_) == 6
    for member, held_out in zip(ensemble.estimators_, ensemble.held_out_rows_):
        train = np.setdiff1d(np.arange(len(X)), held_out)
        assert not set(groups[held_out]) & set(groups[train])  # folds of whole groups
        valid, trained = _held_groups(member, groups[train])  # and its validation rows
        assert valid and not valid & trained
    # the two seeds shuffle the groups differently
    assert not np.array_equal(ensemble.held_out_rows_[0], ensemble.held_out_rows_[3])
    # a splitter that needs groups gets them (GroupKFold could not be used before)
    splitter = MultiTaskEnsemble([net], cv=GroupKFold(3)).fit(X, y, groups=groups)
    for held_out in splitter.held_out_rows_:
        train = np.setdiff1d(np.arange(len(X)), held_out)
        assert not set(groups[held_out]) & set(groups[train])
    with pytest.raises(ValueError, match="cv=5 folds need at least 5 groups; got 4"):
        MultiTaskEnsemble([net], cv=5).fit(X.iloc[:24], y.iloc[:24], groups=groups[:24])


def test_task_grouping_validates_and_fits_on_whole_groups():
    X, y, groups = _grouped()
    y = y.assign(s=X["a"] * 2)
    grouping = TaskGrouping(MultiTaskNet(**{**FAST, "early_stopping": True}), n_groups="auto",
                            affinity_epochs=1, max_groups=2, random_state=0)
    recorded = []
    original = TaskGrouping._fit_group

    def spy(self, template, group, X_fit, frame, seed, weights, rows=None, **kwargs):
        recorded.append((frame.index.to_numpy(), rows))
        return original(self, template, group, X_fit, frame, seed, weights, rows, **kwargs)

    try:
        TaskGrouping._fit_group = spy
        grouping.fit(X, y, groups=groups)
    finally:
        TaskGrouping._fit_group = original
    assert len(grouping.validation_losses_) == 2  # the candidates were compared
    comparisons = recorded[:-grouping.n_groups_]
    for index, rows in comparisons:  # fitted on the training groups, validated on others
        np.testing.assert_array_equal(rows, groups[index])
        assert len(set(groups) - set(rows)) >= 4
    held = set(groups) - set(comparisons[0][1])
    assert not held & set(comparisons[0][1])
    for estimator in grouping.estimators_:
        valid, trained = _held_groups(estimator, groups)
        assert valid and not valid & trained


def test_groups_reach_fit_through_grid_search_by_metadata_routing():
    X, y, groups = _grouped()
    net = MultiTaskNet(**{**FAST, "early_stopping": True})
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(clone(net).set_fit_request(groups=True),
                              {"hidden_layer_sizes": [(8,), (16,)]}, cv=GroupKFold(3),
                              error_score="raise")
        search.fit(X, y, groups=groups)
    valid, trained = _held_groups(search.best_estimator_, groups)
    assert valid and not valid & trained


def test_grid_search_by_group_without_a_request_keeps_working_with_routing_on():
    """``groups`` is a splitter's metadata first: with metadata routing on, a search with
    GroupKFold over a model that was not asked for groups routes them to the splitter only
    (an estimator whose fit takes an unrequested metadata would raise)."""
    X, y, groups = _grouped()
    net = MultiTaskNet(**{**FAST, "early_stopping": True})
    with sklearn.config_context(enable_metadata_routing=True):
        for model in [net, MultiTaskEnsemble([net]),
                      TaskGrouping(net, n_groups=1, affinity_epochs=1)]:
            search = GridSearchCV(model, {"random_state": [0]}, cv=GroupKFold(3),
                                  error_score="raise").fit(X, y, groups=groups)
            best = search.best_estimator_
            member = best if isinstance(best, MultiTaskNet) else best.estimators_[0]
            assert member.net_.train_split.held_out is None  # random validation rows


# -- a warning for the same entities on both sides of a random validation split -----------


def _stacked(n: int = 150, repeated: int | None = None, same_features: bool = True):
    """Two tables of ``n`` entities (index e0, e1, ...) stacked, each with one target: the
    first ``repeated`` entities (all by default) appear in both, with the same features."""
    rng = np.random.default_rng(0)
    index = pd.Index([f"e{i}" for i in range(n)])
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)}, index=index)
    first = X.assign(score=np.nan).assign(grade=X["a"] - X["b"])[["score", "grade"]]
    second = X if same_features else X + 1.0
    second = second.iloc[:n if repeated is None else repeated]
    X_all = pd.concat([X, second])
    y_all = pd.concat([first.assign(score=np.nan),
                       pd.DataFrame({"score": second["a"] + second["b"], "grade": np.nan},
                                    index=second.index)])
    return X_all, y_all


def test_a_fit_warns_when_validation_rows_repeat_training_rows_of_the_same_index():
    """Stacked tables of the same entities: a random validation row whose twin (same index
    value, same features) is a training row is counted; the warning names the count, the
    share and the ways out, and points at the caller."""
    X, y = _stacked(repeated=100)  # rows 0-149: e0-e149; rows 150-249: e0-e99 again
    with pytest.warns(UserWarning, match="repeat a training row") as record:
        model = MultiTaskNet(early_stopping=True, **FAST).fit(X, y)
    [warning] = [w for w in record if "repeat a training row" in str(w.message)]
    train, valid = (part.numpy() for part in model.net_.train_split.split(len(X)))
    twins = np.where(valid >= 150, valid - 150, np.where(valid < 100, valid + 150, -1))
    expected = int(np.isin(twins, train).sum())
    assert 0 < expected < len(valid) == 25
    assert str(warning.message).startswith(
        f"MultiTaskNet: {expected} of the {len(valid)} validation rows "
        f"({expected / len(valid):.0%}) repeat a training row, with the same index value and "
        "the same features")
    assert "fit(..., groups=X.index)" in str(warning.message)
    assert warning.filename == __file__


@pytest.mark.parametrize("case", ["groups", "unique index", "other features", "few", "resume"])
def test_no_repeated_rows_warning_without_the_same_entities_in_both_parts(case, recwarn):
    """No warning with groups (whole entities held out), a unique index, a repeated index
    whose rows differ (two tables of different entities numbered alike), repeats below 10 %
    of the validation rows, or on a continuation (partial_fit, warm start)."""
    X, y = _stacked(repeated=10 if case == "few" else None,
                    same_features=case != "other features")
    model = MultiTaskNet(early_stopping=True, warm_start=case == "resume", **FAST)
    if case == "groups":
        model.fit(X, y, groups=X.index)
    elif case == "unique index":
        model.fit(X.reset_index(drop=True), y.reset_index(drop=True))
    elif case == "resume":
        model.fit(X.reset_index(drop=True), y.reset_index(drop=True)).fit(X, y)
        model.partial_fit(X, y)
    else:
        model.fit(X, y)
    assert not [w for w in recwarn if "repeat a training row" in str(w.message)]
