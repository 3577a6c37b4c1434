"""Reusing pretrained layers: a private copy of another network's hidden layers.

:class:`PretrainedLayers` is what ``from_pretrained`` stores in the
``pretrained`` hyperparameter. It is a plain object, not an estimator, so
``sklearn.base.clone`` deep-copies it: every clone (every GridSearchCV
candidate) starts from the source's weights, and neither fitting nor
cloning ever touches the source.
"""

import copy
import os

import joblib
import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from torch import nn

from ._in_pipelines import split_pipeline
from ._input_summary import refit_warning
from ._nn.activations import activation_name
from ._nn.architecture import INPUT_SETTINGS, Activation
from ._nn.blocks import as_hidden_blocks, blocks_of_sequential
from ._nn.layers import MemberActivation, ParametricActivation
from ._warnings import warn
from .exceptions import PretrainedInputWarning


class PretrainedLayers:
    """A frozen-in-time copy of a network's hidden blocks.

    Build it with :meth:`from_source`; the estimators' ``from_pretrained``
    does so.

    Parameters
    ----------
    blocks : torch.nn.Sequential
        One :class:`~sklearn_dnn._nn.blocks.HiddenBlock` per hidden layer (of
        one member, or of every member of a source ensemble). Kept on the
        CPU; never trained (the estimator trains a copy).
    feature_names : ndarray of str or None
        Names of the features the source was fitted on, for error messages.
    input_summary : InputSummary or None, default=None
        Statistics of the inputs the source was trained on (see
        ``_input_summary.py``), to warn when a fit gives the layers inputs
        scaled on other data; None for a torch source.
    """

    def __init__(self, blocks, feature_names=None, input_summary=None, inputs=None):
        self.blocks = blocks
        self.feature_names = feature_names
        self.input_summary = input_summary
        # The source's input description: a new fit encodes its table the
        # same way (the same categories, medians and scaling).
        self.inputs = inputs

    def __setstate__(self, state):
        vars(self).setdefault("input_summary", None)  # 0.1.0 recorded none
        vars(self).update(state)
        self.__dict__.setdefault("inputs", None)  # pickled before tables were described
        # 0.1.0 pickled its blocks as Sequentials: the same layers, in HiddenBlocks.
        self.blocks = as_hidden_blocks(self.blocks)

    @property
    def n_features(self):
        """Width of the input the reused layers expect."""
        return self.blocks[0].linear.in_features

    @property
    def output_width(self):
        """Width of the last reused hidden layer."""
        return self.blocks[-1].linear.out_features

    @property
    def n_layers(self):
        """Number of reused hidden layers."""
        return len(self.blocks)

    @property
    def n_members(self):
        """Number of members of the source (1 for a single network)."""
        return self.blocks[0].ensemble_size

    @property
    def has_batchnorm(self):
        return any(block.norm is not None for block in self.blocks)

    @property
    def parametric_activation(self):
        """Whether the reused blocks' activations are learned blends (ParametricActivation)."""
        return isinstance(self.blocks[0].activation, ParametricActivation)

    @property
    def parametrization(self):
        """The reused Linear layers' parametrization: ``"standard"`` or ``"ntk"``."""
        return self.blocks[0].linear.parametrization

    def activation(self):
        """The activation module of the first reused block, or None (member 0's of an ensemble).

        A parametric activation's is the activation it blends with the
        identity.
        """
        activation = self.blocks[0].activation
        if isinstance(activation, ParametricActivation):
            return activation.member_activation()
        if isinstance(activation, MemberActivation):
            return activation.member(0)  # with member 0's parameters
        return activation

    def architecture(self):
        """The estimator hyperparameters that describe the reused layers.

        ``ensemble_size`` is among them for a source ensemble only: one
        network's layers can start every member of any ensemble.
        """
        activation = self.activation()
        name = None if activation is None else activation_name(activation)
        rates = [block.dropout.p for block in self.blocks if block.dropout is not None]
        architecture = {
            "hidden_layer_sizes": tuple(block.linear.out_features for block in self.blocks),
            "activation": name if name is not None else copy.deepcopy(activation),
            "parametric_activation": self.parametric_activation,
            "parametrization": self.parametrization,
            "batchnorm": self.has_batchnorm,
            "dropout": rates[0] if rates else 0.0,
        }
        if self.n_members > 1:
            architecture["ensemble_size"] = self.n_members
        return architecture

    def check_architecture(self, estimator):
        """Raise a ValueError when the estimator's architecture settings differ from the layers'."""
        expected = self.architecture()
        differ = [
            f"{name}={getattr(estimator, name)!r} (the layers': {value!r})"
            for name, value in expected.items()
            if not _describes(name, getattr(estimator, name), value)
        ]
        if differ:
            raise ValueError(
                "The estimator reuses pretrained layers, whose architecture its settings "
                f"must describe; these differ: {', '.join(differ)}. Leave them as "
                "from_pretrained set them."
            )

    def check_columns(self, n_features, n_source_features):
        """Raise a ValueError when X has not as many columns as the source's X had."""
        if n_features != n_source_features:
            self._refuse(n_features, n_source_features)

    def check_input(self, n_features, feature_names):
        """Raise a ValueError when X does not have the source's features."""
        if n_features != self.n_features:
            self._refuse(n_features, self.n_features)
        if (
            self.feature_names is not None
            and feature_names is not None
            and list(feature_names) != list(self.feature_names)
        ):
            raise ValueError(
                "The feature names of X differ from those the pretrained layers were "
                f"trained on: got {list(feature_names)[:5]}..., expected "
                f"{list(self.feature_names)[:5]}...."
            )

    def _refuse(self, n_features, n_source_features):
        named = ""
        if self.feature_names is not None:
            named = f" ({', '.join(map(str, self.feature_names[:5]))}, ...)"
        raise ValueError(
            f"X has {n_features} features, but the pretrained layers were trained "
            f"on {n_source_features} input features{named}. Give the new estimator "
            "the same features, in the same order and scaling, as its source."
        )

    def check_input_summary(self, summary, feature_names):
        """Warn (PretrainedInputWarning) when the inputs look rescaled on other data."""
        message = refit_warning(self.input_summary, summary, feature_names)
        if message is not None:
            warn(message, PretrainedInputWarning)

    @classmethod
    def from_source(cls, source):
        """Copy the hidden layers of ``source``.

        Parameters
        ----------
        source : fitted DeepClassifier, DeepRegressor or Pipeline, path, or torch.nn.Module
            A fitted estimator, or a fitted Pipeline that ends in one (its
            last step is used); a path to one saved with joblib or pickle;
            a ``torch.nn.Sequential`` of Linear layers, activations (and
            optionally BatchNorm1d and Dropout), whose last Linear layer, if
            it ends the sequence, is its output layer and is dropped; or the
            ``module_`` of a fitted estimator.
        """
        if isinstance(source, (str, os.PathLike)):
            source = joblib.load(source)
        preprocessing, source = split_pipeline(source)
        where = "" if preprocessing is None else " (the last step of the Pipeline)"
        module = getattr(source, "module_", None) if hasattr(source, "net_") else None
        feature_names = getattr(source, "feature_names_in_", None)
        if module is None and hasattr(type(source), "from_pretrained"):
            raise ValueError(
                f"The source {type(source).__name__}{where} is not fitted: it has no "
                "trained network (net_) because fit was never called on it, or it is a "
                "clone, which copies the hyperparameters only. Fit it before reusing "
                "its layers."
            )
        if module is None and hasattr(source, "get_params"):
            raise ValueError(
                "source must be a fitted DeepClassifier or DeepRegressor (or a Pipeline "
                f"ending in one), a path to one, or a torch.nn.Sequential; got "
                f"{type(source).__name__}{where}."
            )
        if module is None:
            module = source
        if hasattr(module, "hidden") and isinstance(module.hidden, nn.Sequential):
            blocks = as_hidden_blocks(module.hidden)
        elif isinstance(module, nn.Sequential):
            blocks = blocks_of_sequential(module)
        else:
            raise ValueError(
                "source must be a fitted DeepClassifier or DeepRegressor, a path to "
                "one, or a torch.nn.Sequential of Linear layers and activations; got "
                f"{type(source).__name__}."
            )
        if len(blocks) == 0:
            raise ValueError("The source has no hidden layer to reuse.")
        blocks = copy.deepcopy(blocks).cpu()
        for param in blocks.parameters():
            param.requires_grad_(False)
        return cls(
            blocks,
            feature_names,
            getattr(source, "_input_summary_", None),
            getattr(source, "_inputs_", None),
        )

    def __repr__(self):
        widths = tuple(block.linear.out_features for block in self.blocks)
        return f"PretrainedLayers(n_features={self.n_features}, hidden_layer_sizes={widths})"


