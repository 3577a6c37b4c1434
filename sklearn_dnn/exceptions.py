"""Exceptions and warnings raised by sklearn-dnn."""


class TrainingDivergedError(FloatingPointError):
    """Raised when an epoch's training loss is not finite or over 1e4 times the first epoch's.

    The first epoch is the network's: its first fit's, when a warm start
    or ``partial_fit`` continues it. No model that far off is handed back:
    the fit fails and the estimator stays as it was. The message names the
    epoch and the remedies: a lower ``learning_rate``, ``clip_grad_norm``,
    scaled inputs.
    """


class DivergenceWarning(UserWarning):
    """Warned when the training loss went over 100 times the first epoch's or ended above its start.

    The fit succeeded (the loss stayed under the 1e4 times of
    :class:`TrainingDivergedError`), but training was unstable.
    """


class GradientHealthWarning(UserWarning):
    """Warned, with ``diagnostics=True``, when gradients vanish or explode or units die.

    The message names the layer, the figure and the remedies: He or LeCun
    initialization, ReLU-family or SELU activations, batch normalization,
    gradient clipping, a lower ``learning_rate``.
    """


class InvalidParameterError(ValueError, TypeError):
    """Raised by ``fit`` when a hyperparameter has a value it does not accept.

    The message names the parameter, what it accepts and what it got; it is
    both a ``ValueError`` and a ``TypeError``, as scikit-learn's is.
    """


class ModelFileError(ValueError):
    """Raised by ``load`` for a file it refuses, before unpickling anything.

    The message names the problem: the file is not a model saved by
    sklearn-dnn's ``save`` (and what it looks like instead), it is in a
    newer format than this version reads, it is truncated or corrupted
    (its SHA-256 digest differs from its header's), or it holds an
    estimator of another class.
    """


class PretrainedInputWarning(UserWarning):
    """Warned when a fit's inputs look rescaled on other data than the pretrained layers saw.

    The columns were standardized on exactly the new
    fit's rows, as a Pipeline refitting its scaler does, and their
    distribution differs from the source network's inputs: the reused
    layers now read the same raw value as another number. Keep the
    source's fitted preprocessing (``from_pretrained(source_pipeline,
    keep_preprocessing=True)``).
    """
