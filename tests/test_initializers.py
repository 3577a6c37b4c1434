"""Every initializer gives the weight scale its formula says."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_dnn import INITIALIZERS, MLP, DeepClassifier

from ._data import classification

FAN_IN, FAN_OUT = 400, 300

EXPECTED_STD = {
    "glorot_uniform": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "glorot_normal": np.sqrt(2 / (FAN_IN + FAN_OUT)),
    "he_uniform": np.sqrt(2 / FAN_IN),
    "he_normal": np.sqrt(2 / FAN_IN),
    "lecun_uniform": np.sqrt(1 / FAN_IN),
    "lecun_normal": np.sqrt(1 / FAN_IN),
}


def hidden_weight(**params):
    torch.manual_seed(0)
    module = MLP(FAN_IN, (FAN_OUT,), 2, **params)
    return module.hidden[0].linear.weight[0].detach().numpy()  # the one member's


def test_every_initializer_is_tested():
    assert set(EXPECTED_STD) | {"orthogonal"} == set(INITIALIZERS)


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_initializer_gives_the_standard_deviation_of_its_formula(name):
    weight = hidden_weight(initializer=name)
    assert weight.std() == pytest.approx(EXPECTED_STD[name], rel=0.03)
    assert abs(weight.mean()) < 0.02 * EXPECTED_STD[name]


@pytest.mark.parametrize("name", ["glorot_uniform", "he_uniform", "lecun_uniform"])
def test_uniform_initializers_stay_within_the_bound(name):
    weight = hidden_weight(initializer=name)
    bound = np.sqrt(3) * EXPECTED_STD[name]
    assert np.abs(weight).max() <= bound + 1e-6
    assert np.abs(weight).max() > 0.98 * bound


def test_orthogonal_gives_orthonormal_rows():
    weight = hidden_weight(initializer="orthogonal").astype(np.float64)
    np.testing.assert_allclose(weight @ weight.T, np.eye(FAN_OUT), atol=1e-5)


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("relu", "he_uniform"),
        ("leaky_relu", "he_uniform"),
        ("elu", "he_uniform"),
        ("gelu", "he_uniform"),
        ("selu", "lecun_normal"),
        ("tanh", "glorot_uniform"),
        ("sigmoid", "glorot_uniform"),
        (nn.LeakyReLU(0.2), "he_uniform"),
    ],
)
def test_auto_initializer_follows_the_activation(activation, expected):
    weight = hidden_weight(initializer="auto", activation=activation)
    assert weight.std() == pytest.approx(EXPECTED_STD[expected], rel=0.03)


def test_biases_start_at_zero_and_output_layer_is_glorot():
    torch.manual_seed(0)
    module = MLP(FAN_IN, (FAN_OUT,), FAN_OUT, initializer="he_normal")
    assert not module.hidden[0].linear.bias.detach().any()
    assert module.output.weight.std().item() == pytest.approx(np.sqrt(2 / (2 * FAN_OUT)), rel=0.03)


def test_callable_initializer_is_applied_to_every_hidden_layer():
    X, y = classification(n_samples=40)

    def constant(weight):
        with torch.no_grad():
            weight.fill_(0.5)

    clf = DeepClassifier(hidden_layer_sizes=(4, 3), initializer=constant, max_epochs=1)
    clf.fit(X, y)
    # After a single epoch every weight is still near its constant start.
    for block in clf.module_.hidden:
        assert np.allclose(block.linear.weight.detach().numpy(), 0.5, atol=0.05)
