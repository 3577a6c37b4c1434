"""Activation functions: the name -> module factory table.

Every entry builds a fresh ``torch.nn.Module``; a layer never shares its
activation (``PReLU`` has learnable weights) with another layer.
"""

import copy
from functools import partial

from torch import nn

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": partial(nn.LeakyReLU, 0.01),
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
}

# The named activations that are elementwise and have no parameters: an
# ensemble applies them to all its members' activations at once.
ELEMENTWISE_ACTIVATIONS = tuple(
    type(factory()) for name, factory in ACTIVATIONS.items() if name != "prelu"
)

# Activations for which He initialization keeps the variance of the signal
# (the ReLU family); SELU needs LeCun; the rest (sigmoid, tanh) Glorot.
RELU_FAMILY = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish)


def make_activation(activation):
    """Return a new activation module for ``activation``.

    Parameters
    ----------
    activation : str, torch.nn.Module instance or subclass
        A key of :data:`ACTIVATIONS`, a module instance (deep-copied, so
        its parameters are never shared) or a module class (instantiated
        without arguments).
    """
    if isinstance(activation, str):
        return ACTIVATIONS[activation]()
    if isinstance(activation, nn.Module):
        return copy.deepcopy(activation)
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    raise ValueError(
        "activation must be one of "
        f"{sorted(ACTIVATIONS)}, a torch.nn.Module instance or a torch.nn.Module "
        f"subclass; got {activation!r}."
    )


def activation_name(module):
    """The key of :data:`ACTIVATIONS` whose entry builds ``module``, or None.

    Found by type, then by the settings (``negative_slope``, ``alpha``,
    ``approximate``...), which must be the entry's: a ``LeakyReLU(0.2)``
    has no name. Learned weights (``PReLU``'s) do not count.
    """
    for name, factory in ACTIVATIONS.items():
        entry = factory()
        if type(module) is type(entry) and activation_settings(module) == activation_settings(
            entry
        ):
            return name
    return None


def activation_settings(module):
    """A module's own public attributes: its settings (not its parameters or children)."""
    return {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "training"}


def activation_family(module):
    """Name the initialization family that suits an activation module.

    Returns ``"he"`` for the ReLU family, ``"lecun"`` for SELU and
    ``"glorot"`` otherwise.
    """
    if isinstance(module, nn.SELU):
        return "lecun"
    if isinstance(module, RELU_FAMILY):
        return "he"
    return "glorot"
