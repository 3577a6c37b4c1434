"""The optimizer recipe: betas, decoupled weight decay, lr factors, label smoothing, clipping."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import log_loss
from skorch.callbacks import Callback

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.groups import GROUP_NAMES, ParameterGroups
from sklearn_dnn.exceptions import InvalidParameterError

from ._data import FAST, PLAIN_INPUTS, classification, regression


def table(n=150, seed=0):
    """Two numeric columns and a categorical one of 80 categories (embedded)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": pd.Categorical(rng.integers(0, 80, size=n).astype(str)),
        }
    )
    y = (X["a"] + X["b"] > 0).astype(int).to_numpy()
    return X, y


def names_by_group(model):
    """``{group name: (lr, [parameter names])}`` of the fitted optimizer."""
    names = {id(p): name for name, p in model.module_.named_parameters()}
    return {
        g["name"]: (g["lr"], sorted(names[id(p)] for p in g["params"]))
        for g in model.net_.optimizer_.param_groups
    }


class ZeroGradients(Callback):
    """Zero every gradient before the optimizer steps: only the decay moves the weights."""

    def on_grad_computed(self, net, named_parameters, **kwargs):
        for _, p in named_parameters:
            if p.grad is not None:
                p.grad.zero_()


# ---------------------------------------------------------------- lr_factors
def test_lr_factors_make_one_group_per_kind_with_its_rate_and_parameters():
    X, y = table()
    factors = {"input": 6.0, "bias": 0.1, "output": 2.0, "norm": 0.5, "activation": 3.0}
    clf = DeepClassifier(
        hidden_layer_sizes=(8, 8),
        batchnorm=True,
        activation="prelu",
        lr_factors=factors,
        learning_rate=1e-3,
        schedule=None,
        max_epochs=2,
        random_state=0,
        **PLAIN_INPUTS,  # the input group: the categorical embedding alone
    ).fit(X, y)
    groups = names_by_group(clf)
    assert list(groups) == ["input", "hidden", "norm", "activation", "bias", "output"]
    for name, (lr, _) in groups.items():
        assert lr == pytest.approx(1e-3 * factors.get(name, 1.0))
    assert groups["input"][1] == ["inputs.embeddings.0"]
    assert groups["hidden"][1] == ["hidden.0.linear.weight", "hidden.1.linear.weight"]
    assert groups["output"][1] == ["output.weight"]
    assert groups["bias"][1] == ["output.bias"]  # batch norm: hidden layers without bias
    assert all(".norm." in n for n in groups["norm"][1]) and len(groups["norm"][1]) == 4
    assert all(".activation." in n for n in groups["activation"][1])
    n_params = len(list(clf.module_.parameters()))
    assert sum(len(params) for _, params in groups.values()) == n_params
    assert all(e["lr"] == pytest.approx(1e-3) for e in clf.history_)  # learning_rate's


def test_without_lr_factors_one_group_holds_everything():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(learning_rate=1e-3, schedule=None, **FAST).fit(X, y)
    (group,) = clf.net_.optimizer_.param_groups
    assert group["name"] == "head" and group["lr"] == 1e-3
    assert len(group["params"]) == len(list(clf.module_.parameters()))


def test_biases_train_slower_with_a_small_bias_factor():
    X, y = classification(n_samples=100)
    params = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0, optimizer="sgd")
    base = DeepClassifier(**params, lr_factors={"bias": 1.0}).fit(X, y)
    slow = DeepClassifier(**params, lr_factors={"bias": 1e-3}).fit(X, y)
    assert slow.module_.hidden[0].linear.bias.abs().max() < (
        0.01 * base.module_.hidden[0].linear.bias.abs().max()
    )


@pytest.mark.parametrize(
    "lr_factors, match",
    [
        ({"biases": 0.1}, "unknown keys 'biases'.*'input', 'hidden'"),
        ({"bias": 0.0}, r"lr_factors\['bias'\] must be a positive"),
        ({"bias": "x"}, r"lr_factors\['bias'\] must be a positive"),
        ({"bias": float("inf")}, "positive finite"),
    ],
)
def test_bad_lr_factors_are_refused_by_name(lr_factors, match):
    X, y = classification(n_samples=30)
    with pytest.raises(ValueError, match=match):
        DeepClassifier(lr_factors=lr_factors, **FAST).fit(X, y)


def test_lr_factors_is_a_dict_or_none():
    X, y = classification(n_samples=30)
    with pytest.raises(InvalidParameterError, match="lr_factors"):
        DeepClassifier(lr_factors=[("bias", 0.1)], **FAST).fit(X, y)


