"""Uncertainty from an ensemble's members and from Monte-Carlo dropout: sampling and summaries.

The samples are the members of an ensemble (Lakshminarayanan et al.,
2017), from one deterministic pass, or Monte-Carlo dropout passes (Gal and
Ghahramani, 2016), each through every member.

Sampling never changes the module: the network runs in evaluation mode
(batch normalization keeps its running statistics, so a row's
distribution never depends on the other rows) while the dropout layers
draw their masks from the call's own ``torch.Generator``
(:func:`~sklearn_dnn._nn.mlp.forward_with_dropout`). Another thread may
predict with the same model meanwhile, and a seeded call gives the same
numbers whatever other threads do.

The passes run in :func:`~sklearn_dnn._engine.inference.sample_outputs`, the
one inference path: the summaries are computed chunk by chunk and written
into arrays of the result's size, so memory does not grow with
``n_samples`` unless the samples are returned.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._engine.inference import sample_outputs
from ._engine.seeding import draw_seed, make_generator

# What ``predict_uncertainty``'s ``method`` takes.
METHODS = frozenset({"auto", "ensemble", "dropout"})


def _short_repr(result):
    fields = ", ".join(
        f"{name}={'None' if value is None else f'<array {value.shape}>'}"
        for name, value in vars(result).items()
    )
    return f"{type(result).__name__}({fields})"


@dataclass(frozen=True)
class RegressionUncertainty:
    """What :meth:`DeepRegressor.predict_uncertainty` returns.

    Attributes
    ----------
    mean : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        Mean of the sampled predictions, on the original target scale.
    std : ndarray, shaped like ``mean``
        Their standard deviation: how much the members or passes disagree
        (the model's, epistemic, uncertainty).
    samples : ndarray of shape (n_samples, *mean.shape) or None
        The sampled predictions, when ``return_samples=True``.
    aleatoric_std, epistemic_std, total_std : ndarray shaped like ``mean``, or None
        Only for a model that predicts the noise (``loss="gaussian_nll"``
        or ``"beta_nll"``; None otherwise): the noise of ``y`` around the
        mean (the root of the samples' mean predicted variance),
        ``std`` again, and the root of the sum of both variances, the
        standard deviation of the samples' mixture (Lakshminarayanan et
        al., 2017): ``total_std ** 2 == aleatoric_std ** 2 + epistemic_std ** 2``.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None = None
    aleatoric_std: np.ndarray | None = None
    epistemic_std: np.ndarray | None = None
    total_std: np.ndarray | None = None

    __repr__ = _short_repr


@dataclass(frozen=True)
class ClassificationUncertainty:
    """What :meth:`DeepClassifier.predict_uncertainty` returns.

    Attributes
    ----------
    mean : ndarray of shape (n_rows, n_classes)
        Class probabilities averaged over the samples; rows sum to 1.
    std : ndarray of shape (n_rows, n_classes)
        Standard deviation of each class probability over the samples.
    entropy : ndarray of shape (n_rows,)
        Predictive entropy of ``mean``, in nats: the total uncertainty.
    mutual_info : ndarray of shape (n_rows,)
        ``entropy`` minus the mean entropy of the sampled distributions
        (BALD): the part of the uncertainty that comes from the model
        (epistemic), which more training data would reduce.
    samples : ndarray of shape (n_samples, n_rows, n_classes) or None
        The sampled class probabilities, when ``return_samples=True``.

    For a multilabel model ``n_classes`` is the number of labels, each
    column of ``mean`` is a label's own probability (rows need not sum to
    1), and ``entropy`` and ``mutual_info`` are sums over the labels of
    their binary entropies and mutual informations.
    """

    mean: np.ndarray
    std: np.ndarray
    entropy: np.ndarray
    mutual_info: np.ndarray
    samples: np.ndarray | None = None

    __repr__ = _short_repr


class UncertaintyMixin:
    """``predict_uncertainty`` for the estimators.

    Needs ``module_``, ``_input_tensor`` and ``_task`` (whose ``summarize``
    turns sampled raw outputs into the fields of its result class).
    """

    def predict_uncertainty(
        self, X, n_samples=100, random_state=None, return_samples=False, *, method="auto"
    ):
        """Estimate how sure the model is: from its ensemble's members, or by Monte-Carlo dropout.

        Two sources of samples, chosen by ``method``:

        - the members of an ensemble (``ensemble_size > 1``): each member is
          one sample, from one deterministic pass (Lakshminarayanan et al.,
          2017). ``mean`` is then exactly ``predict_proba`` (or
          ``predict``), and ``mutual_info`` measures how much the members
          disagree;
        - Monte-Carlo dropout (Gal and Ghahramani, 2016): dropout stays on
          at prediction time and ``n_samples`` stochastic passes are
          averaged; in an ensemble, each pass runs every member.

        For a regressor, ``std`` is the model's (epistemic) uncertainty,
        how much the members or passes disagree; it leaves out the noise
        in ``y`` itself, so ``mean +- 1.645 * std`` covers far fewer than
        90% of new targets (on the project's benchmark, 3% to 76%). For
        intervals with guaranteed coverage, use ``predict_interval`` (split
        conformal prediction on held-out rows; see ``calibration_fraction``).
        A regressor that predicts the noise (``loss="gaussian_nll"`` or
        ``"beta_nll"``) also reports it, ``aleatoric_std``, and the total,
        ``total_std``; such a model needs no other source of samples: a
        single network without dropout gives its noise, with
        ``std = epistemic_std = 0`` (it has no measure of its own
        uncertainty).

        Only the dropout layers are sampled: batch normalization keeps its
        running statistics, so a row's answer does not depend on the other
        rows, and the model is left unchanged (other threads may predict
        with it meanwhile). The passes are vectorized: each forward pass
        carries many copies of a chunk of rows, and the summaries are
        computed chunk by chunk, so memory does not grow with
        ``n_samples`` unless ``return_samples=True``.

        For a model in a Pipeline, ``sklearn_dnn.predict_uncertainty(pipe, X)``
        transforms ``X`` with the steps before it first.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        n_samples : int, default=100
            Number of dropout passes (not used by ``method="ensemble"``).
        random_state : int, RandomState instance or None, default=None
            Seeds the dropout masks (through a generator of the call's
            own); the same value gives the same numbers, and torch's global
            random state is neither read nor changed.
        return_samples : bool, default=False
            Also return the sampled predictions (``samples``).
        method : {"auto", "ensemble", "dropout"}, default="auto"
            ``"ensemble"``: the members, dropout off (needs
            ``ensemble_size > 1``). ``"dropout"``: ``n_samples`` dropout
            passes of every member (needs ``dropout > 0``). ``"auto"``:
            both when the model has both, otherwise whichever it has.

        Returns
        -------
        result : RegressionUncertainty or ClassificationUncertainty
            For a regressor ``mean`` and ``std`` shaped like
            ``predict(X)``, on the original target scale. For a classifier
            ``mean`` (averaged class probabilities), ``std`` (per class),
            ``entropy`` and ``mutual_info`` (per row). ``samples``, if
            returned, has one entry per sample: ``ensemble_size`` members,
            or ``n_samples * ensemble_size`` dropout passes.

        Raises
        ------
        ValueError
            If the model has no source of samples for ``method`` (no
            dropout, a single network), or produced non-finite outputs.
        """
        check_is_fitted(self, "net_")
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}; got {method!r}.")
        members = self.module_.ensemble_size
        has_dropout = any(p > 0 for p in self.module_.dropout_rates())
        name = type(self).__name__
        if method == "ensemble" and members == 1:
            raise ValueError(
                f"method='ensemble' reads the members of an ensemble: this {name} is a "
                f"single network (ensemble_size={members}). Refit with ensemble_size > 1, "
                "for example ensemble_size=5, or use method='dropout'."
            )
        # A variance head's one deterministic pass has the noise to report.
        variance_head = getattr(self.module_, "variance_head", False)
        auto_alone = method == "auto" and members == 1 and not variance_head
        if (method == "dropout" or auto_alone) and not has_dropout:
            if members == 1:
                remedy = (
                    "is a single network. Refit with dropout > 0 (for example dropout=0.2), "
                    "or with ensemble_size > 1 (an ensemble's members are the samples)."
                )
            else:
                remedy = (
                    f"is an ensemble of {members} members: use method='ensemble' (its "
                    "members are the samples), or refit with dropout > 0 (for example "
                    "dropout=0.2) to sample dropout too."
                )
            raise ValueError(
                "Monte-Carlo dropout needs dropout: this "
                f"{name} has no dropout layer (dropout={self.dropout}) and {remedy}"
            )
        use_dropout = has_dropout and method != "ensemble"
        if use_dropout and (
            isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1
        ):
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        X = self._input_tensor(X)
        generator = make_generator(draw_seed(random_state), X.device) if use_dropout else None
        fields = sample_outputs(
            self.module_,
            X,
            n_samples,
            generator,
            self._task.summarize,
            return_samples,
            self.n_threads,
        )
        return self._task.uncertainty_result(**fields)
