"""scikit-learn's full estimator contract, on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dnn import DeepClassifier, DeepRegressor


@parametrize_with_checks([DeepClassifier(), DeepRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
