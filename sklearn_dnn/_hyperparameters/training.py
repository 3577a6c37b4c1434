"""The hyperparameters of the training run, each declared once.

See ``_hyperparameters/model.py``, which declares the network's and the
optimizer's the same way.
"""

from numbers import Integral, Real

from .._pretrained import PretrainedLayers
from .._tasks import CLASSIFIER_SCORINGS, REGRESSOR_SCORINGS
from .constraints import FIXED, Hyperparameter, Interval, Options

TRAINING_HYPERPARAMETERS = (
    Hyperparameter(
        "batch_size",
        'int or "auto"',
        [Options({"auto"}), Interval(Integral, 1, None, closed="left")],
        warm_start="the mini-batches",
        doc="""
            Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
            """,
    ),
    Hyperparameter(
        "max_epochs",
        "int",
        [Interval(Integral, 1, None, closed="left")],
        warm_start="the number of epochs of this fit",
        doc="""
            Largest number of passes over the training data in one call to
            ``fit``.
            """,
    ),
    Hyperparameter(
        "early_stopping",
        'bool or "auto"',
        ["boolean", Options({"auto"})],
        warm_start="the validation split and the stopper",
        doc="""
            ``"auto"`` is True from 100 training rows on (below, every row is
            kept for training), False otherwise. True: hold out
            ``validation_fraction`` of the rows (stratified for a
            classifier when every class has at least 2 rows, else a plain random
            split), stop when the validation loss has not improved by ``tol``
            for ``patience`` epochs and restore the best weights (that epoch is
            marked ``best=True`` in ``history_``). The validation set must have
            at least 2 rows. When False no data is held out and training stops
            once the training loss has not improved by ``tol`` for ``patience``
            epochs. A ``ConvergenceWarning`` says when ``max_epochs`` ended a fit
            whose loss was still falling by more than ``tol`` an epoch.
            """,
    ),
    Hyperparameter(
        "validation_fraction",
        "float",
        [Interval(Real, 0, 1, closed="neither")],
        warm_start="the validation split",
        doc="""
            Fraction of the rows held out when ``early_stopping=True``.
            """,
    ),
    Hyperparameter(
        "calibration_fraction",
        "float or None",
        [Interval(Real, 0, 1, closed="neither"), None],
        warm_start="the calibration rows (each fit calibrates afresh)",
        doc="""
            Fraction of the training rows (after any validation split) held out
            for calibration only: they neither train nor stop training. Their
            residuals calibrate ``predict_interval`` (a regressor) and their
            log-loss fits ``temperature_`` (a classifier), by split conformal
            prediction and temperature scaling. None holds out nothing: the
            validation rows of early stopping calibrate when there are some,
            and a fit without them is not calibrated. ``partial_fit`` holds
            nothing out.
            """,
    ),
    Hyperparameter(
        "patience",
        "int or None",
        [Interval(Integral, 1, None, closed="left"), None],
        warm_start="the stopper",
        doc="""
            Epochs without improvement before training stops. None never stops
            early: every one of the ``max_epochs`` epochs trains and, with a
            validation set, the best epoch is restored. A schedule that spans
            the run (see ``schedule``) fixes the epoch budget as None does.
            """,
    ),
    Hyperparameter(
        "best_epoch",
        '{"first", "last"}',
        [Options({"first", "last"})],
        warm_start="the stopper",
        doc="""
            Which epoch a validation set selects (and restores) when several
            reach the best monitored value: ``"first"``, the first to reach it;
            ``"last"``, the last whose value equals the best (a later epoch tied
            with the best, as equal accuracies often are, as RealMLP selects).
            """,
    ),
    Hyperparameter(
        "tol",
        "float",
        [Interval(Real, 0, None, closed="left")],
        warm_start="the stopper",
        doc="""
            Smallest decrease of the monitored loss that counts as improvement.
            """,
    ),
    Hyperparameter(
        "scoring",
        "str or None",
        [Options(CLASSIFIER_SCORINGS | REGRESSOR_SCORINGS), None],
        warm_start="the validation score, and what the stopper watches",
        doc="""
            The validation score of early stopping: what ``history_`` records as
            ``valid_score`` and what the stopper watches (it stops when the score
            has not risen by ``tol`` for ``patience`` epochs, and restores the
            epoch with the highest score). None watches the validation loss and
            records accuracy (subset accuracy for multilabel) or R^2. A classifier
            takes ``"accuracy"``, ``"balanced_accuracy"``, ``"f1_macro"``,
            ``"neg_log_loss"`` (and ``"f1_samples"`` for multilabel); a regressor
            ``"r2"``, ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"`` (on
            the target's own scale). Without early stopping there is no validation
            set, and it has no effect.
            """,
    ),
    Hyperparameter(
        "random_state",
        "int, RandomState instance or None",
        ["random_state"],
        warm_start="the data order and dropout masks of this fit",
        doc="""
            Seeds the weight initialization, the shuffling, dropout and the
            validation split. The same integer gives the same model, bit for bit
            on the same machine; torch's and numpy's global random state are left
            untouched.
            """,
    ),
    Hyperparameter(
        "device",
        '{"cpu", "cuda", "auto"}',
        [Options({"cpu", "cuda", "auto"})],
        warm_start="where the copy of the network trains",
        doc="""
            Where to train; ``"auto"`` picks a CUDA GPU when torch sees one.
            Predictions are always returned as numpy arrays.
            """,
    ),
    Hyperparameter(
        "n_threads",
        "int or None",
        [Interval(Integral, 1, None, closed="left"), None],
        warm_start="torch's thread count during the fit",
        doc="""
            Intra-op threads torch uses while this estimator fits and predicts;
            torch's global setting is restored afterwards. None keeps torch's
            setting, capped by ``OMP_NUM_THREADS`` when set (joblib's worker
            processes and Dask's workers set it, so parallel fits do not
            oversubscribe the cores). On small networks one thread is often the
            fastest.
            """,
    ),
    Hyperparameter(
        "verbose",
        "int",
        ["verbose"],
        warm_start="the epoch log",
        doc="""
            0 prints nothing; 1 prints a line per epoch: the epoch as ``k/N`` (of
            this fit's ``max_epochs``), ``left``, the time the remaining epochs
            would take at the mean pace so far (early stopping may end sooner),
            and the losses. Best values are coloured on a terminal only, never in
            a file or a pipe. 2 adds a progress bar per epoch over the mini-batches
            (``skorch.callbacks.ProgressBar``, on stderr) when ``tqdm`` is
            installed.
            """,
    ),
    Hyperparameter(
        "warm_start",
        "bool",
        ["boolean"],
        warm_start=None,
        doc="""
            When True, a second call to ``fit`` continues from the current
            weights (and the optimizer's state, when the optimizer is the same
            kind) instead of starting afresh, for ``max_epochs`` more epochs at
            most. Every other hyperparameter applies to the continued fit: its
            learning rate, batch size, penalties, dropout, early stopping and
            schedule (which restarts over the fit's ``max_epochs``). A changed
            architecture ({architecture}) is refused by name. The continued fit
            trains a copy: if it fails, the fitted model is kept as it was.
            """,
    ),
    Hyperparameter(
        "diagnostics",
        "bool",
        ["boolean"],
        warm_start="the gradient recorder",
        doc="""
            Record gradient health while training (see ``gradient_norms_`` and
            ``dead_units_``, which exist only then) and warn with a
            ``GradientHealthWarning`` when gradients vanish (input layer's norm
            under 1e-3 times the output layer's), explode (a layer's norm grows
            1e3-fold, is not finite, or the input layer's is over 1e3 times the
            output layer's) or more than half of a hidden layer's units are dead.
            Costs a gradient norm per layer and batch and, after training, one
            pass over at most 1,000 rows: fits take about 1.1 times as long
            (``benchmarks/bench_diagnostics.py``). See also ``plot_gradients``.
            """,
    ),
    Hyperparameter(
        "pretrained",
        "PretrainedLayers or None",
        [PretrainedLayers, None],
        warm_start=FIXED,
        doc="""
            Hidden layers to start from, copied from another network; set by
            :meth:`from_pretrained`, which is the way to fill it. Their
            architecture replaces ``hidden_layer_sizes``, ``activation``,
            ``batchnorm`` and ``dropout``.
            """,
    ),
    Hyperparameter(
        "n_frozen",
        "int or None",
        [Interval(Integral, 0, None, closed="left"), None],
        warm_start="the frozen blocks at the start of this fit",
        doc="""
            How many of the reused hidden layers (input side first) stay frozen;
            None freezes all of them. Frozen batch normalization keeps its
            running statistics.
            """,
    ),
    Hyperparameter(
        "unfreeze_after",
        "int or None",
        [Interval(Integral, 1, None, closed="left"), None],
        warm_start="when this fit releases them",
        doc="""
            Release the frozen layers after this many epochs; None never does.
            """,
    ),
    Hyperparameter(
        "unfrozen_lr_factor",
        "float",
        [Interval(Real, 0, None, closed="neither")],
        warm_start="the released blocks' rate",
        doc="""
            Released layers train at ``learning_rate * unfrozen_lr_factor``, so
            the reused features are fine-tuned, not overwritten.
            """,
    ),
    Hyperparameter(
        "callbacks",
        "list or None",
        [list, tuple, None],
        warm_start="the user's callbacks (fresh copies, as in every fit)",
        doc="""
            skorch callbacks (``skorch.callbacks.Callback`` instances, or
            ``(name, callback)`` pairs) added to the training net after sklearn-dnn's
            own, before the one that stops training, so each sees every epoch's
            end. Every fit trains with deep copies, so ``clone`` and searches stay
            safe and the objects given here are never changed: a callback that
            cannot be copied (one holding a lock or an open file) is refused by
            name; create such state in its ``initialize()`` or ``on_train_begin``.
            The net is a ``skorch.NeuralNet`` whose module returns raw outputs
            (logits, or the standardized target of a regressor); its targets and
            ``predict`` are encoded (class indices, 0/1 indicators, or the
            standardized targets), so ``skorch.callbacks.EpochScoring`` with a
            scorer's name (``"accuracy"``, ``"roc_auc"``, ``"r2"``) scores the
            estimator's predictions (errors such as ``"neg_mean_squared_error"``
            are on the standardized scale). Batches reach callbacks as ``(X, y)``,
            a training batch of an ensemble with every member's rows; the datasets
            give their rows as tensors, ``dataset.inputs()`` and
            ``dataset.targets()``. ``skorch.callbacks.EarlyStopping`` stops a fit
            as ``patience`` does (watching a ``valid_`` key needs a validation
            set: ``early_stopping=True``); a ``skorch.callbacks.LRScheduler`` is
            refused together with ``schedule``. ``skorch.callbacks.Checkpoint``
            saves the network to disk and ``skorch.callbacks.LoadInitState``
            resumes from it (see ``examples/checkpoint_resume.py``).
            """,
    ),
    Hyperparameter(
        "temperature_scaling",
        "bool",
        ["boolean"],
        warm_start="the temperature (each fit fits its own)",
        doc="""
            Divide the logits by ``temperature_``, the one scalar that minimizes
            the log-loss on the calibration rows (the validation rows of early
            stopping, or those of ``calibration_fraction``; Guo et al., 2017),
            in ``predict_proba`` and ``predict_log_proba``. The predicted
            classes do not change. A fit with fewer than 50 calibration rows,
            or False, has ``temperature_=1``. ``predict_uncertainty`` reads
            the members and passes before it. Off by default: on the 12
            classification sets of ``benchmarks/bench_intervals.py``, fitted
            on the validation rows that early stopping already chose the epoch
            by, it raised the mean ECE (0.031 to 0.032) and the log-loss on 7
            sets (``benchmarks/results/intervals_v1.md``).
            """,
    ),
    Hyperparameter(
        "class_weight",
        'dict, list of dict, "balanced" or None',
        [Options({"balanced"}), dict, list, None],
        warm_start="the rows' weights in the loss (a classifier's)",
        doc="""
            Weights of the classes in the loss, multiplied into ``sample_weight``
            as scikit-learn does (``sklearn.utils.class_weight.compute_sample_weight``):
            ``{label: weight}`` (a class without a key weighs 1; weights must be
            finite and non-negative); ``"balanced"``, ``n_samples / (n_classes *
            np.bincount(y))`` computed on the ``y`` of each ``fit``, with each row
            counted by its ``sample_weight`` (as ``LogisticRegression`` does: rows
            of weight zero count as removed); or None, every class weighs 1. For
            multilabel ``y``, ``"balanced"`` or one dict per label
            (``{0: w0, 1: w1}``). ``partial_fit`` refuses ``"balanced"``: the
            class frequencies of one chunk are not those of the data.
            """,
    ),
)
