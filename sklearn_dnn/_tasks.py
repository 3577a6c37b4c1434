"""What differs between classification, multilabel and regression, behind one interface.

An estimator names its task class (``DeepClassifier._task_class``); ``fit``
makes a task from the training targets with :meth:`Task.from_targets` (or
continues one with :meth:`Task.continued_with`), and everything that
depends on the kind of target asks the task. The base estimator never asks
"am I a classifier?".

The interface, implemented by :class:`ClassificationTask`,
:class:`MultilabelTask` and :class:`RegressionTask`:

=========================  ==================================================
``target_validation``      keyword arguments for ``validate_data`` on ``y``
``clean_targets(y)``       validated ``y`` as the task reads it (a column
                           vector of labels raveled, with scikit-learn's
                           ``DataConversionWarning``)
``criterion``              the torch loss class (built with ``reduction="none"``)
``from_targets(y, w, name, classes=None)``
                           a new task fitted to the targets (classes,
                           scaling); ``classes`` are the labels
                           ``partial_fit`` was given on its first call
``continued_with(y, w)``   the task for a warm start on new targets, or an
                           error that names what does not match
``units_changed_from(task)``  whether the targets are encoded in other
                           units than the continued ``task``'s (a
                           regressor's scale set late)
``encode(y, dtype)``       targets as the network trains on them
``weigh(y, w, class_weight)``  the rows' weights with the class weights
                           multiplied in (``class_weight`` is None for a
                           regressor)
``n_outputs``              width of the output layer
``stratify(target)``       labels to stratify the validation split by, or None
``min_validation_rows``    the smallest validation set that can be scored
``valid_score(...)``       the validation score of raw outputs
``scorer(scoring)``        the validation score named ``scoring`` (None: the
                           task's own, ``valid_score``), as a function of
                           encoded targets, raw outputs and weights, higher
                           is better; a ValueError names the task's scores
``fitted_attributes()``    the estimator attributes the task publishes
``combine_members(out)``   the members' raw outputs, a tensor of shape
                           (rows, members, n_outputs), -> the ensemble's
                           raw outputs (rows, n_outputs): what every
                           prediction and validation score reads
``predict(outputs)``       raw outputs -> ``predict``'s answer
``predict_proba(outputs)``  raw outputs -> probabilities (classification
                           tasks; also ``predict_log_proba``)
``summarize(samples)``     sampled raw outputs of some rows -> the fields of
                           the uncertainty result for those rows
``uncertainty_result``     the result class of ``predict_uncertainty``
=========================  ==================================================
"""

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d
from torch import nn

from ._class_weights import weigh_rows
from ._module import combine_label_logits, combine_logits, combine_values
from ._target_scaling import standardization
from ._uncertainty import ClassificationUncertainty, RegressionUncertainty


def _entropy(proba):
    return -np.sum(proba * np.log(np.clip(proba, 1e-300, None)), axis=-1)


def _binary_entropies(proba):
    """Sum over the labels of each label's binary entropy, in nats."""
    return _entropy(proba) + _entropy(1.0 - proba)


def _label_targets(y):
    """Labels as classifiers read them: a column vector raveled, with a warning.

    A sparse ``y`` (a multilabel indicator matrix) is made dense, as
    scikit-learn's MLP binarizes it: training reads it as the dense one.
    """
    if sparse.issparse(y):
        y = y.toarray()
    y = np.asarray(y) if not hasattr(y, "shape") else y
    if y.ndim == 2 and y.shape[1] == 1:
        return column_or_1d(y, warn=True)
    return y


# The names ``scoring`` accepts, per estimator (each task's ``scores()``).
CLASSIFIER_SCORINGS = frozenset(
    {"accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss", "f1_samples"}
)
REGRESSOR_SCORINGS = frozenset({"r2", "neg_mean_squared_error", "neg_mean_absolute_error"})


