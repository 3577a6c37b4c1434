"""Which parameters train, and at which learning rate.

One component answers that question for everything that touches the
weights: the optimizer's parameter groups, the l1/l2 penalties, the
decoupled weight decay, max-norm, the gradient diagnostics and the
learning rate recorded in the history all ask :class:`ParameterGroups`,
so "frozen" means untouched by all of them.

Every parameter of a network has a *kind* (:data:`GROUP_NAMES`), the
keys of ``lr_factors``:

``"input"``
    every parameter of the input stage ``module.inputs``: the categorical
    columns' embedding tables, and any numeric embedding or per-feature
    scaling that the stage holds;
``"hidden"``
    the weight matrices of the hidden Linear layers;
``"norm"``
    batch normalization's scales and shifts;
``"activation"``
    the parameters of the hidden blocks' activations (PReLU's slopes);
``"bias"``
    the biases of every Linear layer, the output layer's included;
``"output"``
    the output layer's weight matrix.

Without ``lr_factors`` the optimizer gets at most two groups, in this order:

1. the reused hidden blocks that start frozen (``n_frozen`` of them), at
   ``learning_rate * unfrozen_lr_factor``; they have no gradient, so no
   step changes them, until they are released;
2. every other parameter, at ``learning_rate``: the *head group*.

With ``lr_factors`` each group is split by kind, the frozen blocks'
first, and a kind trains at ``learning_rate * lr_factors[kind]`` (times
``unfrozen_lr_factor`` in a frozen block); a kind without a key has
factor 1. Every group carries its ``name`` and its ``lr_factor``
(relative to ``learning_rate``): a continued fit reuses the optimizer's
state only when the groups are the same, and the rate the history
records (:meth:`ParameterGroups.head_lr`) is ``learning_rate`` as the
schedule has scaled it, whatever the factors.
"""

import math
from numbers import Real

import torch

# The kinds of parameters, in the order of their optimizer groups.
GROUP_NAMES = ("input", "hidden", "norm", "activation", "bias", "output")


def check_lr_factors(lr_factors):
    """Raise a ValueError unless ``lr_factors`` is None or maps kinds to positive rates."""
    if lr_factors is None:
        return
    unknown = sorted(map(repr, set(lr_factors) - set(GROUP_NAMES)))
    if unknown:
        raise ValueError(
            f"lr_factors has unknown keys {', '.join(unknown)}; the parameter groups are "
            f"{list(GROUP_NAMES)}."
        )
    for name, factor in lr_factors.items():
        if (
            isinstance(factor, bool)
            or not isinstance(factor, Real)
            or not (0 < factor and math.isfinite(factor))
        ):
            raise ValueError(
                f"lr_factors[{name!r}] must be a positive finite number (a multiplier of "
                f"learning_rate); got {factor!r}."
            )


def parameter_kinds(module):
    """``{id(parameter): kind}`` for the parameters of ``module`` whose kind is known.

    A parameter none of the rules names (a custom activation's, inside a
    reused block's part the rules do not list) is left out: it trains at
    the rate of factor 1.
    """
    kinds = {}
    stage = getattr(module, "inputs", None)  # None in a model pickled by 0.1
    if stage is not None:
        kinds.update((id(p), "input") for p in stage.parameters())
    for block in module.hidden:
        for part, kind in (("norm", "norm"), ("activation", "activation")):
            layer = getattr(block, part, None)
            if layer is not None:
                kinds.update((id(p), kind) for p in layer.parameters())
        kinds[id(block.linear.weight)] = "hidden"
        if block.linear.bias is not None:
            kinds[id(block.linear.bias)] = "bias"
    kinds[id(module.output.weight)] = "output"
    if module.output.bias is not None:
        kinds[id(module.output.bias)] = "bias"
    return kinds