def test_group_names_are_the_documented_ones():
    doc = DeepClassifier.__doc__
    assert all(f'``"{name}"``' in doc.split("lr_factors :")[1] for name in GROUP_NAMES)


@pytest.mark.parametrize("schedule", ["exponential", "plateau", "onecycle"])
def test_schedules_keep_the_ratio_of_the_groups_rates(schedule):
    X, y = classification(n_samples=100)
    clf = DeepClassifier(
        hidden_layer_sizes=(8,),
        schedule=schedule,
        decay_steps=1,
        decay_rate=0.5,
        lr_factors={"bias": 0.1, "output": 4.0},
        learning_rate=1e-3,
        max_epochs=4,
        patience=10,
        random_state=0,
    ).fit(X, y)
    groups = {g["name"]: g for g in clf.net_.optimizer_.param_groups}
    base = groups["hidden"]["lr"]
    assert groups["bias"]["lr"] == pytest.approx(0.1 * base)
    assert groups["output"]["lr"] == pytest.approx(4.0 * base)
    assert ParameterGroups.head_lr(clf.net_.optimizer_) == pytest.approx(base)
    if schedule == "onecycle":  # the peak of each group is its own rate
        assert groups["output"]["max_lr"] == pytest.approx(4e-3)
        assert groups["bias"]["max_lr"] == pytest.approx(1e-4)


def test_released_frozen_layers_keep_their_own_groups_with_lr_factors():
    X, y = classification(n_samples=100)
    source = DeepClassifier(hidden_layer_sizes=(8, 8), max_epochs=2, random_state=0).fit(X, y)
    clf = DeepClassifier.from_pretrained(
        source,
        n_frozen=1,
        max_epochs=2,
        random_state=0,
        lr_factors={"bias": 0.5},
        learning_rate=1e-3,
        schedule=None,
    ).fit(X, y)
    groups = names_by_group(clf)
    assert groups["frozen_hidden"][0] == pytest.approx(1e-4)  # unfrozen_lr_factor=0.1
    assert groups["frozen_hidden"][1] == ["hidden.0.linear.weight"]
    assert groups["frozen_bias"][0] == pytest.approx(0.5e-4)
    assert groups["bias"][0] == pytest.approx(0.5e-3)
    assert torch.equal(clf.module_.hidden[0].linear.weight, source.module_.hidden[0].linear.weight)


def test_a_continued_fit_with_lr_factors_keeps_the_optimizer_state():
    X, y = classification(n_samples=100)
    clf = DeepClassifier(
        warm_start=True, lr_factors={"bias": 0.1}, schedule="onecycle", learning_rate=1e-3, **FAST
    ).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 10
    weight = clf.module_.output.weight
    steps = clf.net_.optimizer_.state[weight]["step"]
    n_batches = clf.history_[-1]["train_batch_count"]
    assert float(steps) == 10 * n_batches  # the state went on, not restarted
    # Other factors, the same groups: the state goes on at the new rates.
    clf.set_params(lr_factors={"input": 2.0, "output": 3.0}, schedule=None).fit(X, y)
    groups = {g["name"]: g["lr"] for g in clf.net_.optimizer_.param_groups}
    assert groups["output"] == pytest.approx(3e-3) and groups["bias"] == pytest.approx(1e-3)
    assert float(clf.net_.optimizer_.state[clf.module_.output.weight]["step"]) == 15 * n_batches
    assert "initial_lr" not in clf.net_.optimizer_.param_groups[0]  # no stale schedule keys
    # Other groups (one for all): a fresh optimizer state, no error.
    clf.set_params(lr_factors=None).fit(X, y)
    assert float(clf.net_.optimizer_.state[clf.module_.output.weight]["step"]) == 5 * n_batches


# ---------------------------------------------------------------- betas
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "nadam", "adamax"])
def test_betas_reach_the_adam_family(optimizer):
    X, y = classification(n_samples=60)
    clf = DeepClassifier(optimizer=optimizer, betas=(0.8, 0.95), **FAST).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["betas"] == (0.8, 0.95)


def test_betas_are_ignored_by_sgd():
    X, y = classification(n_samples=60)
    clf = DeepClassifier(optimizer="sgd", betas=(0.5, 0.5), **FAST).fit(X, y)
    assert "betas" not in clf.net_.optimizer_.param_groups[0]


