"""Deep ensembles (``ensemble_size``): members stacked in one module, trained together."""

import pickle

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax
from skorch.callbacks import Callback
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.callbacks import ClipGradNorm
from sklearn_dnn._nn.layers import EnsembleLinear, MemberActivation, MemberBatchNorm
from sklearn_dnn._nn.mlp import MLP, apply_dropout, drop_mask

from ._data import PLAIN_INPUTS, classification, regression

QUICK = dict(max_epochs=3, early_stopping=False, random_state=0)
# The first layer reads X's columns as they are.
PLAIN = dict(QUICK, **PLAIN_INPUTS)


def member_outputs(model, X):
    """The members' raw outputs, (rows, members, outputs), as numpy."""
    with torch.no_grad():
        return model.module_.members(torch.as_tensor(X, dtype=torch.float64)).numpy()


# ----------------------------------------------------------------------
# the module
def test_every_layer_stacks_the_members_weights():
    X, y = classification(n_samples=80, n_features=8)
    clf = DeepClassifier(hidden_layer_sizes=(5, 4), ensemble_size=4, batchnorm=True, **PLAIN).fit(
        X, y
    )
    shapes = [tuple(layer.weight.shape) for layer in clf.module_.linear_layers()]
    assert shapes == [(4, 5, 8), (4, 4, 5), (4, 3, 4)]
    assert [tuple(b.norm.running_mean.shape) for b in clf.module_.hidden] == [(20,), (16,)]
    weights = clf.module_.hidden[0].linear.weight.detach()
    # Each member starts from its own draws, and they stay apart.
    assert not any(torch.equal(weights[0], weights[e]) for e in range(1, 4))


def test_members_of_an_ensemble_start_from_their_own_draws_and_the_first_from_the_singles():
    single = MLP(6, (5,), 2, seed=3)
    ensemble = MLP(6, (5,), 2, seed=3, ensemble_size=3)
    first, second = ensemble.hidden[0].linear.weight[0], ensemble.hidden[0].linear.weight[1]
    assert torch.equal(first, single.hidden[0].linear.weight[0])  # the same generator stream
    assert not torch.equal(first, second)


def test_the_first_layer_takes_shared_rows_or_each_members_own():
    layer = EnsembleLinear(4, 3, ensemble_size=2)
    with torch.no_grad():
        layer.weight.normal_()
        layer.bias.normal_()
    x = torch.randn(5, 4)
    shared = layer(x)
    assert shared.shape == (2, 5, 3)
    own = layer(torch.stack([x, 2 * x]))
    for e, rows in enumerate((x, 2 * x)):
        expected = rows @ layer.weight[e].T + layer.bias[e]
        torch.testing.assert_close(own[e], expected)
    torch.testing.assert_close(shared[1], x @ layer.weight[1].T + layer.bias[1])


@pytest.mark.parametrize("members, shape", [(1, (5, 4)), (2, (5, 4)), (3, (3, 5, 4))])
def test_the_first_layer_takes_a_sparse_batch_as_the_dense_one(members, shape):
    dense = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    dense[dense.abs() < 0.8] = 0.0
    results = []
    for h in (dense, dense.to_sparse()):
        layer = EnsembleLinear(4, 3, ensemble_size=members).double()
        with torch.no_grad():
            layer.weight.copy_(torch.linspace(-1, 1, layer.weight.numel()).view_as(layer.weight))
            layer.bias.fill_(0.5)
        out = layer(h)
        (out * torch.arange(out.numel()).view_as(out)).sum().backward()
        results.append((out, layer.weight.grad, layer.bias.grad))
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_batch_normalization_is_per_member():
    bn = MemberBatchNorm(3, ensemble_size=2)
    h = torch.randn(8, 3, generator=torch.Generator().manual_seed(0))
    # Member 1's inputs are member 0's, shifted and scaled: normalized, they agree.
    out = bn(torch.stack([h, 10 * h + 5]))
    torch.testing.assert_close(out[0], out[1], atol=1e-4, rtol=1e-4)
    assert bn.running_mean[3:].mean() > 5 * bn.running_mean[:3].abs().mean()


