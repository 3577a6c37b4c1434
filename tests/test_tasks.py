"""The task interface (``_tasks.py``) and its three tasks, without a fit."""

import pickle

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax

from sklearn_dnn import _tasks
from sklearn_dnn._classification_tasks import (
    ClassificationTask,
    MultilabelTask,
    classification_task_class,
)
from sklearn_dnn._regression_task import RegressionTask
from sklearn_dnn._tasks import CLASSIFIER_SCORINGS, REGRESSOR_SCORINGS, Task

LABELS = np.array(["cat", "dog", "eel", "dog", "cat", "eel"])
INDICATOR = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
WEIGHTS = np.ones(6)


def classification():
    return ClassificationTask.from_targets(LABELS, WEIGHTS, "DeepClassifier")


def multilabel():
    return MultilabelTask.from_targets(INDICATOR, np.ones(4), "DeepClassifier")


def regression(y=None):
    y = np.array([1.0, 3.0, 5.0, 7.0]) if y is None else y
    return RegressionTask.from_targets(y, np.ones(len(y)), "DeepRegressor")


TASKS = [classification, multilabel, regression]


# The interface.


def test_task_is_abstract_and_every_task_implements_it():
    with pytest.raises(TypeError, match="abstract"):
        Task()
    for make in TASKS:
        assert isinstance(make(), Task)


def test_a_task_missing_a_method_cannot_be_made():
    class NoPredict(RegressionTask):
        predict = Task.predict  # abstract again

    with pytest.raises(TypeError, match="predict"):
        NoPredict(np.zeros(1), np.ones(1), np.ones(1, dtype=bool), 1)


def test_the_module_docstring_table_lists_every_member_of_the_interface():
    members = [name for name in dir(Task) if not name.startswith("_")]
    assert len(members) == 21
    missing = [name for name in members if f"``{name}" not in _tasks.__doc__]
    assert missing == []


def test_the_tasks_are_still_reachable_where_0_1_0_pickled_them():
    assert _tasks.ClassificationTask is ClassificationTask
    assert _tasks.MultilabelTask is MultilabelTask
    assert _tasks.RegressionTask is RegressionTask
    blob = pickle.dumps(classification(), protocol=0)  # names the class in plain text
    old = blob.replace(b"sklearn_dnn._classification_tasks", b"sklearn_dnn._tasks")
    assert b"sklearn_dnn._tasks\n" in old
    task = pickle.loads(old)
    np.testing.assert_array_equal(task.classes, ["cat", "dog", "eel"])
    with pytest.raises(AttributeError, match="NoSuchTask"):
        _tasks.NoSuchTask  # noqa: B018


def test_a_classifier_picks_its_task_by_the_targets():
    assert classification_task_class(LABELS) is ClassificationTask
    assert classification_task_class(INDICATOR) is MultilabelTask


# Round trips: encode, then the outputs that encode the targets, predict them back.


def test_classification_encodes_labels_as_sorted_indices_and_predicts_them_back():
    task = classification()
    target = task.encode(LABELS, np.float32)
    np.testing.assert_array_equal(target, [0, 1, 2, 1, 0, 2])
    assert target.dtype == np.int64  # the cross-entropy's class indices
    logits = np.eye(3)[target] * 5.0
    np.testing.assert_array_equal(task.predict(logits), LABELS)
    proba = task.predict_proba(logits)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(proba.argmax(axis=1), target)
    np.testing.assert_allclose(task.predict_log_proba(logits), np.log(proba), rtol=1e-12)
    assert task.n_outputs == 3
    np.testing.assert_array_equal(task.fitted_attributes()["classes_"], ["cat", "dog", "eel"])


def test_multilabel_encodes_the_indicator_and_predicts_it_back():
    task = multilabel()
    target = task.encode(INDICATOR, np.float32)
    assert target.dtype == np.float32
    logits = np.where(target > 0, 0.3, -0.3)  # a logit's threshold is 0, not 0.5
    np.testing.assert_array_equal(task.predict(logits), INDICATOR)
    np.testing.assert_allclose(task.predict_proba(logits), expit(logits), rtol=1e-12)
    np.testing.assert_allclose(task.predict_log_proba(logits), np.log(expit(logits)), rtol=1e-12)
    assert task.n_outputs == 3
    np.testing.assert_array_equal(task.fitted_attributes()["classes_"], [0, 1, 2])


