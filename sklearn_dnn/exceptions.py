"""Exceptions and warnings raised by sklearn-dnn."""


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss stops being a finite number.

    The message names the epoch and the remedies: a lower
    ``learning_rate``, ``clip_grad_norm``, scaled inputs.
    """


class DivergenceWarning(UserWarning):
    """Warned when the training loss exploded or ended above where it began."""


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
