"""RealMLP's network side: parametric activations and the NTK parametrization."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.groups import ParameterGroups
from sklearn_dnn._nn.layers import EnsembleLinear, ParametricActivation
from sklearn_dnn._nn.mlp import MLP, forward_with_dropout, parameter_count

from ._data import FAST, classification, regression

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning", "ignore::sklearn_dnn.DivergenceWarning"
)


def _blends(module):
    return [block.activation for block in module.hidden]


# --- parametric activations ------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "selu", "mish", "prelu", nn.LeakyReLU(0.2)])
@pytest.mark.parametrize("ensemble_size", [1, 3])
def test_a_parametric_activation_starts_as_the_plain_one(activation, ensemble_size):
    X = torch.randn(20, 5, generator=torch.Generator().manual_seed(0))
    kwargs = dict(activation=activation, ensemble_size=ensemble_size, seed=3)
    plain = MLP(5, (8, 6), 2, **kwargs).train()
    blended = MLP(5, (8, 6), 2, parametric_activation=True, **kwargs).train()
    # The blend draws nothing: the same seed gives the same weights, and the same outputs.
    torch.testing.assert_close(blended.members(X), plain.members(X))
    for blend in _blends(blended):
        assert isinstance(blend, ParametricActivation)
        assert blend.weight.shape == (ensemble_size, 1, blend.width)
        assert torch.equal(blend.weight, torch.ones_like(blend.weight))


def test_the_blend_is_identity_at_zero_and_per_member():
    blend = ParametricActivation(nn.ReLU(), width=4, ensemble_size=2)
    with torch.no_grad():
        blend.weight[0].zero_()  # member 0: the identity; member 1: ReLU
    h = torch.randn(2, 7, 4)
    out = blend(h)
    torch.testing.assert_close(out[0], h[0])
    torch.testing.assert_close(out[1], h[1].relu())


def test_a_trains_is_not_penalized_and_lives_in_the_activation_part():
    X, y = regression()
    model = DeepRegressor(
        **{**FAST, "max_epochs": 10}, parametric_activation=True, ensemble_size=3, l2=1e-2
    ).fit(X, y)
    blend = model.module_.hidden[0].activation
    assert blend.weight.shape == (3, 1, 16)
    assert not torch.allclose(blend.weight, torch.ones_like(blend.weight))  # trained
    # The members train apart: their a differ.
    assert not torch.allclose(blend.weight[0], blend.weight[1])
    ids = {id(p) for p in model.module_.hidden[0].activation.parameters()}
    assert id(blend.weight) in ids
    penalized = {id(w) for w in ParameterGroups.trained_weights(model.module_)}
    assert id(blend.weight) not in penalized


def test_parameter_count_includes_the_blends():
    module = MLP(5, (8, 6), 2, parametric_activation=True, ensemble_size=3)
    counted = parameter_count(5, (8, 6), 2, "relu", False, None, 3, parametric_activation=True)
    assert counted == sum(p.numel() for p in module.parameters())


def test_pickling_keeps_the_blends():
    X, y = classification()
    model = DeepClassifier(**FAST, parametric_activation=True, ensemble_size=2).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)
    torch.testing.assert_close(
        loaded.module_.hidden[0].activation.weight, model.module_.hidden[0].activation.weight
    )


@pytest.mark.parametrize(
    "param, value", [("parametric_activation", True), ("parametrization", "ntk")]
)
def test_warm_start_refuses_a_change(param, value):
    X, y = regression()
    model = DeepRegressor(**FAST, warm_start=True).fit(X, y)
    model.set_params(**{param: value})
    with pytest.raises(ValueError, match=rf"architecture cannot change; changed: {param}"):
        model.fit(X, y)


def test_warm_start_continues_a_parametric_ntk_network():
    X, y = regression()
    model = DeepRegressor(
        **FAST, warm_start=True, parametric_activation=True, parametrization="ntk"
    ).fit(X, y)
    model.fit(X, y)
    assert model.n_iter_ == 2 * FAST["max_epochs"]


@pytest.mark.parametrize("ensemble_size", [1, 2])
def test_from_pretrained_copies_blends_and_parametrization(ensemble_size):
    X, y = regression()
    source = DeepRegressor(
        **FAST, parametric_activation=True, parametrization="ntk", activation="selu"
    ).fit(X, y)
    source_a = source.module_.hidden[0].activation.weight.detach().clone()
    model = DeepRegressor.from_pretrained(
        source, n_frozen=1, ensemble_size=ensemble_size, max_epochs=2
    )
    params = model.get_params()
    assert params["parametric_activation"] is True
    assert params["parametrization"] == "ntk"
    assert params["activation"] == "selu"
    with pytest.raises(ValueError, match="cannot be set"):
        DeepRegressor.from_pretrained(source, parametric_activation=False)
    model.fit(X, y)
    blend = model.module_.hidden[0].activation
    assert isinstance(blend, ParametricActivation)
    assert blend.weight.shape == (ensemble_size, 1, 16)
    torch.testing.assert_close(blend.weight, source_a.expand_as(blend.weight))  # frozen copy
    assert model.module_.output.parametrization == "ntk"
    first = model.module_.hidden[0].linear
    assert first.scale == pytest.approx(first.in_features**-0.5)  # 1 / sqrt(fan-in)


def test_from_pretrained_source_ensemble_with_prelu_blends():
    X, y = regression()
    source = DeepRegressor(
        **FAST, parametric_activation=True, activation="prelu", ensemble_size=2
    ).fit(X, y)
    model = DeepRegressor.from_pretrained(source, max_epochs=1).fit(X, y)
    assert model.get_params()["activation"] == "prelu"
    assert model.module_.hidden[0].activation.weight.shape == (2, 1, 16)


def test_predict_uncertainty_and_diagnostics_with_blends():
    X, y = regression()
    model = DeepRegressor(
        **FAST, parametric_activation=True, activation="selu", dropout=0.2, diagnostics=True
    ).fit(X, y)
    assert isinstance(model.module_.hidden[0].dropout, nn.AlphaDropout)
    uncertainty = model.predict_uncertainty(X[:5], n_samples=8)
    assert uncertainty.std.shape == (5,) and np.all(uncertainty.std > 0)
    assert model.dead_units_.shape == (1,)


def test_dropout_sampling_runs_the_blend():
    module = MLP(5, (8,), 1, parametric_activation=True, dropout=0.5, ensemble_size=2).eval()
    with torch.no_grad():
        module.hidden[0].activation.weight.zero_()  # a linear network, apart from dropout
    X = torch.randn(4, 5)
    out = forward_with_dropout(module, X, torch.Generator().manual_seed(0), copies=3)
    assert out.shape == (12, 2, 1)
    assert not torch.allclose(out[:4], out[4:8])  # each copy its own masks


def test_parametric_user_activation_class_and_module():
    X, y = regression()
    for activation in (nn.Tanh, nn.LeakyReLU(0.2)):
        model = DeepRegressor(**FAST, parametric_activation=True, activation=activation)
        model.fit(X, y)
        assert isinstance(model.module_.hidden[0].activation, ParametricActivation)


# --- the NTK parametrization -----------------------------------------------


@pytest.mark.parametrize("width_in", [16, 1024])
def test_ntk_output_variance_is_unit_at_any_width(width_in):
    X = torch.randn(512, width_in, generator=torch.Generator().manual_seed(0))
    module = MLP(width_in, (256,), 1, initializer="lecun_normal", parametrization="ntk", seed=1)
    linear = module.hidden[0].linear
    # Stored N(0, 1) weights; the layer applies them divided by sqrt(fan_in).
    assert float(linear.weight.detach().std()) == pytest.approx(1.0, rel=0.05)
    with torch.no_grad():
        out = linear(X)
    assert float(out.var()) == pytest.approx(1.0, rel=0.15)


def test_ntk_starts_as_the_standard_network_and_coefs_are_applied_weights():
    X, y = regression()
    kwargs = dict(**{**FAST, "max_epochs": 1}, learning_rate=1e-12, ensemble_size=2)
    standard = DeepRegressor(**kwargs).fit(X, y)
    ntk = DeepRegressor(**kwargs, parametrization="ntk").fit(X, y)
    for ours, theirs in zip(ntk.coefs_, standard.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ntk.predict(X), standard.predict(X), rtol=1e-4, atol=1e-4)
    stored = ntk.module_.hidden[0].linear.weight.detach().numpy()
    fan_in = ntk.module_.hidden[0].linear.in_features
    np.testing.assert_allclose(
        ntk.coefs_[0], np.swapaxes(stored, -1, -2) / np.sqrt(fan_in), rtol=1e-5
    )


def test_ntk_fit_converges():
    X, y = regression(n_samples=300)
    model = DeepRegressor(
        hidden_layer_sizes=(64, 64), max_epochs=60, random_state=0, parametrization="ntk"
    ).fit(X, y)
    assert model.score(X, y) > 0.9


def test_ntk_max_norm_bounds_the_applied_weights():
    X, y = regression()
    max_norm = 0.5
    model = DeepRegressor(**FAST, parametrization="ntk", max_norm=max_norm).fit(X, y)
    norms = np.linalg.norm(model.coefs_[0], axis=0)  # (n_in, n_out): a unit's column
    assert norms.max() <= max_norm * (1 + 1e-4)
    assert norms.max() > 0.9 * max_norm  # the constraint holds the applied, not stored, rows


def test_ntk_layer_on_sparse_and_3d_inputs_matches_dense():
    layer = EnsembleLinear(6, 3, ensemble_size=2, parametrization="ntk")
    with torch.no_grad():
        layer.weight.normal_(generator=torch.Generator().manual_seed(0))
        layer.bias.normal_(generator=torch.Generator().manual_seed(1))
    h = torch.randn(2, 5, 6)
    expected = torch.baddbmm(layer.bias.unsqueeze(1), h, layer.effective_weight.transpose(1, 2))
    torch.testing.assert_close(layer(h), expected)
    torch.testing.assert_close(layer(h.to_sparse()), expected)


# --- bad values ------------------------------------------------------------


@pytest.mark.parametrize(
    "param, value, message",
    [
        ("parametrization", "mup", r"parametrization.*'ntk'"),
        ("parametrization", None, "parametrization"),
        ("parametric_activation", "yes", "parametric_activation"),
    ],
)
def test_bad_values_are_refused(param, value, message):
    X, y = regression()
    with pytest.raises(ValueError, match=message):
        DeepRegressor(**FAST, **{param: value}).fit(X, y)


def test_a_layer_refuses_an_unknown_parametrization():
    with pytest.raises(ValueError, match="parametrization must be one of"):
        EnsembleLinear(3, 2, parametrization="mup")
