"""Checks with clear messages: of hyperparameters, and of a finished training run."""

import difflib
import inspect
import math
import os
import warnings
from numbers import Integral

import joblib
import numpy as np
import sklearn
import torch
from torch import nn

from ._activations import make_activation
from ._params import string_options
from .exceptions import DivergenceWarning

# Frames in these folders are never blamed for a warning: ours, and the
# scikit-learn and joblib machinery (Pipeline, search, parallel workers)
# between the user's line and our code.
_INTERNAL_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sklearn, joblib)
) + (os.path.dirname(__file__) + os.sep,)


def warn(message, category):
    """``warnings.warn`` attributed to the user's line.

    The warning points at the first frame outside sklearn-dnn,
    scikit-learn and joblib: the user's ``fit`` call, also through a
    Pipeline or a search.
    """
    frame = inspect.currentframe().f_back
    level = 2  # the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL_DIRS):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


# When a training loss has gone wrong: one rule, read by DivergenceGuard
# during training and by warn_if_unstable after it. Its reference is the
# training loss of the network's first epoch (of its first fit, when a warm
# start or partial_fit continues it), about the loss of the untrained
# network, which a working fit only lowers.
# - An epoch whose training loss is not finite, or above DIVERGED_FACTOR
#   times the reference, has diverged: the fit fails with a
#   TrainingDivergedError and the estimator stays as it was. (A regression
#   loss 1e4 times the untrained one is 100 target standard deviations off;
#   a log-loss of 1e4 has logits in the thousands: no such model is usable.)
# - A fit whose training loss went above EXPLOSION_FACTOR times the
#   reference, or ended above its own first epoch's, gets a DivergenceWarning.
EXPLOSION_FACTOR = 100.0
DIVERGED_FACTOR = 1e4


def did_you_mean(estimator):
    """A "Did you mean ...?" hint for a misspelt option name, or None.

    The options are read from the estimator's ``_parameter_constraints``
    (its ``StrOptions``), the same sets that validation checks against.
    """
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name)
        options = string_options(constraints)
        if isinstance(value, str) and options and value not in options:
            close = difflib.get_close_matches(value.lower(), options, n=1)
            if close:
                return f"Did you mean {name}={close[0]!r}?"
    return None


def check_param_details(estimator):
    """Checks of the hyperparameters that their declared constraints cannot state."""
    sizes = np.atleast_1d(estimator.hidden_layer_sizes)
    if sizes.ndim != 1 or (sizes.size and not np.issubdtype(sizes.dtype, np.integer)):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive integers; got "
            f"{estimator.hidden_layer_sizes!r}."
        )
    if np.any(sizes < 1):
        raise ValueError(
            f"hidden_layer_sizes must hold positive widths; got {estimator.hidden_layer_sizes!r}."
        )
    if isinstance(estimator.activation, type) and not issubclass(estimator.activation, nn.Module):
        raise ValueError(
            f"activation must be a name, a torch.nn.Module instance or a "
            f"torch.nn.Module subclass; got the class {estimator.activation!r}."
        )
    _check_activation(estimator.activation)
    if estimator.schedule == "plateau" and estimator.decay_rate >= 1:
        raise ValueError(
            "schedule='plateau' multiplies the learning rate by decay_rate when the "
            f"loss stops improving, so decay_rate must be below 1; got {estimator.decay_rate}."
        )
    if isinstance(estimator.optimizer, type) and not issubclass(
        estimator.optimizer, torch.optim.Optimizer
    ):
        raise ValueError(
            f"optimizer must be a name or a torch.optim.Optimizer subclass; "
            f"got the class {estimator.optimizer!r}."
        )
    if estimator.pretrained is None and (
        estimator.n_frozen is not None or estimator.unfreeze_after is not None
    ):
        raise ValueError(
            "n_frozen and unfreeze_after apply to reused layers: build the "
            "estimator with from_pretrained(source, ...)."
        )
    if (
        estimator.pretrained is not None
        and (estimator.n_frozen or 0) > estimator.pretrained.n_layers
    ):
        raise ValueError(
            f"n_frozen={estimator.n_frozen}, but the source has only "
            f"{estimator.pretrained.n_layers} hidden layers to freeze."
        )
    if estimator.pretrained is not None:
        estimator.pretrained.check_architecture(estimator)
    if isinstance(estimator.decay_steps, tuple):
        if estimator.schedule != "step":
            raise ValueError(
                "decay_steps may be a tuple of epochs only with schedule='step'; "
                f"got decay_steps={estimator.decay_steps!r} with schedule={estimator.schedule!r}."
            )
        if not all(isinstance(s, Integral) and s >= 1 for s in estimator.decay_steps):
            raise ValueError(
                f"decay_steps must hold positive epoch numbers; got {estimator.decay_steps!r}."
            )


def _check_activation(activation):
    """An activation must build without arguments and keep the shape of its input."""
    if isinstance(activation, str):
        return
    try:
        module = make_activation(activation)
        probe = torch.zeros(2, 3)
        with torch.no_grad():
            out = module(probe)
    except Exception as exc:  # noqa: BLE001 - any failure means it is unusable here
        raise ValueError(
            f"activation={activation!r} cannot serve as an activation: building it and "
            f"applying it to a (2, 3) batch failed with {type(exc).__name__}: {exc}. "
            "Give an elementwise torch.nn.Module (for example torch.nn.LeakyReLU(0.2)) "
            "or a class that takes no arguments."
        ) from None
    if not isinstance(out, torch.Tensor) or out.shape != probe.shape:
        raise ValueError(
            f"activation={activation!r} must keep the shape of its input (an elementwise "
            f"function); a (2, 3) batch came out as {getattr(out, 'shape', type(out))}."
        )


def divergence(loss, reference):
    """How an epoch's training loss ``loss`` diverged, or None (see ``DIVERGED_FACTOR``).

    ``reference`` is the network's first epoch's training loss.
    """
    if not math.isfinite(loss):
        return f"became {loss}"
    if 0 < reference and loss > DIVERGED_FACTOR * reference:
        return (
            f"grew to {loss:.3g}, over {DIVERGED_FACTOR:g} times the first epoch's {reference:.3g}"
        )
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
    if losses[worst] > EXPLOSION_FACTOR * reference:
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