def _describes(name, given, value):
    """Whether the hyperparameter ``name``'s ``given`` value describes the layers' ``value``."""
    if name == "activation":
        return Activation(given) == Activation(value)
    return np.array_equal(np.atleast_1d(given), np.atleast_1d(value))


class TransferMixin:
    """``from_pretrained`` for the estimators."""

    @classmethod
    def from_pretrained(
        cls, source, n_frozen=None, unfreeze_after=None, *, keep_preprocessing=False, **params
    ):
        """Make an unfitted estimator whose hidden layers start as ``source``'s.

        The hidden layers (architecture and weights) are copied from the
        source, never shared: fitting the new estimator leaves the source
        unchanged, and ``sklearn.base.clone`` (so every GridSearchCV
        candidate) starts again from the source's weights. A new output
        layer is made for the new target, so a classifier's layers can
        serve a regressor and back.

        Parameters
        ----------
        source : fitted DeepClassifier, DeepRegressor or Pipeline, path or torch.nn.Sequential
            The network to reuse: a fitted estimator, a fitted Pipeline
            ending in one (its last step: put the same preprocessing
            before the new model), a path to one saved with joblib or
            pickle, or a ``torch.nn.Sequential`` of Linear
            layers and activations (its last Linear layer, if it ends the
            sequence, is taken as its output layer and dropped).
        n_frozen : int or None, default=None
            How many reused hidden layers (input side first) stay frozen;
            None freezes them all.
        unfreeze_after : int or None, default=None
            Release the frozen layers after this many epochs, to train at
            ``learning_rate * unfrozen_lr_factor`` (0.1 by default).
        keep_preprocessing : bool, default=False
            With a Pipeline ``source``: return a Pipeline of the source's
            fitted preprocessing steps, each a copy wrapped in
            ``sklearn.frozen.FrozenEstimator`` (its ``fit`` does nothing:
            the new data is scaled as the source's was, the way the reused
            layers learned to read it), and the new estimator, under the
            source's step names. ``clone`` and searches keep the frozen
            steps as they are. Without it, a Pipeline built around the new
            estimator refits its preprocessing on the new data, and a fit
            whose inputs were clearly rescaled on other data than the
            source's warns (:class:`~sklearn_dnn.PretrainedInputWarning`).
        **params
            Any other hyperparameter of the estimator (``learning_rate``,
            ``max_epochs``, ...). The architecture parameters
            (``hidden_layer_sizes``, ``activation``, ``parametric_activation``,
            ``parametrization``, ``batchnorm``, ``dropout``) are the source's,
            and ``get_params`` reports them; passing one raises a ValueError.
            The input settings (``numeric_scaling``, ``numeric_embedding``,
            ``embedding_size``, ``feature_scaling``) are the source
            estimator's unless given; a torch module's inputs are its
            columns as they are (``numeric_embedding=None``,
            ``feature_scaling=False``, ``numeric_scaling="auto"``).

        Returns
        -------
        estimator : unfitted estimator of this class, or Pipeline
            A Pipeline (the source's frozen preprocessing, then the
            estimator) with ``keep_preprocessing=True``.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_dnn import DeepClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> X = X / 16
        >>> source = DeepClassifier(max_epochs=20, random_state=0).fit(X[y < 8], y[y < 8])
        >>> model = DeepClassifier.from_pretrained(
        ...     source, learning_rate=1e-2, max_epochs=50, random_state=0
        ... )
        >>> model.fit(X[y >= 8], y[y >= 8]).score(X[y >= 8], y[y >= 8]) > 0.9
        True

        Keeping a Pipeline's fitted preprocessing:

        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> X, y = load_digits(return_X_y=True)
        >>> pipe = make_pipeline(StandardScaler(), DeepClassifier(max_epochs=20, random_state=0))
        >>> pipe = pipe.fit(X[y < 8], y[y < 8])
        >>> new = DeepClassifier.from_pretrained(pipe, keep_preprocessing=True, random_state=0)
        >>> [type(step).__name__ for step in new]
        ['FrozenEstimator', 'DeepClassifier']
        """
        if isinstance(source, (str, os.PathLike)):
            source = joblib.load(source)
        preprocessing, last = split_pipeline(source)
        if keep_preprocessing and preprocessing is None:
            raise ValueError(
                "keep_preprocessing=True keeps the fitted steps of a Pipeline source; the "
                f"source is a {type(source).__name__}, not a Pipeline."
            )
        pretrained = PretrainedLayers.from_source(source)
        architecture = pretrained.architecture()
        given = sorted(set(params) & set(architecture))
        if given:
            raise ValueError(
                f"from_pretrained copies the architecture of the source, so {given} "
                "cannot be set: the reused layers define them. To train another "
                "architecture, build the estimator directly."
            )
        estimator = cls(
            pretrained=pretrained,
            n_frozen=n_frozen,
            unfreeze_after=unfreeze_after,
            **architecture,
            **{**source_input_settings(last), **params},
        )
        if not keep_preprocessing:
            return estimator
        return with_frozen_preprocessing(source, estimator)


def source_input_settings(source):
    """The input settings a new estimator takes from ``source`` (its Pipeline's last step).

    A fitted estimator's own scaling and input stage, so that the first
    reused layer reads inputs encoded as it learned them; for a torch
    module, the columns as they are (no embedding, no feature scale, arrays
    unscaled), as it read them.
    """
    if hasattr(source, "net_"):
        params = source.get_params(deep=False)
        return {name: params[name] for name in ("numeric_scaling", *INPUT_SETTINGS)}
    return {"numeric_scaling": "auto", "numeric_embedding": None, "feature_scaling": False}


def with_frozen_preprocessing(pipeline, estimator):
    """A Pipeline of copies of ``pipeline``'s fitted steps but the last, frozen, then ``estimator``.

    Copies, so that refitting the source later leaves the new Pipeline's
    steps as they were; ``"passthrough"`` and None steps stay as they are.
    """
    steps = [
        (
            name,
            step if step is None or isinstance(step, str) else FrozenEstimator(copy.deepcopy(step)),
        )
        for name, step in pipeline.steps[:-1]
    ]
    return Pipeline([*steps, (pipeline.steps[-1][0], estimator)])