def _scorer(task, scoring):
    """``task.scores()[scoring]``, or the task's own score for None; a clear error otherwise."""
    if scoring is None:
        return task.valid_score
    scores = task.scores()
    if scoring not in scores:
        raise ValueError(
            f"scoring={scoring!r} is not a score of {type(task).__name__}; choose among "
            f"{sorted(scores)}, or None for the default."
        )
    return scores[scoring]


def classification_task_class(y):
    """The task of a classifier's targets: multilabel for an indicator matrix."""
    return MultilabelTask if type_of_target(y) == "multilabel-indicator" else ClassificationTask


def _probability_summary(proba, entropy, return_samples):
    """Uncertainty fields from sampled probabilities of shape (S, rows, ...).

    ``entropy`` maps probabilities to a per-row entropy (summed over the
    last axis); mutual information is the entropy of the mean minus the
    mean entropy of the samples (BALD).
    """
    mean = proba.mean(axis=0)
    total = entropy(mean)
    return {
        "mean": mean,
        "std": proba.std(axis=0),
        "entropy": total,
        "mutual_info": np.clip(total - entropy(proba).mean(axis=0), 0.0, None),
        "samples": proba if return_samples else None,
    }


class ClassificationTask:
    """Single-label classification: one logit per class, cross-entropy loss.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted class labels.
    """

    target_validation = {"multi_output": True}  # a multilabel y is 2-D
    clean_targets = staticmethod(_label_targets)
    criterion = nn.CrossEntropyLoss
    uncertainty_result = ClassificationUncertainty
    min_validation_rows = 1
    combine_members = staticmethod(combine_logits)

    def __init__(self, classes):
        self.classes = classes

    @staticmethod
    def _check_single_label(y, what):
        check_classification_targets(y)
        if np.ndim(y) != 1:
            raise ValueError(
                f"{what} takes one label per row (a 1-D y) or a multilabel indicator "
                f"matrix of 0s and 1s; got y of type {type_of_target(y)!r} with shape "
                f"{np.shape(y)}."
            )

    @classmethod
    def from_targets(cls, y, sample_weight, estimator_name, classes=None):
        cls._check_single_label(y, estimator_name)
        if classes is None:
            classes = np.unique(y)
        else:
            classes = np.unique(classes)
            unseen = np.setdiff1d(y, classes)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in classes="
                    f"{classes.tolist()}; partial_fit's first call must name every class."
                )
        if len(classes) < 2:
            raise ValueError(
                f"{estimator_name} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes.tolist()[0]!r}."
            )
        return cls(classes)

    def continued_with(self, y, sample_weight):
        self._check_single_label(y, "This model (fitted on one label per row)")
        unseen = np.setdiff1d(y, self.classes)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} not seen in the first fit; "
                f"warm_start continues with classes {self.classes.tolist()}."
            )
        return self

    @staticmethod
    def units_changed_from(previous):
        return False  # logits have no target scale

    def encode(self, y, dtype):
        return np.searchsorted(self.classes, y).astype(np.int64)

    def weigh(self, y, sample_weight, class_weight):
        """``sample_weight`` times each row's class weight (see ``_class_weights.py``)."""
        if class_weight is None:
            return sample_weight
        return weigh_rows(y, sample_weight, class_weight, self.classes)

    @property
    def n_outputs(self):
        return len(self.classes)

    def stratify(self, target):
        return target

    @staticmethod
    def valid_score(y_true, outputs, sample_weight):
        return accuracy_score(y_true, outputs.argmax(axis=1), sample_weight=sample_weight)

    def scores(self):
        """The named validation scores (``scoring``), on class indices and logits."""
        labels = np.arange(self.n_outputs)
        return {
            "accuracy": self.valid_score,
            "balanced_accuracy": lambda y, out, w: balanced_accuracy_score(
                y, out.argmax(axis=1), sample_weight=w
            ),
            "f1_macro": lambda y, out, w: f1_score(
                y,
                out.argmax(axis=1),
                labels=labels,
                average="macro",
                sample_weight=w,
                zero_division=0,
            ),
            "neg_log_loss": lambda y, out, w: (
                -log_loss(y, softmax(out, axis=1), labels=labels, sample_weight=w)
            ),
        }

    scorer = _scorer

    def fitted_attributes(self):
        return {"classes_": self.classes}

    def predict(self, outputs):
        return self.classes[outputs.argmax(axis=1)]

    @staticmethod
    def predict_proba(outputs):
        return softmax(outputs, axis=1)

    @staticmethod
    def predict_log_proba(outputs):
        return log_softmax(outputs, axis=1)

    @staticmethod
    def summarize(logits, return_samples):
        """Fields of :class:`ClassificationUncertainty` from logits of shape (S, rows, C)."""
        return _probability_summary(softmax(logits, axis=-1), _entropy, return_samples)


