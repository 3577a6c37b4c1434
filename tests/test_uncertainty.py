"""predict_uncertainty: Monte-Carlo dropout that is correct, seeded and vectorized."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.inference import SAMPLES_PER_PASS

from ._data import FAST, classification, regression


@pytest.fixture(scope="module")
def sine():
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(300, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=300)
    reg = DeepRegressor(
        hidden_layer_sizes=(128, 128),
        activation="relu",
        l2=0.0,
        dropout=0.2,
        learning_rate=3e-3,
        max_epochs=150,
        random_state=0,
    ).fit(x, y)
    return x, y, reg


def test_std_far_outside_the_training_range_is_several_times_the_std_inside(sine):
    _, _, reg = sine
    inside = reg.predict_uncertainty(np.linspace(-0.9, 0.9, 50)[:, None], random_state=0)
    outside = reg.predict_uncertainty(np.linspace(3, 4, 20)[:, None], random_state=0)
    assert outside.std.mean() > 3 * inside.std.mean()


def test_regression_result_is_shaped_like_predict_and_on_the_target_scale(sine):
    x, y, reg = sine
    result = reg.predict_uncertainty(x[:40], n_samples=200, random_state=0)
    assert result.mean.shape == result.std.shape == reg.predict(x[:40]).shape == (40,)
    assert result.samples is None
    # The MC mean tracks the deterministic prediction and the sine itself.
    assert np.abs(result.mean - reg.predict(x[:40])).mean() < 0.1
    assert np.abs(result.mean - np.sin(3 * x[:40, 0])).mean() < 0.15

    scaled = DeepRegressor(**reg.get_params()).fit(x, 1000 * y)
    big = scaled.predict_uncertainty(x[:40], random_state=0)
    assert 300 < big.std.mean() / result.std.mean() < 3000


def test_multi_output_regression_and_returned_samples():
    X, y = regression(n_samples=120, n_targets=2)
    reg = DeepRegressor(dropout=0.3, max_epochs=5, random_state=0).fit(X, y)
    result = reg.predict_uncertainty(X[:7], n_samples=30, random_state=0, return_samples=True)
    assert result.mean.shape == result.std.shape == (7, 2)
    assert result.samples.shape == (30, 7, 2)
    np.testing.assert_allclose(result.samples.mean(axis=0), result.mean)
    np.testing.assert_allclose(result.samples.std(axis=0), result.std)


@pytest.fixture(scope="module")
def digits_model():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    clf = DeepClassifier(dropout=0.3, early_stopping=False, random_state=0).fit(
        scaler.transform(X_train), y_train
    )
    return clf, scaler.transform(X_test), y_test


def test_misclassified_digits_have_much_higher_entropy(digits_model):
    clf, X_test, y_test = digits_model
    result = clf.predict_uncertainty(X_test, random_state=0)
    wrong = clf.classes_[result.mean.argmax(axis=1)] != y_test
    assert 3 <= wrong.sum() < 40
    assert result.entropy[wrong].mean() > 3 * result.entropy[~wrong].mean()
    assert result.mutual_info[wrong].mean() > 3 * result.mutual_info[~wrong].mean()


def test_mc_averaged_probabilities_are_no_worse_than_predict_proba(digits_model):
    clf, X_test, y_test = digits_model
    result = clf.predict_uncertainty(X_test, random_state=0)
    assert log_loss(y_test, result.mean, labels=clf.classes_) <= log_loss(
        y_test, clf.predict_proba(X_test), labels=clf.classes_
    )


def test_classification_summaries_are_consistent(digits_model):
    clf, X_test, _ = digits_model
    result = clf.predict_uncertainty(X_test[:20], n_samples=50, random_state=0, return_samples=True)
    np.testing.assert_allclose(result.mean.sum(axis=1), 1.0)
    assert result.std.shape == (20, 10) and result.entropy.shape == (20,)
    assert result.samples.shape == (50, 20, 10)
    assert np.all(result.mutual_info >= 0) and np.all(result.mutual_info <= result.entropy + 1e-12)
    # Entropy is that of the mean distribution.
    expected = -np.sum(result.mean * np.log(np.clip(result.mean, 1e-300, None)), axis=1)
    np.testing.assert_allclose(result.entropy, expected)


def test_batchnorm_stays_in_eval_mode_and_nothing_in_the_model_changes():
    X, y = classification()
    clf = DeepClassifier(batchnorm=True, dropout=0.3, max_epochs=5, random_state=0).fit(X, y)
    before = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    one_row = clf.predict_uncertainty(X[:1], n_samples=500, random_state=0)
    many = clf.predict_uncertainty(X, n_samples=500, random_state=1)
    for key, value in clf.module_.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not any(m.training for m in clf.module_.modules())
    # A single row works, and its distribution does not depend on the other
    # rows of the batch: its MC mean agrees within sampling error.
    np.testing.assert_allclose(one_row.mean[0], many.mean[0], atol=0.05)


def test_alpha_dropout_of_selu_is_sampled_too():
    X, y = classification()
    clf = DeepClassifier(activation="selu", dropout=0.2, max_epochs=5, random_state=0).fit(X, y)
    result = clf.predict_uncertainty(X[:10], n_samples=20, random_state=0)
    assert result.std.max() > 0


def test_same_random_state_same_numbers_and_global_state_untouched():
    X, y = classification()
    clf = DeepClassifier(dropout=0.3, max_epochs=5, random_state=0).fit(X, y)
    before = torch.random.get_rng_state()
    first = clf.predict_uncertainty(X, n_samples=20, random_state=3)
    second = clf.predict_uncertainty(X, n_samples=20, random_state=3)
    other = clf.predict_uncertainty(X, n_samples=20, random_state=4)
    assert torch.equal(before, torch.random.get_rng_state())
    np.testing.assert_array_equal(first.mean, second.mean)
    assert not np.array_equal(first.mean, other.mean)


def test_no_dropout_is_a_clear_error():
    X, y = classification()
    clf = DeepClassifier(max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="Monte-Carlo dropout needs dropout"):
        clf.predict_uncertainty(X)


def test_bad_n_samples_and_unfitted_model():
    X, y = classification()
    clf = DeepClassifier(dropout=0.2, max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        clf.predict_uncertainty(X, n_samples=0)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.predict_uncertainty(X[:, :3])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DeepClassifier(dropout=0.2).predict_uncertainty(X)


def test_samples_are_drawn_in_vectorized_passes():
    X, y = regression(n_samples=300)
    reg = DeepRegressor(dropout=0.2, max_epochs=2, random_state=0).fit(X, y)
    first, output = [], []
    hooks = [
        layer.register_forward_hook(lambda m, i, o, calls=calls: calls.append(len(i[0])))
        for layer, calls in ((reg.module_.hidden[0].linear, first), (reg.module_.output, output))
    ]
    try:
        reg.predict_uncertainty(X[:5], n_samples=100, random_state=0)
        assert first == [5] and output == [500]  # the copies are made after the first layer
        first.clear()
        output.clear()
        reg.predict_uncertainty(X, n_samples=1000, random_state=0)
    finally:
        for hook in hooks:
            hook.remove()
    assert max(output) <= SAMPLES_PER_PASS and sum(output) == 300 * 1000
    assert len(output) == -(-300 // (SAMPLES_PER_PASS // 1000))
    assert sum(first) == 300  # every row once


@pytest.mark.parametrize("ensemble_size", [1, 3])
def test_the_layers_before_dropout_run_once_per_row_with_the_same_samples(ensemble_size):
    from sklearn_dnn._nn.mlp import forward_with_dropout

    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(8, 6),
        batchnorm=True,
        activation="prelu",
        dropout=0.3,
        ensemble_size=ensemble_size,
        max_epochs=3,
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    rows = torch.as_tensor(X)
    with torch.no_grad():
        shared = forward_with_dropout(clf.module_, rows, torch.Generator().manual_seed(5), 7)
        copied = forward_with_dropout(
            clf.module_, rows.repeat(7, 1), torch.Generator().manual_seed(5)
        )
    assert shared.shape == (7 * 60, ensemble_size, 3)
    torch.testing.assert_close(shared, copied, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(shared[:60], shared[60:120])  # each copy its own masks


def test_works_from_grid_search_pipeline_and_pickle():
    X, y = classification(n_samples=150)
    pipe = make_pipeline(StandardScaler(), DeepClassifier(dropout=0.2, max_epochs=5))
    search = GridSearchCV(pipe, {"deepclassifier__learning_rate": [1e-3, 1e-2]}, cv=2).fit(X, y)
    best = search.best_estimator_
    result = best[-1].predict_uncertainty(best[:-1].transform(X), random_state=0)
    restored = pickle.loads(pickle.dumps(best))
    again = restored[-1].predict_uncertainty(restored[:-1].transform(X), random_state=0)
    np.testing.assert_array_equal(result.mean, again.mean)
    assert result.mean.shape == (150, 3)


def test_predict_uncertainty_raises_on_non_finite_outputs_like_predict():
    X, y = regression()
    reg = DeepRegressor(activation="relu", dropout=0.2, **FAST).fit(X.astype(np.float32), y)
    far = np.full((2, X.shape[1]), 3e38)
    with pytest.raises(ValueError, match="non-finite outputs"):
        reg.predict(far)
    with pytest.raises(ValueError, match="non-finite outputs"):
        reg.predict_uncertainty(far, n_samples=5)


def test_predict_uncertainty_draws_100_samples_by_default():
    X, y = regression(n_samples=30)
    reg = DeepRegressor(dropout=0.2, **FAST).fit(X, y)
    assert reg.predict_uncertainty(X, return_samples=True).samples.shape == (100, 30)


def test_one_monte_carlo_sample_is_allowed():
    X, y = regression(n_samples=30)
    reg = DeepRegressor(dropout=0.2, **FAST).fit(X, y)
    result = reg.predict_uncertainty(X, n_samples=1, return_samples=True)
    assert result.samples.shape == (1, 30) and np.all(result.std == 0)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        reg.predict_uncertainty(X, n_samples=0)
