"""Classification beyond one label per row: class weights and multilabel targets."""

import numpy as np
import pytest
from sklearn.metrics import recall_score

from sklearn_dnn import DeepClassifier

from ._data import FAST, classification

# ----------------------------------------------------------------------
# class_weight


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_class_weight_dict_equals_the_same_sample_weight():
    X, y = classification(n_samples=200, n_classes=3)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class = DeepClassifier(class_weight=weights, **FAST).fit(X, y)
    by_row = DeepClassifier(**FAST).fit(X, y, sample_weight=np.vectorize(weights.get)(y))
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), atol=1e-6)
    unweighted = DeepClassifier(**FAST).fit(X, y)
    assert not np.allclose(by_class.predict_proba(X), unweighted.predict_proba(X), atol=1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_class_weight_is_multiplied_into_sample_weight():
    X, y = classification(n_samples=200, n_classes=2)
    rows = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    both = DeepClassifier(class_weight={0: 1.0, 1: 4.0}, **FAST).fit(X, y, sample_weight=rows)
    product = DeepClassifier(**FAST).fit(X, y, sample_weight=rows * np.where(y == 1, 4.0, 1.0))
    np.testing.assert_allclose(both.predict_proba(X), product.predict_proba(X), atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_balanced_class_weight_raises_the_recall_of_a_rare_class():
    X, y = classification(n_samples=600, n_classes=2)
    rare = np.flatnonzero(y == 1)[:30]
    keep = np.concatenate([np.flatnonzero(y == 0), rare])
    X, y = X[keep], y[keep]
    params = dict(hidden_layer_sizes=(16,), batch_size=32, max_epochs=20, random_state=0)
    plain = DeepClassifier(**params).fit(X, y)
    balanced = DeepClassifier(class_weight="balanced", **params).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X)) + 0.1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("early_stopping", [False, True])
def test_balanced_class_weight_with_zero_weight_rows_equals_removing_them(early_stopping):
    # "balanced" counts the classes by their rows' weights: rows of weight zero
    # change no class's frequency, so the fit is that of the other rows alone.
    X, y = classification(n_samples=150, n_classes=3)
    weight = np.ones(len(y))
    weight[np.flatnonzero(y == 0)[:25]] = 0.0
    params = dict(FAST, class_weight="balanced", early_stopping=early_stopping)
    zeroed = DeepClassifier(**params).fit(X, y, sample_weight=weight)
    removed = DeepClassifier(**params).fit(X[weight > 0], y[weight > 0])
    np.testing.assert_allclose(zeroed.predict_proba(X), removed.predict_proba(X), atol=1e-6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_balanced_class_weight_counts_a_row_of_weight_two_as_two_rows():
    X, y = classification(n_samples=120, n_classes=3)
    twice = np.flatnonzero(y == 1)[:20]
    weight = np.ones(len(y))
    weight[twice] = 2.0
    params = dict(FAST, class_weight="balanced", early_stopping=False, batch_size=len(y) + 20)
    weighted = DeepClassifier(**params).fit(X, y, sample_weight=weight)
    repeated = np.concatenate([np.arange(len(y)), twice])
    duplicated = DeepClassifier(**params).fit(X[repeated], y[repeated])
    # one full batch: the same weighted mean loss, step for step
    np.testing.assert_allclose(weighted.predict_proba(X), duplicated.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: 1.0, 1: -1.0, 2: 1.0}, r"finite, non-negative weight; got -1.0 for class 1"),
        ({0: 1.0, 1: np.nan, 2: 1.0}, r"finite, non-negative weight; got nan for class 1"),
        ({0: 1.0, 1: np.inf, 2: 1.0}, r"finite, non-negative weight; got inf for class 1"),
        ({0: 1.0, 1: "2", 2: 1.0}, r"finite, non-negative weight; got '2' for class 1"),
        ({0: 0.0, 1: 0.0, 2: 0.0}, r"every row weight zero: the classes \[0, 1, 2\]"),
        ({0: 1.0, 1: 2.0, 7: 4.0}, r"The classes, \[2\], are not in class_weight.*\[7\]"),
        ({"1": 2.0}, r"The classes, \[0, 1, 2\], are not in class_weight.*\['1'\]"),
        ([{0: 1.0, 1: 2.0}], r"class_weight must be a dict .* or 'balanced'"),
    ],
)
def test_bad_class_weight_is_refused_by_name_and_the_fit_changes_nothing(class_weight, message):
    X, y = classification(n_samples=60, n_classes=3)
    clf = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=message):
        clf.set_params(class_weight=class_weight).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_class_weight_zero_for_the_only_weighted_class_is_refused():
    X, y = classification(n_samples=60, n_classes=3)
    weight = (y == 2).astype(float)  # only class 2 has weight, and it weighs 0
    clf = DeepClassifier(class_weight={2: 0.0}, **FAST)
    with pytest.raises(ValueError, match=r"the classes \[2\] of the rows with a positive"):
        clf.fit(X, y, sample_weight=weight)


