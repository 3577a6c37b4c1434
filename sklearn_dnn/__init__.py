"""sklearn-dnn: scikit-learn estimators that train deep neural networks well."""

from . import _legacy
from ._calibration import CalibrationWarning
from ._classifier import DeepClassifier
from ._cross_conformal import CrossConformalRegressor
from ._engine.optimizers import OPTIMIZERS
from ._engine.schedules import SCHEDULES
from ._in_pipelines import find_learning_rate, predict_uncertainty
from ._lr_finder import LearningRateFinder, RangeTestResult
from ._nn.activations import ACTIVATIONS
from ._nn.initializers import INITIALIZERS
from ._nn.mlp import MLP
from ._presets import classic_playbook, tabular_recipe
from ._pretrained import PretrainedLayers
from ._regressor import DeepRegressor
from ._uncertainty import ClassificationUncertainty, RegressionUncertainty
from .exceptions import (
    DivergenceWarning,
    GradientHealthWarning,
    ModelFileError,
    PretrainedInputWarning,
    TrainingDivergedError,
)

_legacy.install()  # the module paths of 0.1.0, for its pickles

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
    "CrossConformalRegressor",
    "CalibrationWarning",
    "DivergenceWarning",
    "GradientHealthWarning",
    "ModelFileError",
    "PretrainedInputWarning",
    "TrainingDivergedError",
    "find_learning_rate",
    "classic_playbook",
    "tabular_recipe",
    "predict_uncertainty",
]
