"""The module built in fit has the layers the hyperparameters ask for."""

import numpy as np
import pytest
import torch
from torch import nn

import sklearn_dnn._engine.plan
from sklearn_dnn import ACTIVATIONS, MLP, DeepClassifier, DeepRegressor
from sklearn_dnn._nn.activations import activation_name
from sklearn_dnn._nn.architecture import Activation, Architecture, check_warm_start
from sklearn_dnn._nn.layers import EnsembleLinear, MemberBatchNorm
from sklearn_dnn._nn.mlp import parameter_count

from ._data import PLAIN_INPUTS, classification

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
        assert isinstance(block.linear, EnsembleLinear) and block.linear.ensemble_size == 1
        assert isinstance(block.activation, EXPECTED_ACTIVATION[name])
    assert np.isfinite(clf.predict_proba(X)).all()


def test_widths_follow_hidden_layer_sizes_and_outputs_follow_target():
    X, y = classification(n_samples=60, n_features=7, n_classes=4)
    clf = DeepClassifier(hidden_layer_sizes=(5, 4, 3), max_epochs=1, **PLAIN_INPUTS).fit(X, y)
    shapes = [tuple(layer.weight.shape) for layer in clf.module_.linear_layers()]
    # One member: the stacked weights of a plain network.
    assert shapes == [(1, 5, 7), (1, 4, 5), (1, 3, 4), (1, 4, 3)]

    reg = DeepRegressor(hidden_layer_sizes=(), max_epochs=1, **PLAIN_INPUTS).fit(X, np.c_[y, -y])
    assert [tuple(layer.weight.shape) for layer in reg.module_.linear_layers()] == [(1, 2, 7)]


def test_activation_instance_is_copied_per_layer_and_keeps_its_settings():
    X, y = classification(n_samples=60)
    activation = nn.LeakyReLU(0.2)
    clf = DeepClassifier(hidden_layer_sizes=(4, 4), activation=activation, max_epochs=1)
    clf.fit(X, y)
    used = [block.activation for block in clf.module_.hidden]
    assert all(isinstance(a, nn.LeakyReLU) and a.negative_slope == 0.2 for a in used)
    assert used[0] is not used[1] and activation not in used


def test_prelu_parameters_are_not_shared_between_layers():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(4, 4), activation=nn.PReLU, max_epochs=1)
    clf.fit(X, y)
    first, second = (block.activation.weight for block in clf.module_.hidden)
    assert first.data_ptr() != second.data_ptr()


def test_batchnorm_sits_between_linear_and_activation_and_drops_the_bias():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(hidden_layer_sizes=(6, 6), batchnorm=True, max_epochs=2)
    clf.fit(X, y)
    for block in clf.module_.hidden:
        assert block.order == ("linear", "norm", "activation")
        assert [type(m) for m in block.children()] == [EnsembleLinear, MemberBatchNorm, nn.ReLU]
        assert isinstance(block.norm, nn.BatchNorm1d)
        assert block.linear.bias is None and block.dropout is None
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
        assert block.order == ("linear", "activation", "dropout")
        assert type(block.dropout) is dropout_class and block.dropout.p == 0.3


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