def test_misspelt_class_weight_is_named():
    X, y = classification()
    with pytest.raises(ValueError, match=r"Did you mean class_weight='balanced'\?"):
        DeepClassifier(class_weight="balance").fit(X, y)


# ----------------------------------------------------------------------
# multilabel


def multilabel(n_samples=300, random_state=0):
    from sklearn.datasets import make_multilabel_classification
    from sklearn.preprocessing import StandardScaler

    X, Y = make_multilabel_classification(
        n_samples=n_samples, n_features=10, n_classes=4, random_state=random_state
    )
    return StandardScaler().fit_transform(X), Y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multilabel_predicts_the_indicator_matrix_and_per_label_probabilities():
    X, Y = multilabel()
    params = dict(hidden_layer_sizes=(32,), batch_size=32, max_epochs=200, l2=0.0)
    params["early_stopping"] = False  # every row trains, as in the MLP compared with
    clf = DeepClassifier(random_state=0, **params).fit(X, Y)
    assert clf.module_.output.out_features == 4
    assert list(clf.classes_) == [0, 1, 2, 3]
    pred = clf.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids, not a softmax
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    # as good as scikit-learn's MLP (0.86 and 0.59 with the same hidden layer)
    assert (pred == Y).mean() > 0.83  # per-label accuracy on the training rows
    assert clf.score(X, Y) > 0.5  # subset accuracy, as scikit-learn scores it


def test_multilabel_trains_with_binary_cross_entropy():
    from torch import nn

    X, Y = multilabel(n_samples=60)
    clf = DeepClassifier(**FAST).fit(X, Y)
    assert isinstance(clf.net_.criterion_, nn.BCEWithLogitsLoss)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multilabel_early_stopping_scores_subset_accuracy_without_stratifying():
    X, Y = multilabel(n_samples=100)
    clf = DeepClassifier(early_stopping=True, **FAST).fit(X, Y)
    scores = [e["valid_score"] for e in clf.history_]
    assert all(0.0 <= s <= 1.0 for s in scores)
    # 10 validation rows: subset accuracy moves in steps of 1/10
    np.testing.assert_allclose(np.array(scores) * 10, np.round(np.array(scores) * 10))


def test_multilabel_uncertainty_is_per_label():
    X, Y = multilabel(n_samples=60)
    clf = DeepClassifier(dropout=0.3, **FAST).fit(X, Y)
    result = clf.predict_uncertainty(X[:7], n_samples=20, random_state=0, return_samples=True)
    assert result.mean.shape == result.std.shape == (7, 4)
    assert result.entropy.shape == result.mutual_info.shape == (7,)
    p = result.mean
    binary = -(p * np.log(p) + (1 - p) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(result.entropy, binary, rtol=1e-10)
    assert (result.mutual_info >= 0).all() and (result.mutual_info <= result.entropy).all()
    np.testing.assert_allclose(result.samples.mean(axis=0), p)


def test_multilabel_class_weight_balanced_and_warm_start_checks_the_labels():
    X, Y = multilabel(n_samples=60)
    clf = DeepClassifier(class_weight="balanced", warm_start=True, **FAST).fit(X, Y)
    with pytest.raises(ValueError, match="multilabel indicator matrix of 4 labels"):
        clf.fit(X, Y[:, :3])
    with pytest.raises(ValueError, match="multilabel indicator matrix of 4 labels"):
        clf.fit(X, Y[:, 0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["single-label", "multilabel"])
def test_balanced_class_weight_without_sample_weight_is_scikit_learns(kind):
    from sklearn.utils.class_weight import compute_sample_weight

    X, y = classification(n_samples=120, n_classes=3) if kind == "single-label" else multilabel(60)
    balanced = DeepClassifier(class_weight="balanced", **FAST).fit(X, y)
    by_row = DeepClassifier(**FAST).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(balanced.predict_proba(X), by_row.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: 1.0, 1: 2.0}, r"multilabel y, class_weight must be 'balanced' or a list of 4 dicts"),
        ([{0: 1.0, 1: 2.0}] * 3, r"class_weight has 3 dicts, but .* of 4 labels"),
        ([{}, {1: -2.0}, {}, {}], r"class_weight\[1\] must give each class a finite"),
        ([{}, {}, {2: 1.0}, {}], r"The classes, \[0, 1\], are not in class_weight\[2\]"),
        ([{0: 0.0, 1: 0.0}] * 4, r"every row weight zero"),
    ],
)
def test_bad_multilabel_class_weight_is_refused_by_name(class_weight, message):
    X, Y = multilabel(n_samples=60)
    with pytest.raises(ValueError, match=message):
        DeepClassifier(class_weight=class_weight, **FAST).fit(X, Y)