@pytest.mark.parametrize("betas", [(0.9, 1.0), (0.9,), (-0.1, 0.9), "0.9", (0.9, True)])
def test_bad_betas_are_refused(betas):
    X, y = classification(n_samples=30)
    with pytest.raises(ValueError, match="betas"):
        DeepClassifier(betas=betas, **FAST).fit(X, y)


# ---------------------------------------------------------------- weight decay
def _continued_with_zero_gradients(lr_factors=None, weight_decay=0.1):
    X, y = table()
    params = dict(hidden_layer_sizes=(8,), optimizer="sgd", momentum=0.0, l2=0.0, random_state=0)
    clf = DeepClassifier(warm_start=True, max_epochs=3, learning_rate=0.05, **params).fit(X, y)
    before = {n: p.detach().clone() for n, p in clf.module_.named_parameters()}
    clf.set_params(
        max_epochs=1,
        weight_decay=weight_decay,
        lr_factors=lr_factors,
        callbacks=[ZeroGradients()],
    ).fit(X, y)
    after = dict(clf.module_.named_parameters())
    return before, after, clf.history_[-1]["train_batch_count"]


def test_weight_decay_shrinks_the_weight_matrices_only():
    before, after, n_batches = _continued_with_zero_gradients(lr_factors={"output": 2.0})
    shrink = (1 - 0.05 * 0.1) ** n_batches
    hidden = "hidden.0.linear.weight"
    torch.testing.assert_close(after[hidden], before[hidden] * shrink)
    shrink_output = (1 - 2 * 0.05 * 0.1) ** n_batches  # its group's rate
    torch.testing.assert_close(after["output.weight"], before["output.weight"] * shrink_output)
    for name in ("hidden.0.linear.bias", "output.bias", "inputs.embeddings.0"):
        assert before[name].abs().sum() > 0
        assert torch.equal(after[name], before[name]), name


def test_without_weight_decay_zero_gradients_change_nothing():
    before, after, _ = _continued_with_zero_gradients(weight_decay=0.0)
    assert all(torch.equal(after[n], before[n]) for n in before)


def test_weight_decay_factor_of_the_net_scales_the_decay():
    class NoDecay(Callback):
        def on_train_begin(self, net, **kwargs):
            net.weight_decay_factor = 0.0

    X, y = classification(n_samples=60)
    common = dict(hidden_layer_sizes=(8,), optimizer="sgd", max_epochs=2, random_state=0)
    plain = DeepClassifier(**common).fit(X, y)
    off = DeepClassifier(weight_decay=0.5, callbacks=[NoDecay()], **common).fit(X, y)
    decayed = DeepClassifier(weight_decay=0.5, **common).fit(X, y)
    np.testing.assert_allclose(off.predict_proba(X), plain.predict_proba(X))
    assert decayed.module_.output.weight.norm() < plain.module_.output.weight.norm()


def test_frozen_layers_are_not_decayed():
    X, y = classification(n_samples=60)
    source = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(X, y)
    clf = DeepClassifier.from_pretrained(source, weight_decay=1.0, max_epochs=2).fit(X, y)
    assert torch.equal(clf.module_.hidden[0].linear.weight, source.module_.hidden[0].linear.weight)


def test_negative_weight_decay_is_refused():
    X, y = classification(n_samples=30)
    with pytest.raises(InvalidParameterError, match="weight_decay"):
        DeepClassifier(weight_decay=-1.0, **FAST).fit(X, y)


# ---------------------------------------------------------------- label smoothing
def test_label_smoothing_reaches_the_loss():
    X, y = classification(n_samples=60)
    params = dict(FAST, learning_rate=1e-2)  # trained far enough to be confident
    clf = DeepClassifier(label_smoothing=0.2, **params).fit(X, y)
    assert clf.net_.criterion_.label_smoothing == 0.2
    plain = DeepClassifier(**params).fit(X, y)
    assert plain.net_.criterion_.label_smoothing == 0.0
    # Smoothing changes the training: the probabilities are less extreme.
    assert clf.predict_proba(X).max() < plain.predict_proba(X).max()


@pytest.mark.parametrize(
    "scoring, expected",
    [(None, 0.0), ("neg_log_loss", 0.0), ("accuracy", 0.1), ("f1_macro", 0.1)],
)
def test_auto_label_smoothing_follows_the_scoring(scoring, expected):
    clf = DeepClassifier(label_smoothing="auto", scoring=scoring)
    assert clf._label_smoothing() == expected
    assert clf._criterion_options() == ({"label_smoothing": expected} if expected else {})


