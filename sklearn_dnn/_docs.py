"""Docstring fragments shared by the estimators, filled in by :func:`fill_doc`.

Each parameter's entry comes from its declaration (``_hyperparameters/``).
"""

import inspect
import textwrap

from ._hyperparameters import parameter_doc

_ATTRIBUTES = """\
module_ : torch.nn.Module
    The trained network (an ``MLP``), in evaluation mode.

net_ : skorch.NeuralNet
    The skorch net that trained ``module_``.

history_ : list of dict
    One dict per epoch with ``epoch``, ``train_loss`` (the data loss,
    comparable with ``valid_loss``), ``train_penalty`` (the mean ``l1`` and
    ``l2`` penalty the optimizer added to it), ``lr`` (the learning rate
    at the end of the epoch) and ``dur`` (seconds); with early stopping
    also ``valid_loss`` and ``valid_score`` (accuracy, subset accuracy
    for multilabel, or R^2 on the held-out rows), and ``best=True`` on the
    epoch whose weights were restored. Without early stopping, training
    stops on ``train_loss + train_penalty``, the objective.

n_iter_ : int
    Number of epochs trained (``len(history_)``).

gradient_norms_ : ndarray of shape (n_iter_, n_linear_layers)
    Only with ``diagnostics=True``: the mean over each epoch's batches of
    the L2 norm of each Linear layer's weight gradient, input layer
    first, output layer last; also in ``history_`` as
    ``"gradient_norms"``. It is the gradient of the data loss, before
    clipping and without the ``l1`` and ``l2`` terms. NaN marks a frozen
    layer, or an epoch trained without diagnostics (warm start); ``inf``
    a gradient that blew up.

dead_units_ : ndarray of shape (n_hidden_layers,)
    Only with ``diagnostics=True``: the fraction of each hidden layer's
    units that are dead after training, i.e. whose activation has a zero
    derivative (for ReLU, a pre-activation <= 0) on every one of up to
    1,000 evenly spaced training rows.

n_features_in_ : int
    Number of features seen during fit.

feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when X has string column names.
"""


def _indent(text, width):
    return textwrap.indent(text, " " * width).lstrip()


def fill_doc(cls):
    """Fill ``{parameters}`` and ``{attributes}`` in a class docstring.

    The default of every parameter is read from the class's ``__init__``,
    so the two estimators share one text and each shows its own defaults
    (and only the entries of its own parameters).
    """
    defaults = {
        name: repr(param.default).replace("'", '"')
        for name, param in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    parameters = "\n\n".join(
        parameter_doc(name, default, own=defaults) for name, default in defaults.items()
    )
    parameters += "\n"
    cls.__doc__ = cls.__doc__.replace("{parameters}", _indent(parameters, 4)).replace(
        "{attributes}", _indent(_ATTRIBUTES, 4)
    )
    return cls
