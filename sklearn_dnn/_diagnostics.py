"""Gradient health: per-layer gradient norms, dead units and the warnings they raise.

With ``diagnostics=True`` the estimators record, while training, the
norm of the gradient of every Linear layer's weight matrix
(:class:`GradientNormRecorder`), measure after training which hidden units
are dead (:func:`dead_unit_fractions`) and warn when the figures show one
of the classic failures of deep networks (:func:`check_gradient_health`).

The thresholds of the check, on the epochs of one call to ``fit``:

=====================  ========================================================
exploding              a layer's epoch-mean gradient norm grows above
                       ``EXPLODING_GROWTH`` (1e3) times its first epoch's or
                       is not finite, or the input layer's mean norm (over
                       the epochs) is above ``EXPLODING_RATIO`` (1e3) times
                       the output layer's
vanishing              the input layer's mean norm is below
                       ``VANISHING_RATIO`` (1e-3) times the output layer's
mostly dead            more than ``DEAD_FRACTION`` (0.5) of a hidden layer's
                       units are dead (see :func:`dead_unit_fractions`)
=====================  ========================================================

"Input layer" is the lowest layer that trained: frozen layers are skipped.
"""

import math

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

from ._compat import tensor_norms
from ._engine.inference import evaluation_mode, row_chunks
from ._warnings import warn
from .exceptions import GradientHealthWarning

# The gradient of the input layer this many times smaller than the output
# layer's: the lower layers barely learn (vanishing gradients).
VANISHING_RATIO = 1e-3
# ... this many times larger: gradients grow toward the input (exploding).
EXPLODING_RATIO = 1e3
# A layer's epoch-mean gradient norm this many times its first epoch's.
EXPLODING_GROWTH = 1e3
# A hidden layer with more than this fraction of dead units.
DEAD_FRACTION = 0.5
# Training rows on which dead units are looked for.
DEAD_UNIT_ROWS = 1000

RECORDER_NAME = "gradient_norms"

_INIT_REMEDIES = (
    "He initialization with a ReLU-family activation (activation='relu' or "
    "'leaky_relu', initializer='he_uniform'), or activation='selu' with LeCun "
    "initialization (initializer='lecun_normal')"
)


class GradientNormRecorder(Callback):
    """Record the mean gradient norm of each Linear layer's weights per epoch.

    After every backward pass (before gradient clipping and the optimizer
    step) the L2 norm of each weight matrix's gradient is taken, input
    layer first, output layer last; at the end of the epoch their means
    over the epoch's batches go to ``history[-1]["gradient_norms"]``.
    It is the gradient of the data loss: the part that the ``l1`` and
    ``l2`` penalties add (``l1 * sign(W) + 2 * l2 * W``, which no layer
    passes on to the one below) is taken out, as it would otherwise hide
    a vanishing gradient under the weight decay. A non-finite norm is
    recorded as ``inf``; a frozen layer (no gradient) as NaN. The norms
    stay on the device until the epoch ends, so recording costs no
    synchronization per batch. In an ensemble, a layer's norm is taken
    over every member's weights of that layer (the ratios between layers,
    which the warnings read, are those of a typical member).
    """

    reads_batch = False  # (see SkorchConventions.notify)

    def on_train_begin(self, net, **kwargs):
        self._weights = [layer.weight for layer in net.module_.linear_layers()]
        self._batches = []

    def on_epoch_begin(self, net, **kwargs):
        self._batches = []

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if not training:
            return
        trained = [w for w in self._weights if w.grad is not None]
        l1, l2 = getattr(net, "l1", 0.0), getattr(net, "l2", 0.0)
        with torch.no_grad():
            grads = [w.grad for w in trained]
            if l2:
                grads = [g - (2 * l2) * w for g, w in zip(grads, trained, strict=True)]
            if l1:
                grads = [g - l1 * w.sign() for g, w in zip(grads, trained, strict=True)]
            norms = tensor_norms(grads)
        if len(trained) < len(self._weights):  # frozen: -1 here, NaN in the history
            found = iter(norms)
            norms = [
                next(found) if w.grad is not None else w.new_full((), -1.0).detach()
                for w in self._weights
            ]
        self._batches.append(torch.stack(norms))

    def on_epoch_end(self, net, **kwargs):
        if not self._batches:
            return
        means = torch.stack(self._batches).to(torch.float64).mean(dim=0).tolist()
        net.history.record(
            RECORDER_NAME,
            [math.nan if m < 0 else (m if math.isfinite(m) else math.inf) for m in means],
        )
        self._batches = []

    def on_train_end(self, net, **kwargs):
        # Callbacks are pickled apart from the module (skorch saves the module
        # with torch.save): references to its weights would store them twice.
        self._weights = None


