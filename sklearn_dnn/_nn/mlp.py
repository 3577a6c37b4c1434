"""The multi-layer perceptron built by the estimators.

All of its randomness comes from ``torch.Generator`` objects that the
estimator owns (initialization from ``seed``, dropout masks from
:attr:`MLP.generator` while training, or from the caller's generator in
:func:`forward_with_dropout`): nothing reads or advances torch's global
random state, so fits and sampling in several threads do not disturb each
other, and seeded results do not depend on what other threads do.

Its layers hold one or more members (an ensemble) stacked: see
``_nn/layers.py``; its hidden blocks are ``_nn/blocks.HiddenBlock``. Here: how
the members' outputs combine, the dropout masks, and the network.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .activations import activation_family, make_activation
from .blocks import HiddenBlock, as_hidden_blocks, blocks_for_members, upgrade_state_dict
from .heads import mean_variance
from .initializers import initialize_weight
from .inputs import InputStage
from .layers import EnsembleLinear, MemberBatchNorm, ParametricActivation, member_activation

# The SELU constants behind AlphaDropout (Klambauer et al., 2017).
_SELU_ALPHA_PRIME = 1.7580993408473766


# How the members' raw outputs, of shape (rows, members, outputs), combine
# into the ensemble's (rows, outputs): each task names its own.
def _single_member(outputs):
    """The outputs of a lone member, or None for an ensemble."""
    return outputs[:, 0] if outputs.shape[1] == 1 else None


def _log_mean_exp(log_values):
    """``log(mean(exp(log_values)))`` over the member axis (1), computed stably."""
    return torch.logsumexp(log_values, dim=1) - math.log(log_values.shape[1])


def combine_logits(outputs):
    """Logits whose softmax is the members' mean probability: ``log(mean(softmax))``.

    Computed from the members' softmax (max-shifted, so it cannot
    overflow), not ``log_softmax``: torch's kernel for a short class axis
    made it a third of an 8-member ensemble's prediction time. A mean
    probability that underflows to zero is floored at the dtype's
    smallest normal number, so the logits stay finite.
    """
    single = _single_member(outputs)
    if single is not None:
        return single
    if outputs.requires_grad:  # differentiable, without in-place steps
        return _log_mean_exp(torch.log_softmax(outputs, dim=-1))
    exp = (outputs - outputs.amax(dim=-1, keepdim=True)).exp_()
    proba = exp.div_(exp.sum(dim=-1, keepdim=True)).mean(dim=1)
    return proba.clamp_min_(torch.finfo(proba.dtype).tiny).log_()


def combine_label_logits(outputs):
    """Per label, the logit of the members' mean probability."""
    single = _single_member(outputs)
    if single is not None:
        return single
    log_p = _log_mean_exp(F.logsigmoid(outputs))
    log_not_p = _log_mean_exp(F.logsigmoid(-outputs))
    return log_p - log_not_p


def combine_values(outputs):
    """The members' mean prediction."""
    single = _single_member(outputs)
    return single if single is not None else outputs.mean(dim=1)


# Dropout masks come from 16-bit draws, four from each random 64-bit word:
# a quarter of the random words of one draw per unit, and an integer
# comparison instead of a Bernoulli sampler (measured on a 3x100 network,
# 20,000 rows, 100 samples, one thread: see benchmarks/bench_ensemble.py).
MASK_LEVELS = 2**16


def drop_mask(shape, p, generator, device):
    """A boolean mask of the units to drop, and the probability of keeping a unit.

    Each unit is dropped independently with probability ``p`` rounded to
    a multiple of 2**-16 (at most 7.6e-6 off); the returned keep
    probability is the rounded one, so that scaling by its inverse keeps
    the expected activation exactly.
    """
    n = math.prod(shape)
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device)
    words.random_(-(2**63), None, generator=generator)  # all 64 bits random
    draws = words.view(torch.int16)[:n].view(shape)  # uniform on [-2**15, 2**15)
    kept_levels = min(max(round((1.0 - p) * MASK_LEVELS), 1), MASK_LEVELS)
    return draws >= kept_levels - MASK_LEVELS // 2, kept_levels / MASK_LEVELS


