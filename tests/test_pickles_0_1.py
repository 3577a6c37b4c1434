"""Models pickled by sklearn-dnn 0.1.0 load, predict as they did, and train on.

``tests/data/models_0_1_0.pkl`` holds three fitted models and their
predictions, pickled by the 0.1.0 source with the oldest dependencies we
declare (numpy 1.24, scikit-learn 1.6.1, skorch 1.2.0), so that both test
environments can read it: a regressor with batch normalization, early
stopping and diagnostics; an ensemble of three with PReLU, dropout and a
schedule; a classifier that reuses another's layers, one of them frozen.
"""

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
