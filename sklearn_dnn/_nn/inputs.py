"""The network's input stage: from the codes of a table to what the first hidden layer sees.

The host encodes a table into codes (``sklearn_dnn/_inputs.py``): numeric
columns as floats with NaN kept, categorical columns as integer codes (0 for
a missing or unknown category, ``1..k`` for the training categories).
:class:`InputStage` does the rest inside the module, so that a fitted
estimator takes the raw table, and a pickle holds the whole model:

1. numeric columns: NaN replaced by the column's training median, then
   scaled, ``(x - mean) / scale``, with the training mean and standard
   deviation (``numeric_scaling="standard"``) or median and robust scale
   (``"robust"``, which then clips the continuous columns smoothly:
   ``x / sqrt(1 + (x / 3) ** 2)``);
   with ``numeric_embedding``, a learned embedding of every continuous
   column (more than two training values) follows the scaled values:
   :class:`PeriodicEmbedding` or :class:`PiecewiseEmbedding`;
2. a missing-indicator column (1 where the value was missing) for each
   numeric column that had missing values in training;
3. categorical columns with few categories: one-hot columns, one per
   training category (an unknown or missing category is all zeros);
4. categorical columns with many categories: a learned embedding per
   member, of shape ``(ensemble_size, n_categories + 1, dim)``, whose row 0
   (unknown or missing) starts at zero.

The output is ``[numeric, numeric embeddings, indicators, one-hot,
embeddings]``, in the columns' order within each part; with
``feature_scaling``, multiplied by a learned factor per output column and
member (``feature_scale``, RealMLP's scaling layer). Its buffers are not
part of the state dict (a warm start rebuilds them from the same fitted
description; they are pickled with the module); the embeddings and scales
are parameters, trained at the learning rate of the head group. The
categorical embeddings are penalized by ``l1``/``l2`` as the one-hot
columns' first-layer weights would be; the numeric embeddings
(``periodic``, ``piecewise``) and ``feature_scale`` are not.

A sparse X (numeric columns without missing values) stays sparse: robust
scaling divides its stored values, which it does not centre, and clips
them, so zeros stay zeros; only a numeric embedding or feature scaling
makes a batch dense.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._inputs import embedding_dim
from .._numeric_inputs import CLIP_BOUND, EMBEDDED_WIDTH, PERIODIC_SIGMA


class InputStage(nn.Module):
    """Imputation, missing indicators, scaling, one-hot and embeddings of the codes.

    Parameters
    ----------
    description : InputDescription
        The fitted description of the columns (``sklearn_dnn/_inputs.py``).
    ensemble_size : int
        Members: each has its own embeddings.
    generator : torch.Generator
        Draws the embeddings' initial values.
    numeric_embedding : {"periodic", "piecewise"} or None, default=None
        The embedding of the continuous numeric columns.
    embedding_size : int, default=16
        Frequencies of a periodic embedding (a piecewise one's bins are the
        description's).
    feature_scaling : bool, default=False
        Multiply the output by a learned factor per column and member.
    """

    def __init__(
        self,
        description,
        ensemble_size,
        generator,
        numeric_embedding=None,
        embedding_size=16,
        feature_scaling=False,
    ):
        super().__init__()
        self.ensemble_size = ensemble_size
        numeric = list(description.numeric)
        self.all_numeric = numeric == list(range(description.n_columns))
        self.scaled = description.mean is not None
        # An array's numeric columns, as they are: the stage only fills a NaN
        # that training did not have (at prediction, or in a continued fit).
        self.passthrough = description.is_identity
        self._buffer("numeric_index", torch.as_tensor(numeric, dtype=torch.long))
        self._buffer("medians", _floats(description.medians))
        self._buffer("missing_index", torch.as_tensor(description.missing, dtype=torch.long))
        if self.scaled:
            self._buffer("mean", _floats(description.mean))
            self._buffer("scale", _floats(description.scale))
        clipped = list(getattr(description, "clipped", ()))
        if clipped:
            mask = torch.zeros(len(numeric), dtype=torch.bool)
            mask[clipped] = True
            self._buffer("clip_mask", mask)
            self.clip_all = bool(mask.all())
        one_hot, embedded = description.one_hot(), description.embedded()
        self.one_hot_columns = [description.categorical[j] for j in one_hot]
        self.one_hot_sizes = [len(description.categories[j]) for j in one_hot]
        self.embedded_columns = [description.categorical[j] for j in embedded]
        embeddings = []
        for j in embedded:
            n_categories = len(description.categories[j])
            weight = torch.randn(
                ensemble_size,
                n_categories + 1,
                embedding_dim(n_categories),
                generator=generator,
                dtype=torch.float64,
            )
            weight[:, 0] = 0.0  # the unknown slot starts neutral
            embeddings.append(nn.Parameter(weight))
        self.embeddings = nn.ParameterList(embeddings)
        # Drawn after the categorical embeddings, whose draws stay as they were.
        continuous = list(getattr(description, "continuous", ()))
        if numeric_embedding is not None and continuous:
            self._buffer("continuous_index", torch.as_tensor(continuous, dtype=torch.long))
            if numeric_embedding == "periodic":
                self.periodic = PeriodicEmbedding(
                    len(continuous), embedding_size, ensemble_size, generator
                )
            else:
                self.piecewise = PiecewiseEmbedding(description.bins, ensemble_size, generator)
            self.passthrough = False
        if feature_scaling:
            width = description.encoded_width(numeric_embedding)
            self.feature_scale = nn.Parameter(torch.ones(ensemble_size, width, dtype=torch.float64))

    def _buffer(self, name, value):
        self.register_buffer(name, value, persistent=False)

    def forward(self, h):
        """The first layer's input for codes ``h``, (rows, columns) or (members, rows, columns)."""
        scale = getattr(self, "feature_scale", None)
        if h.is_sparse:  # sparse X: numeric columns without missing values
            if scale is None and getattr(self, "continuous_index", None) is None:
                return self._scaled_sparse(h) if self.scaled else h
            h = h.to_dense()  # for the embeddings or feature scaling
        out = self._encode(h)
        if scale is None:
            return out
        if out.dim() == 2 and self.ensemble_size == 1:
            return out * scale[0]
        return out * scale.unsqueeze(1)  # (members, rows, width)

    def _scaled_sparse(self, h):
        """A sparse ``h``'s stored values scaled (not centred) and clipped: zeros stay zeros."""
        h = h.coalesce()
        indices, values = h.indices(), h.values()
        column = indices[-1]
        values = values / self.scale[column]
        clip_mask = getattr(self, "clip_mask", None)
        if clip_mask is not None:
            values = torch.where(clip_mask[column], smooth_clip(values), values)
        return torch.sparse_coo_tensor(indices, values, h.shape, check_invariants=False)

    def _encode(self, h):
        """The stage's output for dense codes ``h`` (before feature scaling)."""
        if self.passthrough:
            return torch.where(torch.isnan(h), self.medians, h)
        numeric = h if self.all_numeric else h.index_select(-1, self.numeric_index)
        missing = torch.isnan(numeric)
        numeric = torch.where(missing, self.medians, numeric)
        unscaled = numeric
        if self.scaled:
            numeric = (numeric - self.mean) / self.scale
        clip_mask = getattr(self, "clip_mask", None)
        if clip_mask is not None:
            clipped = smooth_clip(numeric)
            numeric = clipped if self.clip_all else torch.where(clip_mask, clipped, numeric)
        parts = [numeric]
        periodic = getattr(self, "periodic", None)
        if periodic is not None:  # of the scaled values
            parts.append(periodic(numeric.index_select(-1, self.continuous_index)))
        piecewise = getattr(self, "piecewise", None)
        if piecewise is not None:  # of the values, as the bins were fitted
            parts.append(piecewise(unscaled.index_select(-1, self.continuous_index)))
        if len(self.missing_index):
            parts.append(missing.index_select(-1, self.missing_index).to(h.dtype))
        for column, size in zip(self.one_hot_columns, self.one_hot_sizes, strict=True):
            codes = h[..., column].long()
            parts.append(F.one_hot(codes, size + 1)[..., 1:].to(h.dtype))
        for column, weight in zip(self.embedded_columns, self.embeddings, strict=True):
            parts.append(_embed(weight, h[..., column].long()))
        if any(part.dim() == 3 for part in parts):  # members' own embeddings or rows
            shape = (self.ensemble_size, h.shape[-2], -1)
            parts = [part if part.dim() == 3 else part.expand(*shape) for part in parts]
        return torch.cat(parts, dim=-1)


def stage_parameter_count(
    description, ensemble_size, numeric_embedding=None, embedding_size=16, feature_scaling=False
):
    """The parameters of the numeric embeddings and feature scaling an :class:`InputStage`
    of these arguments holds (the categorical embeddings are not counted)."""
    n = len(getattr(description, "continuous", ()))
    count = 0
    if numeric_embedding == "periodic" and n:
        out = EMBEDDED_WIDTH["periodic"]
        count += n * (2 * embedding_size + embedding_size * out + out)
    elif numeric_embedding == "piecewise" and n:
        out = EMBEDDED_WIDTH["piecewise"]
        n_bins = max(len(edges) - 1 for edges in description.bins)
        count += n * (n_bins * out + out)
    if feature_scaling:
        count += description.encoded_width(numeric_embedding)
    return ensemble_size * count


def smooth_clip(x):
    """``x / sqrt(1 + (x / 3) ** 2)``: about ``x`` near 0, within (-3, 3) (RealMLP's)."""
    return x * torch.rsqrt(1 + (x / CLIP_BOUND) ** 2)


class PeriodicEmbedding(nn.Module):
    """Learned periodic features of every continuous column, per member.

    Gorishniy et al. 2022 ("On embeddings for numerical features in
    tabular deep learning", PLR) and RealMLP's PBLD (Holzmueller et al.
    2024): per column ``c`` and member, ``k`` frequencies ``w`` (drawn
    from N(0, :data:`~sklearn_dnn._numeric_inputs.PERIODIC_SIGMA` ** 2))
    and phases ``b`` (uniform in (-pi, pi)) give ``cos(2 pi w x + b)``,
    which a learned linear map (with bias) takes to
    ``EMBEDDED_WIDTH["periodic"]`` values. Every column's weights are
    stacked, and applied in one batched product.

    Parameters
    ----------
    n_columns : int
    n_frequencies : int
    ensemble_size : int
    generator : torch.Generator
    """

    def __init__(self, n_columns, n_frequencies, ensemble_size, generator):
        super().__init__()
        shape = (ensemble_size, n_columns, n_frequencies)
        width = EMBEDDED_WIDTH["periodic"]
        self.frequencies = nn.Parameter(_normal(shape, PERIODIC_SIGMA, generator))
        self.phases = nn.Parameter(_uniform(shape, math.pi, generator))
        bound = n_frequencies**-0.5  # as nn.Linear's initialization
        self.weight = nn.Parameter(_uniform((*shape, width), bound, generator))
        self.bias = nn.Parameter(_uniform((ensemble_size, n_columns, width), bound, generator))

    def forward(self, x):
        """(rows, columns) or (members, rows, columns) -> (members, rows, columns * width).

        A single member's (rows, columns) gives (rows, columns * width).
        """
        single = x.dim() == 2 and self.weight.shape[0] == 1
        x = x.unsqueeze(-1) if x.dim() == 3 else x.unsqueeze(0).unsqueeze(-1)
        angles = (2 * math.pi) * x * self.frequencies.unsqueeze(1) + self.phases.unsqueeze(1)
        out = _columnwise(torch.cos(angles), self.weight, self.bias)
        return out[0] if single else out


class PiecewiseEmbedding(nn.Module):
    """A learned map of every continuous column's piecewise-linear encoding, per member.

    Gorishniy et al. 2022's encoding on quantile bins: for a value ``x``
    and bins ``[e_t, e_{t+1})`` (the description's edges), 1 for each bin
    wholly below ``x``, 0 for each bin above, ``(x - e_t) / (e_{t+1} -
    e_t)`` in its own bin; the first bin is not clipped below, nor the
    last above, so values beyond the training range extrapolate. A learned
    linear map (with bias) per column and member takes the encoding to
    ``EMBEDDED_WIDTH["piecewise"]`` values. Columns with fewer bins are
    padded with bins that encode to 0.

    Parameters
    ----------
    bins : sequence of ndarray
        The bin edges of each column (at least two each).
    ensemble_size : int
    generator : torch.Generator
    """

    def __init__(self, bins, ensemble_size, generator):
        super().__init__()
        n_columns, n_bins = len(bins), max(len(edges) - 1 for edges in bins)
        left, width = np.zeros((n_columns, n_bins)), np.ones((n_columns, n_bins))
        valid = np.zeros((n_columns, n_bins))
        clip_low = np.ones((n_columns, n_bins), dtype=bool)
        clip_high = np.ones((n_columns, n_bins), dtype=bool)
        for c, edges in enumerate(bins):
            t = len(edges) - 1
            left[c, :t], width[c, :t], valid[c, :t] = edges[:-1], np.diff(edges), 1.0
            clip_low[c, 0] = clip_high[c, t - 1] = False
        for name, value in (("left", left), ("width", width), ("valid", valid)):
            self.register_buffer(name, _floats(value), persistent=False)
        self.register_buffer("clip_low", torch.as_tensor(clip_low), persistent=False)
        self.register_buffer("clip_high", torch.as_tensor(clip_high), persistent=False)
        bound = n_bins**-0.5
        out = EMBEDDED_WIDTH["piecewise"]
        self.weight = nn.Parameter(
            _uniform((ensemble_size, n_columns, n_bins, out), bound, generator)
        )
        self.bias = nn.Parameter(_uniform((ensemble_size, n_columns, out), bound, generator))

    def encode(self, x):
        """The encoding of ``x`` (..., columns) -> (..., columns, bins)."""
        e = (x.unsqueeze(-1) - self.left) / self.width
        e = torch.where(self.clip_low, e.clamp_min(0.0), e)
        e = torch.where(self.clip_high, e.clamp_max(1.0), e)
        return e * self.valid

    def forward(self, x):
        """(rows, columns) or (members, rows, columns) -> (members, rows, columns * width).

        A single member's (rows, columns) gives (rows, columns * width).
        """
        single = x.dim() == 2 and self.weight.shape[0] == 1
        encoded = self.encode(x if x.dim() == 3 else x.unsqueeze(0))
        out = _columnwise(encoded, self.weight, self.bias)
        return out[0] if single else out


def _columnwise(features, weight, bias):
    """Each column's own linear map, for every member at once.

    ``features`` (members or 1, rows, columns, k), ``weight`` (members,
    columns, k, out), ``bias`` (members, columns, out) -> (members, rows,
    columns * out).
    """
    features = features.expand(weight.shape[0], *features.shape[1:])
    out = torch.einsum("mrck,mcko->mrco", features, weight) + bias.unsqueeze(1)
    return out.flatten(-2)


def _normal(shape, std, generator):
    return torch.randn(shape, generator=generator, dtype=torch.float64) * std


def _uniform(shape, bound, generator):
    return (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound


def _embed(weight, codes):
    """The members' embeddings of ``codes``: (rows,) or (members, rows) -> (members, rows, dim).

    A single member's embeddings of (rows,) codes are (rows, dim).
    """
    if codes.dim() == 1:
        if weight.shape[0] == 1:
            return weight[0][codes]
        return weight[:, codes]
    members = torch.arange(weight.shape[0], device=codes.device).unsqueeze(1)
    return weight[members, codes]


def _floats(values):
    return torch.as_tensor(np.asarray(values, dtype=np.float64))