@pytest.mark.parametrize("y", [np.array([1.0, 3.0, 5.0, 7.0]), np.array([[1.0, -2], [3, 0]])])
def test_regression_standardizes_the_target_and_predicts_it_back(y):
    task = regression(y)
    target = task.encode(y, np.float64)
    assert target.shape == (len(y), task.n_outputs)
    np.testing.assert_allclose(target.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(target.std(axis=0), 1.0, rtol=1e-12)
    prediction = task.predict(target)
    assert prediction.shape == y.shape  # a 1-D y is predicted 1-D
    np.testing.assert_allclose(prediction, y, rtol=1e-12)
    assert task.fitted_attributes() == {}


# Errors of a first fit and of a continued one.


def test_classification_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="at least 2 classes.*'cat'"):
        ClassificationTask.from_targets(np.array(["cat"] * 3), np.ones(3), "DeepClassifier")
    with pytest.raises(ValueError, match=r"labels \['eel'\] that are not in classes"):
        ClassificationTask.from_targets(LABELS, WEIGHTS, "X", classes=["cat", "dog"])
    with pytest.raises(ValueError, match="one label per row"):
        ClassificationTask.from_targets(np.array([[1, 2], [2, 1]]), np.ones(2), "X")


def test_classification_with_classes_keeps_the_classes_not_in_y():
    task = ClassificationTask.from_targets(
        LABELS[:2], np.ones(2), "X", classes=["eel", "cat", "dog"]
    )
    np.testing.assert_array_equal(task.classes, ["cat", "dog", "eel"])


def test_continued_with_refuses_what_the_first_fit_did_not_have():
    task = classification()
    assert task.continued_with(LABELS[:2], np.ones(2)) is task
    with pytest.raises(ValueError, match=r"labels \['fox'\] not seen in the first fit"):
        task.continued_with(np.array(["cat", "fox"]), np.ones(2))
    task = multilabel()
    assert task.continued_with(INDICATOR[:2], np.ones(2)) is task
    with pytest.raises(ValueError, match="indicator matrix of 3 labels"):
        task.continued_with(INDICATOR[:, :2], np.ones(4))
    with pytest.raises(ValueError, match="but classes has 2 entries"):
        MultilabelTask.from_targets(INDICATOR, np.ones(4), "X", classes=[0, 1])
    task = regression()
    with pytest.raises(
        ValueError, match="y has 2 outputs, but warm_start continues a model with 1"
    ):
        task.continued_with(np.ones((3, 2)), np.ones(3))


def test_regression_continued_keeps_a_measured_scale_and_sets_a_late_one():
    task = regression()
    again = task.continued_with(np.array([100.0, 200.0]), np.ones(2))
    np.testing.assert_array_equal(again.mean, task.mean)  # measured: kept
    assert not again.units_changed_from(task)
    first = regression(np.array([4.0]))  # one row: no spread, scale undetermined
    assert not first.spread.any()
    late = first.continued_with(np.array([0.0, 10.0]), np.ones(2))
    assert late.spread.all() and late.units_changed_from(first)
    np.testing.assert_allclose(late.mean, [5.0])
    np.testing.assert_allclose(late.scale, [5.0])
    assert late.continued_with(np.array([1.0, 3.0]), np.ones(2)).mean == late.mean  # set once


def test_only_a_regression_changes_units_and_needs_two_validation_rows():
    assert not classification().units_changed_from(classification())
    assert not multilabel().units_changed_from(multilabel())
    assert [make().min_validation_rows for make in TASKS] == [1, 1, 2]


def test_only_classification_stratifies():
    target = classification().encode(LABELS, np.float32)
    np.testing.assert_array_equal(classification().stratify(target), target)
    assert multilabel().stratify(INDICATOR) is None
    assert regression().stratify(np.ones((4, 1))) is None


# Weights.


def test_weigh_multiplies_the_class_weights_in():
    w = np.array([1.0, 2.0, 1.0, 1.0, 0.5, 1.0])
    assert classification().weigh(LABELS, w, None) is w
    weighed = classification().weigh(LABELS, w, {"cat": 3.0, "dog": 1.0, "eel": 0.0})
    np.testing.assert_allclose(weighed, [3.0, 2.0, 0.0, 1.0, 1.5, 0.0], rtol=1e-12)
    w4 = np.ones(4)
    weighed = multilabel().weigh(INDICATOR, w4, [{0: 1, 1: 2}, {0: 1, 1: 1}, {0: 1, 1: 1}])
    np.testing.assert_allclose(weighed, [2.0, 1.0, 2.0, 1.0], rtol=1e-12)
    assert regression().weigh(np.ones(4), w4, {"cat": 3.0}) is w4


# Scores.


def test_the_scorings_are_the_union_of_the_tasks_scores():
    assert set(classification().scores()) | set(multilabel().scores()) == CLASSIFIER_SCORINGS
    assert set(regression().scores()) == REGRESSOR_SCORINGS


