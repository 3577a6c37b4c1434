"""The validation split of ``fit``: ``_engine/plan.split_rows`` alone, then through a fit."""

import warnings

import numpy as np
import pytest

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._classification_tasks import ClassificationTask
from sklearn_dnn._engine.plan import AUTO_EARLY_STOPPING_ROWS, split_rows
from sklearn_dnn._regression_task import RegressionTask

from ._data import FAST, classification, regression


def classes(counts):
    """Encoded targets with ``counts[k]`` rows of class ``k``, and their task."""
    target = np.repeat(np.arange(len(counts)), counts)
    return target, ClassificationTask(np.arange(len(counts)))


def values(n):
    y = np.arange(n, dtype=np.float64)
    return y[:, None], RegressionTask.from_targets(y, np.ones(n), "DeepRegressor")


def split(target, task, early_stopping=True, fraction=0.1, seed=0):
    return split_rows(target, task, early_stopping, fraction, np.random.RandomState(seed))


@pytest.mark.parametrize("n, fraction, n_valid", [(100, 0.1, 10), (101, 0.1, 11), (20, 0.25, 5)])
def test_the_validation_set_is_the_fraction_rounded_up(n, fraction, n_valid):
    train, valid = split(*values(n), fraction=fraction)
    assert len(valid) == n_valid and len(train) == n - n_valid
    np.testing.assert_array_equal(np.sort(np.concatenate([train, valid])), np.arange(n))
    assert (np.diff(train) > 0).all() and (np.diff(valid) > 0).all()  # sorted rows


def test_the_split_is_the_rng_s():
    target, task = values(50)
    np.testing.assert_array_equal(split(target, task, seed=1)[1], split(target, task, seed=1)[1])
    assert not np.array_equal(split(target, task, seed=1)[1], split(target, task, seed=2)[1])


def test_classes_are_stratified():
    target, task = classes([80, 20])
    for seed in range(5):
        _, valid = split(target, task, seed=seed)
        assert np.bincount(target[valid]).tolist() == [8, 2]


@pytest.mark.parametrize("counts", [[98, 1, 1], [5, 5, 5, 1]])
def test_a_class_too_rare_to_stratify_falls_back_to_a_plain_split(counts):
    target, task = classes(counts)
    train, valid = split(target, task, fraction=0.2)
    assert len(valid) == int(np.ceil(0.2 * len(target)))
    assert len(train) + len(valid) == len(target)


def test_more_classes_than_validation_rows_falls_back_to_a_plain_split():
    target, task = classes([3] * 10)  # 10 classes, 3 validation rows
    train, valid = split(target, task)
    assert len(valid) == 3 and len(train) == 27


def test_without_early_stopping_every_row_trains():
    target, task = values(1000)
    assert split(target, task, early_stopping=False) == (None, None)


def test_auto_holds_out_from_the_threshold_on():
    target, task = values(AUTO_EARLY_STOPPING_ROWS - 1)
    assert split(target, task, early_stopping="auto") == (None, None)
    target, task = values(AUTO_EARLY_STOPPING_ROWS)
    train, valid = split(target, task, early_stopping="auto")
    assert len(valid) == AUTO_EARLY_STOPPING_ROWS // 10


@pytest.mark.parametrize("n, fraction", [(10, 0.1), (1, 0.5), (2, 0.9)])
def test_too_small_a_split_is_refused(n, fraction):
    target, task = values(n)
    with pytest.raises(ValueError, match=f"validation_fraction={fraction} of {n} rows"):
        split(target, task, fraction=fraction)


def test_the_smallest_split_is_accepted():
    train, valid = split(*values(3), fraction=0.5)
    assert len(valid) == 2 and len(train) == 1


# Through a fit.


def test_early_stopping_on_twelve_rows_of_three_classes():
    X, y = classification(n_samples=12, n_classes=3)
    clf = DeepClassifier(early_stopping=True, **FAST).fit(X, y)
    assert "valid_loss" in clf.history_[0]


def test_regressor_refuses_a_one_row_validation_set():
    X, y = regression(n_samples=10)
    with pytest.raises(ValueError, match="The validation set is too small"):
        DeepRegressor(early_stopping=True, validation_fraction=0.1).fit(X, y)


def test_stratified_validation_split_keeps_the_class_ratio():
    # With constant inputs the network predicts one class for every row, so
    # the validation accuracy is that class's share of the validation set:
    # exactly 0.8 when the split is stratified, whatever the seed.
    y = np.array([0] * 80 + [1] * 20)
    X = np.zeros((100, 2))
    scores = set()
    for seed in range(5):
        clf = DeepClassifier(
            hidden_layer_sizes=(),
            early_stopping=True,
            validation_fraction=0.2,
            max_epochs=20,
            learning_rate=0.1,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
        scores.add(clf.history_[-1]["valid_score"])
    assert scores == {0.8}
