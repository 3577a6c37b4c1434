"""The hidden blocks of a network, in named parts, and the one parser that builds them.

A hidden block is a :class:`HiddenBlock`: ``.linear`` (an
:class:`~sklearn_dnn._nn.layers.EnsembleLinear`), ``.norm`` (a
:class:`~sklearn_dnn._nn.layers.MemberBatchNorm` or None), ``.activation`` (a
module or None) and ``.dropout`` (one of :data:`DROPOUT_LAYERS` or None).
Every part stacks its members on a leading axis, as in ``_nn/layers.py``.
Everything that walks a network (dropout sampling, diagnostics, max-norm,
freezing, transfer) asks a block for its parts by name.

:func:`hidden_block` is the one place that tells the parts of a block
apart, by type: it serves the ``torch.nn.Sequential`` sources of
``from_pretrained`` (:func:`blocks_of_sequential`) and the networks
pickled by sklearn-dnn 0.1.0, whose blocks were ``nn.Sequential``
(:func:`as_hidden_blocks`).
"""

import copy
from collections import OrderedDict

from torch import nn

from .layers import EnsembleLinear, MemberBatchNorm, ParametricActivation, member_activation

# The dropout layers: elementwise and without parameters, so one layer
# serves every member, and Monte-Carlo dropout samples it.
DROPOUT_LAYERS = (nn.Dropout, nn.AlphaDropout)

# The parts of a hidden block, in the order the estimators build them.
PARTS = ("linear", "norm", "activation", "dropout")


class HiddenBlock(nn.Module):
    """One hidden layer of every member: ``linear -> [norm] -> activation -> [dropout]``.

    The parts run in ``order``; an absent part (None) is no module of the
    block, so that ``forward`` runs the present ones in a plain loop, as
    ``nn.Sequential`` does, and the ``state_dict`` keys name the parts
    (``linear.weight``, ``norm.running_mean``...).

    Parameters
    ----------
    linear : EnsembleLinear
    norm : MemberBatchNorm or None, default=None
    activation : torch.nn.Module or None, default=None
        Elementwise, or a :class:`~sklearn_dnn._nn.layers.MemberActivation`
        for an ensemble (see :func:`~sklearn_dnn._nn.layers.member_activation`).
    dropout : torch.nn.Dropout, torch.nn.AlphaDropout or None, default=None
    order : tuple of str, default=PARTS
        The names of the parts in the order they run, ``"linear"`` first;
        the parts it leaves out follow in the order of ``PARTS``. The
        estimators build that order; a torch source's may differ (batch
        normalization after the activation, say).
    """

    def __init__(self, linear, norm=None, activation=None, dropout=None, order=PARTS):
        super().__init__()
        if order[:1] != ("linear",) or len(set(order)) < len(order) or set(order) - set(PARTS):
            raise ValueError(f"order must name parts of {PARTS}, 'linear' first; got {order}.")
        parts = {"linear": linear, "norm": norm, "activation": activation, "dropout": dropout}
        for name in (*order, *(p for p in PARTS if p not in order)):
            setattr(self, name, parts[name])  # None is a plain attribute, not a module

    @property
    def order(self):
        """The names of the present parts, in the order they run."""
        return tuple(self._modules)

    @property
    def ensemble_size(self):
        """Number of members whose weights the parts stack."""
        return self.linear.ensemble_size

    def forward(self, h):
        for part in self._modules.values():
            h = part(h)
        return h

    def split(self, name):
        """The parts that run before part ``name``, and that part with the ones after it.

        Both are lists of modules in the order they run; without part
        ``name`` every part runs before it.
        """
        parts = list(self._modules.values())
        names = list(self._modules)
        at = names.index(name) if name in names else len(names)
        return parts[:at], parts[at:]

    def repeated(self, ensemble_size):
        """A block of ``ensemble_size`` members, each with a copy of this block's weights.

        The parts without parameters (an elementwise activation, the
        dropout) are this block's own, not copies.
        """
        return HiddenBlock(
            self.linear.repeated(ensemble_size),
            None if self.norm is None else MemberBatchNorm.tiled(self.norm, ensemble_size),
            None if self.activation is None else member_activation(self.activation, ensemble_size),
            self.dropout,  # elementwise, without parameters: it serves every member
            order=self.order,
        )


