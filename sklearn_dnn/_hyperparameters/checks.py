"""Checks of hyperparameters that their declared constraints cannot state, and "did you mean"."""

import difflib
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from .._engine.groups import check_lr_factors
from .._nn.activations import make_activation
from .constraints import string_options
from .foreign import value_hint


def did_you_mean(estimator):
    """A "Did you mean ...?" hint for a misspelt option name, or None.

    The options are read from the estimator's ``_parameter_constraints``
    (its ``StrOptions``), the same sets that validation checks against;
    another library's value (``activation="logistic"``) is named first.
    """
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name)
        foreign = value_hint(name, value)
        if foreign is not None:
            return foreign
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
    _check_betas(estimator.betas)
    check_lr_factors(estimator.lr_factors)
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


def _check_betas(betas):
    """Two numbers, each in [0, 1)."""
    values = list(betas) if isinstance(betas, (tuple, list, np.ndarray)) else None
    if values is None or len(values) != 2 or not all(_unit_interval(b) for b in values):
        raise ValueError(
            f"betas must be a tuple of two floats, each in [0, 1) (beta1, beta2 of the Adam "
            f"family); got {betas!r}."
        )


def _unit_interval(value):
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and 0 <= value < 1


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
