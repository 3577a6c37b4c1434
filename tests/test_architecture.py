"""The module built in fit has the layers the hyperparameters ask for."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_dnn import ACTIVATIONS, MLP, DeepClassifier, DeepRegressor
from sklearn_dnn._layers import EnsembleLinear, MemberBatchNorm

from ._data import classification

EXPECTED_ACTIVATION = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
}


def test_every_activation_is_tested():
    assert set(EXPECTED_ACTIVATION) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_name_builds_that_module_in_every_layer(name):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(8, 6), activation=name, max_epochs=2, random_state=0
    ).fit(X, y)
    blocks = list(clf.module_.hidden)
    assert len(blocks) == 2
    for block in blocks:
        assert isinstance(block[0], EnsembleLinear) and block[0].ensemble_size == 1
        assert isinstance(block[-1], EXPECTED_ACTIVATION[name])
    assert np.isfinite(clf.predict_proba(X)).all()


def test_widths_follow_hidden_layer_sizes_and_outputs_follow_target():
    X, y = classification(n_samples=60, n_features=7, n_classes=4)
    clf = DeepClassifier(hidden_layer_sizes=(5, 4, 3), max_epochs=1).fit(X, y)
    shapes = [tuple(layer.weight.shape) for layer in clf.module_.linear_layers()]
    # One member: the stacked weights of a plain network.
    assert shapes == [(1, 5, 7), (1, 4, 5), (1, 3, 4), (1, 4, 3)]

    reg = DeepRegressor(hidden_layer_sizes=(), max_epochs=1).fit(X, np.c_[y, -y])
    assert [tuple(layer.weight.shape) for layer in reg.module_.linear_layers()] == [(1, 2, 7)]


def test_activation_instance_is_copied_per_layer_and_keeps_its_settings():
    X, y = classification(n_samples=60)
    activation = nn.LeakyReLU(0.2)
    clf = DeepClassifier(hidden_layer_sizes=(4, 4), activation=activation, max_epochs=1)
    clf.fit(X, y)
    used = [block[-1] for block in clf.module_.hidden]
    assert all(isinstance(a, nn.LeakyReLU) and a.negative_slope == 0.2 for a in used)
    assert used[0] is not used[1] and activation not in used


def test_prelu_parameters_are_not_shared_between_layers():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(4, 4), activation=nn.PReLU, max_epochs=1)
    clf.fit(X, y)
    first, second = (block[-1].weight for block in clf.module_.hidden)
    assert first.data_ptr() != second.data_ptr()


def test_batchnorm_sits_between_linear_and_activation_and_drops_the_bias():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(6, 6), batchnorm=True, max_epochs=2)
    clf.fit(X, y)
    for block in clf.module_.hidden:
        assert [type(m) for m in block] == [EnsembleLinear, MemberBatchNorm, nn.ReLU]
        assert isinstance(block[1], nn.BatchNorm1d)
        assert block[0].bias is None
    assert clf.module_.output.bias is not None


@pytest.mark.parametrize(
    "activation, dropout_class", [("relu", nn.Dropout), ("selu", nn.AlphaDropout)]
)
def test_dropout_follows_each_activation_alpha_dropout_for_selu(activation, dropout_class):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(6, 6), activation=activation, dropout=0.3, max_epochs=1
    ).fit(X, y)
    for block in clf.module_.hidden:
        assert type(block[-1]) is dropout_class and block[-1].p == 0.3


def test_no_dropout_layer_without_dropout():
    module = MLP(3, (4,), 2, dropout=0.0)
    assert not any(isinstance(m, (nn.Dropout, nn.AlphaDropout)) for m in module.modules())


def test_float32_input_trains_float32_and_float64_trains_float64():
    X, y = classification(n_samples=60)
    clf32 = DeepClassifier(max_epochs=1, random_state=0).fit(X.astype(np.float32), y)
    clf64 = DeepClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert clf32.module_.output.weight.dtype == torch.float32
    assert clf64.module_.output.weight.dtype == torch.float64
    # Both start from the same draws.
    first32 = clf32.net_.history[0]["train_loss"]
    first64 = clf64.net_.history[0]["train_loss"]
    assert first32 == pytest.approx(first64, rel=1e-4)
