"""sklearn-dnn: scikit-learn estimators that train deep neural networks well."""

from ._activations import ACTIVATIONS
from ._classifier import DeepClassifier
from ._initializers import INITIALIZERS
from ._lr_finder import LearningRateFinder, RangeTestResult
from ._module import MLP
from ._optimizers import OPTIMIZERS
from ._pipeline import find_learning_rate, predict_uncertainty
from ._pretrained import PretrainedLayers
from ._regressor import DeepRegressor
from ._schedules import SCHEDULES
from ._uncertainty import ClassificationUncertainty, RegressionUncertainty
from .exceptions import DivergenceWarning, GradientHealthWarning, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "MLP",
    "LearningRateFinder",
    "RangeTestResult",
    "PretrainedLayers",
    "ClassificationUncertainty",
    "RegressionUncertainty",
    "OPTIMIZERS",
    "SCHEDULES",
    "DeepClassifier",
    "DeepRegressor",
    "DivergenceWarning",
    "GradientHealthWarning",
    "TrainingDivergedError",
    "find_learning_rate",
    "predict_uncertainty",
]
