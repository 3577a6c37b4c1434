"""What differs between classification, multilabel and regression, behind one interface.

An estimator names its task class (``DeepClassifier._task_class``); ``fit``
makes a task from the training targets with :meth:`Task.from_targets` (or
continues one with :meth:`Task.continued_with`), and everything that
depends on the kind of target asks the task. The base estimator never asks
"am I a classifier?".

The interface is the abstract class :class:`Task`, implemented by
:class:`~sklearn_dnn._classification_tasks.ClassificationTask`,
:class:`~sklearn_dnn._classification_tasks.MultilabelTask` and
:class:`~sklearn_dnn._regression_task.RegressionTask`:

=========================  ==================================================
``target_validation``      keyword arguments for ``validate_data`` on ``y``
``clean_targets(y)``       validated ``y`` as the task reads it (a column
                           vector of labels raveled, with scikit-learn's
                           ``DataConversionWarning``); by default ``y``
``criterion``              the torch loss class (built with ``reduction="none"``)
``from_targets(y, w, name, classes=None)``
                           a new task fitted to the targets (classes,
                           scaling); ``classes`` are the labels
                           ``partial_fit`` was given on its first call
``continued_with(y, w)``   the task for a warm start on new targets, or an
                           error that names what does not match
``check_validation_targets(y_val)``
                           a ValueError when the targets of a validation
                           set of the user's do not fit this task (a class
                           not among the task's, another shape)
``out_activation``         the output function, as scikit-learn's MLP names
                           it (``out_activation_``): ``"softmax"``,
                           ``"logistic"`` or ``"identity"``
``units_changed_from(task)``  whether the targets are encoded in other units
                           than the continued ``task``'s (False by default; a
                           regressor's scale set late)
``encode(y, dtype)``       targets as the network trains on them
``weigh(y, w, class_weight)``  the rows' weights with the class weights
                           multiplied in (``class_weight`` is None for a
                           regressor)
``n_outputs``              width of the output layer
``stratify(target)``       labels to stratify the validation split by, or None
``min_validation_rows``    the smallest validation set that can be scored
                           (1 by default)
``valid_score(y, out, w)``  the validation score of raw outputs
``scores()``               the named validation scores (``scoring``): each a
                           function of encoded targets, raw outputs and
                           weights, higher is better
``scorer(scoring)``        the validation score named ``scoring`` (None: the
                           task's own, ``valid_score``); a ValueError names
                           the task's scores (shared: :meth:`Task.scorer`)
``fitted_attributes()``    the estimator attributes the task publishes
                           (none by default)
``combine_members(out)``   the members' raw outputs, a tensor of shape
                           (rows, members, n_outputs), -> the ensemble's
                           raw outputs (rows, n_outputs): what every
                           prediction and validation score reads
``predict(outputs)``       raw outputs -> ``predict``'s answer
``predict_proba(outputs)``  raw outputs -> probabilities (classification
                           tasks only; also ``predict_log_proba``)
``summarize(samples, return_samples)``
                           sampled raw outputs of some rows -> the fields of
                           the uncertainty result for those rows
``uncertainty_result``     the result class of ``predict_uncertainty``
=========================  ==================================================

``target_validation``, ``clean_targets``, ``criterion``, ``out_activation``,
``min_validation_rows``, ``combine_members`` and ``uncertainty_result`` are
class attributes: the estimator reads the first two on the task class,
before a task exists.
"""

import importlib
from abc import ABC, abstractmethod

# The names ``scoring`` accepts, per estimator (the union of its tasks' ``scores()``).
CLASSIFIER_SCORINGS = frozenset(
    {"accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss", "f1_samples"}
)
REGRESSOR_SCORINGS = frozenset({"r2", "neg_mean_squared_error", "neg_mean_absolute_error"})


class Task(ABC):
    """The interface of a task: see the table in this module's docstring.

    A subclass sets the class attributes ``target_validation``,
    ``criterion``, ``out_activation``, ``combine_members`` and ``uncertainty_result`` and
    implements the abstract methods; the rest has a default here.
    """

    min_validation_rows = 1

    @property
    @abstractmethod
    def target_validation(self):
        """Keyword arguments for ``validate_data`` on ``y`` (a class attribute)."""

    @staticmethod
    def clean_targets(y):
        """Validated ``y`` as the task reads it."""
        return y

    @property
    @abstractmethod
    def criterion(self):
        """The torch loss class (a class attribute)."""

    @property
    @abstractmethod
    def out_activation(self):
        """The output function, as scikit-learn's MLP names it (a class attribute)."""

    @property
    @abstractmethod
    def uncertainty_result(self):
        """The result class of ``predict_uncertainty`` (a class attribute)."""

    @staticmethod
    @abstractmethod
    def combine_members(outputs):
        """Members' raw outputs (rows, members, n_outputs) -> the ensemble's (rows, n_outputs)."""

    @classmethod
    @abstractmethod
    def from_targets(cls, y, sample_weight, estimator_name, classes=None):
        """A new task fitted to the targets of a first fit."""

    @abstractmethod
    def continued_with(self, y, sample_weight):
        """The task for a warm start on new targets, or a ValueError naming the mismatch."""

    @abstractmethod
    def check_validation_targets(self, y_val):
        """A ValueError when a validation set's targets do not fit this task."""

    def units_changed_from(self, previous):
        """False: the raw outputs of ``previous`` mean the same to this task."""
        return False

    @abstractmethod
    def encode(self, y, dtype):
        """Targets as the network trains on them."""

    @abstractmethod
    def weigh(self, y, sample_weight, class_weight):
        """The rows' weights with the class weights multiplied in."""

    @property
    @abstractmethod
    def n_outputs(self):
        """Width of the output layer."""

    @abstractmethod
    def stratify(self, target):
        """Labels to stratify the validation split by, or None."""

    @staticmethod
    @abstractmethod
    def valid_score(y_true, outputs, sample_weight):
        """The default validation score of raw outputs, higher is better."""

    @abstractmethod
    def scores(self):
        """``{name: score}``, the validation scores ``scoring`` may name."""

    def scorer(self, scoring):
        """``self.scores()[scoring]``, or the task's own score for None; a clear error otherwise."""
        if scoring is None:
            return self.valid_score
        scores = self.scores()
        if scoring not in scores:
            raise ValueError(
                f"scoring={scoring!r} is not a score of {type(self).__name__}; choose among "
                f"{sorted(scores)}, or None for the default."
            )
        return scores[scoring]

    def fitted_attributes(self):
        """The estimator attributes the task publishes (none)."""
        return {}

    @abstractmethod
    def predict(self, outputs):
        """Raw outputs -> ``predict``'s answer."""

    @abstractmethod
    def summarize(self, outputs, return_samples):
        """Sampled raw outputs (S, rows, n_outputs) -> the uncertainty result's fields."""


# The tasks live in their own modules; pickles of 0.1.0 name them by this
# one (``sklearn_dnn._tasks.ClassificationTask``), so they stay reachable
# here. Looked up on first use, as the task modules import this one.
_MOVED = {
    "ClassificationTask": "._classification_tasks",
    "MultilabelTask": "._classification_tasks",
    "RegressionTask": "._regression_task",
}


def __getattr__(name):
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
