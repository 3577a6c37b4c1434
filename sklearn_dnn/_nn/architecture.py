"""The architecture of a network: one frozen description, compared for warm starts.

:class:`Architecture` is built once per fit, in the prepare phase, from the
hyperparameters (:meth:`Architecture.from_settings`) or, for an estimator
that reuses pretrained layers, from the layers themselves (asked by type).
The same object builds the network (:meth:`Architecture.module_kwargs`),
is stored on the fitted estimator (``_architecture_``) and is compared
with the next fit's when a warm start continues the network
(:func:`check_warm_start`): the weights cannot follow a change of any of
:data:`ARCHITECTURE_SETTINGS`, which a warm start refuses by name (and the
docs list, generated from it).

Values are compared as what they build: ``[8]``, ``8`` and ``(8,)`` are
one ``hidden_layer_sizes``; ``"relu"``, ``torch.nn.ReLU`` and
``torch.nn.ReLU()`` are one :class:`Activation`.
"""

import copy
from dataclasses import dataclass, fields, replace

import numpy as np
from torch import nn

from .activations import activation_settings, make_activation
from .heads import VARIANCE_LOSSES


class Activation:
    """An activation as the user gave it, compared as the function it makes.

    Two activations are equal when the modules they build are of the same
    class with the same settings and weights: ``"relu"``,
    ``torch.nn.ReLU`` and ``torch.nn.ReLU()`` are one activation;
    ``LeakyReLU(0.2)`` and another ``LeakyReLU(0.2)`` too. A module is
    copied, so that a later change of the user's object in place is seen.

    >>> from torch import nn
    >>> Activation("relu") == Activation(nn.ReLU) == Activation(nn.ReLU())
    True
    >>> Activation(nn.LeakyReLU(0.2)) == Activation("leaky_relu")
    False
    """

    def __init__(self, value):
        self.value = copy.deepcopy(value) if isinstance(value, nn.Module) else value

    def _key(self, weights=True):
        module = make_activation(self.value)
        settings = activation_settings(module)
        state = {k: v.tolist() for k, v in module.state_dict().items()} if weights else None
        return type(module), settings, state

    def same_kind(self, other):
        """Whether both are the same function up to their weights (a trained PReLU's slope)."""
        return _equal(lambda: self._key(weights=False) == other._key(weights=False))

    def __eq__(self, other):
        if not isinstance(other, Activation):
            return NotImplemented
        return self.value is other.value or _equal(lambda: self._key() == other._key())

    __hash__ = None

    def __repr__(self):
        return repr(self.value)


def _equal(compare):
    try:
        return bool(compare())
    except (TypeError, ValueError, RuntimeError):  # modules without __eq__, tensors
        return False


def hidden_sizes(value):
    """``hidden_layer_sizes`` as a tuple of ints (``8``, ``[8]`` and ``(8,)`` are ``(8,)``)."""
    return tuple(int(s) for s in np.atleast_1d(value))


