"""The tasks of a classifier: one label per row, or a multilabel indicator matrix.

:class:`ClassificationTask` and :class:`MultilabelTask` implement the
interface :class:`~sklearn_dnn._tasks.Task` (see ``_tasks.py``); a
:class:`DeepClassifier` picks one by its targets
(:func:`classification_task_class`).
"""

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, log_loss
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._class_weights import weigh_rows
from ._nn.losses import SmoothedBCEWithLogitsLoss, SmoothedCrossEntropyLoss
from ._nn.mlp import combine_label_logits, combine_logits
from ._tasks import Task
from ._uncertainty import ClassificationUncertainty


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


class ClassificationTask(Task):
    """Single-label classification: one logit per class, cross-entropy loss.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted class labels.
    """

    target_validation = {"multi_output": True}  # a multilabel y is 2-D
    clean_targets = staticmethod(_label_targets)
    criterion = SmoothedCrossEntropyLoss  # torch's, with label smoothing while training
    out_activation = "softmax"
    uncertainty_result = ClassificationUncertainty
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

    def check_validation_targets(self, y_val):
        self._check_single_label(y_val, "y_val of a model fitted on one label per row")
        unseen = np.setdiff1d(y_val, self.classes)
        if unseen.size:
            raise ValueError(
                f"y_val contains labels {unseen.tolist()} that are not in y; the model "
                f"learns the classes of y, {self.classes.tolist()}."
            )

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


class MultilabelTask(Task):
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
    criterion = SmoothedBCEWithLogitsLoss  # torch's, with label smoothing while training
    out_activation = "logistic"
    uncertainty_result = ClassificationUncertainty
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

    def check_validation_targets(self, y_val):
        kind = type_of_target(y_val)
        if kind != "multilabel-indicator" or np.shape(y_val)[1] != self.n_outputs:
            raise ValueError(
                f"y is a multilabel indicator matrix of {self.n_outputs} labels; y_val "
                f"must be one too, got y_val of type {kind!r} with shape {np.shape(y_val)}."
            )

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
