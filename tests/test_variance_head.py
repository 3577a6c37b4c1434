"""loss="gaussian_nll" / "beta_nll": a head that predicts a mean and a variance per target."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.metrics import r2_score
from skorch.callbacks import EpochScoring

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._lr_finder import _RangeTestDone, _RangeTestRecorder
from sklearn_dnn._nn.heads import (
    VARIANCE_FLOOR,
    GaussianNLLLoss,
    combine_mean_variance,
    mean_variance,
)
from sklearn_dnn.exceptions import InvalidParameterError

from ._data import FAST, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NLL_LOSSES = ["gaussian_nll", "beta_nll"]


def heteroscedastic(n=800, seed=0):
    """y = 10 * (x + noise * |x|): the noise's std is 10 * |x|, 0 at x = 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, (n, 1))
    y = 5.0 + 10.0 * (X[:, 0] + rng.normal(size=n) * np.abs(X[:, 0]))
    return X, y


@pytest.fixture(scope="module")
def fitted():
    """Each loss fitted on the heteroscedastic data (same seed, same network)."""
    X, y = heteroscedastic()
    params = dict(hidden_layer_sizes=(32, 32), max_epochs=80, random_state=0)
    return (
        X,
        y,
        {
            loss: DeepRegressor(loss=loss, **params).fit(X, y)
            for loss in ["squared_error", *NLL_LOSSES]
        },
    )


# The head and its loss.


def test_the_head_maps_raw_variances_to_positive_ones_and_keeps_the_means():
    raw = torch.tensor([[1.0, -2.0, -50.0, 3.0]])
    out = mean_variance(raw)
    assert torch.equal(out[:, :2], raw[:, :2])
    assert (out[:, 2:] >= VARIANCE_FLOOR).all()
    torch.testing.assert_close(out[0, 3], torch.nn.functional.softplus(torch.tensor(3.0)) + 1e-6)


def test_members_combine_into_the_mixtures_mean_and_variance():
    # two members, one output: means 0 and 2, variances 1 and 3
    outputs = torch.tensor([[[0.0, 1.0], [2.0, 3.0]]])
    combined = combine_mean_variance(outputs)
    # mean of means 1; mean variance 2 + variance of means 1 = 3
    torch.testing.assert_close(combined, torch.tensor([[1.0, 3.0]]))
    single = outputs[:, :1]
    assert torch.equal(combine_mean_variance(single), single[:, 0])


def test_the_loss_is_the_gaussian_nll_and_beta_weighs_by_the_stopped_variance():
    outputs = torch.tensor([[0.5, 4.0]], requires_grad=True)
    target = torch.tensor([[2.5]])
    expected = torch.distributions.Normal(0.5, 2.0).log_prob(torch.tensor(2.5)).neg()
    torch.testing.assert_close(GaussianNLLLoss()(outputs, target)[0, 0], expected)
    weighted = GaussianNLLLoss(beta=0.5)(outputs, target)
    torch.testing.assert_close(weighted[0, 0], expected * 2.0)
    weighted.sum().backward()
    # beta=1 would give the squared error's gradient; 0.5: -(y - mu) / var * var**0.5
    torch.testing.assert_close(outputs.grad[0, 0], torch.tensor(-2.0 / 4.0 * 2.0))


# The estimator.


@pytest.mark.parametrize("loss", NLL_LOSSES)
def test_predict_is_the_mean_and_mean_and_std_are_shaped_like_predict(fitted, loss):
    X, _, models = fitted
    model = models[loss]
    mean, std = model._mean_and_std(X[:50])
    assert mean.shape == std.shape == model.predict(X[:50]).shape == (50,)
    np.testing.assert_allclose(mean, model.predict(X[:50]))
    assert (std > 0).all()
    assert model.module_.output.out_features == 2  # a mean and a variance


def test_a_squared_error_model_has_no_std(fitted):
    X, _, models = fitted
    mean, std = models["squared_error"]._mean_and_std(X[:5])
    assert std is None
    np.testing.assert_allclose(mean, models["squared_error"].predict(X[:5]))