def test_prelu_gets_parameters_per_member():
    X, y = classification(n_samples=80)
    clf = DeepClassifier(
        hidden_layer_sizes=(6,), activation="prelu", ensemble_size=2, learning_rate=0.05, **QUICK
    ).fit(X, y)
    (slopes,) = list(clf.module_.hidden[0].activation.parameters())
    assert slopes.shape[0] == 2
    assert not torch.equal(slopes[0], slopes[1])


class RowSoftmax(nn.Module):
    """Not elementwise: each row's units sum to 1 (dim=1 of a (rows, width) batch)."""

    def forward(self, h):
        return torch.softmax(h, dim=1)


def test_a_users_activation_sees_each_members_rows_as_in_a_single_network():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(6,), activation=RowSoftmax, ensemble_size=3, **PLAIN
    ).fit(X, y)
    hidden = clf.module_.hidden[0](torch.as_tensor(X[:5]))  # (members, rows, units)
    torch.testing.assert_close(hidden.sum(dim=-1), torch.ones(3, 5, dtype=hidden.dtype))


@pytest.mark.parametrize("activation", [nn.RReLU, nn.RReLU(0.1, 0.4)])
def test_a_random_activation_follows_the_networks_mode(activation):
    # RReLU draws its slopes while training and is deterministic in evaluation mode.
    X, y = classification(n_samples=60)
    clf = DeepClassifier(
        hidden_layer_sizes=(6,), activation=activation, ensemble_size=3, **QUICK
    ).fit(X, y)
    before = torch.random.get_rng_state()
    first = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(X), first)
    assert torch.equal(torch.random.get_rng_state(), before)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), first)
    wrapper = clf.module_.hidden[0].activation
    assert dict(wrapper.named_children())["activation"] is wrapper.activation
    assert not wrapper.activation.training


def test_a_member_activation_holds_only_the_stacked_parameters():
    wrapper = MemberActivation(nn.PReLU(init=0.1), ensemble_size=3)
    assert list(wrapper.state_dict()) == ["stacked.0"]
    assert [p.shape for p in wrapper.parameters()] == [(3, 1)]
    assert wrapper.eval().activation.training is False
    with torch.no_grad():
        wrapper.stacked[0][1] = 0.5
    torch.testing.assert_close(
        wrapper(-torch.ones(3, 2, 4))[:, 0, 0], torch.tensor([-0.1, -0.5, -0.1])
    )
    member = wrapper.member(1)  # a module of its own, with that member's slope
    assert member.weight.item() == 0.5 and wrapper.activation is not member
    # An object pickled when the activation was not a child comes back as one.
    old = MemberActivation(nn.PReLU(init=0.1), ensemble_size=2)
    del old._modules["activation"]
    object.__setattr__(old, "activation", nn.PReLU(init=0.1))
    restored = pickle.loads(pickle.dumps(old))
    assert "activation" in dict(restored.named_children())
    assert list(restored.state_dict()) == ["stacked.0"]
    assert restored.eval().activation.training is False
    # Saved from a fitted network (in evaluation mode, its activation never
    # switched): the activation takes the wrapper's mode, without a call to eval()
    # (a fitted MLP walks its layers only when its own mode changes).
    old = MemberActivation(nn.PReLU(init=0.1), ensemble_size=2)
    del old._modules["activation"]
    old.eval()
    object.__setattr__(old, "activation", nn.PReLU(init=0.1))  # in training mode, as it stayed
    restored = pickle.loads(pickle.dumps(old))
    assert restored.training is False and restored.activation.training is False