def gradient_norm_table(history, n_layers):
    """The recorded gradient norms as an array of shape ``(n_epochs, n_layers)``.

    Epochs trained without the recorder (a warm start that switched
    diagnostics on) are rows of NaN.
    """
    rows = [epoch.get(RECORDER_NAME, [math.nan] * n_layers) for epoch in history]
    return np.array(rows, dtype=np.float64).reshape(len(rows), n_layers)


def dead_unit_fractions(module, X, max_rows=DEAD_UNIT_ROWS):
    """Fraction of dead units in each hidden layer of ``module``.

    A unit is dead when the derivative of its activation with respect to
    its pre-activation (the output of its Linear layer, after batch
    normalization) is exactly zero on every sampled row: no gradient
    reaches its incoming weights, so it cannot learn. For ReLU that is a
    pre-activation <= 0 on every row; LeakyReLU units are never dead
    (their slope is at least 0.01), nor in practice are ELU and SELU
    units; a sigmoid or tanh unit is dead when it is saturated to its
    limit (to the last bit of the float) on every row. The activation's derivative is read off by
    back-propagating a random projection of its output (one random
    weight per unit, so activations that are not elementwise, such as a
    softmax, are served too).

    Parameters
    ----------
    module : MLP
        The network, used in evaluation mode (no dropout, batch
        normalization with its running statistics); left unchanged.
    X : torch.Tensor or SparseRows of shape (n_rows, n_features)
        Training rows; at most ``max_rows`` of them, evenly spaced, are
        used, densified a chunk at a time within the inference budget
        (:func:`~sklearn_dnn._engine.inference.row_chunks`).
    max_rows : int, default=1000

    Returns
    -------
    fractions : ndarray of shape (n_hidden_layers,)
        In an ensemble, over the units of every member (each member's unit
        is dead or not on its own).
    """
    rows = torch.as_tensor(np.linspace(0, len(X) - 1, min(len(X), max_rows)).round())
    generator = torch.Generator().manual_seed(0)
    projections, alive = [], []  # per hidden layer: drawn once; units alive on some row
    with evaluation_mode(module):
        for h in row_chunks(X, rows.long().to(X.device)):  # a wide sparse X: a few at a time
            with torch.no_grad():
                h = module.member_inputs(h)  # the input stage (not a hidden block)
            for i, block in enumerate(module.hidden):
                # Evaluation mode: the dropout that may follow the activation is the identity.
                pre, activation = (nn.Sequential(*parts) for parts in block.split("activation"))
                with torch.no_grad():
                    z = pre(h)
                z.requires_grad_(True)
                with torch.enable_grad():
                    a = activation(z)
                    if i == len(projections):
                        projections.append(
                            torch.randn(a.shape[-1:], generator=generator, dtype=a.dtype)
                        )
                    projection = projections[i].to(a.device)
                    (slope,) = torch.autograd.grad((a * projection).sum(), z)
                # Rows are the second-to-last axis (an ensemble's are (members, rows, units)).
                chunk_alive = (slope != 0).any(dim=-2)
                if i == len(alive):
                    alive.append(chunk_alive)
                else:
                    alive[i] |= chunk_alive
                h = a.detach()
    fractions = [(~units).double().mean().item() for units in alive]
    return np.array(fractions, dtype=np.float64)


