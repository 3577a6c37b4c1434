"""The hyperparameters of the network and of its optimization, each declared once.

Each :class:`~sklearn_dnn._hyperparameters.constraints.Hyperparameter` gives what the
hyperparameter accepts, what a warm start does when it changes and its
docstring entry; ``_hyperparameters/`` derives the estimators'
constraints, the warm-start tables and their docs from them. The
``__init__`` signatures (``_base.py``, ``_classifier.py``,
``_regressor.py``) give the defaults; a test checks that both agree.
"""

from numbers import Integral, Real

from torch import nn

from .._engine.optimizers import OPTIMIZERS
from .._engine.schedules import RATE_SCHEDULES, SCHEDULES
from .._nn.activations import ACTIVATIONS
from .._nn.heads import VARIANCE_LOSSES
from .._nn.initializers import INITIALIZERS
from .constraints import FIXED, Hyperparameter, Interval, Options

MODEL_HYPERPARAMETERS = (
    Hyperparameter(
        "hidden_layer_sizes",
        "tuple of int",
        ["array-like", Interval(Integral, 1, None, closed="left")],
        warm_start=FIXED,
        doc="""
            Width of each hidden layer, input side first. ``()`` gives a network
            with no hidden layer (a linear model).
            """,
    ),
    Hyperparameter(
        "activation",
        "str, torch.nn.Module instance or subclass",
        [Options(set(ACTIVATIONS)), nn.Module, type],
        warm_start=FIXED,
        doc="""
            Activation after every hidden layer: one of ``"sigmoid"``,
            ``"tanh"``, ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"prelu"``,
            ``"elu"``, ``"selu"``, ``"gelu"``, ``"silu"``, ``"mish"``, or a module
            such as ``torch.nn.LeakyReLU(0.2)`` (copied for every layer) or a
            module class.
            """,
    ),
    Hyperparameter(
        "initializer",
        "str or callable",
        [Options({"auto", *INITIALIZERS}), callable],
        warm_start=FIXED,
        doc="""
            How hidden weight matrices are initialized: ``"auto"`` (He for the
            ReLU family, LeCun for SELU, Glorot otherwise), ``"glorot_uniform"``,
            ``"glorot_normal"``, ``"he_uniform"``, ``"he_normal"``,
            ``"lecun_uniform"``, ``"lecun_normal"``, ``"orthogonal"``, or a
            callable that fills a weight tensor in place. Biases start at zero;
            the output layer is Glorot uniform.
            """,
    ),
    Hyperparameter(
        "parametric_activation",
        "bool",
        ["boolean"],
        warm_start=FIXED,
        doc="""
            Make every hidden activation a learned blend of the identity and
            ``activation``: ``f(x) = x + a * (activation(x) - x)``, with one
            ``a`` per hidden unit (and per member of an ensemble), starting at
            1 (the plain activation), as RealMLP's parametric activations
            (Holzmueller et al., 2024). The ``a`` are not penalized by ``l1``
            and ``l2``.
            """,
    ),
    Hyperparameter(
        "parametrization",
        "str",
        [Options({"standard", "ntk"})],
        warm_start=FIXED,
        doc="""
            How the Linear layers hold their weights. ``"standard"``: as
            applied. ``"ntk"``: the NTK parametrization (Jacot et al., 2018;
            RealMLP, Holzmueller et al., 2024): each layer stores its weights
            ``sqrt(fan_in)`` times larger and multiplies them by
            ``1 / sqrt(fan_in)`` in the forward pass, so the stored weights are
            of order 1 at any width and an optimizer step moves a wide layer's
            output as much as a narrow one's. The network at initialization is
            the same either way (``initializer="lecun_normal"`` stores
            N(0, 1) weights); biases are not scaled. ``coefs_`` and
            ``max_norm`` refer to the applied weights, ``l1`` and ``l2`` to the
            stored ones.
            """,
    ),
    Hyperparameter(
        "batchnorm",
        "bool",
        ["boolean"],
        warm_start=FIXED,
        doc="""
            Insert batch normalization between each hidden Linear layer and its
            activation.
            """,
    ),
    Hyperparameter(
        "dropout",
        "float",
        [Interval(Real, 0, 1, closed="left")],
        warm_start="the dropout layers (they hold no weights)",
        doc="""
            Dropout rate in [0, 1) after each hidden activation. With
            ``activation="selu"`` it is AlphaDropout, which keeps
            self-normalization.
            """,
    ),
    Hyperparameter(
        "categorical_features",
        'array-like of str, int or bool, "from_dtype" or None',
        [Options({"from_dtype"}), "array-like", None],
        warm_start="nothing: a continued fit keeps the first fit's columns",
        doc="""
            Which columns are categorical, as in ``HistGradientBoostingClassifier``:
            ``"from_dtype"`` (the columns of a pandas or polars DataFrame with a
            category, string or object dtype, polars' Categorical, Enum and
            String; none of a numeric array, the columns holding strings of an
            array of objects), a list of column names, of indices, a
            boolean mask, or None. A categorical column is one-hot encoded inside
            the network when it has at most 64 categories, else embedded (a
            learned vector per category); a category that training did not
            see, or a missing one, gets its own all-zero slot. Booleans are
            numeric (0 and 1). See the guide's "Tables".
            """,
    ),
    Hyperparameter(
        "numeric_scaling",
        "str or None",
        [Options({"auto", "standard", "robust"}), None],
        warm_start="nothing: a continued fit keeps the first fit's scaling",
        doc="""
            How the network scales numeric columns (after filling missing values
            with the training median): ``"standard"`` (the training rows' mean
            and standard deviation), ``"auto"`` (``"standard"`` for a DataFrame,
            nothing for an array or a sparse matrix, which are taken as they
            are, as a Pipeline's scaler leaves them), ``"robust"`` (every
            column with more than two distinct training values, of an array
            too, centred by its median, divided by its interquartile range,
            then smoothly clipped by ``x / sqrt(1 + (x / 3) ** 2)``, as
            RealMLP does; a sparse matrix is divided, not centred, so it stays
            sparse) or None. See the guide's "Numeric inputs".
            """,
    ),
    Hyperparameter(
        "numeric_embedding",
        "str or None",
        [Options({"periodic", "piecewise"}), None],
        warm_start=FIXED,
        doc="""
            A learned embedding of every numeric column with more than two
            distinct training values, added to its (scaled) value:
            ``"periodic"`` (``embedding_size`` learned frequencies and phases,
            their cosines mapped to 3 values: Gorishniy et al. 2022's PLR,
            RealMLP's PBLD), ``"piecewise"`` (the piecewise-linear encoding
            of Gorishniy et al. 2022 on at most ``embedding_size`` quantile
            bins, mapped to 4 values) or None. Each member has its own
            embeddings, not penalized by ``l1``/``l2``. See the guide's
            "Numeric inputs".
            """,
    ),
    Hyperparameter(
        "embedding_size",
        "int",
        [Interval(Integral, 1, None, closed="left")],
        warm_start=FIXED,
        doc="""
            The frequencies of a ``"periodic"`` embedding, or the most
            quantile bins of a ``"piecewise"`` one, per numeric column; unused
            without ``numeric_embedding``.
            """,
    ),
    Hyperparameter(
        "feature_scaling",
        "bool",
        ["boolean"],
        warm_start=FIXED,
        doc="""
            Multiply every input the first hidden layer sees (after scaling,
            embeddings and one-hot encoding) by a learned factor that starts
            at 1, per member: RealMLP's scaling layer. Not penalized by
            ``l1``/``l2``.
            """,
    ),
    Hyperparameter(
        "ensemble_size",
        "int",
        [Interval(Integral, 1, None, closed="left")],
        warm_start=FIXED,
        doc="""
            Train this many networks at once, as a deep ensemble
            (Lakshminarayanan et al., 2017): the members live in one module with
            their weights stacked, and train together in batched operations (not
            a loop over networks), each with its own initialization and its own
            order of the rows. Everything else (penalties, max-norm, clipping,
            batch normalization, dropout) applies to each member on its own.
            ``predict`` and ``predict_proba`` average the members (probabilities
            for a classifier, values for a regressor), the validation loss that
            early stopping watches is the averaged prediction's, and
            ``predict_uncertainty`` reads the members' disagreement. On one CPU
            thread, 8 members cost about 2x to 4x one network's fit (see the
            guide's "Ensembles and uncertainty").
            """,
    ),
    Hyperparameter(
        "bootstrap",
        "bool",
        ["boolean"],
        warm_start="the members' samples of the rows, drawn anew for this fit",
        doc="""
            Train each member on its own bootstrap sample of the training rows
            (as many rows, drawn with replacement, anew at every fit), as bagging
            does, instead of on every row. Off by default: members that differ by
            their initialization and data order alone are better ensembles of
            neural networks (Lakshminarayanan et al., 2017).
            """,
    ),
    Hyperparameter(
        "optimizer",
        "str or torch.optim.Optimizer subclass",
        [Options(set(OPTIMIZERS)), type],
        warm_start="the optimizer (its state is kept when the kind is the same)",
        doc="""
            One of ``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``,
            ``"adamax"``, ``"nadam"``, ``"adamw"``, or an optimizer class, which
            receives ``lr`` (and ``momentum``, ``nesterov`` when it takes them).
            """,
    ),
    Hyperparameter(
        "learning_rate",
        "float",
        [Interval(Real, 0, None, closed="neither")],
        warm_start="the optimizer's rates (and the schedule)",
        doc="""
            Initial learning rate (the peak rate for ``schedule="onecycle"``).
            """,
    ),
    Hyperparameter(
        "lr_factors",
        "dict or None",
        [dict, None],
        warm_start="the optimizer's groups (their state is kept when the groups are the same)",
        doc="""
            Learning-rate multipliers by kind of parameter, each kind its own
            optimizer group at ``learning_rate * factor`` (a positive number;
            a kind without a key has factor 1; schedules scale every group
            alike, and ``"onecycle"`` peaks at each group's rate). The kinds:
            ``"input"`` (every parameter of the input stage: categorical
            embeddings and any numeric embedding or scaling), ``"hidden"``
            (hidden Linear weight matrices), ``"norm"`` (batch normalization),
            ``"activation"`` (parameters of activations, PReLU's slopes),
            ``"bias"`` (every Linear layer's bias, the output layer's
            included) and ``"output"`` (the output layer's weight matrix).
            For example ``{"input": 6.0, "bias": 0.1}`` (RealMLP, Holzmueller
            et al., 2024). Reused frozen layers keep their own groups, at
            ``unfrozen_lr_factor`` times their kind's rate. None: one rate
            for all (two groups with frozen layers). ``history_`` records
            ``learning_rate`` as scheduled, not a group's rate.
            """,
    ),
    Hyperparameter(
        "momentum",
        "float",
        [Interval(Real, 0, 1, closed="both")],
        warm_start="the optimizer",
        doc="""
            Momentum of ``"sgd"`` and ``"rmsprop"``.
            """,
    ),
    Hyperparameter(
        "nesterov",
        "bool",
        ["boolean"],
        warm_start="the optimizer",
        doc="""
            Use Nesterov momentum with ``"sgd"``.
            """,
    ),
    Hyperparameter(
        "betas",
        "tuple of two float",
        ["array-like"],
        warm_start="the optimizer",
        doc="""
            The decay rates ``(beta1, beta2)``, each in [0, 1), of the running
            means of the gradient and of its square in ``"adam"``, ``"adamw"``,
            ``"nadam"`` and ``"adamax"``; the other optimizers, and an
            optimizer class (which keeps its own defaults), ignore it.
            ``schedule="onecycle"`` cycles ``beta1`` itself (0.85 to 0.95).
            """,
    ),
    Hyperparameter(
        "schedule",
        "str or None",
        [Options(set(SCHEDULES)), None],
        warm_start="the schedule, which restarts over this fit's max_epochs",
        doc="""
            Learning-rate schedule: ``"exponential"``, ``"step"`` (piecewise
            constant), ``"power"``, ``"plateau"`` (performance scheduling on the
            monitored loss), ``"onecycle"`` (stepped every batch), ``"cosine"``,
            ``"coslog"`` (RealMLP's four log-spaced cosine cycles, Holzmueller et
            al., 2024) or ``"flat_cos"`` (constant for the first half of the run,
            then a cosine down to 0; both stepped every batch). None keeps the
            rate constant. A schedule that spans the run (``"onecycle"``,
            ``"cosine"``, ``"coslog"``, ``"flat_cos"``, and ``"exponential"``,
            ``"step"``, ``"power"`` with ``decay_steps=None``), like a
            ``warmup``, ``dropout_schedule`` or ``weight_decay_schedule``, fixes
            the epoch budget: training runs all ``max_epochs`` epochs (``patience``
            does not stop it early) and, with a validation set, restores the best
            epoch. A fit whose schedule ends at a rate of at most 1% of
            ``learning_rate`` has converged by construction: it gives no
            ``ConvergenceWarning``.
            """,
    ),
    Hyperparameter(
        "decay_rate",
        "float",
        [Interval(Real, 0, None, closed="neither")],
        warm_start="the schedule",
        doc="""
            Factor the learning rate is multiplied by: every ``decay_steps``
            epochs (``"exponential"``, smoothly; ``"step"``, at once) or after
            ``decay_steps`` epochs without improvement (``"plateau"``).
            """,
    ),
    Hyperparameter(
        "decay_steps",
        "int, tuple of int or None",
        [Interval(Integral, 1, None, closed="left"), tuple, None],
        warm_start="the schedule",
        doc="""
            Epochs per decay (see ``decay_rate``), the time scale ``s`` of
            ``"power"`` (``lr / (1 + t / s) ** power_t``), or, for ``"step"``, a
            tuple of the epochs at which the rate drops. None makes it relative
            to the run: ``"exponential"`` multiplies the rate by ``decay_rate``
            over the whole run (smoothly, ``max_epochs`` epochs per decay),
            ``"step"`` drops it once, by ``decay_rate``, at epoch
            ``ceil(max_epochs / 2)``, ``"power"`` takes ``s = max_epochs / 10``
            and ``"plateau"`` waits ``max(1, max_epochs // 20)`` epochs.
            """,
    ),
    Hyperparameter(
        "power_t",
        "float",
        [Interval(Real, 0, None, closed="left")],
        warm_start="the schedule",
        doc="""
            Exponent of the ``"power"`` schedule.
            """,
    ),
    Hyperparameter(
        "warmup",
        "float",
        [Interval(Real, 0, 1, closed="left")],
        warm_start="the warm-up, which restarts with this fit",
        doc="""
            Fraction of the run (of its ``max_epochs`` epochs' mini-batches)
            over which the learning rate rises linearly from 0, multiplying the
            ``schedule``'s rate (or the constant ``learning_rate``), stepped
            every batch. 0 warms nothing up. Not used by ``partial_fit``.
            """,
    ),
    Hyperparameter(
        "dropout_schedule",
        "str or None",
        [Options(set(RATE_SCHEDULES)), None],
        warm_start="the dropout schedule, which restarts with this fit",
        doc="""
            ``"flat_cos"`` keeps the dropout rate at ``dropout`` for the first
            half of the run, then anneals it to 0 with a cosine over the second
            half, every batch (as RealMLP does, Holzmueller et al., 2024). The
            fitted network has ``dropout`` again, for prediction and
            ``predict_uncertainty``'s Monte-Carlo dropout. None keeps
            ``dropout`` throughout. Not used by ``partial_fit``.
            """,
    ),
    Hyperparameter(
        "weight_decay_schedule",
        "str or None",
        [Options(set(RATE_SCHEDULES)), None],
        warm_start="the weight-decay schedule, which restarts with this fit",
        doc="""
            Scales ``weight_decay``: ``"flat_cos"`` keeps it for the first half
            of the run, then anneals it to 0 with a cosine over the second half,
            every batch (as RealMLP does). None keeps it constant. Not used by
            ``partial_fit``.
            """,
    ),
    Hyperparameter(
        "l1",
        "float",
        [Interval(Real, 0, None, closed="left")],
        warm_start="the penalty",
        doc="""
            Weight of the L1 penalty ``l1 * sum(|W|)`` over every weight matrix
            (not biases, not batch normalization), added to the mean loss of each
            batch as Keras' kernel regularizers do.
            """,
    ),
    Hyperparameter(
        "l2",
        "float",
        [Interval(Real, 0, None, closed="left")],
        warm_start="the penalty",
        doc="""
            Weight of the L2 penalty ``l2 * sum(W ** 2)``, like ``l1``.
            """,
    ),
    Hyperparameter(
        "weight_decay",
        "float",
        [Interval(Real, 0, None, closed="left")],
        warm_start="the decay",
        doc="""
            Decoupled weight decay (Loshchilov and Hutter, 2019), for any
            optimizer: after every optimizer step, each weight matrix that
            trains (hidden and output Linear layers; not biases, batch
            normalization, embeddings or frozen layers) is multiplied by
            ``1 - lr * weight_decay``, ``lr`` its group's current rate
            (``lr_factors`` and the schedule included). Unlike ``l2``, a
            penalty in the loss whose gradient the optimizer rescales (Adam
            divides it by the gradient's running size, so rarely-updated
            weights are held less), it shrinks every weight at the same
            relative rate. ``optimizer="adam"`` with ``weight_decay`` is AdamW
            without decay of the biases; ``"adamw"`` keeps torch's own decay
            (0.01, every parameter) on top of it.
            """,
    ),
    Hyperparameter(
        "max_norm",
        "float or None",
        [Interval(Real, 0, None, closed="neither"), None],
        warm_start="the max-norm constraint",
        doc="""
            After every optimizer step, rescale each hidden unit's incoming
            weight vector to an L2 norm of at most ``max_norm``.
            """,
    ),
    Hyperparameter(
        "clip_grad_norm",
        "float or None",
        [Interval(Real, 0, None, closed="neither"), None],
        warm_start="gradient clipping",
        doc="""
            Clip the norm of the whole gradient to this value at every step.
            """,
    ),
    Hyperparameter(
        "loss",
        "str",
        [Options({"squared_error", *VARIANCE_LOSSES})],
        warm_start=FIXED,
        doc="""
            What the regressor's network predicts and is trained to minimize.
            ``"squared_error"``: one value per target column, the (weighted)
            mean squared error. ``"gaussian_nll"``: a mean and a variance per
            column (the noise of ``y`` around the mean, which may vary with
            ``X``), trained with the Gaussian negative log-likelihood (Nix and
            Weigend, 1994). ``"beta_nll"``: the same head, each row's
            likelihood weighted by its predicted variance to the power
            ``nll_beta`` (Seitzer et al., 2022), which fits the mean better
            where the noise is large. ``predict`` returns the mean either way;
            ``predict_uncertainty`` then reports the noise (``aleatoric_std``)
            and the total. See the guide's "Modelling the noise".
            """,
    ),
    Hyperparameter(
        "nll_beta",
        "float",
        [Interval(Real, 0, 1, closed="both")],
        warm_start="the loss's weighting of the rows",
        doc="""
            The exponent of ``loss="beta_nll"`` (unused by the other losses): 0
            is the plain Gaussian NLL, 1 gives the mean the gradient of a
            squared error; 0.5 is the paper's recommendation.
            """,
    ),
    Hyperparameter(
        "label_smoothing",
        'float or "auto"',
        [Interval(Real, 0, 1, closed="left"), Options({"auto"})],
        warm_start="the training loss",
        doc="""
            Label smoothing of the classifier's training loss (Szegedy et al.,
            2016), in [0, 1): the cross-entropy's target is ``(1 - s) * onehot + s /
            n_classes``; a multilabel ``y``'s 0/1 targets become ``y * (1 - s) +
            0.5 * s``. It often helps accuracy and hurts the log-loss. Only the
            training loss is smoothed: ``valid_loss`` (what early stopping
            watches without ``scoring``) stays the plain log-loss. ``"auto"``:
            0.1 when ``scoring`` is given and is not ``"neg_log_loss"``, else 0.
            """,
    ),
    Hyperparameter(
        "clip_predictions",
        "bool",
        ["boolean"],
        warm_start="nothing: the range widens with each fit's targets",
        doc="""
            Clip ``predict``'s output, column by column, to the range of the
            training targets (``y_range_``), so the network's extrapolation
            never goes beyond the values it saw; a continued fit or
            ``partial_fit`` widens the range with its own targets. It
            applies to ``predict`` (and ``score``) only:
            ``predict_uncertainty`` and ``predict_interval`` report the
            network's own means.
            """,
    ),
)