class MultilabelTask:
    """Multilabel classification: one logit per label, binary cross-entropy.

    ``y`` is an indicator matrix of shape (n_samples, n_labels); the labels
    are its columns, ``classes_`` is ``arange(n_labels)`` (as scikit-learn's
    MLP has it), ``predict`` returns the indicator matrix and
    ``predict_proba`` each label's probability. The validation score is
    the subset accuracy (every label of a row right).

    Parameters
    ----------
    n_labels : int
    """

    target_validation = ClassificationTask.target_validation
    clean_targets = staticmethod(_label_targets)
    criterion = nn.BCEWithLogitsLoss
    units_changed_from = staticmethod(ClassificationTask.units_changed_from)
    uncertainty_result = ClassificationUncertainty
    min_validation_rows = 1
    combine_members = staticmethod(combine_label_logits)
    weigh = ClassificationTask.weigh

    def __init__(self, n_labels):
        self.classes = np.arange(n_labels)

    @classmethod
    def from_targets(cls, y, sample_weight, estimator_name, classes=None):
        n_labels = np.shape(y)[1]
        if classes is not None and len(classes) != n_labels:
            raise ValueError(
                f"y is a multilabel indicator matrix of {n_labels} labels, but classes has "
                f"{len(classes)} entries; pass classes=range({n_labels})."
            )
        return cls(n_labels)

    def continued_with(self, y, sample_weight):
        kind = type_of_target(y)
        if kind != "multilabel-indicator" or np.shape(y)[1] != self.n_outputs:
            raise ValueError(
                f"This model was fitted on a multilabel indicator matrix of {self.n_outputs} "
                f"labels; warm_start and partial_fit need the same, got y of type {kind!r} "
                f"with shape {np.shape(y)}."
            )
        return self

    @staticmethod
    def encode(y, dtype):
        return np.asarray(y).astype(dtype)

    @property
    def n_outputs(self):
        return len(self.classes)

    def stratify(self, target):
        return None  # no stratification of an indicator matrix

    @staticmethod
    def valid_score(y_true, outputs, sample_weight):
        predicted = (outputs > 0).astype(np.int64)
        return accuracy_score(y_true.astype(np.int64), predicted, sample_weight=sample_weight)

    def scores(self):
        """The named validation scores (``scoring``), on indicator targets and logits."""

        def f1(average):
            return lambda y, out, w: f1_score(
                y.astype(np.int64),
                (out > 0).astype(np.int64),
                average=average,
                sample_weight=w,
                zero_division=0,
            )

        return {"accuracy": self.valid_score, "f1_macro": f1("macro"), "f1_samples": f1("samples")}

    scorer = _scorer

    def fitted_attributes(self):
        return {"classes_": self.classes}

    @staticmethod
    def predict(outputs):
        return (outputs > 0).astype(np.int64)

    @staticmethod
    def predict_proba(outputs):
        return expit(outputs)

    @staticmethod
    def predict_log_proba(outputs):
        return log_expit(outputs)

    @staticmethod
    def summarize(logits, return_samples):
        """Fields of :class:`ClassificationUncertainty` from logits of shape (S, rows, L).

        Per label: mean and std of its probability; per row: the entropy
        and mutual information summed over the labels' binary distributions.
        """
        return _probability_summary(expit(logits), _binary_entropies, return_samples)


