"""Every hyperparameter is declared everywhere it must be: signature, constraints, docs, policy."""

import inspect

import pytest
from sklearn.base import clone

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._training import WARM_START_FIXED, WARM_START_HONOURED

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
