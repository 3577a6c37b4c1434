"""The user's own validation set: ``fit(X, y, X_val=..., y_val=..., sample_weight_val=...)``.

The given rows replace the split that ``validation_fraction`` would hold
out, and serve everything that reads the plan's validation set
(``plan.valid``): early stopping, the restored best epoch,
``valid_loss`` and ``valid_score`` in ``history_``, and any later use of
held-out rows. They go through the checks ``predict``'s ``X`` goes through
(the feature count and names of the training ``X``), and their targets
are encoded, weighted and scaled as the training targets are: the classes
and target scale of the training ``y`` and, for ``class_weight``, its
per-class weights ("balanced" is computed on the training rows, not on
``y_val``).

With ``early_stopping="auto"`` (the classifier's default) or ``True``
they are what early stopping watches, as in scikit-learn's
``HistGradientBoosting*.fit`` (1.7+), where ``"auto"`` turns early stopping
on whenever validation data are given, whatever the number of rows. With
``early_stopping=False`` (the regressor's default) they are scored every
epoch (``valid_loss``, ``valid_score``, ``validation_scores_``) but do not
stop training or choose the weights, as Keras' ``validation_data`` without
an ``EarlyStopping`` callback: training stops on the training objective,
as it does without a validation set. (HistGradientBoosting refuses that
combination; here it is the one way to watch held-out rows without
changing the fit, and refusing it would make the regressor's default an
error.)
"""

from .._class_weights import resolved_class_weight
from .._inputs import check_sample_weight
from .net import as_tensor, input_rows

# The smallest validation set early stopping accepts (as scikit-learn's MLP),
# the split's and the user's.
MIN_VALIDATION_ROWS = 2


def check_validation_arguments(X_val, y_val, sample_weight_val, incremental):
    """Whether validation data are given; a ValueError for an incomplete or refused set."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is provided, but X_val and y_val were not.")
        return False
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    if incremental:
        raise ValueError(
            "partial_fit does not take a validation set: it trains one pass without "
            "early stopping. Use fit(X, y, X_val=..., y_val=...) with warm_start=True."
        )
    return True


def validation_set(settings, task, validation, X, y, sample_weight, features, device):
    """The user's validation rows as a :class:`TensorData`, checked and encoded as ``X``, ``y``.

    Parameters
    ----------
    settings : BaseDeepEstimator
        The estimator's settings of this fit (validates the rows).
    task : Task
        The task of this fit (classes, target scale).
    validation : tuple
        ``(X_val, y_val, sample_weight_val)`` as given to ``fit``.
    X, y, sample_weight : ndarray
        The validated training inputs, targets and weights (before the
        class weights), whose dtype, classes and class weights the
        validation rows take.
    features : tuple
        ``(n_features_in, feature_names_in, inputs)`` of the training ``X``
        (``inputs``: its input description, which encodes ``X_val`` too).
    device : str
    """
    from .plan import _subset  # the plan imports this module

    X_val, y_val, sample_weight_val = validation
    probe = settings._features_probe(*features)
    try:
        X_val, y_val = probe._validate_training_data(X_val, y_val, continuing=True)[:2]
    except ValueError as exc:
        raise ValueError(f"X_val, y_val: {exc}") from None
    task.check_validation_targets(y_val)
    weight = check_sample_weight(sample_weight_val, X_val.shape[0], name="sample_weight_val")
    class_weight = settings._class_weight()
    if class_weight is not None:
        fixed = resolved_class_weight(y, sample_weight, class_weight, task.classes)
        weight = task.weigh(y_val, weight, fixed)
    target = task.encode(y_val, X.dtype)
    keep = weight > 0
    if keep.sum() < MIN_VALIDATION_ROWS:
        raise ValueError(
            f"The validation set is too small: X_val has {int(keep.sum())} rows of "
            f"positive weight, and early stopping needs at least {MIN_VALIDATION_ROWS}."
        )
    if not keep.all():  # rows of weight zero are left out, as in training
        X_val, target, weight = X_val[keep], target[keep], weight[keep]
    weight = weight / weight.mean()
    tensors = (
        input_rows(X_val.astype(X.dtype, copy=False), device),
        as_tensor(target, device),
        as_tensor(weight.astype(X.dtype), device),
    )
    return _subset(tensors, weight, None, device)
