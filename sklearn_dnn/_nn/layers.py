"""The layers of an ensemble: every member's weights stacked on a leading axis.

An ensemble of ``ensemble_size`` networks is one :class:`~sklearn_dnn._nn.mlp.MLP`
whose layers hold all members at once: :class:`EnsembleLinear` (one matrix
product, or one batched product, for every member), :class:`MemberBatchNorm`
(statistics per member and unit), :class:`MemberActivation` (an
activation with parameters, or a user's own, applied member by member) and
:class:`ParametricActivation` (a learned blend of the identity and an
activation, per member and unit). A plain network is the ensemble of one
member.

Every parameter is member-major: its first ``numel / members`` entries are
member 0's, and so on (:func:`member_rows`), which is all that per-member
clipping, max-norm and snapshots need.
"""

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .activations import ELEMENTWISE_ACTIVATIONS

# The parametrizations of a Linear layer's weights (see EnsembleLinear).
PARAMETRIZATIONS = ("standard", "ntk")


class EnsembleLinear(nn.Module):
    """The Linear layers of every member of an ensemble, with stacked weights.

    ``weight`` has shape (members, out_features, in_features) and ``bias``
    (members, out_features): member ``e``'s layer is an ``nn.Linear``
    with ``weight[e]`` and ``bias[e]``. One member is a plain Linear layer.

    The input is either 2-D, (rows, in_features), the same rows for every
    member (prediction, and the first layer then costs one matrix
    product), or 3-D, (members, rows, in_features), each member its own
    rows (one batched matrix product). The output is 2-D for one member
    and a 2-D input, and (members, rows, out_features) otherwise.

    With ``parametrization="ntk"`` (the NTK parametrization, Jacot et al.,
    2018, as RealMLP uses it) the layer multiplies its stored weights by
    ``scale = 1 / sqrt(in_features)`` in the forward pass: the stored
    weights are of order 1 whatever the width (an initializer's draw
    times ``sqrt(in_features)``, see :meth:`effective_to_raw_`), so that
    an optimizer's step of a given size changes a wide layer's output as
    much as a narrow one's. The bias is not scaled. ``scale`` is None for
    the standard parametrization (the class default: a layer pickled
    before parametrizations existed is a standard one), which then costs
    nothing. :attr:`effective_weight` is the weight the layer applies.
    """

    scale = None  # the NTK factor 1 / sqrt(in_features), or None (standard)

    def __init__(
        self, in_features, out_features, ensemble_size=1, bias=True, parametrization="standard"
    ):
        super().__init__()
        if parametrization not in PARAMETRIZATIONS:
            raise ValueError(
                f"parametrization must be one of {PARAMETRIZATIONS}; got {parametrization!r}."
            )
        self.in_features = in_features
        self.out_features = out_features
        self.ensemble_size = ensemble_size
        if parametrization == "ntk":
            self.scale = 1.0 / math.sqrt(in_features)
        # torch.empty: the caller initializes, so no global random draw happens here.
        self.weight = nn.Parameter(torch.empty(ensemble_size, out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.zeros(ensemble_size, out_features))
        else:
            self.register_parameter("bias", None)

    @classmethod
    def from_linear(cls, linear):
        """A one-member layer holding a copy of ``linear``'s (an ``nn.Linear``) weights."""
        layer = cls(linear.in_features, linear.out_features, 1, bias=linear.bias is not None)
        layer.to(linear.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(linear.weight.detach().cpu().unsqueeze(0))
            if linear.bias is not None:
                layer.bias.copy_(linear.bias.detach().cpu().unsqueeze(0))
        return layer

    @property
    def parametrization(self):
        """``"ntk"`` when the forward pass scales the weights, else ``"standard"``."""
        return "standard" if self.scale is None else "ntk"

    @property
    def effective_weight(self):
        """The weight the layer applies: ``weight``, times ``scale`` in the NTK parametrization."""
        return self.weight if self.scale is None else self.weight * self.scale

    def effective_to_raw_(self):
        """Turn weights just drawn as effective weights into stored ones (NTK: divide by scale).

        An initializer draws the weights the layer should apply; in the NTK
        parametrization they are stored ``sqrt(in_features)`` times larger,
        so the layer's function at initialization is the standard one's.
        """
        if self.scale is not None:
            with torch.no_grad():
                self.weight.div_(self.scale)
        return self

    def repeated(self, ensemble_size):
        """A layer of ``ensemble_size`` members, each a copy of this one-member layer."""
        layer = type(self)(
            self.in_features,
            self.out_features,
            ensemble_size,
            bias=self.bias is not None,
            parametrization=self.parametrization,
        ).to(self.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(self.weight.detach().expand_as(layer.weight))
            if self.bias is not None:
                layer.bias.copy_(self.bias.detach().expand_as(layer.bias))
        return layer

    def forward(self, h):
        members = self.ensemble_size
        weight = self.weight if self.scale is None else self.weight * self.scale
        if h.is_sparse:  # a training batch of a sparse X: one member's rows dense at a time
            out = _MemberProduct.apply(h, weight, self.bias)
            return out[0] if members == 1 and h.dim() == 2 else out
        if h.dim() == 2:  # the same rows for every member: one matrix product
            bias = self.bias
            if bias is not None and members > 1:  # one member's (1, out) bias broadcasts as it is
                bias = bias.reshape(-1)
            out = F.linear(h, weight.reshape(-1, self.in_features), bias)
            if members == 1:
                return out
            return out.view(len(h), members, self.out_features).transpose(0, 1)
        weight = weight.transpose(1, 2)
        if self.bias is None:
            return torch.bmm(h, weight)
        return torch.baddbmm(self.bias.unsqueeze(1), h, weight)

    def extra_repr(self):
        members = f", ensemble_size={self.ensemble_size}" if self.ensemble_size > 1 else ""
        ntk = ", parametrization='ntk'" if self.scale is not None else ""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}"
            f"{members}, bias={self.bias is not None}{ntk}"
        )


def _dense_rows(h, e):
    """Member ``e``'s rows of a sparse ``h`` (rows, in) or (members, rows, in), dense."""
    return (h if h.dim() == 2 else h[e]).to_dense()


class _MemberProduct(torch.autograd.Function):
    """The Linear layer of every member on a sparse input, one member's rows dense at a time.

    Densified at once, a batch of every member's rows takes ``members``
    times a network's batch. Here each member's rows are made dense for
    its own product, then freed, and made again for its weight's
    gradient, rather than kept for the backward pass: the memory of one
    member's dense rows, and the products of the dense path.
    """

    @staticmethod
    def forward(ctx, h, weight, bias):
        ctx.save_for_backward(h)
        return torch.stack(
            [
                F.linear(_dense_rows(h, e), weight[e], None if bias is None else bias[e])
                for e in range(len(weight))
            ]
        )

    @staticmethod
    def backward(ctx, grad):
        (h,) = ctx.saved_tensors
        grad_weight = grad_bias = None
        if ctx.needs_input_grad[1]:
            grad_weight = grad.new_empty(len(grad), grad.shape[-1], h.shape[-1])
            for e in range(len(grad)):
                torch.mm(grad[e].T, _dense_rows(h, e), out=grad_weight[e])
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(dim=1)
        return None, grad_weight, grad_bias


class MemberBatchNorm(nn.BatchNorm1d):
    """Batch normalization of every member's units, each over its own rows.

    A ``BatchNorm1d`` over ``members * width`` features, member-major (the
    first ``width`` are member 0's): a (members, rows, width) input is
    normalized per member and unit. One member is a plain ``BatchNorm1d``.
    """

    def __init__(self, width, ensemble_size=1, **kwargs):
        super().__init__(width * ensemble_size, **kwargs)
        self.ensemble_size = ensemble_size

    @classmethod
    def tiled(cls, batchnorm, ensemble_size):
        """``ensemble_size`` copies of a one-member ``batchnorm`` (its weights and statistics)."""
        width = batchnorm.num_features
        layer = cls(
            width,
            ensemble_size,
            eps=batchnorm.eps,
            momentum=batchnorm.momentum,
            affine=batchnorm.affine,
            track_running_stats=batchnorm.track_running_stats,
        )
        state = batchnorm.state_dict()
        layer.to(next(iter(state.values())).dtype if state else torch.get_default_dtype())
        targets = layer.state_dict()
        with torch.no_grad():
            for name, value in state.items():
                targets[name].copy_(
                    value.cpu().repeat(ensemble_size) if value.dim() else value.cpu()
                )
        return layer

    def forward(self, h):
        if h.dim() == 2:
            return super().forward(h)
        members, rows, width = h.shape
        flat = h.transpose(0, 1).reshape(rows, members * width)
        return super().forward(flat).view(rows, members, width).transpose(0, 1)


class MemberActivation(nn.Module):
    """An activation applied member by member, with parameters (``PReLU``'s) per member.

    The parameters, if any, are stacked on a leading member axis, like
    every other parameter of an ensemble; member ``e`` applies
    ``activation`` with its own slice to its own (rows, width) input.

    ``activation`` is a child module, so that the network's mode
    (``train``/``eval``: an ``RReLU`` is random while training only) and
    device reach it; it holds no parameters of its own, so that
    ``parameters()``, the ``state_dict`` and the optimizer see the stacked
    ones only.
    """

    def __init__(self, activation, ensemble_size):
        super().__init__()
        self.ensemble_size = ensemble_size
        self.names = [name for name, _ in activation.named_parameters()]
        self.stacked = nn.ParameterList(
            nn.Parameter(p.detach().unsqueeze(0).repeat(ensemble_size, *([1] * p.dim())).clone())
            for _, p in activation.named_parameters()
        )
        self.activation = _without_parameters(copy.deepcopy(activation), self.names)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "activation" in vars(self):  # pickled when the activation was not a child module
            activation = vars(self).pop("activation")
            self.activation = _without_parameters(activation, self.names)
            # It was never switched to evaluation mode: it takes the wrapper's.
            self.activation.train(self.training)

    def member(self, e):
        """Member ``e``'s activation as a module of its own, holding that member's parameters."""
        module = copy.deepcopy(self.activation)
        for name, stacked in zip(self.names, self.stacked, strict=True):
            owner, _, leaf = name.rpartition(".")
            module.get_submodule(owner).register_parameter(
                leaf, nn.Parameter(stacked[e].detach().clone())
            )
        return module

    def forward(self, h):
        outputs = [
            functional_call(
                self.activation,
                {n: p[e] for n, p in zip(self.names, self.stacked, strict=True)},
                (h[e],),
            )
            for e in range(self.ensemble_size)
        ]
        return torch.stack(outputs)

    def extra_repr(self):
        return f"ensemble_size={self.ensemble_size}"


class ParametricActivation(nn.Module):
    """A learnable blend of the identity and an activation, per member and unit.

    ``f(x) = x + a * (activation(x) - x)``, as RealMLP's parametric
    activations (Holzmueller et al., 2024): ``a`` (``weight``) has shape
    (members, 1, width), one value per member and hidden unit, and starts
    at 1, so the block starts as the plain activation; training may move
    a unit toward the identity (``a = 0``) or beyond.

    Parameters
    ----------
    activation : torch.nn.Module
        The activation, already in its form for ``ensemble_size`` members
        (see :func:`member_activation`); a child module, so its own
        parameters (a PReLU's) train too.
    width : int
        Number of hidden units.
    ensemble_size : int, default=1
    """

    def __init__(self, activation, width, ensemble_size=1):
        super().__init__()
        self.activation = activation
        self.width = width
        self.ensemble_size = ensemble_size
        self.weight = nn.Parameter(torch.ones(ensemble_size, 1, width))

    def forward(self, h):
        # (rows, width) for one member, (members, rows, width) for an ensemble.
        a = self.weight if h.dim() == 3 else self.weight[0]
        return torch.lerp(h, self.activation(h), a)  # h + a * (activation(h) - h)

    def repeated(self, ensemble_size):
        """The blend for ``ensemble_size`` members, each with a copy of this one member's ``a``."""
        inner = member_activation(self.activation, ensemble_size)
        blend = type(self)(inner, self.width, ensemble_size).to(self.weight.dtype)
        with torch.no_grad():
            blend.weight.copy_(self.weight.detach().expand_as(blend.weight))
        return blend

    def member_activation(self):
        """The activation being blended, as a module of member 0 (for descriptions)."""
        inner = self.activation
        return inner.member(0) if isinstance(inner, MemberActivation) else inner

    def extra_repr(self):
        members = f", ensemble_size={self.ensemble_size}" if self.ensemble_size > 1 else ""
        return f"width={self.width}{members}"


def _without_parameters(module, names):
    """``module`` with its parameters ``names`` removed (``functional_call`` supplies them)."""
    for name in names:
        owner, _, leaf = name.rpartition(".")
        delattr(module.get_submodule(owner), leaf)
    return module


def member_activation(activation, ensemble_size):
    """``activation`` for ``ensemble_size`` members.

    The named elementwise activations (ReLU, tanh...) apply to the
    members' stacked (members, rows, width) activations as they are. Any
    other module (one with parameters, or a user's, which may not be
    elementwise: a softmax over ``dim=1``) becomes a
    :class:`MemberActivation`, which gives each member its own parameters
    and its own (rows, width) input, as in a single network.
    """
    if ensemble_size == 1:
        return activation
    if isinstance(activation, ParametricActivation):  # stacked already: copied per member
        return activation.repeated(ensemble_size)
    if type(activation) in ELEMENTWISE_ACTIVATIONS and next(activation.parameters(), None) is None:
        return activation
    return MemberActivation(activation, ensemble_size)


def member_rows(tensor, ensemble_size):
    """``tensor`` (a parameter, or its gradient) as a view of shape (members, -1).

    Every parameter of an :class:`MLP` is member-major: its first
    ``numel / members`` entries are member 0's, and so on.
    """
    return tensor.view(ensemble_size, -1)