@dataclass(frozen=True)
class Architecture:
    """What the weights of a network depend on; a warm start cannot change it.

    The fields up to ``loss`` are hyperparameters
    (:data:`ARCHITECTURE_SETTINGS`); ``n_features`` and ``n_outputs``
    come from the data (:meth:`sized`), and are checked against it by
    their own errors. ``loss`` is a regressor's (its head predicts a
    value, or a mean and a variance); None for a classifier, whose loss
    is its task's.
    """

    hidden_layer_sizes: tuple
    activation: Activation
    initializer: object  # a name of INITIALIZERS, "auto", or a callable
    batchnorm: bool
    ensemble_size: int
    # Defaults, so an Architecture pickled before them reads the old network's.
    parametric_activation: bool = False
    parametrization: str = "standard"  # of the Linear layers: "standard" or "ntk"
    pretrained: object = None  # PretrainedLayers, the same object or another one
    loss: str | None = None  # a regressor's: "squared_error", or a variance head's loss
    numeric_embedding: str | None = None  # None, "periodic" or "piecewise" (_nn/inputs.py)
    embedding_size: int = 16
    feature_scaling: bool = False
    n_features: int | None = None
    n_outputs: int | None = None

    @classmethod
    def from_settings(cls, settings):
        """The architecture that the hyperparameters in ``settings`` (an estimator) describe.

        With reused layers (``pretrained``), their widths, activation (and
        whether it is parametric), parametrization and batch normalization
        are read from the layers.
        """
        pretrained = settings.pretrained
        if pretrained is not None:
            described = pretrained.architecture()
            return cls(
                hidden_layer_sizes=described["hidden_layer_sizes"],
                activation=Activation(described["activation"]),
                initializer=settings.initializer,
                batchnorm=described["batchnorm"],
                ensemble_size=int(settings.ensemble_size),
                parametric_activation=described["parametric_activation"],
                parametrization=described["parametrization"],
                pretrained=pretrained,
                loss=getattr(settings, "loss", None),
                **_input_settings(settings),
            )
        return cls(
            hidden_layer_sizes=hidden_sizes(settings.hidden_layer_sizes),
            activation=Activation(settings.activation),
            initializer=settings.initializer,
            batchnorm=bool(settings.batchnorm),
            ensemble_size=int(settings.ensemble_size),
            parametric_activation=bool(settings.parametric_activation),
            parametrization=settings.parametrization,
            loss=getattr(settings, "loss", None),
            **_input_settings(settings),
        )

    @classmethod
    def from_fitted_settings(cls, fitted, n_features=None):
        """The architecture of a model pickled by 0.1, from its ``_fitted_architecture`` dict."""
        return cls(
            hidden_layer_sizes=hidden_sizes(fitted["hidden_layer_sizes"]),
            activation=Activation(fitted["activation"]),
            initializer=fitted["initializer"],
            batchnorm=bool(fitted["batchnorm"]),
            ensemble_size=int(fitted.get("ensemble_size", 1)),
            pretrained=fitted.get("pretrained"),
            n_features=n_features,
        )

    def sized(self, n_features, n_outputs):
        """This architecture for ``n_features`` inputs and ``n_outputs`` outputs."""
        return replace(self, n_features=int(n_features), n_outputs=int(n_outputs))

    def changed_settings(self, other):
        """The names of the settings (:data:`ARCHITECTURE_SETTINGS`) that differ in ``other``."""
        return [
            name
            for name in ARCHITECTURE_SETTINGS
            if not _same(getattr(self, name), getattr(other, name))
        ]

    def module_kwargs(self):
        """The arguments of :class:`~sklearn_dnn._nn.mlp.MLP` that this architecture gives."""
        return {
            "n_features": self.n_features,
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "n_outputs": self.n_outputs,
            "activation": self.activation.value,
            "initializer": self.initializer,
            "batchnorm": self.batchnorm,
            "pretrained": self.pretrained,
            "ensemble_size": self.ensemble_size,
            "variance_head": self.loss in VARIANCE_LOSSES,
            "parametric_activation": self.parametric_activation,
            "parametrization": self.parametrization,
            "numeric_embedding": self.numeric_embedding,
            "embedding_size": self.embedding_size,
            "feature_scaling": self.feature_scaling,
        }

    def input_settings(self):
        """The input stage's settings: ``numeric_embedding``, ``embedding_size``,
        ``feature_scaling`` (see :func:`sklearn_dnn._inputs.InputDescription.encoded_width`)."""
        return {name: getattr(self, name) for name in INPUT_SETTINGS}


# The architecture settings of the input stage (sklearn_dnn/_nn/inputs.py).
INPUT_SETTINGS = ("numeric_embedding", "embedding_size", "feature_scaling")


def _input_settings(settings):
    """The input stage's architecture settings of an estimator's hyperparameters."""
    return {
        "numeric_embedding": settings.numeric_embedding,
        "embedding_size": int(settings.embedding_size),
        "feature_scaling": bool(settings.feature_scaling),
    }


def _same(a, b):
    return a is b or _equal(lambda: a == b)


# The hyperparameters that make up the architecture: a warm start refuses a
# change of any of them.
ARCHITECTURE_SETTINGS = tuple(
    f.name for f in fields(Architecture) if f.name not in ("n_features", "n_outputs")
)


def check_warm_start(fitted, now, given):
    """Raise a ValueError naming every architecture setting changed since the fit.

    ``fitted`` and ``now`` are :class:`Architecture` objects; ``given``
    maps each setting to the value the user gave now, which the message
    shows.
    """
    changed = [
        f"{name} (fitted with {getattr(fitted, name)!r}, now {given[name]!r})"
        for name in fitted.changed_settings(now)
    ]
    if changed:
        raise ValueError(
            "warm_start=True continues training the fitted network, whose architecture "
            f"cannot change; changed: {', '.join(changed)}. Set them back, or set "
            "warm_start=False to train a new network."
        )