def apply_dropout(layer, x, generator):
    """``layer`` (a Dropout or AlphaDropout) applied to ``x`` with masks from ``generator``.

    The same transformation as torch's training-mode layers: kept units
    are scaled by ``1 / (1 - p)`` (Dropout), or dropped units set to the
    SELU saturation value and the result rescaled so that mean and
    variance are kept (AlphaDropout). The masks come from
    :func:`drop_mask`.
    """
    p = layer.p
    if p == 0:
        return x
    drop, keep = drop_mask(x.shape, p, generator, x.device)
    if not isinstance(layer, nn.AlphaDropout):
        return x.masked_fill(drop, 0.0).mul_(1.0 / keep)
    p = 1.0 - keep
    a = (keep * (1.0 + p * _SELU_ALPHA_PRIME**2)) ** -0.5
    shift = a * _SELU_ALPHA_PRIME
    # kept: a * x + (1 - keep) * shift; dropped: -keep * shift
    return x.mul(a).add_(p * shift).masked_fill_(drop, -keep * shift)


def forward_with_dropout(module, X, generator, copies=1):
    """``module(X)`` with dropout on, masks drawn from ``generator``, for ``copies`` of each row.

    Every other layer runs in the mode the module is in; the module is
    not changed, so another thread may predict with it meanwhile.

    The rows are taken ``copies`` times, copy-major (as
    ``X.repeat(copies, 1)``), each copy with its own masks. In evaluation
    mode the parts before the first dropout (the first Linear layer,
    batch normalization with its running statistics, the activation)
    give every copy of a row the same output: they run once per row, and
    their output is what is repeated, so a wide first layer costs one
    pass, not ``copies``.
    Returns the members' outputs, of shape (copies * rows, members, outputs).
    """
    h = module.member_inputs(X)
    shared = not module.training
    if not shared:  # batch statistics and random activations see every copy
        h = _repeat_rows(h, copies)
    for block in module.hidden:
        if block.dropout is None:
            h = block(h)
            continue
        before, (dropout, *after) = block.split("dropout")
        for part in before:
            h = part(h)
        if shared:
            h, shared = _repeat_rows(h, copies), False
        h = apply_dropout(dropout, h, generator)
        for part in after:
            h = part(h)
    if shared:
        h = _repeat_rows(h, copies)
    return module.head(module.output(h))


def _repeat_rows(h, copies):
    """``h`` with its rows taken ``copies`` times, copy-major."""
    if copies == 1:
        return h
    # The rows axis is the second to last: (rows, width) or (members, rows, width).
    return h.repeat(*[1] * (h.dim() - 2), copies, 1)