class ParameterGroups:
    """The parameter groups of a network with ``n_frozen`` frozen hidden blocks.

    Parameters
    ----------
    n_frozen : int
        Hidden blocks, input side first, that start frozen.
    learning_rate : float
    unfrozen_lr_factor : float
        The frozen blocks' rate, relative to ``learning_rate``, once released.
    lr_factors : dict or None, default=None
        Rate of each kind of parameter (keys of :data:`GROUP_NAMES`),
        relative to ``learning_rate``; None keeps the two groups.
    """

    def __init__(self, n_frozen, learning_rate, unfrozen_lr_factor, lr_factors=None):
        self.n_frozen = n_frozen
        self.learning_rate = learning_rate
        self.unfrozen_lr_factor = unfrozen_lr_factor
        self.lr_factors = lr_factors

    def optimizer_groups(self, module):
        """The optimizer's parameter groups: the frozen blocks' first, the head group last."""
        frozen_ids = {id(p) for block in module.hidden[: self.n_frozen] for p in block.parameters()}
        frozen = [p for p in module.parameters() if id(p) in frozen_ids]
        rest = [p for p in module.parameters() if id(p) not in frozen_ids]
        factors = getattr(self, "lr_factors", None)  # None in a plan of an older version
        if not factors:
            parts = [("frozen", frozen, self.unfrozen_lr_factor), ("head", rest, 1.0)]
        else:
            kinds = parameter_kinds(module)
            parts = []
            for prefix, params, scale in (
                ("frozen_", frozen, self.unfrozen_lr_factor),
                ("", rest, 1.0),
            ):
                for kind in (*GROUP_NAMES, "other"):
                    chosen = [p for p in params if kinds.get(id(p), "other") == kind]
                    parts.append((prefix + kind, chosen, scale * factors.get(kind, 1.0)))
        return [
            {"params": params, "lr": self.learning_rate * factor, "name": name, "lr_factor": factor}
            for name, params, factor in parts
            if params
        ]

    @staticmethod
    def head_lr(optimizer):
        """The rate of the parameters of factor 1: ``learning_rate`` as the schedule scaled it.

        A schedule scales every group's rate by the same factor, so the
        last group's rate over its ``lr_factor`` is that rate, whatever
        the factors (an optimizer of an older version has no factors: its
        last group is the head group).
        """
        group = optimizer.param_groups[-1]
        factor = group.get("lr_factor", 1.0)
        return group["lr"] if factor == 1.0 else group["lr"] / factor

    @staticmethod
    def trained_weights(module):
        """The weights the l1/l2 penalties reach: the Linear layers' that train now
        (output layer included) and the categorical columns' embedding tables.

        The stored weights: in the NTK parametrization, ``sqrt(fan_in)`` times
        the applied ones, as a decoupled weight decay sees them. Biases,
        batch normalization and activations' parameters (a parametric
        activation's ``a``) are not penalized.

        An embedding table stands where a one-hot column's first-layer weights
        would, so it is penalized as they are. The numeric embeddings
        (``inputs.periodic``, ``inputs.piecewise``) and the feature scales
        (``inputs.feature_scale``) are not: shrinking them toward 0 would
        not mean a simpler function of the inputs.
        """
        weights = [layer.weight for layer in module.linear_layers() if layer.weight.requires_grad]
        stage = getattr(module, "inputs", None)  # None in a model pickled by 0.1
        if stage is not None:
            weights.extend(table for table in stage.embeddings if table.requires_grad)
        return weights

    @staticmethod
    def decayed_weights(optimizer, module):
        """``[(i, weights)]``: the weight matrices decoupled weight decay shrinks, by group.

        ``i`` indexes ``optimizer.param_groups`` (whose dicts a loaded
        state replaces: the rate is read from the group at each step).
        Every Linear layer's weight matrix, the output layer's included;
        not the biases, batch normalization, the input stage (embeddings,
        scalings) or activations. Which of them train *now* (a frozen
        block's do not) is for the caller to ask at each step
        (``requires_grad``), since a release changes it.
        """
        matrices = {id(layer.weight) for layer in module.linear_layers()}
        found = []
        for i, group in enumerate(optimizer.param_groups):
            weights = [p for p in group["params"] if id(p) in matrices]
            if weights:
                found.append((i, weights))
        return found

    @staticmethod
    def same_groups(old, new):
        """Whether two optimizers' groups hold the same parameters, so state carries over.

        The same number of groups, of the same names (a group of an older
        version has none, and matches by its parameters alone) and
        parameters of the same shapes, in order.
        """
        if len(old.param_groups) != len(new.param_groups):
            return False
        for a, b in zip(old.param_groups, new.param_groups, strict=True):
            if "name" in a and a["name"] != b.get("name"):
                return False
            if [p.shape for p in a["params"]] != [p.shape for p in b["params"]]:
                return False
        return True

    @staticmethod
    def trained_hidden_layers(module):
        """The hidden Linear layers whose weights train now (for max-norm)."""
        return [block.linear for block in module.hidden if block.linear.weight.requires_grad]

    @staticmethod
    def release(module):
        """Unfreeze every hidden block; their group's rate applies from the next step."""
        module.set_frozen(0)


def decay_weights(optimizer, decayed, weight_decay):
    """Multiply the ``weights`` that train by ``1 - lr * weight_decay``, ``lr`` their group's.

    ``decayed`` is :meth:`ParameterGroups.decayed_weights`'s list.
    """
    with torch.no_grad():
        for i, weights in decayed:
            factor = 1.0 - optimizer.param_groups[i]["lr"] * weight_decay
            for weight in weights:
                if weight.requires_grad:
                    weight.mul_(factor)