# ----------------------------------------------------------------------
# training
class BatchSpy(Callback):
    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:  # a callback gets the members' rows one member after another
            X = batch[0].view(net.module_.ensemble_size, -1, batch[0].shape[-1])
            self.batches_.append(X.transpose(0, 1).detach().clone())  # (rows, members, features)


def test_every_member_gets_its_own_order_of_the_rows():
    X, y = classification(n_samples=64)
    spy = BatchSpy()
    clf = DeepClassifier(ensemble_size=3, batch_size=16, callbacks=[("spy", spy)], **QUICK)
    clf.fit(X, y)
    batches = dict(clf.net_.callbacks_)["spy"].batches_  # the fit's copy of the spy
    first = batches[0]
    assert first.shape == (16, 3, X.shape[1])
    assert not torch.equal(first[:, 0], first[:, 1])
    # Over an epoch (4 batches), each member sees every row once.
    epoch = torch.cat(batches[:4])
    for e in range(3):
        rows = {tuple(np.round(r.numpy(), 6)) for r in epoch[:, e]}
        assert len(rows) == 64


def test_bootstrap_gives_each_member_its_own_sample_of_the_rows():
    X, y = classification(n_samples=64)
    spy = BatchSpy()
    params = dict(ensemble_size=2, batch_size=16, callbacks=[("spy", spy)], **QUICK)
    clf = DeepClassifier(bootstrap=True, **params).fit(X, y)
    batches = dict(clf.net_.callbacks_)["spy"].batches_
    samples = []
    for epoch in range(2):
        rows = torch.cat(batches[4 * epoch : 4 * epoch + 4])
        samples.append([sorted(map(tuple, np.round(rows[:, e].numpy(), 6))) for e in range(2)])
    for e in range(2):
        assert len(samples[0][e]) == 64 and len(set(samples[0][e])) < 60  # drawn with repeats
        assert samples[0][e] == samples[1][e]  # the same sample every epoch, reshuffled
    assert samples[0][0] != samples[0][1]
    plain = DeepClassifier(bootstrap=False, **params).fit(X, y)
    first = torch.cat(dict(plain.net_.callbacks_)["spy"].batches_[:4])
    assert len({tuple(np.round(r.numpy(), 6)) for r in first[:, 0]}) == 64


def _identical_members(model):
    """Copy member 0's weights into every member (in place)."""
    with torch.no_grad():
        for param in model.module_.parameters():
            param.copy_(param[:1].expand_as(param))


def test_each_member_trains_as_it_would_alone():
    # Full batches (the order does not matter), SGD, a penalty, clipping and
    # max-norm: a member's trajectory is that of a single network.
    X, y = classification(n_samples=60)
    params = dict(
        hidden_layer_sizes=(7,),
        optimizer="sgd",
        momentum=0.0,
        learning_rate=0.5,
        batch_size=60,
        l2=1e-2,
        clip_grad_norm=0.5,
        max_norm=1.0,
        max_epochs=1,
        early_stopping=False,
        random_state=0,
    )
    ensemble = DeepClassifier(ensemble_size=3, **params).fit(X, y)
    single = DeepClassifier(**params).fit(X, y)
    _identical_members(ensemble)
    with torch.no_grad():
        for mine, theirs in zip(
            single.module_.parameters(), ensemble.module_.parameters(), strict=True
        ):
            mine.copy_(theirs[:1].reshape(mine.shape))
    ensemble.set_params(warm_start=True, max_epochs=4).fit(X, y)
    single.set_params(warm_start=True, max_epochs=4).fit(X, y)
    for mine, theirs in zip(
        single.module_.parameters(), ensemble.module_.parameters(), strict=True
    ):
        for e in range(3):
            torch.testing.assert_close(theirs[e : e + 1].reshape(mine.shape), mine)
    ens_epoch, single_epoch = ensemble.history_[-1], single.history_[-1]
    assert ens_epoch["train_loss"] == pytest.approx(single_epoch["train_loss"], rel=1e-6)
    assert ens_epoch["train_penalty"] == pytest.approx(single_epoch["train_penalty"], rel=1e-6)