def test_the_validation_loss_is_unsmoothed():
    X, y = classification(n_samples=300)
    X_val, y_val = X[:100], y[:100]  # rows the network has learned: confident outputs
    clf = DeepClassifier(
        label_smoothing=0.4,
        max_epochs=6,
        hidden_layer_sizes=(16,),
        learning_rate=1e-2,
        random_state=0,
    )
    clf.fit(X[100:], y[100:], X_val=X_val, y_val=y_val)
    best = min(clf.history_, key=lambda e: e["valid_loss"])  # restored
    expected = log_loss(y_val, clf.predict_proba(X_val))
    assert best["valid_loss"] == pytest.approx(expected, rel=1e-5)
    # The criterion itself: smoothed while training, the log-loss otherwise.
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X_val))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y_val))
    evaluated = clf.net_.get_loss(logits, (target, None), training=False)
    assert float(evaluated) == pytest.approx(expected, rel=1e-5)
    trained = clf.net_.get_loss(logits.unsqueeze(1), (target.unsqueeze(1), None), training=True)
    smoothed = torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.4)
    assert float(trained) == pytest.approx(float(smoothed), rel=1e-5)
    assert abs(float(smoothed) - expected) > 0.02  # 0.04 to 0.10 over seeds 0-4


def test_multilabel_targets_are_smoothed_toward_one_half():
    X, _ = classification(n_samples=80)
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1).astype(int)
    clf = DeepClassifier(label_smoothing=0.2, **FAST).fit(X, Y)
    criterion = clf.net_.criterion_
    logits, target = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    criterion.train(True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor([[0.9, 0.1]]), reduction="none"
    )
    torch.testing.assert_close(criterion(logits, target), expected)
    criterion.train(False)
    plain = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    torch.testing.assert_close(criterion(logits, target), plain)


@pytest.mark.parametrize("value", [1.0, -0.1, "always"])
def test_bad_label_smoothing_is_refused(value):
    X, y = classification(n_samples=30)
    with pytest.raises(InvalidParameterError, match="label_smoothing"):
        DeepClassifier(label_smoothing=value, **FAST).fit(X, y)


def test_label_smoothing_and_clip_predictions_belong_to_one_estimator():
    assert "label_smoothing" not in DeepRegressor().get_params()
    assert "clip_predictions" not in DeepClassifier().get_params()


# ---------------------------------------------------------------- clip_predictions
def test_clip_predictions_bounds_predictions_on_extrapolated_rows():
    X, y = regression(n_samples=100)
    far = X * 20
    params = dict(
        hidden_layer_sizes=(16,), activation="relu", max_epochs=20, ensemble_size=2, random_state=0
    )
    free = DeepRegressor(clip_predictions=False, **params).fit(X, y)
    clipped = DeepRegressor(clip_predictions=True, **params).fit(X, y)
    assert (free.predict(far) > y.max()).any() or (free.predict(far) < y.min()).any()
    np.testing.assert_allclose(clipped.y_range_, [[y.min()], [y.max()]])
    got = clipped.predict(far)
    assert got.min() >= y.min() and got.max() <= y.max() and got.shape == (100,)
    np.testing.assert_allclose(clipped.predict(X[:5]), free.predict(X[:5]).clip(y.min(), y.max()))
    # predict_uncertainty reports the network's own mean
    assert not np.allclose(clipped.predict_uncertainty(far).mean, got)


def test_clip_predictions_per_column_and_widened_by_partial_fit():
    X, y = regression(n_samples=100, n_targets=2)
    reg = DeepRegressor(clip_predictions=True, **FAST).fit(X, y)
    np.testing.assert_allclose(reg.y_range_, [y.min(axis=0), y.max(axis=0)])
    got = reg.predict(X * 30)
    assert (got >= y.min(axis=0)).all() and (got <= y.max(axis=0)).all()
    reg.partial_fit(X, y * 3)
    np.testing.assert_allclose(reg.y_range_, [(3 * y).min(axis=0), (3 * y).max(axis=0)])


def test_clip_predictions_ignores_rows_of_weight_zero():
    X, y = regression(n_samples=60)
    y = y.copy()
    y[0] = 1e6
    weight = np.ones(60)
    weight[0] = 0
    reg = DeepRegressor(clip_predictions=True, **FAST).fit(X, y, sample_weight=weight)
    assert reg.y_range_[1, 0] == y[1:].max()
