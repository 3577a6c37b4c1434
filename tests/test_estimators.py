"""fit/predict behaviour: labels, targets, data types, persistence, randomness."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklearn_dnn import DeepClassifier, DeepRegressor

from ._data import FAST, classification, regression


@pytest.mark.parametrize("n_classes", [2, 5])
def test_string_labels_binary_and_multiclass(n_classes):
    X, y = classification(n_samples=300, n_classes=n_classes)
    labels = np.array([f"class-{i}" for i in range(n_classes)])[y]
    clf = DeepClassifier(early_stopping=False, random_state=0).fit(X, labels)
    assert list(clf.classes_) == sorted(set(labels))
    proba = clf.predict_proba(X)
    assert proba.shape == (300, n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, labels) > 0.85


def test_regressor_predicts_on_the_original_scale():
    X, y = regression(n_samples=300)
    y = 1000 + 50 * y
    reg = DeepRegressor(activation="relu", l2=0.0, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (300,)
    assert abs(pred.mean() - y.mean()) < 0.05 * y.std()
    assert reg.score(X, y) > 0.9


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("magnitude", [1e-16, 1e160])
@pytest.mark.parametrize("spread", [True, False])
def test_regressor_predictions_follow_the_units_of_y(magnitude, spread):
    # Tiny targets are not taken for constant ones, huge ones do not
    # overflow, and a constant target (to rounding) is one at any magnitude.
    X, y = regression(n_samples=40)
    y = y / y.std() if spread else 3.0 + np.arange(40) % 2 * 4e-16
    reg = DeepRegressor(hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
    unit = reg.fit(X, y).predict(X)
    scaled = clone(reg).fit(X, y * magnitude).predict(X)
    np.testing.assert_allclose(scaled, unit * magnitude, rtol=1e-6)
    assert reg._task.spread.tolist() == [spread]


def test_multi_output_regression():
    X, y = regression(n_samples=300, n_targets=3)
    y[:, 1] *= 100
    reg = DeepRegressor(activation="relu", l2=0.0, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300, 3)
    assert reg.module_.output.out_features == 3
    assert reg.score(X, y) > 0.9


def test_lists_and_dataframes_in_feature_names_out():
    X, y = classification(n_samples=100)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = DeepClassifier(max_epochs=5, random_state=0).fit(frame, pd.Series(y))
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.n_features_in_ == X.shape[1]
    from_list = DeepClassifier(max_epochs=5, random_state=0).fit(X.tolist(), y.tolist())
    np.testing.assert_allclose(clf.predict_proba(frame), from_list.predict_proba(X))


@pytest.mark.parametrize(
    "Estimator, data", [(DeepClassifier, classification), (DeepRegressor, regression)]
)
def test_pickle_and_joblib_round_trips_predict_identically(Estimator, data, tmp_path):
    X, y = data(n_samples=100)
    model = Estimator(max_epochs=5, random_state=0).fit(X, y)
    expected = model.predict(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), expected)
    assert restored.module_ is restored.net_.module_  # one network, not two copies
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "settings",
    [{"early_stopping": True}, {"diagnostics": True}, {"schedule": "exponential"}, "pretrained"],
)
def test_pickle_holds_the_weights_once(settings):
    # skorch pickles the callbacks and module__ arguments apart from the module:
    # the best epoch's weights, the gradient recorder's or the scheduler's
    # references to the weights, or the reused layers, were stored again.
    X, y = classification(n_samples=100)
    params = {"hidden_layer_sizes": (128, 128), "max_epochs": 3, "random_state": 0}
    plain = DeepClassifier(early_stopping=False, **params).fit(X, y)
    size = len(pickle.dumps(plain))  # the weights and Adam's two moments: 3 x 17,000 floats
    if settings == "pretrained":
        model = DeepClassifier.from_pretrained(
            plain, n_frozen=0, max_epochs=3, early_stopping=False
        )
        model.fit(X, y)
        size += len(pickle.dumps(model.pretrained))  # the reused layers: a parameter
    else:
        model = DeepClassifier(**{"early_stopping": False, **params, **settings}).fit(X, y)
    assert len(pickle.dumps(model)) < 1.05 * size  # with a spare copy: 1.25 to 2 times


def test_same_random_state_gives_the_same_model_bit_for_bit():
    X, y = classification()
    params = dict(dropout=0.3, early_stopping=True, max_epochs=15, random_state=7)
    first = DeepClassifier(**params).fit(X, y)
    second = DeepClassifier(**params).fit(X, y)
    for a, b in zip(
        first.module_.state_dict().values(), second.module_.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    other = DeepClassifier(**{**params, "random_state": 8}).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_fit_leaves_the_global_random_state_untouched():
    X, y = classification()
    torch_before = torch.random.get_rng_state()
    numpy_before = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    DeepClassifier(dropout=0.3, max_epochs=3, random_state=0).fit(X, y)
    assert torch.equal(torch_before, torch.random.get_rng_state())
    np.testing.assert_array_equal(numpy_before, np.random.get_state()[1])  # noqa: NPY002


def test_zero_sample_weight_equals_removing_the_rows():
    X, y = classification(n_samples=150)
    weight = np.ones(150)
    weight[::3] = 0
    params = dict(batch_size=50, max_epochs=5, random_state=0)
    weighted = DeepClassifier(**params).fit(X, y, sample_weight=weight)
    removed = DeepClassifier(**params).fit(X[weight > 0], y[weight > 0])
    np.testing.assert_array_equal(weighted.predict_proba(X), removed.predict_proba(X))


def test_sample_weight_shifts_the_decision():
    X, y = classification(n_samples=200, n_classes=2)
    heavy = np.where(y == 1, 20.0, 1.0)
    plain = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=30, random_state=0).fit(X, y)
    tilted = clone(plain).fit(X, y, sample_weight=heavy)
    assert (tilted.predict(X) == 1).mean() > (plain.predict(X) == 1).mean()


def test_history_has_one_entry_per_epoch():
    X, y = classification()
    clf = DeepClassifier(early_stopping=True, max_epochs=7, schedule=None, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ == len(clf.history_) == 7
    assert [e["epoch"] for e in clf.history_] == list(range(1, 8))
    for epoch in clf.history_:
        assert {"train_loss", "valid_loss", "valid_score", "lr", "dur"} <= set(epoch)
        assert 0 <= epoch["valid_score"] <= 1 and epoch["lr"] == clf.learning_rate
        assert "batches" not in epoch


def test_verbose_prints_a_line_per_epoch_and_quiet_prints_nothing(capsys):
    X, y = classification()
    DeepClassifier(max_epochs=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
    DeepClassifier(max_epochs=3, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert "train_loss" in lines[0]
    assert [line.split()[0] for line in lines[2:5]] == ["1/3", "2/3", "3/3"]


def test_single_row_and_single_feature():
    reg = DeepRegressor(max_epochs=3).fit([[1.0]], [2.0])
    assert reg.predict([[1.0]]).shape == (1,)
    with pytest.raises(ValueError, match="one class"):
        DeepClassifier().fit([[1.0]], [0])


def test_batchnorm_trains_when_the_last_batch_has_one_row():
    X, y = classification(n_samples=101)
    clf = DeepClassifier(batchnorm=True, batch_size=50, max_epochs=2).fit(X, y)
    assert clf.net_.history[0]["train_batch_count"] == 2


@pytest.mark.parametrize("scale", [1e-50, 1e50, 1e15])
@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
def test_rescaled_sample_weights_give_the_same_model(Estimator, scale):
    X, y = (classification if Estimator is DeepClassifier else regression)(n_samples=100)
    X = X.astype(np.float32)
    weight = np.linspace(0.5, 2.0, len(X))
    reference = Estimator(**FAST).fit(X, y, sample_weight=weight).predict(X)
    rescaled = Estimator(**FAST).fit(X, y, sample_weight=weight * scale).predict(X)
    np.testing.assert_allclose(rescaled, reference, rtol=1e-4, atol=1e-4)


def test_a_training_step_takes_the_loaders_tensors_as_they_are(monkeypatch):
    # the batches are tensors on the device already: no skorch to_tensor per step
    import skorch.net

    converted = []
    to_tensor = skorch.net.to_tensor
    monkeypatch.setattr(
        skorch.net, "to_tensor", lambda X, **kwargs: converted.append(1) or to_tensor(X, **kwargs)
    )
    X, y = classification(n_samples=60)
    params = dict(hidden_layer_sizes=(8,), batch_size=20, max_epochs=2, early_stopping=False)
    clf = DeepClassifier(**params).fit(X, y)
    assert converted == []
    assert len(clf.history_) == 2  # (and 3 steps each: 6 conversions in skorch's own step)