def test_clipping_is_per_member():
    param = nn.Parameter(torch.zeros(2, 3))
    param.grad = torch.tensor([[30.0, 40.0, 0.0], [0.3, 0.4, 0.0]])
    ClipGradNorm(1.0, n_members=2).on_grad_computed(None, [("w", param)])
    norms = param.grad.norm(dim=1)
    assert norms[0] == pytest.approx(1.0, rel=1e-5)
    assert norms[1] == pytest.approx(0.5, rel=1e-6)  # below the bound: untouched


def test_max_norm_bounds_every_unit_of_every_member():
    X, y = regression(n_samples=80)
    reg = DeepRegressor(ensemble_size=3, learning_rate=0.05, max_norm=0.5, **QUICK).fit(X, y)
    for layer in reg.module_.linear_layers()[:-1]:
        assert layer.weight.detach().norm(dim=-1).max() <= 0.5 + 1e-5


def test_early_stopping_watches_the_ensembles_validation_loss():
    X, y = classification(n_samples=300)
    clf = DeepClassifier(ensemble_size=3, early_stopping=True, random_state=0).fit(X, y)
    losses = [epoch["valid_loss"] for epoch in clf.history_]
    best = [i for i, epoch in enumerate(clf.history_) if epoch.get("best")]
    assert best == [int(np.argmin(losses))]
    assert clf.n_iter_ < 200


def test_diagnostics_and_sparse_input_work_on_ensembles():
    from scipy import sparse

    X, y = classification(n_samples=80)
    clf = DeepClassifier(ensemble_size=2, diagnostics=True, **QUICK).fit(sparse.csr_matrix(X), y)
    assert clf.gradient_norms_.shape == (3, 3)
    assert np.isfinite(clf.gradient_norms_).all()
    assert ((clf.dead_units_ >= 0) & (clf.dead_units_ <= 1)).all()
    np.testing.assert_allclose(clf.predict_proba(sparse.csr_matrix(X)), clf.predict_proba(X))