class MLP(nn.Module):
    """A stack of hidden blocks followed by a linear output layer, for one or more members.

    Each hidden block is a :class:`~sklearn_dnn._nn.blocks.HiddenBlock`,
    ``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` with named
    parts, in ``self.hidden`` (a ``Sequential``); the output layer,
    ``self.output``, returns raw scores (logits for a classifier).

    An ensemble of ``ensemble_size`` networks is one module: every layer
    holds the members' weights stacked on a leading axis
    (``EnsembleLinear``, ``MemberBatchNorm`` and ``MemberActivation``, in
    ``sklearn_dnn._nn.layers``) and runs them in batched operations. A
    plain network is the ensemble of one member; nothing else differs.

    :meth:`members` takes (rows, features), the same rows for every
    member, or (rows, members, features), each member its own rows, and
    returns the members' outputs, of shape (rows, members, n_outputs).
    ``forward`` returns them while the module trains (each member's loss
    is its own); in evaluation mode it returns the ensemble's outputs,
    (rows, n_outputs), the members' combined by ``combine``: what
    ``predict``, the validation loss and skorch's ``net.forward`` read.

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden_layer_sizes : tuple of int
        Width of every hidden layer, input side first.
    n_outputs : int
        Width of the output layer.
    activation : str, torch.nn.Module instance or subclass
        See :func:`sklearn_dnn._nn.activations.make_activation`.
    initializer : str or callable
        See :func:`sklearn_dnn._nn.initializers.get_initializer`; applied to
        every hidden weight matrix. The output layer uses Glorot uniform.
    batchnorm : bool
        Add ``BatchNorm1d`` between each hidden Linear layer (which then
        has no bias) and its activation.
    dropout : float
        Dropout rate after every hidden activation; ``AlphaDropout`` when
        the activation is SELU, so self-normalization holds.
    dtype : torch.dtype
    pretrained : PretrainedLayers or None
        Hidden blocks to start from (copied) instead of new ones; a single
        network's blocks are copied into every member.
    n_frozen : int
        Hidden blocks, input side first, that start frozen.
    seed : int
        Seeds the initialization of the new weights.
    ensemble_size : int
        Number of members; each is initialized with its own draws.
    combine : callable
        Maps the members' outputs (rows, members, n_outputs) to the
        ensemble's (rows, n_outputs); :func:`combine_values` (the mean) by
        default, :func:`combine_logits` for a classifier.
    inputs : InputDescription or None
        The fitted description of the input columns: the module starts with
        an :class:`~sklearn_dnn._nn.inputs.InputStage` (``self.inputs``),
        and ``n_features`` is its output width. None: the first layer
        takes ``X`` as it is.
    variance_head : bool, default=False
        The output layer's units are a mean and a raw variance per target
        column (``n_outputs`` is twice the columns): the ``head`` method maps the
        raw variances to positive ones (``_nn/heads.py``).
    parametric_activation : bool, default=False
        Each new hidden block's activation is a
        :class:`~sklearn_dnn._nn.layers.ParametricActivation`, a learned blend
        of the identity and ``activation`` per member and unit.
    parametrization : {"standard", "ntk"}, default="standard"
        Of every new Linear layer (the output layer included): see
        :class:`~sklearn_dnn._nn.layers.EnsembleLinear`. Reused layers keep
        their own.
    numeric_embedding : {"periodic", "piecewise"} or None, default=None
    embedding_size : int, default=16
    feature_scaling : bool, default=False
        The input stage's numeric embeddings and scaling layer (see
        :class:`~sklearn_dnn._nn.inputs.InputStage`); ``n_features`` is
        the width they give.

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
        ensemble_size=1,
        combine=combine_values,
        inputs=None,
        variance_head=False,
        parametric_activation=False,
        parametrization="standard",
        numeric_embedding=None,
        embedding_size=16,
        feature_scaling=False,
    ):
        super().__init__()
        self.ensemble_size = ensemble_size
        self.combine = combine
        self.variance_head = variance_head
        init_generator = torch.Generator().manual_seed(seed)
        # Drawn after the layers', so that an input stage without
        # embeddings leaves the layers' initialization as it was.
        stage_generator = torch.Generator().manual_seed(seed + 1)
        self.inputs = None
        if inputs is not None:
            self.inputs = InputStage(
                inputs,
                ensemble_size,
                stage_generator,
                numeric_embedding=numeric_embedding,
                embedding_size=embedding_size,
                feature_scaling=feature_scaling,
            )
        if pretrained is None:
            self.hidden = _new_hidden_blocks(
                n_features,
                hidden_layer_sizes,
                activation,
                initializer,
                batchnorm,
                dropout,
                init_generator,
                ensemble_size,
                parametric_activation,
                parametrization,
            )
            width_in = hidden_layer_sizes[-1] if len(hidden_layer_sizes) else n_features
        else:
            self.hidden = blocks_for_members(pretrained.blocks, ensemble_size)
            width_in = pretrained.output_width
        self.output = EnsembleLinear(
            width_in, n_outputs, ensemble_size, parametrization=parametrization
        )
        with torch.no_grad():
            for member in self.output.weight:
                nn.init.xavier_uniform_(member, generator=init_generator)
        self.output.effective_to_raw_()
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
        # Looked up here, where the mode changes, not at every batch.
        self._drops = any(rate > 0 for rate in self.dropout_rates())
        for block in self.hidden[: self.n_frozen]:
            if block.norm is not None:
                block.norm.eval()

    def train(self, mode=True):
        # skorch sets the mode before every batch; walking the module tree
        # only when the mode changes keeps that off a small network's step.
        if mode != self.training:
            self._set_modes(mode)
        return self

    def member_inputs(self, X):
        """``X`` as the first layer takes it: (rows, features) or (members, rows, features).

        The input stage, if any, encodes the codes of a table first.
        """
        if X.dim() == 3:
            X = X[:, 0] if self.ensemble_size == 1 else X.transpose(0, 1)
        stage = getattr(self, "inputs", None)  # None in a model pickled by 0.1
        return X if stage is None else stage(X)

    @staticmethod
    def member_outputs(out):
        """The output layer's result as (rows, members, n_outputs)."""
        return out.unsqueeze(1) if out.dim() == 2 else out.transpose(0, 1)

    def head(self, out):
        """The output layer's result -> the members' outputs (rows, members, n_outputs).

        Logits or values as they are; a variance head's raw variances
        mapped to positive variances.
        """
        out = self.member_outputs(out)
        return mean_variance(out) if self.variance_head else out

    def members(self, X):
        """The members' outputs for ``X``, of shape (rows, members, n_outputs)."""
        # Without dropout, the layers' own pass (forward_with_dropout's numbers, in fewer steps).
        if self.training and self.generator is not None and getattr(self, "_drops", True):
            return forward_with_dropout(self, X, self.generator)
        return self.head(self.output(self.hidden(self.member_inputs(X))))

    def forward(self, X):
        outputs = self.members(X)
        return outputs if self.training else self.combine(outputs)

    def linear_layers(self):
        """All Linear layers, input side first, the output layer last."""
        return [block.linear for block in self.hidden] + [self.output]

    def dropout_rates(self):
        """The rate of every dropout layer (empty without dropout)."""
        return [block.dropout.p for block in self.hidden if block.dropout is not None]

    def load_state_dict(self, state_dict, *args, **kwargs):
        # A state dict saved by 0.1.0 numbers the layers of each block.
        state_dict = upgrade_state_dict(state_dict, self.hidden)
        return super().load_state_dict(state_dict, *args, **kwargs)

    def __setstate__(self, state):
        super().__setstate__(state)
        # 0.1.0 pickled its blocks as Sequentials: the same layers, in HiddenBlocks.
        self.hidden = as_hidden_blocks(self.hidden)
        self.__dict__.setdefault("variance_head", False)  # pickled before variance heads