class Scaled(nn.Module):
    """An activation of the user's, with two parameters."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(2))

    def forward(self, h):
        return self.scale.sum() * torch.tanh(h)


@pytest.mark.parametrize(
    "settings",
    [
        dict(hidden_layer_sizes=(7, 5)),
        dict(hidden_layer_sizes=(7, 5), batchnorm=True, activation="prelu", ensemble_size=3),
        dict(hidden_layer_sizes=(6,), activation=Scaled, ensemble_size=2),
    ],
)
def test_the_parameter_count_is_that_of_the_network_built(settings):
    X, y = classification(n_samples=40)
    clf = DeepClassifier(max_epochs=1, early_stopping=False, **PLAIN_INPUTS, **settings).fit(X, y)
    built = sum(p.numel() for p in clf.module_.parameters())
    params = clf.get_params()
    sizes = tuple(params["hidden_layer_sizes"])
    count = parameter_count(
        10, sizes, 3, params["activation"], params["batchnorm"], None, params["ensemble_size"]
    )
    assert count == built
    # Reused layers, of one network or of an ensemble, are counted as they are copied.
    members = params["ensemble_size"]
    for ensemble_size in [members] if members > 1 else [1, 3]:
        more = {} if members > 1 else {"ensemble_size": ensemble_size}
        reuse = DeepRegressor.from_pretrained(clf, max_epochs=1, **PLAIN_INPUTS, **more).fit(X, y)
        built = sum(p.numel() for p in reuse.module_.parameters())
        count = parameter_count(10, sizes, 1, None, None, reuse.pretrained, ensemble_size)
        assert count == built


def test_a_network_too_large_for_the_memory_is_refused_before_any_allocation(monkeypatch):
    X, y = classification(n_samples=40)
    clf = DeepClassifier(max_epochs=1, early_stopping=False, **PLAIN_INPUTS).fit(X, y)
    fitted = clf.module_
    # 10,000 members of 1000 x 1000 layers: 1e10 parameters, 150 GiB with their gradients.
    monkeypatch.setattr(sklearn_dnn._engine.plan, "memory_limit", lambda device: 16 * 2**30)
    clf.set_params(ensemble_size=10_000, hidden_layer_sizes=(1000, 1000))
    message = (
        r"too large for the memory: ensemble_size=10000 members with "
        r"hidden_layer_sizes=\(1000, 1000\) hold 10,150,030,000 parameters, 75.6 GiB "
        r".* at least 151.2 GiB .* the 16.0 GiB of memory available on cpu"
    )
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert clf.module_ is fitted  # a failed fit changes nothing
    # float32: half the size; and a network that fits trains.
    with pytest.raises(ValueError, match="37.8 GiB of weights"):
        clf.fit(X.astype(np.float32), y)
    monkeypatch.setattr(sklearn_dnn._engine.plan, "memory_limit", lambda device: 2**20)
    clf.set_params(ensemble_size=2, hidden_layer_sizes=(8,)).fit(X, y)


def test_the_memory_limit_falls_back_to_the_machines_then_to_a_fixed_cap(monkeypatch):
    import os
    import sys

    from sklearn_dnn._engine.plan import FALLBACK_MEMORY_BYTES, memory_limit

    assert memory_limit("cpu") > 2**20
    monkeypatch.setitem(sys.modules, "psutil", None)  # not installed
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_PHYS_PAGES": 1000}.get(name, 4096))
    assert memory_limit("cpu") == 1000 * 4096
    monkeypatch.delattr(os, "sysconf")  # Windows
    assert memory_limit("cpu") == FALLBACK_MEMORY_BYTES


# ----------------------------------------------------------------------
# the Architecture object: equality, normalization, warm-start refusal (no fit)


@pytest.mark.parametrize(
    "a, b",
    [
        ("relu", nn.ReLU),
        ("relu", nn.ReLU()),
        (nn.ReLU, nn.ReLU()),
        ("leaky_relu", nn.LeakyReLU(0.01)),
        (nn.LeakyReLU(0.2), nn.LeakyReLU(0.2)),
    ],
)
def test_an_activation_given_in_another_form_is_the_same_activation(a, b):
    assert Activation(a) == Activation(b)
    assert Activation(b) == Activation(a)


def _prelu(weight):
    prelu = nn.PReLU()
    with torch.no_grad():
        prelu.weight.fill_(weight)
    return prelu


@pytest.mark.parametrize(
    "a, b",
    [
        ("relu", "tanh"),
        (nn.ReLU, nn.LeakyReLU),
        (nn.LeakyReLU(0.2), nn.LeakyReLU(0.3)),
        ("leaky_relu", nn.LeakyReLU(0.2)),
        ("prelu", _prelu(0.5)),  # the same kind, other weights
    ],
)
def test_different_activations_differ(a, b):
    assert Activation(a) != Activation(b)


def test_activations_of_one_kind_with_other_weights_are_the_same_kind():
    assert Activation("prelu").same_kind(Activation(_prelu(0.5)))
    assert not Activation("relu").same_kind(Activation("leaky_relu"))
    assert activation_name(_prelu(0.5)) == "prelu"
    assert activation_name(nn.LeakyReLU(0.2)) is None  # not the table's slope


def test_architecture_from_hyperparameters_in_other_forms_is_the_same():
    a = Architecture.from_settings(
        DeepClassifier(hidden_layer_sizes=[8], activation=nn.ReLU, batchnorm=np.True_)
    )
    b = Architecture.from_settings(
        DeepClassifier(hidden_layer_sizes=8, activation="relu", batchnorm=True, ensemble_size=1)
    )
    assert a == b and a.changed_settings(b) == []
    assert a.hidden_layer_sizes == (8,) and type(a.batchnorm) is bool
    other = Architecture.from_settings(
        DeepClassifier(hidden_layer_sizes=(8, 4), batchnorm=True, ensemble_size=2)
    )
    assert a.changed_settings(other) == ["hidden_layer_sizes", "ensemble_size"]


def test_architecture_keeps_its_own_copy_of_an_activation_module():
    activation = nn.LeakyReLU(0.2)
    fitted = Architecture.from_settings(DeepClassifier(activation=activation))
    activation.negative_slope = 0.5  # the user's object, changed in place
    assert fitted.changed_settings(
        Architecture.from_settings(DeepClassifier(activation=activation))
    )
    assert fitted.activation.value.negative_slope == 0.2


def test_warm_start_refusal_names_every_changed_setting_with_both_values():
    fitted = Architecture.from_settings(DeepClassifier(hidden_layer_sizes=(8,)))
    given = DeepClassifier(hidden_layer_sizes=[4], ensemble_size=3, initializer="orthogonal")
    with pytest.raises(
        ValueError,
        match=r"changed: hidden_layer_sizes \(fitted with \(8,\), now \[4\]\), initializer "
        r"\(fitted with 'auto', now 'orthogonal'\), ensemble_size \(fitted with 1, now 3\)\.",
    ):
        check_warm_start(fitted, Architecture.from_settings(given), given.get_params())
    check_warm_start(fitted, fitted, {})  # the same architecture: nothing to refuse


def test_architecture_of_reused_layers_is_read_from_the_layers():
    source = nn.Sequential(
        nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1)
    )
    model = DeepRegressor.from_pretrained(source)
    assert model.get_params()["activation"] == "tanh"
    architecture = Architecture.from_settings(model)
    assert architecture.hidden_layer_sizes == (5, 4) and architecture.batchnorm
    assert architecture.activation == Activation(nn.Tanh())
    assert architecture.pretrained is model.pretrained
    assert architecture == Architecture.from_settings(model)


def test_a_0_1_fitted_architecture_dict_is_the_same_architecture():
    raw = {
        "hidden_layer_sizes": (8,),
        "activation": nn.PReLU,
        "initializer": "auto",
        "batchnorm": False,
        "ensemble_size": 3,
        "pretrained": None,
    }
    old = Architecture.from_fitted_settings(raw)
    assert old == Architecture.from_settings(DeepClassifier(**raw, **PLAIN_INPUTS))
    assert old.changed_settings(
        Architecture.from_settings(DeepClassifier(**{**raw, "ensemble_size": 2}, **PLAIN_INPUTS))
    ) == ["ensemble_size"]


def test_the_network_is_built_from_the_architecture():
    architecture = Architecture.from_settings(
        DeepClassifier(hidden_layer_sizes=(5, 4), batchnorm=True, ensemble_size=2)
    ).sized(n_features=3, n_outputs=2)
    module = MLP(**architecture.module_kwargs())
    shapes = [tuple(layer.weight.shape) for layer in module.linear_layers()]
    assert shapes == [(2, 5, 3), (2, 4, 5), (2, 2, 4)]
    assert isinstance(module.hidden[0].norm, MemberBatchNorm)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_model_pickled_by_0_1_continues_and_refuses_by_its_fitted_settings():
    X, y = classification(n_samples=60)
    settings = dict(max_epochs=1, warm_start=True, random_state=0, **PLAIN_INPUTS)
    clf = DeepClassifier(hidden_layer_sizes=(8,), **settings)
    clf.fit(X, y)
    del clf._architecture_  # what 0.1 stored instead: the raw hyperparameters
    clf._fitted_architecture = {
        "hidden_layer_sizes": (8,),
        "activation": "relu",
        "initializer": "auto",
        "batchnorm": False,
        "ensemble_size": 1,
        "pretrained": None,
    }
    with pytest.raises(ValueError, match=r"changed: hidden_layer_sizes \(fitted with \(8,\)"):
        clf.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    clf.set_params(hidden_layer_sizes=[8], activation=nn.ReLU).fit(X, y)
    assert clf.n_iter_ == 2
    assert clf._architecture_.hidden_layer_sizes == (8,)
    assert not hasattr(clf, "_fitted_architecture")  # replaced by the new form