# ----------------------------------------------------------------------
# prediction
def test_predict_proba_is_the_members_mean_probability():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(ensemble_size=4, **QUICK).fit(X, y)
    members = softmax(member_outputs(clf, X), axis=-1)
    assert not np.allclose(members[:, 0], members[:, 1])
    np.testing.assert_allclose(clf.predict_proba(X), members.mean(axis=1), rtol=1e-6)
    # The label of the largest mean probability, on the rows where the two
    # largest are further apart than that tolerance (the test's computation
    # rounds differently from the module's).
    mean = members.mean(axis=1)
    top_two = np.sort(mean, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-6
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(clf.predict(X)[clear], clf.classes_[mean.argmax(1)][clear])


def test_multilabel_probability_is_the_members_mean():
    X, _ = classification(n_samples=100)
    Y = (X[:, :3] > 0).astype(int)
    clf = DeepClassifier(ensemble_size=3, **QUICK).fit(X, Y)
    members = expit(member_outputs(clf, X))
    np.testing.assert_allclose(clf.predict_proba(X), members.mean(axis=1), rtol=1e-6)


def test_regression_is_the_members_mean_on_the_target_scale():
    X, y = regression(n_samples=100)
    reg = DeepRegressor(ensemble_size=3, **QUICK).fit(X, y)
    members = member_outputs(reg, X)[..., 0] * reg._task.scale + reg._task.mean
    np.testing.assert_allclose(reg.predict(X), members.mean(axis=1), rtol=1e-6)


def test_a_pickled_ensemble_predicts_identically_and_continues():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(ensemble_size=3, **QUICK).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    copy.set_params(warm_start=True).fit(X, y)
    assert copy.n_iter_ == 6
    with pytest.raises(ValueError, match="ensemble_size"):
        copy.set_params(ensemble_size=2).fit(X, y)


# ----------------------------------------------------------------------
# uncertainty
def test_ensemble_uncertainty_reads_the_members():
    X, y = classification(n_samples=120)
    clf = DeepClassifier(ensemble_size=5, **QUICK).fit(X, y)
    result = clf.predict_uncertainty(X, method="ensemble", return_samples=True)
    assert result.samples.shape == (5, 120, 3)
    np.testing.assert_allclose(result.mean, clf.predict_proba(X), rtol=1e-6)
    members = softmax(member_outputs(clf, X), axis=-1)
    np.testing.assert_allclose(result.std, members.std(axis=1), rtol=1e-6, atol=1e-12)
    assert (result.mutual_info >= 0).all() and result.mutual_info.max() > 0
    # "auto" without dropout is the ensemble, deterministic.
    auto = clf.predict_uncertainty(X)
    np.testing.assert_array_equal(auto.entropy, result.entropy)


def test_regression_std_is_the_members_spread():
    X, y = regression(n_samples=100)
    reg = DeepRegressor(ensemble_size=4, **QUICK).fit(X, y)
    result = reg.predict_uncertainty(X, method="ensemble")
    members = member_outputs(reg, X)[..., 0] * reg._task.scale + reg._task.mean
    np.testing.assert_allclose(result.std, members.std(axis=1), rtol=1e-6)
    np.testing.assert_allclose(result.mean, reg.predict(X), rtol=1e-6)


def test_dropout_on_an_ensemble_samples_every_member():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(ensemble_size=3, dropout=0.3, **QUICK).fit(X, y)
    both = clf.predict_uncertainty(X, n_samples=7, random_state=0, return_samples=True)
    assert both.samples.shape == (21, 60, 3)
    again = clf.predict_uncertainty(
        X, n_samples=7, random_state=0, return_samples=True, method="dropout"
    )
    np.testing.assert_array_equal(again.samples, both.samples)
    members = clf.predict_uncertainty(X, method="ensemble", return_samples=True)
    assert members.samples.shape == (3, 60, 3)
    np.testing.assert_allclose(members.mean, clf.predict_proba(X), rtol=1e-6)


def test_uncertainty_methods_name_what_is_missing():
    X, y = classification(n_samples=60)
    single = DeepClassifier(**QUICK).fit(X, y)
    with pytest.raises(ValueError, match="method='ensemble' reads the members"):
        single.predict_uncertainty(X, method="ensemble")
    with pytest.raises(ValueError, match="needs dropout"):
        single.predict_uncertainty(X)
    ensemble = DeepClassifier(ensemble_size=2, **QUICK).fit(X, y)
    with pytest.raises(ValueError, match="needs dropout") as error:
        ensemble.predict_uncertainty(X, method="dropout")
    assert "ensemble of 2 members: use method='ensemble'" in str(error.value)
    assert "single network" not in str(error.value)
    with pytest.raises(ValueError, match="method must be one of"):
        ensemble.predict_uncertainty(X, method="members")


# ----------------------------------------------------------------------
# dropout masks
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_masks_drop_at_the_rate_and_keep_the_mean(p):
    generator = torch.Generator().manual_seed(0)
    drop, keep = drop_mask((400, 500), p, generator, "cpu")
    assert keep == pytest.approx(1 - p, abs=2**-16)
    n = drop.numel()
    assert abs(drop.double().mean().item() - (1 - keep)) < 4 * np.sqrt(p * (1 - p) / n)
    x = torch.ones(400, 500, dtype=torch.float64)
    out = apply_dropout(nn.Dropout(p), x, generator)
    assert out.mean().item() == pytest.approx(1.0, abs=4 * np.sqrt(p / (1 - p) / n))
    assert set(out.unique().tolist()) == {0.0, 1 / keep}


def test_masks_use_every_bit_of_the_random_words():
    # Each 64-bit word gives four draws: each of the four positions drops at the rate.
    drop, _ = drop_mask((100_000, 4), 0.5, torch.Generator().manual_seed(1), "cpu")
    rates = drop.double().mean(dim=0)
    assert torch.all((rates - 0.5).abs() < 0.01)


def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations():
    generator = torch.Generator().manual_seed(0)
    h = torch.selu(torch.randn(500, 400, generator=generator, dtype=torch.float64))
    out = apply_dropout(nn.AlphaDropout(0.2), h, generator)
    assert out.mean().item() == pytest.approx(h.mean().item(), abs=0.01)
    assert out.std().item() == pytest.approx(h.std().item(), abs=0.01)


# ----------------------------------------------------------------------
# reuse
def test_one_networks_layers_start_every_member():
    X, y = classification(n_samples=100)
    source = DeepClassifier(hidden_layer_sizes=(8, 6), batchnorm=True, **QUICK).fit(X, y)
    clf = DeepClassifier.from_pretrained(source, ensemble_size=3, **QUICK).fit(X, y)
    for got, want in zip(clf.module_.hidden, source.module_.hidden, strict=True):
        width = want.norm.running_mean.shape[0]
        for e in range(3):  # frozen: still the source's weights, in every member
            torch.testing.assert_close(got.linear.weight[e], want.linear.weight[0])
            torch.testing.assert_close(
                got.norm.running_mean[e * width : (e + 1) * width], want.norm.running_mean
            )
    assert clf.predict_proba(X).shape == (100, 3)


def test_an_ensembles_layers_are_reused_member_by_member():
    X, y = classification(n_samples=100)
    source = DeepClassifier(hidden_layer_sizes=(8,), ensemble_size=3, **QUICK).fit(X, y)
    clf = DeepClassifier.from_pretrained(source, **QUICK)
    assert clf.ensemble_size == 3
    clf.fit(X, y)
    torch.testing.assert_close(
        clf.module_.hidden[0].linear.weight, source.module_.hidden[0].linear.weight
    )
    with pytest.raises(ValueError, match="ensemble_size"):
        DeepClassifier.from_pretrained(source, ensemble_size=2)


def test_one_networks_dropout_serves_every_member_and_is_sampled():
    X, y = classification(n_samples=100)
    source = DeepClassifier(hidden_layer_sizes=(8,), dropout=0.3, **QUICK).fit(X, y)
    clf = DeepClassifier.from_pretrained(source, ensemble_size=3, **QUICK).fit(X, y)
    assert type(clf.module_.hidden[0].dropout) is nn.Dropout
    assert clf.module_.dropout_rates() == [0.3]
    result = clf.predict_uncertainty(X, n_samples=5, random_state=0, method="dropout")
    assert result.std.max() > 0.01


@pytest.mark.parametrize("dropout", [nn.Dropout(0.5), nn.AlphaDropout(0.5)])
def test_a_sequentials_dropout_is_off_when_an_ensemble_predicts(dropout):
    X, y = classification(n_samples=100)
    sequential = nn.Sequential(nn.Linear(10, 8), nn.SELU(), dropout, nn.Linear(8, 3))
    clf = DeepClassifier.from_pretrained(sequential, ensemble_size=3, **QUICK).fit(X, y)
    before = torch.random.get_rng_state()
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert torch.equal(torch.random.get_rng_state(), before)


class Scaled(nn.Module):
    """An activation of the user's, with a parameter."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(0.5))

    def forward(self, h):
        return self.scale * torch.tanh(h)


def test_an_ensembles_own_activation_is_reused_with_its_parameters():
    X, y = classification(n_samples=100)
    source = DeepClassifier(hidden_layer_sizes=(8,), activation=Scaled, ensemble_size=2, **QUICK)
    source.fit(X, y)
    clf = DeepClassifier.from_pretrained(source, **QUICK)
    assert clf.activation.scale.item() == source.module_.hidden[0].activation.stacked[0][0].item()
    clf.fit(X, y)
    torch.testing.assert_close(
        clf.module_.hidden[0].activation.stacked[0], source.module_.hidden[0].activation.stacked[0]
    )


def test_partial_fit_learning_rate_finder_and_search_take_ensembles():
    from sklearn.model_selection import GridSearchCV

    X, y = classification(n_samples=120)
    clf = DeepClassifier(ensemble_size=3, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 3 and clf.module_.ensemble_size == 3
    assert clf.score(X, y) > 0.5
    result = DeepClassifier(ensemble_size=3, random_state=0).find_learning_rate(X, y, n_steps=20)
    assert np.isfinite(result.losses).all() and len(result.losses) > 5
    search = GridSearchCV(
        DeepClassifier(**QUICK), {"ensemble_size": [1, 2]}, cv=2, error_score="raise"
    ).fit(X, y)
    assert search.best_estimator_.module_.ensemble_size == search.best_params_["ensemble_size"]


def test_combined_logits_are_the_log_of_the_mean_probability_and_stay_finite():
    from sklearn_dnn._nn.mlp import combine_logits

    logits = torch.randn(40, 4, 6, dtype=torch.float64) * 30
    expected = torch.softmax(logits, dim=-1).mean(dim=1)
    torch.testing.assert_close(torch.softmax(combine_logits(logits), dim=-1), expected)
    with_grad = logits.clone().requires_grad_(True)
    combined = combine_logits(with_grad)
    combined.sum().backward()  # the differentiable path
    torch.testing.assert_close(torch.softmax(combined, dim=-1), expected)
    extreme = torch.tensor([[[1000.0, -1000.0]], [[-1000.0, 1000.0]]]).expand(2, 3, 2)
    assert torch.isfinite(combine_logits(extreme)).all()


def _graph_nodes(tensor):
    """The number of autograd nodes that ``tensor`` was computed through."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


@pytest.mark.parametrize("weighted", [False, True])
def test_one_members_training_loss_is_a_plain_networks(weighted):
    # the same number, through no more steps than a plain network's loss
    X, y = classification(n_samples=40)
    clf = DeepClassifier(hidden_layer_sizes=(8,), l2=0.0, max_epochs=1, random_state=0)
    net = clf.fit(X, y).net_
    generator = torch.Generator().manual_seed(0)
    y_pred = torch.randn(40, 1, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 3, (40, 1), generator=generator)
    weight = torch.rand(40, 1, generator=generator, dtype=torch.float64) if weighted else None
    loss = net.get_loss(y_pred, (target, weight), training=True)
    per_sample = net.criterion_(y_pred[:, 0], target[:, 0])
    if weighted:
        plain = (per_sample * weight[:, 0]).sum() / weight[:, 0].sum()
    else:
        plain = per_sample.mean()
    assert torch.equal(loss, plain)
    assert _graph_nodes(loss) == _graph_nodes(plain)


def test_one_members_linear_layer_is_a_plain_linear_layer():
    # the same numbers as nn.Linear, through one more step only: the view of
    # its (1, out, in) weight as (out, in); its (1, out) bias broadcasts as it is
    generator = torch.Generator().manual_seed(0)
    layer = EnsembleLinear(5, 3)
    nn.init.normal_(layer.weight, generator=generator)
    nn.init.normal_(layer.bias, generator=generator)
    plain = nn.Linear(5, 3)
    with torch.no_grad():
        plain.weight.copy_(layer.weight[0])
        plain.bias.copy_(layer.bias[0])
    h = torch.randn(4, 5, generator=generator)
    out, expected = layer(h), plain(h)
    assert torch.equal(out, expected)
    assert _graph_nodes(out) == _graph_nodes(expected) + 1
    out.sum().backward()
    expected.sum().backward()
    assert torch.equal(layer.weight.grad[0], plain.weight.grad)
    assert torch.equal(layer.bias.grad[0], plain.bias.grad)