@pytest.mark.parametrize("make", TASKS)
def test_scorer_none_is_the_task_own_score_and_a_wrong_name_is_refused(make):
    task = make()
    assert task.scorer(None) == task.valid_score
    with pytest.raises(ValueError, match=rf"'f1_micro' is not a score of {type(task).__name__}"):
        task.scorer("f1_micro")


def test_classification_scores_read_the_logits():
    task = classification()
    y = np.array([0, 1, 2, 1])
    logits = np.log(np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]]))
    assert task.scorer("accuracy")(y, logits, None) == pytest.approx(0.75)
    assert task.scorer("balanced_accuracy")(y, logits, None) == pytest.approx(2 / 3)
    expected = np.mean(np.log([0.8, 0.8, 0.1, 0.8]))  # minus the log-loss
    assert task.scorer("neg_log_loss")(y, logits, None) == pytest.approx(expected)
    weights = np.array([1.0, 1.0, 0.0, 1.0])  # without the wrong row
    assert task.scorer(None)(y, logits, weights) == pytest.approx(1.0)
    assert task.scorer("balanced_accuracy")(y[[0, 1, 3]], logits[[0, 1, 3]], None) == 1.0
    assert task.scorer("neg_log_loss")(y, logits, weights) == pytest.approx(np.log(0.8))


def test_multilabel_scores_read_the_sign_of_the_logits():
    task = multilabel()
    y = INDICATOR.astype(np.float32)
    logits = np.where(INDICATOR > 0, 1.0, -1.0)
    logits[0, 0] = -1.0  # one label of the first row wrong
    assert task.scorer(None)(y, logits, None) == pytest.approx(0.75)  # subset accuracy
    assert task.scorer("f1_samples")(y, np.where(y > 0, 1.0, -1.0), None) == pytest.approx(1.0)


def test_regression_errors_are_scored_on_the_target_scale():
    y = np.array([1.0, 3.0, 5.0, 7.0])
    task = regression(y)
    target = task.encode(y, np.float64)
    off_by_one = task.encode(y + 1.0, np.float64)
    assert task.scorer("neg_mean_absolute_error")(target, off_by_one, None) == pytest.approx(-1.0)
    assert task.scorer("neg_mean_squared_error")(target, off_by_one, None) == pytest.approx(-1.0)
    assert task.scorer("r2")(target, target, None) == pytest.approx(1.0)


# How the members' outputs combine, and the uncertainty summaries.


@pytest.mark.parametrize("make", TASKS)
@pytest.mark.parametrize("members", [1, 4])
def test_combine_members_shapes(make, members):
    task = make()
    outputs = torch.randn(5, members, task.n_outputs, generator=torch.Generator().manual_seed(0))
    combined = task.combine_members(outputs)
    assert combined.shape == (5, task.n_outputs)
    if members == 1:
        torch.testing.assert_close(combined, outputs[:, 0], rtol=0, atol=0)


def test_combine_members_averages_what_the_task_predicts():
    outputs = torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean_proba = torch.softmax(outputs, -1).mean(1)
    combined = classification().combine_members(outputs)
    torch.testing.assert_close(torch.softmax(combined, -1), mean_proba, rtol=1e-10, atol=1e-12)
    combined = multilabel().combine_members(outputs)
    mean_proba = torch.sigmoid(outputs).mean(1)
    torch.testing.assert_close(torch.sigmoid(combined), mean_proba, rtol=1e-10, atol=1e-12)
    combined = regression(np.ones((2, 3)) * [[1], [2]]).combine_members(outputs)
    torch.testing.assert_close(combined, outputs.mean(1), rtol=1e-12, atol=0)


def test_summarize_gives_the_uncertainty_fields():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 5, 3))  # (samples, rows, outputs)
    fields = classification().summarize(logits, return_samples=False)
    np.testing.assert_allclose(fields["mean"], softmax(logits, -1).mean(0), rtol=1e-12)
    assert fields["entropy"].shape == (5,) and fields["samples"] is None
    assert (fields["mutual_info"] >= 0).all()
    assert (fields["mutual_info"] <= fields["entropy"] + 1e-12).all()
    classification().uncertainty_result(**fields)
    fields = multilabel().summarize(logits, return_samples=True)
    np.testing.assert_allclose(fields["mean"], expit(logits).mean(0), rtol=1e-12)
    assert fields["samples"].shape == (7, 5, 3)
    task = regression()
    fields = task.summarize(logits[..., :1], return_samples=True)
    np.testing.assert_allclose(fields["mean"], task.predict(logits[..., :1]).mean(0), rtol=1e-12)
    assert fields["std"].shape == (5,)  # a 1-D y: one value per row
    task.uncertainty_result(**fields)
