"""Per-task scorers in GridSearchCV and cross_validate."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskNet
from skmtl.metrics import mean_task_scorer, task_scorer, task_scorers

FAST = dict(hidden_layer_sizes=(16,), max_epochs=15, lr=1e-2, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 4))
    y = pd.DataFrame({
        "income": np.where(X[:, 0] + 0.5 * rng.normal(size=240) > 0, ">50K", "<=50K"),
        "married": X[:, 1] + 0.5 * rng.normal(size=240) > 0,
        "age": 40 + 10 * X[:, 2],
    })
    y.loc[:19, "income"] = None
    return X, y


def test_task_scorer_matches_the_metric_on_labelled_rows(data):
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y)
    proba = est.predict_proba(X)[0][:, 1]
    labelled = y["income"].notna()
    expected = roc_auc_score(y["income"][labelled] == ">50K", proba[labelled])
    assert task_scorer("income", "roc_auc")(est, X, y) == pytest.approx(expected)
    assert task_scorer("age", "r2")(est, X, y) == pytest.approx(r2_score(y["age"], est.predict(X)["age"]))
    both = mean_task_scorer(["income", "married"], "roc_auc")(est, X, y)
    assert both == pytest.approx(np.mean([task_scorer(t, "roc_auc")(est, X, y)
                                          for t in ("income", "married")]))
    assert task_scorer("income", "neg_log_loss")(est, X, y) < 0


def test_scorers_in_grid_search_and_cross_validate_through_a_pipeline(data):
    X, y = data
    scoring = {"income_auc": task_scorer("income", "roc_auc"),
               "married_auc": task_scorer("married", "roc_auc"),
               "mean_auc": mean_task_scorer(["income", "married"], "roc_auc"),
               "age_r2": task_scorer("age", "r2")}
    pipe = make_pipeline(StandardScaler(), MultiTaskNet(**FAST))
    search = GridSearchCV(pipe, {"multitasknet__lr": [1e-3, 1e-2]}, scoring=scoring,
                          refit="mean_auc", cv=2).fit(X, y)
    for name in scoring:
        assert np.isfinite(search.cv_results_[f"mean_test_{name}"]).all()
    assert search.best_score_ == max(search.cv_results_["mean_test_mean_auc"])
    result = cross_validate(MultiTaskNet(**FAST), X, y, cv=3, scoring=scoring)
    assert (result["test_income_auc"] > 0.7).all()


def test_scorer_errors_name_the_problem(data):
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="No task named 'salary'"):
        task_scorer("salary", "r2")(est, X, y)
    with pytest.raises(ValueError, match="needs probabilities"):
        task_scorer("age", "roc_auc")(est, X, y)
    with pytest.raises(ValueError, match="Unknown metric"):
        task_scorer("age", "auc")


def test_mean_task_scorer_without_tasks_averages_every_task(data):
    X, y = data
    classification = make_pipeline(StandardScaler(), MultiTaskNet(**FAST)).fit(
        X, y.drop(columns="age"))
    expected = np.mean([task_scorer(t, "roc_auc")(classification, X, y)
                        for t in ("income", "married")])
    assert mean_task_scorer(metric="roc_auc")(classification, X, y) == pytest.approx(expected)
    assert mean_task_scorer(None, "roc_auc")(classification, X, y) == pytest.approx(expected)
    columns = y.columns.drop("age")  # an Index (or array) of names is a list of them
    assert mean_task_scorer(columns, "roc_auc")(classification, X, y) == pytest.approx(expected)
    assert task_scorers({"auc": (columns, "roc_auc")})(classification, X, y)["auc"] == (
        pytest.approx(expected))
    assert task_scorers({"every": (None, "roc_auc"), "income": ("income", "roc_auc")})(
        classification, X, y) == pytest.approx(
            {"every": expected, "income": task_scorer("income", "roc_auc")(classification, X, y)})
    est = MultiTaskNet(**FAST).fit(X, y)
    # every task must be one the metric scores: a regression has no AUC
    with pytest.raises(ValueError, match="'roc_auc' needs probabilities, but task 'age' is a "
                       "regression"):
        mean_task_scorer(metric="roc_auc")(est, X, y)


def test_multiclass_auc_leaves_out_a_class_absent_from_the_scored_rows():
    """A rare class missing from a fold made the one-vs-rest macro AUC NaN (scikit-learn's
    UndefinedMetricWarning), which GridSearchCV averaged and refitted on without an error."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = pd.DataFrame({"grade": np.select([X[:, 0] < -0.5, X[:, 0] < 0.5], ["A", "B"], "C"),
                      "r": X[:, 1]})
    est = MultiTaskNet(**FAST).fit(X, y)
    scored = (y["grade"] != "C").to_numpy()  # rows without class C
    proba = est.predict_proba(X[scored])[0]
    truth = y["grade"].to_numpy()[scored]
    expected = np.mean([roc_auc_score(truth == c, proba[:, k]) for k, c in enumerate("AB")])
    score = task_scorer("grade", "roc_auc")(est, X[scored], y[scored])
    assert np.isfinite(score) and score == pytest.approx(expected)
    # with every class present: scikit-learn's macro one-vs-rest AUC, as before
    assert task_scorer("grade", "roc_auc")(est, X, y) == pytest.approx(roc_auc_score(
        y["grade"], est.predict_proba(X)[0], multi_class="ovr", labels=["A", "B", "C"]))
    one = (y["grade"] == "A").to_numpy()
    assert np.isnan(task_scorer("grade", "roc_auc")(est, X[one], y[one]))  # no AUC at all


