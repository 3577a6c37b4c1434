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

history_ : skorch.history.History
    A list with one dict per epoch: ``epoch``, ``train_loss`` (the data
    loss, comparable with ``valid_loss``), ``train_penalty`` (the mean ``l1`` and
    ``l2`` penalty the optimizer added to it), ``lr`` (the learning rate
    at the end of the epoch) and ``dur`` (seconds); with early stopping
    also ``valid_loss`` and ``valid_score`` (accuracy, subset accuracy
    for multilabel, or R^2 on the held-out rows), and ``best=True`` on the
    epoch whose weights were restored. Without early stopping, training
    stops on ``train_loss + train_penalty``, the objective. It takes
    skorch's indexing too: ``history_[:, "train_loss"]`` is every epoch's
    training loss, ``history_[-1, "valid_loss"]`` the last validation loss.

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

loss_curve_ : list of float
    As scikit-learn's MLP: the training objective of each epoch,
    ``train_loss + train_penalty`` of ``history_`` (scikit-learn's loss
    includes its ``alpha`` penalty too).

best_loss_ : float or None
    The lowest value of ``loss_curve_``; None when a validation set
    chose the weights (an epoch of ``history_`` is marked ``best``), as
    scikit-learn's MLP has it with ``early_stopping=True``.

validation_scores_ : list of float or None
    Each epoch's validation score (``valid_score`` of ``history_``;
    None for an epoch trained without validation rows, a ``partial_fit``
    one); None when no epoch had a validation set.

best_validation_score_ : float or None
    The validation score of the epoch whose weights were kept (marked
    ``best``); the highest of ``validation_scores_`` when no epoch was
    restored (``early_stopping=False`` with ``X_val``); None without a
    validation set.

coefs_ : list of ndarray
    The weight matrix of each layer, input side first, as scikit-learn's
    MLP: ``coefs_[i]`` has shape (n_in, n_out). For an ensemble
    (``ensemble_size > 1``) each has a leading member axis, (ensemble_size,
    n_in, n_out). The first layer reads the encoded inputs (``module_.inputs``:
    numeric embeddings, categorical embeddings, missing indicators), so with
    the default piecewise embeddings ``coefs_[0]`` has more rows than X has
    columns. Only the Linear layers: batch normalization and dropout
    are not in it, and a regressor's network outputs the standardized
    target (``predict`` maps it back). A copy, read from ``module_``.

intercepts_ : list of ndarray
    The bias vector of each layer, of shape (n_out,), or
    (ensemble_size, n_out) for an ensemble.

n_layers_ : int
    Number of layers, the input and output layers included
    (``len(hidden_layer_sizes) + 2``).

out_activation_ : str
    The output function: ``"softmax"`` (a classifier, binary included:
    one output per class), ``"logistic"`` (multilabel) or ``"identity"``
    (a regressor).

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
