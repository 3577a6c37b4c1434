"""Hidden blocks in named parts: the torch source parser, 0.1.0 pickles and state dicts."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._nn.activations import activation_name
from sklearn_dnn._nn.blocks import HiddenBlock, blocks_of_sequential
from sklearn_dnn._nn.layers import EnsembleLinear, MemberActivation, MemberBatchNorm
from sklearn_dnn._nn.mlp import MLP

from ._data import classification, regression


def as_0_1_0(blocks):
    """``blocks`` laid out as sklearn-dnn 0.1.0 made them: a Sequential of each block's layers."""
    return nn.Sequential(*(nn.Sequential(*block.children()) for block in blocks)).train(
        blocks.training
    )


def test_a_block_names_its_parts_and_runs_them_in_order():
    module = MLP(5, (4, 3), 2, batchnorm=True, dropout=0.2, ensemble_size=2).eval()
    block = module.hidden[0]
    assert block.order == ("linear", "norm", "activation", "dropout")
    assert isinstance(block.linear, EnsembleLinear) and isinstance(block.norm, MemberBatchNorm)
    keys = set(module.state_dict())
    assert {"hidden.0.linear.weight", "hidden.1.norm.running_mean", "output.weight"} <= keys
    h = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    module.double()
    expected = block.activation(block.norm(block.linear(h)))  # dropout: the identity in eval
    torch.testing.assert_close(block(h), expected, rtol=0, atol=0)
    before, rest = block.split("activation")
    assert before == [block.linear, block.norm] and rest == [block.activation, block.dropout]
    plain = MLP(5, (4,), 2).hidden[0]
    assert plain.norm is None and plain.dropout is None
    assert plain.split("dropout") == ([plain.linear, plain.activation], [])


@pytest.mark.parametrize(
    "layers, order",
    [
        (
            lambda: [nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.3)],
            ("linear", "norm", "activation", "dropout"),
        ),
        (lambda: [nn.Linear(6, 5), nn.Tanh(), nn.BatchNorm1d(5)], ("linear", "activation", "norm")),
        (lambda: [nn.Linear(6, 5), nn.Dropout(0.2), nn.ELU()], ("linear", "dropout", "activation")),
        (lambda: [nn.Linear(6, 5), nn.PReLU(), nn.Tanh()], ("linear", "activation")),
        (lambda: [nn.Linear(6, 5)], ("linear",)),
    ],
)
def test_a_torch_sources_blocks_keep_its_order_and_compute_what_it_computes(layers, order):
    torch.manual_seed(0)
    hidden = layers()
    for layer in hidden:
        if isinstance(layer, nn.BatchNorm1d):  # statistics that are not the identity
            layer.running_mean.uniform_(-1, 1)
            layer.running_var.uniform_(0.5, 2)
    sequential = nn.Sequential(*hidden, nn.Linear(5, 2), nn.Linear(2, 3)).eval()
    blocks = blocks_of_sequential(sequential).eval()
    assert [block.order for block in blocks] == [order, ("linear",)]
    X = torch.randn(8, 6)
    with torch.no_grad():
        torch.testing.assert_close(blocks(X), sequential[:-1](X))


def test_a_part_twice_in_a_block_is_refused():
    with pytest.raises(ValueError, match="at most one BatchNorm1d.*got Linear, BatchNorm1d"):
        blocks_of_sequential(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.BatchNorm1d(2)))
    with pytest.raises(ValueError, match="one activation"):
        blocks_of_sequential(nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Dropout(), nn.Tanh()))


