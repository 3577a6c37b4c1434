"""from_pretrained: copied (never shared) layers, freezing, unfreezing, clone-safe."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._nn.layers import EnsembleLinear

from ._data import classification, regression

FIT = dict(learning_rate=1e-2, schedule=None, max_epochs=8, tol=0, random_state=0)


@pytest.fixture(scope="module")
def source():
    X, y = classification(n_samples=200, n_features=10, n_classes=3, random_state=1)
    return DeepClassifier(hidden_layer_sizes=(16, 12), max_epochs=10, random_state=0).fit(X, y)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def hidden_weight(model, i):
    """The weight matrix of hidden layer ``i`` of a single network (its one member)."""
    return model.module_.hidden[i].linear.weight[0].detach()


def test_all_layers_frozen_by_default_and_new_output_layer(source):
    X, y = regression(n_samples=100)
    reg = DeepRegressor.from_pretrained(source, **FIT).fit(X, y)
    assert reg.module_.output.out_features == 1
    assert reg.module_.output.in_features == 12
    for i in range(2):
        assert torch.equal(hidden_weight(reg, i), hidden_weight(source, i))
    assert reg.history_[-1]["train_loss"] < reg.history_[0]["train_loss"]


def test_source_from_a_saved_file(source, tmp_path):
    path = tmp_path / "source.joblib"
    joblib.dump(source, path)
    X, y = classification(n_samples=100, n_classes=2)
    clf = DeepClassifier.from_pretrained(str(path), **FIT).fit(X, y)
    assert torch.equal(hidden_weight(clf, 0), hidden_weight(source, 0))
    assert list(clf.classes_) == [0, 1]


def test_source_from_a_torch_sequential():
    torch.manual_seed(0)
    sequential = nn.Sequential(
        nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 4)
    )
    X, y = classification(n_samples=100)
    clf = DeepClassifier.from_pretrained(sequential, **FIT).fit(X, y)
    blocks = list(clf.module_.hidden)
    assert [type(m) for m in blocks[0].children()] == [EnsembleLinear, nn.ReLU]
    assert [type(m) for m in blocks[1].children()] == [EnsembleLinear, nn.Tanh]
    assert clf.module_.output.in_features == 6  # the Sequential's output layer is dropped
    assert torch.equal(hidden_weight(clf, 1).float(), sequential[2].weight.detach())


def test_fitting_never_touches_the_source(source):
    before = snapshot(source.module_)
    X, y = classification(n_samples=100)
    clf = DeepClassifier.from_pretrained(source, n_frozen=0, **FIT).fit(X, y)
    assert not torch.equal(hidden_weight(clf, 0), hidden_weight(source, 0))
    for key, value in source.module_.state_dict().items():
        assert torch.equal(value, before[key]), key
    # The stored copy is untouched too, so a refit starts from the source again.
    assert torch.equal(clf.pretrained.blocks[0].linear.weight, before["hidden.0.linear.weight"])


def test_partial_freezing_keeps_the_first_layer_and_trains_the_second(source):
    X, y = classification(n_samples=100)
    clf = DeepClassifier.from_pretrained(source, n_frozen=1, **FIT).fit(X, y)
    assert torch.equal(hidden_weight(clf, 0), hidden_weight(source, 0))
    assert not torch.equal(hidden_weight(clf, 1), hidden_weight(source, 1))


def test_unfreeze_after_releases_the_layers_at_a_lower_learning_rate(source):
    X, y = classification(n_samples=100)
    params = dict(FIT, unfreeze_after=3)
    still_frozen = DeepClassifier.from_pretrained(source, **{**params, "max_epochs": 3})
    still_frozen.fit(X, y)
    assert torch.equal(hidden_weight(still_frozen, 0), hidden_weight(source, 0))

    released = DeepClassifier.from_pretrained(source, **params).fit(X, y)
    assert not torch.equal(hidden_weight(released, 0), hidden_weight(source, 0))
    assert [e.get("unfrozen", False) for e in released.history_].index(True) == 2
    groups = released.net_.optimizer_.param_groups
    assert [g["lr"] for g in groups] == pytest.approx([1e-3, 1e-2])  # released, then head
    assert all(e["lr"] == pytest.approx(1e-2) for e in released.history_)  # the head's rate


def test_frozen_batchnorm_keeps_its_running_statistics():
    X, y = classification(n_samples=200)
    source = DeepClassifier(hidden_layer_sizes=(8,), batchnorm=True, max_epochs=3).fit(X, y)
    before = snapshot(source.module_)
    shifted = X * 3 + 2
    clf = DeepClassifier.from_pretrained(source, **FIT).fit(shifted, y)
    bn = clf.module_.hidden[0].norm
    assert torch.equal(bn.running_mean, before["hidden.0.norm.running_mean"])
    assert torch.equal(bn.running_var, before["hidden.0.norm.running_var"])
    released = DeepClassifier.from_pretrained(source, n_frozen=0, **FIT).fit(shifted, y)
    assert not torch.equal(
        released.module_.hidden[0].norm.running_mean, before["hidden.0.norm.running_mean"]
    )


def test_regressor_layers_serve_a_classifier():
    X, y = regression(n_samples=100)
    reg = DeepRegressor(hidden_layer_sizes=(16,), max_epochs=100, random_state=0).fit(X, y)
    clf = DeepClassifier.from_pretrained(reg, **{**FIT, "max_epochs": 30}).fit(X, y > 0)
    assert clf.module_.output.out_features == 2
    assert clf.score(X, y > 0) > 0.8
    back = DeepRegressor.from_pretrained(clf, **FIT).fit(X, y)
    assert back.module_.output.out_features == 1


def test_clone_and_grid_search_start_every_candidate_from_the_source(source):
    X, y = classification(n_samples=120)
    est = DeepClassifier.from_pretrained(source, **FIT)
    copy = clone(est)
    assert copy.pretrained is not est.pretrained
    assert torch.equal(copy.pretrained.blocks[0].linear.weight[0], hidden_weight(source, 0))
    search = GridSearchCV(
        est,
        {"learning_rate": [1e-3, 1e-2], "n_frozen": [1, 2], "unfreeze_after": [None, 2]},
        cv=2,
        error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert torch.equal(est.pretrained.blocks[0].linear.weight[0], hidden_weight(source, 0))
    best = search.best_estimator_
    # The first reused layer (n_frozen >= 1 in every candidate) keeps the
    # source's weights exactly when it is never released.
    kept = torch.equal(hidden_weight(best, 0), hidden_weight(source, 0))
    assert kept == (best.unfreeze_after is None)


def test_pickled_transfer_model_predicts_identically(source):
    X, y = classification(n_samples=100)
    clf = DeepClassifier.from_pretrained(source, **FIT).fit(X, y)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X)
    )


def test_input_width_mismatch_names_the_features(source):
    X, y = classification(n_samples=60, n_features=7)
    with pytest.raises(
        ValueError, match="X has 7 features, but the pretrained layers were trained on 10"
    ):
        DeepClassifier.from_pretrained(source).fit(X, y)


def test_a_source_that_encodes_its_inputs_refuses_other_columns_by_name():
    X, y = classification(n_samples=80, n_features=10)
    source = DeepClassifier(numeric_scaling="robust", numeric_embedding="piecewise", **FIT)
    source.fit(X, y)
    model = DeepClassifier.from_pretrained(source, max_epochs=2)
    assert model.numeric_embedding == "piecewise"  # the source's inputs, encoded as it did
    with pytest.raises(ValueError, match="X has 7 features, but the pretrained layers were "):
        model.fit(X[:, :7], y)
    sequential = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 3))
    from_torch = DeepClassifier.from_pretrained(sequential, numeric_scaling="robust")
    assert from_torch.numeric_embedding is None and from_torch.feature_scaling is False
    assert from_torch.numeric_scaling == "robust"  # what is given wins


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda s: DeepClassifier(), "is not fitted"),
        (lambda s: nn.Sequential(nn.ReLU(), nn.Linear(3, 2)), "must start with a Linear"),
        (lambda s: nn.Sequential(nn.Linear(3, 2), nn.Conv1d(1, 1, 1)), "got Conv1d"),
        (lambda s: nn.Sequential(nn.Linear(3, 2)), "no hidden layer to reuse"),
        (lambda s: 42, "source must be a fitted DeepClassifier"),
    ],
)
def test_bad_sources(source, make, message):
    with pytest.raises(ValueError, match=message):
        DeepClassifier.from_pretrained(make(source))


def test_transfer_parameters_need_a_pretrained_source(source):
    X, y = classification(n_samples=60)
    with pytest.raises(ValueError, match="build the estimator with from_pretrained"):
        DeepClassifier(n_frozen=1).fit(X, y)
    with pytest.raises(ValueError, match="n_frozen=3, but the source has only 2 hidden layers"):
        DeepClassifier.from_pretrained(source, n_frozen=3).fit(X, y)


@pytest.mark.parametrize("activation", ["tanh", nn.LeakyReLU(0.2)])
def test_an_activation_that_does_not_describe_the_reused_layers_is_refused(source, activation):
    X, y = classification(n_samples=60, n_features=10, n_classes=3, random_state=1)
    model = DeepClassifier.from_pretrained(source, **FIT)
    model.set_params(activation=nn.ReLU()).fit(X, y)  # the layers' activation, in another form
    with pytest.raises(ValueError, match=r"these differ: activation="):
        model.set_params(activation=activation, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"these differ: activation="):
        clone(model).fit(X, y)


def test_max_norm_leaves_frozen_layers_untouched(source_16_16):
    X, y = classification(n_samples=200)
    model = DeepClassifier.from_pretrained(
        source_16_16, max_norm=0.01, max_epochs=3, random_state=0
    )
    model.fit(X, y)
    for i in range(2):
        np.testing.assert_array_equal(
            model.module_.hidden[i].linear.weight.detach(),
            source_16_16.module_.hidden[i].linear.weight.detach(),
        )
    head = model.module_.output.weight.detach()
    assert head.norm(dim=1).max() > 0.01  # max-norm is for hidden layers only


def test_from_pretrained_reports_the_source_architecture_and_refuses_other_values(source_16_16):
    model = DeepClassifier.from_pretrained(source_16_16)
    params = model.get_params()
    assert params["hidden_layer_sizes"] == (16, 16)
    assert params["activation"] == "relu" and params["dropout"] == 0.0
    with pytest.raises(ValueError, match=r"\['dropout', 'hidden_layer_sizes'\] cannot be set"):
        DeepClassifier.from_pretrained(source_16_16, dropout=0.5, hidden_layer_sizes=(4,))
    X, y = classification(n_samples=50)
    with pytest.raises(ValueError, match="these differ: hidden_layer_sizes"):
        model.set_params(hidden_layer_sizes=(8,)).fit(X, y)


# ----------------------------------------------------------------------
# Through Pipelines: keeping the source's fitted preprocessing, and the
# warning when a new Pipeline refits it on data of another shape.


def _raw(n, seed, shape="normal"):
    """Raw inputs in their own units; ``"skewed"`` draws two columns from another distribution."""
    rng = np.random.default_rng(seed)
    X = rng.normal([50, 0, 10, -5], [10, 20, 5, 8], size=(n, 4))
    if shape == "skewed":  # another region of the inputs: one-sided, bunched up
        X[:, 0] = 50 + rng.exponential(10, n)
        X[:, 1] = rng.choice([-25.0, 25.0], n) + rng.normal(0, 3, n)  # two clusters
    y = np.sin(X[:, 0] / 10) * 40 + 0.5 * X[:, 1] + 0.02 * X[:, 2] * X[:, 3]
    return X, y


@pytest.fixture(scope="module")
def source_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _raw(1000, 0)
    model = DeepRegressor(hidden_layer_sizes=(16, 16), max_epochs=10, random_state=0)
    return make_pipeline(StandardScaler(), model).fit(X, y)


def _transfer_warnings(pipeline, X, y):
    import warnings

    from sklearn_dnn import PretrainedInputWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.fit(X, y)
    return [w for w in caught if w.category is PretrainedInputWarning]


def test_keep_preprocessing_returns_the_frozen_steps_and_the_new_model(source_pipeline):
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    new = DeepRegressor.from_pretrained(
        source_pipeline, keep_preprocessing=True, max_epochs=3, random_state=0
    )
    assert isinstance(new, Pipeline)
    assert [name for name, _ in new.steps] == [name for name, _ in source_pipeline.steps]
    scaler = new.steps[0][1]
    assert isinstance(scaler, FrozenEstimator)
    assert scaler.estimator is not source_pipeline[0]  # a copy
    X, y = _raw(200, 1, "skewed")
    new.fit(X, y)
    # the new data is scaled with the source's statistics, not its own
    np.testing.assert_array_equal(scaler.estimator.mean_, source_pipeline[0].mean_)
    np.testing.assert_allclose(new[:-1].transform(X), source_pipeline[:-1].transform(X))
    assert clone(new).steps[0][1] is scaler  # clone (a search) keeps it frozen
    assert new[-1].pretrained is not None and new[-1].n_iter_ == 3


def test_keep_preprocessing_needs_a_pipeline(source_pipeline):
    with pytest.raises(ValueError, match="keep_preprocessing=True .* not a Pipeline"):
        DeepRegressor.from_pretrained(source_pipeline[-1], keep_preprocessing=True)
    assert isinstance(DeepRegressor.from_pretrained(source_pipeline), DeepRegressor)


def test_refitting_the_preprocessing_on_other_data_warns(source_pipeline):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _raw(800, 1, "skewed")
    new = DeepRegressor.from_pretrained(source_pipeline[-1], max_epochs=2, random_state=0)
    (warning,) = _transfer_warnings(make_pipeline(StandardScaler(), new), X, y)
    assert "keep_preprocessing=True" in str(warning.message)
    assert "column 0" in str(warning.message) and "column 1" in str(warning.message)
    assert warning.filename == __file__  # attributed to the user's line
    kept = DeepRegressor.from_pretrained(
        source_pipeline, keep_preprocessing=True, max_epochs=2, random_state=0
    )
    assert _transfer_warnings(kept, X, y) == []  # the right way: no warning


@pytest.mark.parametrize("seed", range(1, 6))
def test_refitting_on_data_like_the_sources_does_not_warn(source_pipeline, seed):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    X, y = _raw(100 + 50 * seed, seed)  # fresh rows of the source's distribution
    for scaler in (StandardScaler(), MinMaxScaler()):
        new = DeepRegressor.from_pretrained(source_pipeline[-1], max_epochs=1, random_state=0)
        assert _transfer_warnings(make_pipeline(scaler, new), X, y) == []


def test_a_source_without_input_statistics_never_warns(source_pipeline):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    source = pickle.loads(pickle.dumps(source_pipeline[-1]))
    del source._input_summary_  # as a model pickled by 0.1.0
    X, y = _raw(300, 1, "skewed")
    new = DeepRegressor.from_pretrained(source, max_epochs=1, random_state=0)
    assert new.pretrained.input_summary is None
    assert _transfer_warnings(make_pipeline(StandardScaler(), new), X, y) == []