def parameter_count(
    n_features,
    hidden_layer_sizes,
    n_outputs,
    activation,
    batchnorm,
    pretrained,
    ensemble_size,
    parametric_activation=False,
):
    """The number of parameters of the :class:`MLP` these arguments build, without building it.

    Every layer holds each member's parameters stacked, so the count is
    ``ensemble_size`` times one member's: what a fit checks against the
    memory before it allocates anything.
    """
    if pretrained is not None:
        hidden = sum(p.numel() for p in pretrained.blocks.parameters()) // pretrained.n_members
        width_in = pretrained.output_width
    else:
        per_activation = sum(p.numel() for p in make_activation(activation).parameters())
        hidden, width_in = 0, n_features
        for width in hidden_layer_sizes:
            # The Linear weights, then its bias or batch normalization's weight and bias.
            hidden += width_in * width + (2 * width if batchnorm else width) + per_activation
            hidden += width if parametric_activation else 0  # the blend's a per unit
            width_in = width
    return ensemble_size * (hidden + width_in * n_outputs + n_outputs)


def _new_hidden_blocks(
    n_features,
    hidden_layer_sizes,
    activation,
    initializer,
    batchnorm,
    dropout,
    generator,
    ensemble_size,
    parametric_activation=False,
    parametrization="standard",
):
    """A :class:`HiddenBlock` for every hidden width.

    The weights are drawn as the ones the layers apply (their effective
    weights), so the network's function at initialization does not depend
    on ``parametrization``. A parametric activation draws nothing (its
    ``a`` starts at 1), so ``parametric_activation`` leaves every draw as
    it was.
    """
    blocks = []
    width_in = n_features
    for width in hidden_layer_sizes:
        act = make_activation(activation)
        linear = EnsembleLinear(
            width_in, width, ensemble_size, bias=not batchnorm, parametrization=parametrization
        )
        with torch.no_grad():
            for member in linear.weight:
                initialize_weight(member, initializer, activation_family(act), generator)
        linear.effective_to_raw_()
        norm = MemberBatchNorm(width, ensemble_size) if batchnorm else None
        drop = None
        if dropout > 0:
            drop = nn.AlphaDropout(dropout) if isinstance(act, nn.SELU) else nn.Dropout(dropout)
        activation_part = member_activation(act, ensemble_size)
        if parametric_activation:
            activation_part = ParametricActivation(activation_part, width, ensemble_size)
        blocks.append(HiddenBlock(linear, norm, activation_part, drop))
        width_in = width
    return nn.Sequential(*blocks)