def test_an_activation_is_named_by_its_type_and_settings():
    assert activation_name(nn.LeakyReLU(0.01)) == "leaky_relu"
    assert activation_name(nn.LeakyReLU(0.2)) is None
    assert activation_name(nn.GELU(approximate="tanh")) is None
    assert activation_name(nn.ReLU6()) is None
    prelu = nn.PReLU()
    with torch.no_grad():
        prelu.weight.fill_(0.7)  # trained: still the table's PReLU
    assert activation_name(prelu) == "prelu"

    class Shifted(nn.ReLU):  # prints as ReLU() does: a name by repr() would be "relu"
        def __repr__(self):
            return "ReLU()"

        def forward(self, h):
            return super().forward(h) + 1

    assert activation_name(Shifted()) is None
    source = nn.Sequential(nn.Linear(4, 3), Shifted(), nn.Linear(3, 2))
    activation = DeepClassifier.from_pretrained(source).activation
    assert type(activation) is Shifted


def test_a_0_1_0_network_loads_from_its_pickle_and_its_state_dict():
    module = MLP(5, (4, 3), 2, activation="prelu", batchnorm=True, dropout=0.2, ensemble_size=2)
    module.eval()
    X = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = module(X)
    new_keys = list(module.state_dict())
    old = pickle.loads(pickle.dumps(module))
    old.hidden = as_0_1_0(old.hidden)
    old_state = old.state_dict()
    assert "hidden.0.0.weight" in old_state and "hidden.1.2.stacked.0" in old_state

    restored = pickle.loads(pickle.dumps(old))
    assert all(type(block) is HiddenBlock for block in restored.hidden)
    assert isinstance(restored.hidden[1].activation, MemberActivation)
    assert list(restored.state_dict()) == new_keys
    assert not restored.training and not any(m.training for m in restored.modules())
    with torch.no_grad():
        torch.testing.assert_close(restored(X), expected, rtol=0, atol=0)

    fresh = MLP(5, (4, 3), 2, activation="prelu", batchnorm=True, dropout=0.2, ensemble_size=2)
    fresh.load_state_dict(old_state)
    with torch.no_grad():
        torch.testing.assert_close(fresh.eval()(X), expected, rtol=0, atol=0)


def pickled_as_0_1_0(model):
    """``model`` pickled as 0.1.0 laid it out, then loaded."""
    layout = model.module_.hidden
    model.module_.hidden = as_0_1_0(layout)
    try:
        return pickle.loads(pickle.dumps(model))
    finally:
        model.module_.hidden = layout


@pytest.mark.parametrize("continue_by", ["partial_fit", "warm_start"])
def test_a_0_1_0_estimator_continues_training_from_its_pickle(continue_by):
    X, y = regression(n_samples=80)
    reg = DeepRegressor(
        hidden_layer_sizes=(6, 5), batchnorm=True, max_epochs=3, tol=0, random_state=0
    ).fit(X, y)
    old, new = pickled_as_0_1_0(reg), pickle.loads(pickle.dumps(reg))
    assert list(old.module_.state_dict()) == list(new.module_.state_dict())
    np.testing.assert_array_equal(old.predict(X), new.predict(X))
    # The optimizer's state refers to the module's own parameters, in their order.
    optimized = [p for group in old.net_.optimizer_.param_groups for p in group["params"]]
    assert [id(p) for p in optimized] == [id(p) for p in old.module_.parameters()]
    for model in (old, new):
        if continue_by == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.set_params(warm_start=True).fit(X, y)
    np.testing.assert_array_equal(old.predict(X), new.predict(X))


def test_a_0_1_0_pretrained_hyperparameter_loads():
    X, y = classification(n_samples=80)
    source = DeepClassifier(hidden_layer_sizes=(6,), dropout=0.1, max_epochs=2).fit(X, y)
    model = DeepClassifier.from_pretrained(source, max_epochs=2, random_state=0)
    old = pickle.loads(pickle.dumps(model))
    old.pretrained.blocks = as_0_1_0(old.pretrained.blocks)
    restored = pickle.loads(pickle.dumps(old))
    assert type(restored.pretrained.blocks[0]) is HiddenBlock
    assert restored.pretrained.architecture() == model.pretrained.architecture()
    np.testing.assert_array_equal(
        restored.fit(X, y).predict_proba(X), model.fit(X, y).predict_proba(X)
    )
