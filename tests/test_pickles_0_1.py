"""Models pickled by sklearn-dnn 0.1.0 load, predict as they did, and train on.

``tests/data/models_0_1_0.pkl`` holds three fitted models and their
predictions, pickled by the 0.1.0 source with the oldest dependencies we
declare (numpy 1.24, scikit-learn 1.6.1, skorch 1.2.0), so that both test
environments can read it: a regressor with batch normalization, early
stopping and diagnostics; an ensemble of three with PReLU, dropout and a
schedule; a classifier that reuses another's layers, one of them frozen.
"""

import importlib
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

FIXTURE = Path(__file__).parent / "data" / "models_0_1_0.pkl"


@pytest.fixture(scope="module")
def pickled():
    with warnings.catch_warnings():
        # scikit-learn's InconsistentVersionWarning: pickled with 1.6.1.
        warnings.simplefilter("ignore", UserWarning)
        with FIXTURE.open("rb") as f:
            return pickle.load(f)


def _outputs(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


def test_the_fixture_was_written_by_0_1_0(pickled):
    assert pickled["version"] == "0.1.0"
    assert set(pickled["models"]) == {
        "regressor_early_stopping_diagnostics",
        "classifier_ensemble_prelu_dropout",
        "classifier_from_pretrained_frozen",
    }


@pytest.mark.parametrize(
    "name",
    [
        "regressor_early_stopping_diagnostics",
        "classifier_ensemble_prelu_dropout",
        "classifier_from_pretrained_frozen",
    ],
)
def test_a_0_1_0_model_predicts_as_it_did_and_trains_on(pickled, name):
    entry = pickled["models"][name]
    model, X, y = entry["model"], entry["X"], entry["y"]
    # Another machine may round the last bit differently: not bit-identity.
    np.testing.assert_allclose(_outputs(model, X), entry["expected"], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(_outputs(model, X), _outputs(model, X))  # deterministic
    # The network is in the current layout: blocks with named parts.
    assert all(key.startswith(("hidden.", "output.")) for key in model.module_.state_dict())
    assert any(".linear." in key for key in model.module_.state_dict())
    n_before = model.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a short fit
        model.partial_fit(X, y)
        model.set_params(warm_start=True, max_epochs=2).fit(X, y)
    assert model.n_iter_ == n_before + 1 + len(model.history_[n_before + 1 :])
    assert np.isfinite(_outputs(model, X)).all()


def test_a_0_1_0_ensemble_with_dropout_samples_both(pickled):
    entry = pickled["models"]["classifier_ensemble_prelu_dropout"]
    result = entry["model"].predict_uncertainty(entry["X"][:5], n_samples=4, random_state=0)
    assert result.mean.shape == (5, 2)
    np.testing.assert_allclose(result.mean.sum(axis=1), 1.0, rtol=1e-6)


# The modules of 0.1.0 (git ls-tree 6a7456e sklearn_dnn/), by the names its pickles use.
MODULES_0_1_0 = (
    "_activations _base _callbacks _checks _classifier _compat _diagnostics _docs _groups "
    "_initializers _inspection _layers _lr_finder _module _net _optimizers _params _pipeline "
    "_plan _plotting _pretrained _regressor _schedules _seeding _tasks _threads _training "
    "_uncertainty exceptions"
).split()


@pytest.mark.parametrize("old", MODULES_0_1_0)
def test_every_0_1_0_module_path_still_imports(old):
    importlib.import_module(f"sklearn_dnn.{old}")


def test_an_old_path_finds_the_names_where_they_live_now():
    from sklearn_dnn._engine.net import TrainingNet
    from sklearn_dnn._nn.blocks import DROPOUT_LAYERS
    from sklearn_dnn._nn.mlp import MLP

    old_module = importlib.import_module("sklearn_dnn._module")
    assert old_module.MLP is MLP and old_module.DROPOUT_LAYERS is DROPOUT_LAYERS
    assert importlib.import_module("sklearn_dnn._net").TrainingNet is TrainingNet
    with pytest.raises(AttributeError, match="0.1.0 path"):
        old_module.no_such_name  # noqa: B018
