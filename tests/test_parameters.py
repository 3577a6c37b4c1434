"""Every hyperparameter is declared everywhere it must be: signature, constraints, docs, policy."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._hyperparameters import HYPERPARAMETERS, WARM_START_FIXED, WARM_START_HONOURED
from sklearn_dnn._hyperparameters.constraints import Interval, validate_params
from sklearn_dnn._nn.architecture import ARCHITECTURE_SETTINGS

from ._data import classification, regression

ESTIMATORS = [DeepClassifier, DeepRegressor]


def parameters(Estimator):
    return list(inspect.signature(Estimator).parameters.values())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_hyperparameter_is_keyword_only_constrained_and_documented(Estimator):
    for param in parameters(Estimator):
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, param.name
        assert f"\n    {param.name} : " in Estimator.__doc__, param.name
    assert {p.name for p in parameters(Estimator)} == set(Estimator._parameter_constraints)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_policy_covers_every_hyperparameter(Estimator):
    names = {p.name for p in parameters(Estimator)} - {"warm_start"}
    assert names <= set(WARM_START_HONOURED) | set(WARM_START_FIXED)
    assert not set(WARM_START_HONOURED) & set(WARM_START_FIXED)


def test_signatures_and_declarations_name_the_same_hyperparameters():
    signatures = {p.name for Estimator in ESTIMATORS for p in parameters(Estimator)}
    assert signatures == set(HYPERPARAMETERS)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_default_satisfies_its_declared_constraints(Estimator):
    validate_params(Estimator())  # raises naming the first default its constraints refuse
    for param in parameters(Estimator):
        assert HYPERPARAMETERS[param.name].doc, param.name


def test_the_fixed_hyperparameters_are_the_architectures_settings():
    assert set(WARM_START_FIXED) == set(ARCHITECTURE_SETTINGS)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_docs_list_every_setting_a_warm_start_refuses(Estimator):
    entry = " ".join(Estimator.__doc__.split("warm_start : ")[1].split("\n\n")[0].split())
    listed = entry.split("A changed architecture (")[1].split(")")[0]
    own = {p.name for p in parameters(Estimator)}
    assert listed.split(", ") == [f"``{n}``" for n in ARCHITECTURE_SETTINGS if n in own]


def test_loss_is_a_regressors_only():
    assert {"loss", "nll_beta"} <= set(inspect.signature(DeepRegressor).parameters)
    assert "loss" not in inspect.signature(DeepClassifier).parameters
    assert "``loss``" in DeepRegressor.__doc__ and "``loss``" not in DeepClassifier.__doc__


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_new_hyperparameters_are_assigned_unchanged(Estimator):
    marker = [object()]
    params = {"callbacks": marker}
    if Estimator is DeepClassifier:
        params["class_weight"] = {0: 1.0}
    estimator = Estimator(**params)
    assert estimator.callbacks is marker
    assert clone(estimator).get_params()["callbacks"] is not marker  # cloned, a deep copy


def test_class_weight_is_a_classifiers_only():
    assert "class_weight" in inspect.signature(DeepClassifier).parameters
    assert "class_weight" not in inspect.signature(DeepRegressor).parameters
    assert "class_weight :" not in DeepRegressor.__doc__


# A numpy value for every numeric or boolean hyperparameter (what a search over
# np.array([True, False]) or np.arange(...) hands fit), with the settings under
# which it is used; the three of reused layers go through from_pretrained.
NUMPY_VALUES = {
    "hidden_layer_sizes": (np.array([8, 4]), {}),
    "dropout": (np.float32(0.1), {}),
    "ensemble_size": (np.int64(2), {}),
    "embedding_size": (np.int64(4), {"numeric_embedding": "periodic"}),
    "feature_scaling": (np.bool_(True), {}),
    "bootstrap": (np.bool_(True), {"ensemble_size": 2}),
    "batchnorm": (np.bool_(True), {}),
    "parametric_activation": (np.bool_(True), {}),
    "learning_rate": (np.float32(0.01), {}),
    "momentum": (np.float32(0.5), {"optimizer": "sgd"}),
    "nesterov": (np.bool_(True), {"optimizer": "sgd", "momentum": 0.9}),
    "decay_rate": (np.float32(0.5), {"schedule": "exponential"}),
    "decay_steps": (np.int64(2), {"schedule": "step"}),
    "power_t": (np.float32(0.5), {"schedule": "power"}),
    "warmup": (np.float32(0.25), {}),
    "l1": (np.float32(1e-4), {}),
    "l2": (np.float32(1e-4), {}),
    "weight_decay": (np.float32(1e-3), {}),
    "betas": (np.array([0.8, 0.99]), {}),
    "max_norm": (np.float32(3.0), {}),
    "clip_grad_norm": (np.float32(1.0), {}),
    "batch_size": (np.int64(16), {}),
    "max_epochs": (np.int64(2), {"schedule": "onecycle"}),
    "early_stopping": (np.bool_(True), {}),
    "validation_fraction": (np.float32(0.25), {"early_stopping": True}),
    "calibration_fraction": (np.float32(0.25), {}),
    "temperature_scaling": (np.bool_(True), {"early_stopping": True}),
    "patience": (np.int64(1), {}),
    "tol": (np.float32(1e-3), {}),
    "random_state": (np.int64(1), {}),
    "n_threads": (np.int64(1), {}),
    "verbose": (np.int64(0), {}),
    "warm_start": (np.bool_(True), {}),
    "diagnostics": (np.bool_(True), {}),
    "n_frozen": (np.int64(1), {"unfreeze_after": 1}),
    "unfreeze_after": (np.int64(1), {}),
    "unfrozen_lr_factor": (np.float32(0.5), {"unfreeze_after": 1}),
    "nll_beta": (np.float32(0.25), {"loss": "beta_nll"}),  # a regressor's
    "clip_predictions": (np.bool_(True), {}),  # a regressor's
    "label_smoothing": (np.float32(0.1), {}),  # a classifier's
}
REUSED_LAYERS = ("n_frozen", "unfreeze_after", "unfrozen_lr_factor")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_numpy_values_cover_every_numeric_and_boolean_hyperparameter(Estimator):
    numeric = {
        name
        for name, constraints in Estimator._parameter_constraints.items()
        if any(isinstance(c, Interval) or c in ("boolean", "verbose") for c in constraints)
    }
    own = set(NUMPY_VALUES) & set(Estimator._parameter_constraints)
    assert numeric | {"hidden_layer_sizes", "random_state", "betas"} == own


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("name", NUMPY_VALUES)
def test_numpy_hyperparameters_train_as_the_python_values(Estimator, name):
    if name not in Estimator._parameter_constraints:
        pytest.skip(f"{name} is not a hyperparameter of {Estimator.__name__}")
    value, settings = NUMPY_VALUES[name]
    X, y = (classification if Estimator is DeepClassifier else regression)(n_samples=60)
    source = Estimator(hidden_layer_sizes=(8, 4), max_epochs=1, random_state=0).fit(X, y)

    def fitted(value):
        params = {"max_epochs": 2, "random_state": 0, **settings, name: value}
        if name in REUSED_LAYERS:
            model = Estimator.from_pretrained(source, **params)
        else:
            model = Estimator(**{"hidden_layer_sizes": (8,), **params})
        model.fit(X, y)
        if name == "warm_start":
            model.fit(X, y)
        return model

    python_value = value.tolist() if isinstance(value, np.ndarray) else value.item()
    model, expected = fitted(value), fitted(python_value)
    assert model.get_params()[name] is value  # the user's value, unchanged
    # the same numbers through the same kernels; tolerance only for float noise
    np.testing.assert_allclose(model.predict(X), expected.predict(X), rtol=1e-6, atol=1e-9)
