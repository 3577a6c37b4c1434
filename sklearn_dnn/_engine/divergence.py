"""When a training loss has gone wrong: one rule, for the fit's guard and its warning."""

import math

import numpy as np

from .._warnings import warn
from ..exceptions import DivergenceWarning

# When a training loss has gone wrong: one rule, read by DivergenceGuard
# during training and by warn_if_unstable after it. Its reference is the
# training loss of the network's first epoch (of its first fit, when a warm
# start or partial_fit continues it), about the loss of the untrained
# network, which a working fit only lowers, and never below MIN_REFERENCE.
# - An epoch whose training loss is not finite, or above DIVERGED_FACTOR
#   times the reference, has diverged: the fit fails with a
#   TrainingDivergedError and the estimator stays as it was. (A regression
#   loss 1e4 times the untrained one is 100 target standard deviations off;
#   a log-loss of 1e4 has logits in the thousands: no such model is usable.)
# - A fit whose training loss went above EXPLOSION_FACTOR times the
#   reference, or ended above its own first epoch's, gets a DivergenceWarning.
EXPLOSION_FACTOR = 100.0
DIVERGED_FACTOR = 1e4
# The reference is never below the loss of a network that predicts a
# constant: the targets are standardized (mean squared error 1) and a
# log-loss starts near log(n_classes) >= 0.69. A first epoch that starts
# almost exactly right (one row whose standardized target the untrained
# output nearly hits: a loss of 4e-8) would otherwise turn ordinary
# training noise (0.006) into "divergence".
MIN_REFERENCE = 1.0


def _reference(first):
    """The loss the factors multiply, and how the messages name it."""
    if first >= MIN_REFERENCE:
        return first, f"the first epoch's {first:.3g}"
    return MIN_REFERENCE, (
        f"the loss scale of an untrained network, {MIN_REFERENCE:g} (the first epoch's "
        f"{first:.3g} is below it)"
    )


def divergence(loss, reference):
    """How an epoch's training loss ``loss`` diverged, or None (see ``DIVERGED_FACTOR``).

    ``reference`` is the network's first epoch's training loss.
    """
    if not math.isfinite(loss):
        return f"became {loss}"
    scale, named = _reference(reference)
    if loss > DIVERGED_FACTOR * scale:
        return f"grew to {loss:.3g}, over {DIVERGED_FACTOR:g} times {named}"
    return None


def warn_if_unstable(history, n_before, learning_rate):
    """Warn when this fit's training loss exploded or ended above its start.

    This fit's epochs are those of ``history`` after the first
    ``n_before``. Exploded means above ``EXPLOSION_FACTOR`` times the
    network's first epoch's loss (see ``DIVERGED_FACTOR``).
    """
    reference = history[0]["train_loss"]
    losses = np.array([epoch["train_loss"] for epoch in history[n_before:]])
    worst = int(losses.argmax())
    if losses[worst] > EXPLOSION_FACTOR * _reference(reference)[0]:
        what = (
            f"exploded to {losses[worst]:.3g} in epoch {n_before + worst + 1} "
            f"(epoch 1: {reference:.3g})"
        )
    elif len(losses) > 1 and losses[-1] > losses[0]:
        what = f"ended at {losses[-1]:.3g}, above its first epoch's {losses[0]:.3g}"
    else:
        return
    warn(
        f"The training loss {what}: training was unstable. Lower "
        f"learning_rate (it is {learning_rate}), set clip_grad_norm, or "
        "scale the inputs (for example with sklearn.preprocessing.StandardScaler).",
        DivergenceWarning,
    )
