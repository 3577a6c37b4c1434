"""scikit-learn's full estimator contract, on both estimators, single and ensembles."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dnn import DeepClassifier, DeepRegressor


# scikit-learn's checks fit with few epochs on purpose.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        DeepClassifier(),
        DeepRegressor(),
        DeepClassifier(ensemble_size=3),
        DeepRegressor(ensemble_size=3),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
