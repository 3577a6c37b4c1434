"""The network's input stage: from the codes of a table to what the first hidden layer sees.

The host encodes a table into codes (``sklearn_dnn/_inputs.py``): numeric
columns as floats with NaN kept, categorical columns as integer codes (0 for
a missing or unknown category, ``1..k`` for the training categories).
:class:`InputStage` does the rest inside the module, so that a fitted
estimator takes the raw table, and a pickle holds the whole model:

1. numeric columns: NaN replaced by the column's training median, then
   standardized with the training mean and standard deviation (when the
   fit scales numeric columns);
2. a missing-indicator column (1 where the value was missing) for each
   numeric column that had missing values in training;
3. categorical columns with few categories: one-hot columns, one per
   training category (an unknown or missing category is all zeros);
4. categorical columns with many categories: a learned embedding per
   member, of shape ``(ensemble_size, n_categories + 1, dim)``, whose row 0
   (unknown or missing) starts at zero.

The output is ``[numeric, indicators, one-hot, embeddings]``, in the
columns' order within each part. Its buffers are not part of the state dict
(a warm start rebuilds them from the same fitted description; they are
pickled with the module); the embeddings are parameters, trained at the
learning rate of the head group and not penalized by ``l1``/``l2``.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._inputs import embedding_dim


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
    """

    def __init__(self, description, ensemble_size, generator):
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

    def _buffer(self, name, value):
        self.register_buffer(name, value, persistent=False)

    def forward(self, h):
        """The first layer's input for codes ``h``, (rows, columns) or (members, rows, columns)."""
        if h.is_sparse:  # sparse X: numeric columns without missing values, unscaled
            return h
        if self.passthrough:
            return torch.where(torch.isnan(h), self.medians, h)
        numeric = h if self.all_numeric else h.index_select(-1, self.numeric_index)
        missing = torch.isnan(numeric)
        numeric = torch.where(missing, self.medians, numeric)
        if self.scaled:
            numeric = (numeric - self.mean) / self.scale
        parts = [numeric]
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