def hidden_block(layers):
    """The :class:`HiddenBlock` of ``layers``: a Linear layer, then the other parts in order.

    Each part is told by its type: a BatchNorm1d is the normalization, a
    Dropout or AlphaDropout the dropout, anything else the activation
    (several in a row become one ``nn.Sequential``). An ``nn.Linear`` and
    an ``nn.BatchNorm1d`` become their one-member forms (copies); the
    other layers are kept as they are, so a block of the layers of a
    network keeps its parameters.

    Raises
    ------
    ValueError
        When a part comes twice, apart from activations in a row.
    """
    linear, *rest = layers
    if not isinstance(linear, EnsembleLinear):
        linear = EnsembleLinear.from_linear(linear)
    names, groups = ["linear"], [[linear]]
    for layer in rest:
        if isinstance(layer, nn.BatchNorm1d):
            name = "norm"
            if not isinstance(layer, MemberBatchNorm):
                layer = MemberBatchNorm.tiled(layer, 1)
        else:
            name = "dropout" if isinstance(layer, DROPOUT_LAYERS) else "activation"
        if name == names[-1] == "activation":  # one activation after another
            groups[-1].append(layer)
            continue
        if name in names:
            raise ValueError(
                "A hidden block holds one Linear layer, then at most one BatchNorm1d, one "
                "activation and one Dropout; got "
                f"{', '.join(type(m).__name__ for m in layers)}."
            )
        names.append(name)
        groups.append([layer])
    parts = {
        name: group[0] if len(group) == 1 else nn.Sequential(*group)
        for name, group in zip(names, groups, strict=True)
    }
    return HiddenBlock(**parts, order=tuple(names))


def _follows_linear(layer):
    """Whether ``layer`` may sit in a torch source's hidden block after its Linear layer."""
    if isinstance(layer, (nn.BatchNorm1d, *DROPOUT_LAYERS, nn.PReLU, ParametricActivation)):
        return True
    return next(layer.parameters(), None) is None  # a parameter-free activation


def blocks_of_sequential(sequential):
    """The hidden blocks of a torch ``nn.Sequential``, each starting at a Linear layer.

    A last Linear layer that ends the sequence is its output layer, and
    left out.
    """
    layers = list(sequential)
    if not layers or not isinstance(layers[0], nn.Linear):
        raise ValueError("A torch.nn.Sequential source must start with a Linear layer.")
    if isinstance(layers[-1], nn.Linear):
        layers = layers[:-1]  # the source's output layer
    groups = []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            groups.append([layer])
        elif _follows_linear(layer):
            groups[-1].append(layer)
        else:
            raise ValueError(
                "A torch.nn.Sequential source may hold Linear layers, activations, "
                f"BatchNorm1d and Dropout; got {type(layer).__name__}."
            )
    return nn.Sequential(*(hidden_block(group) for group in groups))


def as_hidden_blocks(blocks):
    """``blocks`` (an ``nn.Sequential``) with every block a :class:`HiddenBlock`.

    sklearn-dnn 0.1.0 made each block an ``nn.Sequential`` of its layers:
    those become HiddenBlocks holding the same layers (so the same
    parameters, which an optimizer's state refers to) and keeping their
    modes. ``blocks`` is returned as it is when there is nothing to change.
    """
    if all(isinstance(block, HiddenBlock) for block in blocks):
        return blocks
    converted = nn.Sequential()
    for block in blocks:
        if not isinstance(block, HiddenBlock):
            training = block.training
            block = hidden_block(list(block))
            block.training = training
        converted.append(block)
    converted.training = blocks.training
    return converted


def blocks_for_members(blocks, ensemble_size):
    """A copy of hidden ``blocks`` for ``ensemble_size`` members.

    Blocks of that many members are copied as they are; the blocks of one
    network are copied into every member.
    """
    blocks = copy.deepcopy(blocks)
    members = blocks[0].ensemble_size
    if members == ensemble_size:
        return blocks
    if members != 1:
        raise ValueError(
            f"The pretrained layers hold an ensemble of {members} members; an estimator "
            f"of ensemble_size={ensemble_size} cannot reuse them. Use ensemble_size="
            f"{members}, or a single network as the source."
        )
    return nn.Sequential(*(block.repeated(ensemble_size) for block in blocks))


def upgrade_state_dict(state_dict, blocks, prefix="hidden."):
    """``state_dict`` with 0.1.0's keys of ``blocks`` renamed to their parts' names.

    0.1.0's blocks were ``nn.Sequential``, so their keys numbered the
    layers of a block (``hidden.0.0.weight``); they become
    ``hidden.0.linear.weight``. Other keys, and the state dict's metadata
    (the modules' versions, under the same renaming), are kept.
    """

    def renamed(key):
        if not key.startswith(prefix):
            return key
        names = key[len(prefix) :].split(".", 2)  # block, layer, the rest
        if len(names) >= 2 and names[0].isdigit() and names[1].isdigit():
            block, layer = int(names[0]), int(names[1])
            order = blocks[block].order if block < len(blocks) else ()
            if layer < len(order):
                names[1] = order[layer]
                return prefix + ".".join(names)
        return key

    upgraded = OrderedDict((renamed(key), value) for key, value in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        upgraded._metadata = OrderedDict((renamed(k), v) for k, v in metadata.items())
    return upgraded