def _layer_name(index, n_layers):
    where = {0: " (the input layer)", n_layers - 1: " (the output layer)"}
    return f"Linear layer {index + 1} of {n_layers}{where.get(index, '')}"


def gradient_health_problems(gradient_norms, dead_units, learning_rate):
    """Describe what is wrong with the gradients of a fit, one message per problem.

    Parameters
    ----------
    gradient_norms : ndarray of shape (n_epochs, n_linear_layers)
        The epochs of one fit (see :func:`gradient_norm_table`).
    dead_units : ndarray of shape (n_hidden_layers,)
    learning_rate : float
        Named in the remedies.

    Returns
    -------
    problems : list of str
        Empty when the gradients are healthy.
    """
    problems = []
    norms = np.asarray(gradient_norms, dtype=np.float64)
    n_layers = norms.shape[1]
    trained = [j for j in range(n_layers) if not np.isnan(norms[:, j]).all()]
    lower_lr = f"a lower learning_rate (it is {learning_rate})"

    for j in trained:
        column = norms[~np.isnan(norms[:, j]), j]
        infinite = np.flatnonzero(~np.isfinite(column))
        growth = column / column[0] if column[0] > 0 else np.ones_like(column)
        grown = np.flatnonzero(growth > EXPLODING_GROWTH)
        if infinite.size:
            what = f"became infinite (or NaN) in epoch {infinite[0] + 1} of this fit"
        elif grown.size:
            e = grown[0]
            what = (
                f"grew to {column[e]:.3g} in epoch {e + 1} of this fit, "
                f"{growth[e]:.3g} times its first epoch's {column[0]:.3g}"
            )
        else:
            continue
        problems.append(
            f"Gradients explode: the mean gradient norm of {_layer_name(j, n_layers)} "
            f"{what}. Remedies: gradient clipping (clip_grad_norm=1.0), {lower_lr}, "
            f"batch normalization (batchnorm=True), {_INIT_REMEDIES}."
        )
        break

    if len(trained) >= 2 and not problems:
        low, top = trained[0], trained[-1]
        means = np.nanmean(norms[:, [low, top]], axis=0)
        ratio = means[0] / means[1] if means[1] > 0 else math.inf
        if ratio < VANISHING_RATIO:
            problems.append(
                f"Gradients vanish toward the input: the mean gradient norm of "
                f"{_layer_name(low, n_layers)} is {ratio:.2g} times that of "
                f"{_layer_name(top, n_layers)}, so the lower layers barely learn. "
                f"Remedies: {_INIT_REMEDIES}, batch normalization (batchnorm=True)."
            )
        elif ratio > EXPLODING_RATIO:
            problems.append(
                f"Gradients explode toward the input: the mean gradient norm of "
                f"{_layer_name(low, n_layers)} is {ratio:.3g} times that of "
                f"{_layer_name(top, n_layers)}. Remedies: {_INIT_REMEDIES}, batch "
                f"normalization (batchnorm=True), gradient clipping "
                f"(clip_grad_norm=1.0), {lower_lr}."
            )

    for k, fraction in enumerate(dead_units):
        if fraction > DEAD_FRACTION:
            problems.append(
                f"Hidden layer {k + 1} of {len(dead_units)} is mostly dead: "
                f"{fraction:.0%} of its units have a zero activation gradient on every "
                "sampled training row, so they no longer learn. Remedies: a leaky "
                "activation (activation='leaky_relu', 'elu' or 'selu'), He "
                "initialization (initializer='he_uniform'), batch normalization "
                f"(batchnorm=True), {lower_lr}."
            )
    return problems


def check_gradient_health(gradient_norms, dead_units, learning_rate):
    """Emit a :class:`GradientHealthWarning` for each problem found.

    See :func:`gradient_health_problems` for the arguments.
    """
    for problem in gradient_health_problems(gradient_norms, dead_units, learning_rate):
        warn(problem, GradientHealthWarning)
