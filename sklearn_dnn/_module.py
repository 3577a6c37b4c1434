"""The multi-layer perceptron built by the estimators."""

import copy

import torch
from torch import nn

from ._activations import activation_family, make_activation
from ._initializers import get_initializer


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
    ):
        super().__init__()
        if pretrained is None:
            self.hidden = _new_hidden_blocks(
                n_features, hidden_layer_sizes, activation, initializer, batchnorm, dropout
            )
            width_in = hidden_layer_sizes[-1] if len(hidden_layer_sizes) else n_features
        else:
            self.hidden = copy.deepcopy(pretrained.blocks)
            width_in = pretrained.output_width
        self.output = nn.Linear(width_in, n_outputs)
        nn.init.xavier_uniform_(self.output.weight)
        nn.init.zeros_(self.output.bias)
        self.to(dtype)
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
        self.train(self.training)

    def train(self, mode=True):
        super().train(mode)
        for block in self.hidden[: self.n_frozen]:
            for layer in block.modules():
                if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                    layer.eval()
        return self

    def forward(self, X):
        return self.output(self.hidden(X))

    def linear_layers(self):
        """All Linear layers, input side first, the output layer last."""
        return [m for m in self.modules() if isinstance(m, nn.Linear)]


def _new_hidden_blocks(n_features, hidden_layer_sizes, activation, initializer, batchnorm, dropout):
    """``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` for every hidden width."""
    blocks = []
    width_in = n_features
    for width in hidden_layer_sizes:
        act = make_activation(activation)
        linear = nn.Linear(width_in, width, bias=not batchnorm)
        get_initializer(initializer, activation_family(act))(linear.weight)
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