@pytest.mark.parametrize("loss", NLL_LOSSES)
def test_the_predicted_std_grows_with_the_noise_on_the_target_scale(fitted, loss):
    X, y, models = fitted
    grid = np.array([[0.2], [1.0], [2.0], [2.8]])
    std = models[loss]._mean_and_std(grid)[1]
    assert np.all(np.diff(std) > 0)
    # on the target's scale: the true noise std is 10 * |x| (2 at 0.2, 28 at 2.8)
    assert std[-1] > 2 * std[0]
    assert 12 < std[-1] < 45
    # the mean is fitted as well as the squared error's
    r2 = r2_score(y, models[loss].predict(X))
    assert r2 > r2_score(y, models["squared_error"].predict(X)) - 0.03


def test_the_variance_heads_nll_beats_a_constant_variance_on_held_out_rows(fitted):
    X, y, models = fitted
    X_test, y_test = heteroscedastic(seed=1)

    def nll(mean, std):
        return np.mean(np.log(std) + 0.5 * ((y_test - mean) / std) ** 2)

    constant = models["squared_error"]
    residual_std = np.std(y - constant.predict(X))
    baseline = nll(constant.predict(X_test), residual_std)
    for loss in NLL_LOSSES:
        assert nll(*models[loss]._mean_and_std(X_test)) < baseline - 0.1