def test_multiclass_multioutput_y_is_refused_by_name():
    X, _ = multilabel(n_samples=60)
    y = np.random.default_rng(0).integers(0, 3, size=(60, 2))
    with pytest.raises(ValueError, match="'multiclass-multioutput'"):
        DeepClassifier(**FAST).fit(X, y)


def test_multilabel_tag_is_set():
    assert DeepClassifier().__sklearn_tags__().classifier_tags.multi_label


# ----------------------------------------------------------------------
# scoring: the early-stopping validation score


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_scoring_neg_log_loss_records_minus_the_validation_loss():
    X, y = classification(n_samples=200)
    clf = DeepClassifier(early_stopping=True, scoring="neg_log_loss", **FAST).fit(X, y)
    np.testing.assert_allclose(
        [e["valid_score"] for e in clf.history_],
        [-e["valid_loss"] for e in clf.history_],
        rtol=1e-6,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_with_a_scoring_restores_the_best_scoring_epoch():
    X, y = classification(n_samples=300)
    params = dict(
        hidden_layer_sizes=(32,), early_stopping=True, validation_fraction=0.3, patience=5,
        max_epochs=60, batch_size=20, learning_rate=0.02, random_state=1,
    )  # fmt: skip
    clf = DeepClassifier(scoring="accuracy", **params).fit(X, y)
    scores = [e["valid_score"] for e in clf.history_]
    best = [i for i, e in enumerate(clf.history_) if e.get("best")]
    assert best == [int(np.argmax(scores))]
    by_loss = DeepClassifier(**params).fit(X, y)
    losses = [e["valid_loss"] for e in by_loss.history_]
    by_loss_best = [i for i, e in enumerate(by_loss.history_) if e.get("best")]
    assert by_loss_best == [int(np.argmin(losses))]
    assert by_loss_best != best  # here the two rules pick different epochs


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_scoring_is_on_the_targets_scale():
    from sklearn_dnn import DeepRegressor

    from ._data import regression

    X, y = regression(n_samples=200)
    y = 10 * y
    reg = DeepRegressor(early_stopping=True, scoring="neg_mean_squared_error", **FAST).fit(X, y)
    scale = reg._task.scale[0]
    np.testing.assert_allclose(
        [e["valid_score"] for e in reg.history_],
        [-e["valid_loss"] * scale**2 for e in reg.history_],
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DeepClassifier(scoring="r2"), r"'scoring' parameter of DeepClassifier"),
        (lambda: DeepClassifier(scoring="f1_macr"), r"Did you mean scoring='f1_macro'\?"),
        (lambda: DeepClassifier(scoring="f1_samples"), r"f1_samples.*ClassificationTask"),
    ],
)
def test_scorings_are_checked_per_estimator_and_task(make, message):
    X, y = classification(n_samples=60)
    with pytest.raises(ValueError, match=message):
        make().fit(X, y)


def test_multilabel_scoring_f1_samples():
    X, Y = multilabel(n_samples=100)
    clf = DeepClassifier(early_stopping=True, scoring="f1_samples", **FAST).fit(X, Y)
    assert all(0.0 <= e["valid_score"] <= 1.0 for e in clf.history_)
