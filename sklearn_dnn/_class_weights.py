"""``class_weight``: checked, and multiplied into the rows' weights.

A classifier's task calls :func:`weigh_rows` in the prepare phase of
``fit``, so a bad ``class_weight`` fails before anything changes.

- ``"balanced"`` weighs each class ``total / (n_classes * class_total)``,
  scikit-learn's formula, with the rows counted by their ``sample_weight``
  (as ``sklearn.utils.class_weight.compute_class_weight(...,
  sample_weight=...)`` does for ``LogisticRegression``): a row of weight 2
  counts as two rows, and rows of weight zero count as removed rows, as
  ``fit`` promises.
- A dict ``{label: weight}`` follows ``compute_class_weight``: a class
  without a key weighs 1, and a key that is not a class is an error when
  some class has no key (a mistyped label). The classes are the task's:
  ``partial_fit``'s ``classes``, or those of the first fit for a warm start.
- For a multilabel indicator ``y``, each label is a two-class problem
  (classes 0 and 1): ``"balanced"`` or one dict per label, and a row's
  weight is the product over its labels, as ``compute_sample_weight`` has it.

Every weight must be a finite, non-negative number, and some row of
positive ``sample_weight`` must keep a positive weight.
"""

from numbers import Real

import numpy as np

_LABEL_CLASSES = np.array([0, 1])  # the classes of one column of an indicator matrix


def weigh_rows(y, sample_weight, class_weight, classes):
    """``sample_weight`` times each row's class weight; a clear ValueError otherwise.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Labels among ``classes``, or a multilabel indicator matrix.
    sample_weight : ndarray of shape (n_samples,)
        The checked, non-negative weights of the rows.
    class_weight : dict, list of dict or "balanced"
    classes : ndarray of shape (n_classes,)
        The sorted classes of the task (unused for an indicator ``y``).
    """
    if np.ndim(y) == 1:
        if not (isinstance(class_weight, dict) or class_weight == "balanced"):
            raise ValueError(
                "class_weight must be a dict {label: weight} or 'balanced' for one label "
                f"per row (a list of dicts is for a multilabel y); got {class_weight!r}."
            )
        per_row = _column_weights(y, sample_weight, class_weight, classes, "class_weight")
    else:
        per_row = _indicator_weights(y, sample_weight, class_weight)
    weight = sample_weight * per_row
    if not (weight > 0).any():
        kept = y[sample_weight > 0]
        which = f" {np.unique(kept).tolist()}" if np.ndim(y) == 1 else ""
        raise ValueError(
            f"class_weight={class_weight!r} gives every row weight zero: the classes"
            f"{which} of the rows with a positive sample_weight all weigh 0. At least "
            "one of them must have a positive weight."
        )
    return weight


def _indicator_weights(Y, sample_weight, class_weight):
    """The product over the labels of each label's class weight."""
    n_labels = Y.shape[1]
    if class_weight == "balanced":
        per_label = [class_weight] * n_labels
    elif isinstance(class_weight, list) and all(isinstance(d, dict) for d in class_weight):
        if len(class_weight) != n_labels:
            raise ValueError(
                f"class_weight has {len(class_weight)} dicts, but y is a multilabel "
                f"indicator matrix of {n_labels} labels: pass one dict per label."
            )
        per_label = class_weight
    else:
        raise ValueError(
            f"For a multilabel y, class_weight must be 'balanced' or a list of {n_labels} "
            f"dicts, one per label ({{0: w0, 1: w1}}); got {class_weight!r}."
        )
    weight = np.ones(len(Y))
    for k, label_weight in enumerate(per_label):
        column = np.asarray(Y[:, k]).astype(np.int64)
        weight *= _column_weights(
            column, sample_weight, label_weight, _LABEL_CLASSES, f"class_weight[{k}]"
        )
    return weight


def _column_weights(labels, sample_weight, class_weight, classes, name):
    """Each row's class weight for one column of labels among ``classes``."""
    index = np.searchsorted(classes, labels)
    if isinstance(class_weight, dict):
        per_class = _dict_weights(class_weight, classes, name)
    else:  # "balanced", over the rows' weights
        per_class = _balanced(index, sample_weight, len(classes))
    return per_class[index]


def _balanced(index, sample_weight, n_classes):
    """The "balanced" weight of each class, from the rows' class indices and weights."""
    totals = np.bincount(index, weights=sample_weight, minlength=n_classes)
    present = totals > 0  # a class of zero-weight rows only weighs nothing
    per_class = np.zeros(n_classes)
    per_class[present] = totals.sum() / (present.sum() * totals[present])
    return per_class


def resolved_class_weight(y, sample_weight, class_weight, classes):
    """``class_weight`` with ``"balanced"`` replaced by the weights it gives these rows.

    A dict (one label per row) or a list of dicts (an indicator ``y``),
    so that other rows (a validation set of the user's) get the class
    weights of the training rows, not weights balanced on their own.
    """
    if not (isinstance(class_weight, str) and class_weight == "balanced"):
        return class_weight
    if np.ndim(y) == 1:
        weights = _balanced(np.searchsorted(classes, y), sample_weight, len(classes))
        return dict(zip(classes.tolist(), weights.tolist(), strict=True))
    columns = np.asarray(y).astype(np.int64).T
    return [
        dict(zip((0, 1), _balanced(column, sample_weight, 2).tolist(), strict=True))
        for column in columns
    ]


def _dict_weights(class_weight, classes, name):
    """The weight of each class from ``{label: weight}``; 1 for a class without a key."""
    for label, value in class_weight.items():
        if not isinstance(value, Real) or not np.isfinite(value) or value < 0:
            raise ValueError(
                f"{name} must give each class a finite, non-negative weight; got "
                f"{value!r} for class {label!r}."
            )
    labels = classes.tolist()
    missing = [c for c in labels if c not in class_weight]
    unknown = [key for key in class_weight if key not in labels]
    if missing and unknown:
        raise ValueError(
            f"The classes, {missing}, are not in {name}, whose keys {unknown} are not "
            f"classes: the keys must be labels of y, among {labels}."
        )
    return np.array([float(class_weight.get(c, 1.0)) for c in labels])