def test_ensemble_and_dropout_total_is_aleatoric_plus_epistemic():
    X, y = heteroscedastic(n=300)
    model = DeepRegressor(
        loss="gaussian_nll",
        ensemble_size=3,
        dropout=0.1,
        hidden_layer_sizes=(16,),
        max_epochs=10,
        random_state=0,
    ).fit(X, y)
    members = model.predict_uncertainty(X[:20], method="ensemble")
    np.testing.assert_allclose(members.mean, model.predict(X[:20]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        members.total_std**2, members.aleatoric_std**2 + members.epistemic_std**2
    )
    np.testing.assert_allclose(members.epistemic_std, members.std)
    # the deterministic total is the members': _mean_and_std's std
    np.testing.assert_allclose(members.total_std, model._mean_and_std(X[:20])[1], rtol=1e-5)
    assert (members.epistemic_std > 0).all()
    sampled = model.predict_uncertainty(X[:20], n_samples=8, random_state=0, return_samples=True)
    assert sampled.samples.shape == (8 * 3, 20)
    np.testing.assert_allclose(sampled.epistemic_std, sampled.samples.std(axis=0), rtol=1e-6)
    again = model.predict_uncertainty(X[:20], n_samples=8, random_state=0)
    np.testing.assert_array_equal(again.aleatoric_std, sampled.aleatoric_std)


def test_a_single_network_without_dropout_reports_its_noise_alone():
    X, y = heteroscedastic(n=200)
    model = DeepRegressor(loss="gaussian_nll", **FAST).fit(X, y)
    result = model.predict_uncertainty(X[:10])
    np.testing.assert_allclose(result.aleatoric_std, model._mean_and_std(X[:10])[1], rtol=1e-6)
    assert np.all(result.epistemic_std == 0) and np.all(result.std == 0)
    with pytest.raises(ValueError, match="dropout"):
        model.predict_uncertainty(X[:10], method="dropout")


def test_a_squared_error_model_keeps_its_fields():
    X, y = regression(n_samples=100)
    model = DeepRegressor(ensemble_size=2, **FAST).fit(X, y)
    result = model.predict_uncertainty(X[:5])
    assert result.aleatoric_std is None and result.total_std is None
    with pytest.raises(ValueError, match="dropout"):  # still refused without a source
        DeepRegressor(**FAST).fit(X, y).predict_uncertainty(X[:5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multi_output_sparse_and_both_dtypes(dtype):
    X, y = regression(n_samples=120, n_targets=2)
    y = y * np.array([1.0, 1000.0])  # columns on very different scales
    model = DeepRegressor(loss="beta_nll", ensemble_size=2, **FAST)
    model.fit(sp.csr_matrix(X.astype(dtype)), y)
    mean, std = model._mean_and_std(X.astype(dtype))
    assert mean.shape == std.shape == (120, 2)
    assert model.module_.output.out_features == 4
    # each column's std is on its own scale
    assert 100 < np.median(std[:, 1] / std[:, 0]) < 10_000
    result = model.predict_uncertainty(X[:7].astype(dtype))
    assert result.total_std.shape == (7, 2)


def test_sample_weight_zero_rows_are_as_removed():
    X, y = heteroscedastic(n=200)
    weight = np.r_[np.ones(150), np.zeros(50)]
    weighted = DeepRegressor(loss="gaussian_nll", **FAST).fit(X, y, sample_weight=weight)
    removed = DeepRegressor(loss="gaussian_nll", **FAST).fit(X[:150], y[:150])
    for a, b in zip(weighted._mean_and_std(X), removed._mean_and_std(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


def test_sample_weight_moves_the_variance():
    X, y = heteroscedastic(n=300)
    noisy = np.abs(X[:, 0]) > 1.5
    light = DeepRegressor(loss="gaussian_nll", **{**FAST, "max_epochs": 30})
    heavy = DeepRegressor(loss="gaussian_nll", **{**FAST, "max_epochs": 30})
    light.fit(X, y, sample_weight=np.where(noisy, 0.01, 1.0))
    heavy.fit(X, y, sample_weight=np.where(noisy, 1.0, 0.01))
    assert not np.allclose(light._mean_and_std(X)[1], heavy._mean_and_std(X)[1], rtol=0.05)


def test_pickling_keeps_the_head():
    X, y = heteroscedastic(n=100)
    model = DeepRegressor(loss="beta_nll", nll_beta=0.3, **FAST).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    for a, b in zip(model._mean_and_std(X), clone._mean_and_std(X), strict=True):
        np.testing.assert_array_equal(a, b)
    assert clone.loss == "beta_nll" and clone.nll_beta == 0.3


def test_warm_start_refuses_a_changed_loss_and_honours_nll_beta():
    X, y = heteroscedastic(n=100)
    model = DeepRegressor(loss="gaussian_nll", warm_start=True, **FAST).fit(X, y)
    net = model.net_
    for other in ["squared_error", "beta_nll"]:
        with pytest.raises(ValueError, match=r"loss \(fitted with 'gaussian_nll'"):
            model.set_params(loss=other).fit(X, y)
        assert model.net_ is net  # unchanged
    model.set_params(loss="gaussian_nll").fit(X, y)
    assert model.n_iter_ == 10
    model.set_params(loss="beta_nll", warm_start=False).fit(X, y)
    model.set_params(nll_beta=0.9, warm_start=True).fit(X, y)  # honoured
    assert model.net_.criterion_.beta == 0.9


def test_squared_error_to_a_variance_head_is_refused_too():
    X, y = heteroscedastic(n=100)
    model = DeepRegressor(warm_start=True, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        model.set_params(loss="gaussian_nll").fit(X, y)


def test_partial_fit_and_a_first_chunk_without_spread():
    X, y = heteroscedastic(n=300)
    model = DeepRegressor(
        loss="gaussian_nll", hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0
    )
    model.partial_fit(X[:1], y[:1])  # one row: the scale is undetermined
    for _ in range(20):
        for start in range(0, 300, 50):
            model.partial_fit(X[start : start + 50], y[start : start + 50])
    mean, std = model._mean_and_std(X)
    # the std is read in the scale set by the first chunk with spread (y's std ~ 25)
    assert np.all(np.isfinite(std)) and 2 < np.median(std) < 60
    assert r2_score(y, mean) > 0.5


@pytest.mark.parametrize("loss", ["squared", "gaussian", "nll", None])
def test_a_bad_loss_is_an_invalid_parameter(loss):
    X, y = heteroscedastic(n=50)
    with pytest.raises(InvalidParameterError, match="loss"):
        DeepRegressor(loss=loss, **FAST).fit(X, y)


@pytest.mark.parametrize("beta", [-0.1, 1.5, "0.5"])
def test_a_bad_nll_beta_is_an_invalid_parameter(beta):
    X, y = heteroscedastic(n=50)
    with pytest.raises(InvalidParameterError, match="nll_beta"):
        DeepRegressor(loss="beta_nll", nll_beta=beta, **FAST).fit(X, y)


def test_a_misspelt_loss_gets_a_suggestion():
    X, y = heteroscedastic(n=50)
    with pytest.raises(InvalidParameterError, match="Did you mean loss='gaussian_nll'"):
        DeepRegressor(loss="gausian_nll", **FAST).fit(X, y)


def test_non_finite_variances_do_not_pass_silently():
    X, y = heteroscedastic(n=100)
    model = DeepRegressor(loss="gaussian_nll", **FAST).fit(X, y)
    with torch.no_grad():
        model.module_.output.bias[..., 1] = float("nan")  # the variance's unit
    with pytest.raises(ValueError, match="non-finite"):
        model._mean_and_std(X)
    with pytest.raises(ValueError, match="non-finite"):
        model.predict(X)  # predict reads the mean, but the check sees every output
    with pytest.raises(ValueError, match="non-finite"):
        model.predict_uncertainty(X)


@pytest.mark.parametrize("loss", NLL_LOSSES)
def test_early_stopping_records_r2_and_the_nll_as_valid_loss(loss):
    X, y = heteroscedastic(n=300)
    model = DeepRegressor(
        loss=loss, early_stopping=True, **{**FAST, "max_epochs": 15, "learning_rate": 1e-2}
    )
    model.fit(X, y)
    last = model.history_[-1]
    assert 0.3 < last["valid_score"] <= 1  # R^2 of the mean, not of the variance
    assert np.isfinite(last["valid_loss"])
    scored = DeepRegressor(
        loss=loss, early_stopping=True, scoring="neg_mean_squared_error", **FAST
    ).fit(X, y)
    assert scored.history_[-1]["valid_score"] < 0


def test_from_pretrained_gets_a_new_variance_head():
    X, y = heteroscedastic(n=100)
    source = DeepRegressor(**FAST).fit(X, y)
    model = DeepRegressor.from_pretrained(source, loss="gaussian_nll", max_epochs=3).fit(X, y)
    assert model.module_.output.out_features == 2
    assert model._mean_and_std(X)[1].shape == (100,)


def test_the_classifier_has_no_loss():
    assert "loss" not in DeepClassifier().get_params()


def test_a_negative_likelihood_loss_neither_warns_nor_stops_the_range_test_at_once():
    # a first-epoch loss below zero (easy data, little noise): no ratio rule misfires
    import warnings

    from sklearn_dnn._engine.divergence import warn_if_unstable

    history = [{"train_loss": -0.5}, {"train_loss": -1.0}, {"train_loss": -1.2}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_unstable(history, 0, 1e-3)
    recorder = _RangeTestRecorder(n_steps=100, stop_factor=4.0).initialize()
    recorder._lr = 1e-3
    for loss in [-1.0, -1.1, -1.2, -1.15]:  # well within 4x the best
        recorder.on_batch_end(None, training=True, loss=torch.tensor(loss))
    with pytest.raises(_RangeTestDone):  # 4x the best's size above it
        recorder.on_batch_end(None, training=True, loss=torch.tensor(40.0))


def test_skorch_scorers_of_the_net_read_the_means():
    X, y = heteroscedastic(n=200)
    scoring = EpochScoring("r2", lower_is_better=False, name="skorch_r2")
    model = DeepRegressor(loss="gaussian_nll", early_stopping=True, callbacks=[scoring], **FAST)
    model.fit(X, y)
    last = model.history_[-1]
    np.testing.assert_allclose(last["skorch_r2"], last["valid_score"], rtol=1e-5)