def test_scorer_arguments_in_the_wrong_place_are_refused_when_built(data):
    """mean_task_scorer("roc_auc") read the metric as a list of tasks 'r', 'o', ...: the
    error came only when scoring, which GridSearchCV turns into NaN scores by default."""
    with pytest.raises(TypeError, match=r"mean_task_scorer's tasks is a list of task names or "
                       r"None \(every task\), got 'roc_auc'; 'roc_auc' is a metric: pass it as "
                       r"the metric, e.g. mean_task_scorer\(metric='roc_auc'\)"):
        mean_task_scorer("roc_auc")
    with pytest.raises(TypeError, match="got 'income'; use task_scorer"):
        mean_task_scorer("income", "roc_auc")
    with pytest.raises(ValueError, match="tasks is empty"):
        mean_task_scorer([], "roc_auc")
    with pytest.raises(TypeError, match=r"task_scorer scores one task, got \['income', "
                       r"'married'\]; use mean_task_scorer\(\['income', 'married'\], metric\)"):
        task_scorer(["income", "married"], "roc_auc")
    with pytest.raises(ValueError, match="names no task"):
        task_scorers({"auc": ([], "roc_auc")})
    with pytest.raises(ValueError, match="Unknown metric"):  # (metric, tasks) reversed
        task_scorers({"auc": ("roc_auc", ["income", "married"])})
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"No task named 'roc_auc'; the tasks are \['income', "
                       r"'married', 'age'\] \('roc_auc' is a metric: pass it as the metric, "
                       r"after the task\)"):
        task_scorer("roc_auc")(est, X, y)


@pytest.mark.parametrize("metric", ["roc_auc", "neg_brier_score", "neg_log_loss"])
def test_probability_scores_refuse_labels_the_model_was_not_fitted_with(data, metric):
    """A binary score compared y with the positive class, so an unseen label counted as
    the negative class, silently; the score would change with the label's meaning."""
    X, y = data
    est = MultiTaskNet(**FAST).fit(X, y)
    unseen = y.assign(income=y["income"].where(y.index != 30, "unknown"))
    with pytest.raises(ValueError, match=r"Task 'income': y holds label\(s\) \['unknown'\] that "
                       r"the model was not fitted with \(its classes: \['<=50K', '>50K'\]\), "
                       rf"so '{metric}' of its probabilities is undefined"):
        task_scorer("income", metric)(est, X, unseen)
    # missing labels are skipped, not refused; accuracy counts an unseen label as wrong
    assert np.isfinite(task_scorer("income", metric)(est, X, y))
    right = float(est.predict(X)["income"][30] == y["income"][30])
    assert task_scorer("income", "accuracy")(est, X, unseen) == pytest.approx(
        task_scorer("income", "accuracy")(est, X, y) - right / y["income"].notna().sum())


def test_plot_task_metrics_draws_one_bar_per_method_and_task():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from skmtl.plotting import plot_task_metrics

    scores = {"shared": {"a": 0.9, "b": 0.7}, "separate": {"a": 0.85, "b": 0.75},
              "mmoe": {"a": 0.88, "b": 0.78}}
    ax = plot_task_metrics(scores, metric="AUC")
    assert len(ax.patches) == 6 and ax.get_ylabel() == "AUC"
    heights = sorted(round(p.get_height(), 2) for p in ax.patches)
    assert heights == [0.7, 0.75, 0.78, 0.85, 0.88, 0.9]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