class RegressionTask:
    """Regression on a standardized target: one output per target column, MSE loss.

    Parameters
    ----------
    mean, scale : ndarray of shape (n_outputs,)
        The weighted mean and standard deviation of each target column in
        the first fit; the network learns ``(y - mean) / scale``.
    spread : ndarray of bool, shape (n_outputs,)
        Whether each column's scale was measured on rows with spread (if
        not, it is the column's magnitude until a continued fit brings
        some: see ``_target_scaling.py``).
    y_ndim : {1, 2}
        Whether ``y`` was 1-D (``predict`` then returns 1-D).
    """

    target_validation = {"multi_output": True, "y_numeric": True}
    clean_targets = staticmethod(lambda y: y)
    criterion = nn.MSELoss
    uncertainty_result = RegressionUncertainty
    min_validation_rows = 2  # R^2 needs two rows
    combine_members = staticmethod(combine_values)

    def __init__(self, mean, scale, spread, y_ndim):
        self.mean = mean
        self.scale = scale
        self.spread = spread
        self.y_ndim = y_ndim

    def __setstate__(self, state):
        # A task pickled by 0.1.0 has no ``spread``: its scales were all measured.
        state.setdefault("spread", np.ones(np.size(state["mean"]), dtype=bool))
        vars(self).update(state)

    @classmethod
    def from_targets(cls, y, sample_weight, estimator_name, classes=None):
        y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return cls(*standardization(y2d, sample_weight), np.ndim(y))

    def continued_with(self, y, sample_weight):
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        if n_outputs != self.n_outputs:
            raise ValueError(
                f"y has {n_outputs} outputs, but warm_start continues a model "
                f"with {self.n_outputs}."
            )
        mean, scale, spread = self.mean, self.scale, self.spread
        if not spread.all():  # the first rows with spread set an undetermined scale
            y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
            new_mean, new_scale, new_spread = standardization(y2d, sample_weight)
            now = new_spread & ~spread
            mean, scale = np.where(now, new_mean, mean), np.where(now, new_scale, scale)
            spread = spread | now
        return type(self)(mean, scale, spread, np.ndim(y))

    def units_changed_from(self, previous):
        """Whether ``previous`` encoded the targets with another mean or scale."""
        return not (
            np.array_equal(self.mean, previous.mean) and np.array_equal(self.scale, previous.scale)
        )

    def encode(self, y, dtype):
        y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return ((y2d - self.mean) / self.scale).astype(dtype)

    @staticmethod
    def weigh(y, sample_weight, class_weight):
        return sample_weight  # no classes

    @property
    def n_outputs(self):
        return len(self.mean)

    def stratify(self, target):
        return None

    @staticmethod
    def valid_score(y_true, outputs, sample_weight):
        return r2_score(y_true, outputs, sample_weight=sample_weight)

    def scores(self):
        """The named validation scores (``scoring``); errors on the target's own scale."""

        def on_target_scale(metric):
            return lambda y, out, w: (
                -metric(self.to_target_scale(y), self.to_target_scale(out), sample_weight=w)
            )

        return {
            "r2": self.valid_score,
            "neg_mean_squared_error": on_target_scale(mean_squared_error),
            "neg_mean_absolute_error": on_target_scale(mean_absolute_error),
        }

    scorer = _scorer

    def fitted_attributes(self):
        return {}

    def to_target_scale(self, outputs):
        """Map standardized outputs of shape (..., n_outputs) to the target's scale."""
        y = outputs * self.scale + self.mean
        return y[..., 0] if self.y_ndim == 1 else y

    def predict(self, outputs):
        return self.to_target_scale(outputs)

    def summarize(self, outputs, return_samples):
        """Fields of :class:`RegressionUncertainty` from outputs of shape (S, rows, k)."""
        predictions = self.to_target_scale(outputs)
        return {
            "mean": predictions.mean(axis=0),
            "std": predictions.std(axis=0),
            "samples": predictions if return_samples else None,
        }
