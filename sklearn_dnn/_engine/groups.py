"""Which parameters train, and at which learning rate.

One component answers that question for everything that touches the
weights: the optimizer's parameter groups, the l1/l2 penalties, max-norm,
the gradient diagnostics and the learning rate recorded in the history all
ask :class:`ParameterGroups`, so "frozen" means untouched by all of them.

The optimizer gets at most two groups, in this order:

1. the reused hidden blocks that start frozen (``n_frozen`` of them), at
   ``learning_rate * unfrozen_lr_factor``; they have no gradient, so no
   step changes them, until they are released;
2. every other parameter, at ``learning_rate``: the *head group*, whose
   rate the history records.
"""


class ParameterGroups:
    """The parameter groups of a network with ``n_frozen`` frozen hidden blocks.

    Parameters
    ----------
    n_frozen : int
        Hidden blocks, input side first, that start frozen.
    learning_rate : float
    unfrozen_lr_factor : float
        The frozen blocks' rate, relative to ``learning_rate``, once released.
    """

    def __init__(self, n_frozen, learning_rate, unfrozen_lr_factor):
        self.n_frozen = n_frozen
        self.learning_rate = learning_rate
        self.unfrozen_lr_factor = unfrozen_lr_factor

    def optimizer_groups(self, module):
        """The optimizer's parameter groups: the frozen blocks first, the head group last."""
        frozen_ids = {id(p) for block in module.hidden[: self.n_frozen] for p in block.parameters()}
        frozen = [p for p in module.parameters() if id(p) in frozen_ids]
        rest = [p for p in module.parameters() if id(p) not in frozen_ids]
        groups = []
        if frozen:
            groups.append({"params": frozen, "lr": self.learning_rate * self.unfrozen_lr_factor})
        groups.append({"params": rest, "lr": self.learning_rate})
        return groups

    @staticmethod
    def head_lr(optimizer):
        """The learning rate of the layers that train at the full rate."""
        return optimizer.param_groups[-1]["lr"]

    @staticmethod
    def trained_weights(module):
        """The weights the l1/l2 penalties reach: the Linear layers' that train now
        (output layer included) and the categorical columns' embedding tables.

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
    def trained_hidden_weights(module):
        """Weight matrices of the hidden Linear layers that train now (for max-norm)."""
        weights = [block.linear.weight for block in module.hidden]
        return [weight for weight in weights if weight.requires_grad]

    @staticmethod
    def release(module):
        """Unfreeze every hidden block; their group's rate applies from the next step."""
        module.set_frozen(0)
