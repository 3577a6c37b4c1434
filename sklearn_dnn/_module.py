"""The multi-layer perceptron built by the estimators.

All of its randomness comes from ``torch.Generator`` objects that the
estimator owns (initialization from ``seed``, dropout masks from
:attr:`MLP.generator` while training, or from the caller's generator in
:func:`forward_with_dropout`): nothing reads or advances torch's global
random state, so fits and sampling in several threads do not disturb each
other, and seeded results do not depend on what other threads do.
"""

import copy

import torch
from torch import nn

from ._activations import activation_family, make_activation
from ._compat import BATCHNORM_LAYERS
from ._initializers import initialize_weight

DROPOUT_LAYERS = (nn.Dropout, nn.AlphaDropout)

# The SELU constants behind AlphaDropout (Klambauer et al., 2017).
_SELU_ALPHA_PRIME = 1.7580993408473766


def apply_dropout(layer, x, generator):
    """``layer`` (a Dropout or AlphaDropout) applied to ``x`` with masks from ``generator``.

    The same transformation as torch's training-mode layers: kept units
    are scaled by ``1 / (1 - p)`` (Dropout), or dropped units set to the
    SELU saturation value and the result rescaled so that mean and
    variance are kept (AlphaDropout).
    """
    p = layer.p
    if p == 0:
        return x
    keep = 1.0 - p
    mask = torch.empty_like(x).bernoulli_(keep, generator=generator)
    if not isinstance(layer, nn.AlphaDropout):
        return x * mask.div_(keep)
    a = (keep * (1.0 + p * _SELU_ALPHA_PRIME**2)) ** -0.5
    return (x * mask) * a + (mask - keep) * (a * _SELU_ALPHA_PRIME)


def forward_with_dropout(module, X, generator):
    """``module(X)`` with dropout on, masks drawn from ``generator``.

    Every other layer runs in the mode the module is in; the module is
    not changed, so another thread may predict with it meanwhile.
    """
    h = X
    for block in module.hidden:
        for layer in block:
            h = (
                apply_dropout(layer, h, generator)
                if isinstance(layer, DROPOUT_LAYERS)
                else layer(h)
            )
    return module.output(h)


class MLP(nn.Module):
    """A stack of hidden blocks followed by a linear output layer.

    Each hidden block is ``Linear -> [BatchNorm1d] -> activation ->
    [Dropout]``, in ``self.hidden`` (a ``Sequential`` of ``Sequential``
    blocks); the output layer, ``self.output``, returns raw scores
    (logits for a classifier).

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden_layer_sizes : tuple of int
        Width of every hidden layer, input side first.
    n_outputs : int
        Width of the output layer.
    activation : str, torch.nn.Module instance or subclass
        See :func:`sklearn_dnn._activations.make_activation`.
    initializer : str or callable
        See :func:`sklearn_dnn._initializers.get_initializer`; applied to
        every hidden weight matrix. The output layer uses Glorot uniform.
    batchnorm : bool
        Add ``BatchNorm1d`` between each hidden Linear layer (which then
        has no bias) and its activation.
    dropout : float
        Dropout rate after every hidden activation; ``AlphaDropout`` when
        the activation is SELU, so self-normalization holds.
    dtype : torch.dtype
    pretrained : PretrainedLayers or None
        Hidden blocks to start from (copied) instead of new ones.
    n_frozen : int
        Hidden blocks, input side first, that start frozen.
    seed : int
        Seeds the initialization of the new weights.

    Attributes
    ----------
    generator : torch.Generator or None
        Draws the dropout masks while the module trains; None (the
        default) uses torch's own dropout and global generator.
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        n_outputs,
        activation="relu",
        initializer="auto",
        batchnorm=False,
        dropout=0.0,
        dtype=torch.float32,
        pretrained=None,
        n_frozen=0,
        seed=0,
    ):
        super().__init__()
        init_generator = torch.Generator().manual_seed(seed)
        if pretrained is None:
            self.hidden = _new_hidden_blocks(
                n_features,
                hidden_layer_sizes,
                activation,
                initializer,
                batchnorm,
                dropout,
                init_generator,
            )
            width_in = hidden_layer_sizes[-1] if len(hidden_layer_sizes) else n_features
        else:
            self.hidden = copy.deepcopy(pretrained.blocks)
            width_in = pretrained.output_width
        self.output = _empty_linear(width_in, n_outputs, bias=True)
        nn.init.xavier_uniform_(self.output.weight, generator=init_generator)
        nn.init.zeros_(self.output.bias)
        self.to(dtype)
        self.generator = None
        self.n_frozen = 0
        self.set_frozen(n_frozen)

    def set_frozen(self, n_frozen):
        """Freeze the first ``n_frozen`` hidden blocks and release the others.

        Frozen parameters get no gradient, and frozen batch normalization
        stays in evaluation mode (keeps its running statistics) even while
        the network trains.
        """
        self.n_frozen = n_frozen
        for i, block in enumerate(self.hidden):
            block.requires_grad_(i >= n_frozen)
        self._set_modes(self.training)

    def _set_modes(self, mode):
        super().train(mode)
        for block in self.hidden[: self.n_frozen]:
            for layer in block.modules():
                if isinstance(layer, BATCHNORM_LAYERS):
                    layer.eval()

    def train(self, mode=True):
        # skorch sets the mode before every batch; walking the module tree
        # only when the mode changes keeps that off a small network's step.
        if mode != self.training:
            self._set_modes(mode)
        return self

    def forward(self, X):
        if self.training and self.generator is not None:
            return forward_with_dropout(self, X, self.generator)
        return self.output(self.hidden(X))

    def linear_layers(self):
        """All Linear layers, input side first, the output layer last."""
        return [m for m in self.modules() if isinstance(m, nn.Linear)]

    def dropout_rates(self):
        """The rate of every dropout layer (empty without dropout)."""
        return [m.p for m in self.modules() if isinstance(m, DROPOUT_LAYERS)]


def _empty_linear(width_in, width_out, bias):
    """A Linear layer whose weights are left for the caller to initialize.

    Built on the meta device, so that torch's own initialization, which
    draws from the global generator, never runs.
    """
    return nn.Linear(width_in, width_out, bias=bias, device="meta").to_empty(device="cpu")


def _new_hidden_blocks(
    n_features, hidden_layer_sizes, activation, initializer, batchnorm, dropout, generator
):
    """``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` for every hidden width."""
    blocks = []
    width_in = n_features
    for width in hidden_layer_sizes:
        act = make_activation(activation)
        linear = _empty_linear(width_in, width, bias=not batchnorm)
        initialize_weight(linear.weight, initializer, activation_family(act), generator)
        if linear.bias is not None:
            nn.init.zeros_(linear.bias)
        layers = [linear]
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(act)
        if dropout > 0:
            alpha = isinstance(act, nn.SELU)
            layers.append(nn.AlphaDropout(dropout) if alpha else nn.Dropout(dropout))
        blocks.append(nn.Sequential(*layers))
        width_in = width
    return nn.Sequential(*blocks)
