"""Docstring fragments shared by the estimators, filled in by :func:`fill_doc`."""

import inspect
import textwrap

_PARAMETERS = """\
hidden_layer_sizes : tuple of int, default={hidden_layer_sizes}
    Width of each hidden layer, input side first. ``()`` gives a network
    with no hidden layer (a linear model).

activation : str, torch.nn.Module instance or subclass, default={activation}
    Activation after every hidden layer: one of ``"sigmoid"``,
    ``"tanh"``, ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"prelu"``,
    ``"elu"``, ``"selu"``, ``"gelu"``, ``"silu"``, ``"mish"``, or a module
    such as ``torch.nn.LeakyReLU(0.2)`` (copied for every layer) or a
    module class.

initializer : str or callable, default={initializer}
    How hidden weight matrices are initialized: ``"auto"`` (He for the
    ReLU family, LeCun for SELU, Glorot otherwise), ``"glorot_uniform"``,
    ``"glorot_normal"``, ``"he_uniform"``, ``"he_normal"``,
    ``"lecun_uniform"``, ``"lecun_normal"``, ``"orthogonal"``, or a
    callable that fills a weight tensor in place. Biases start at zero;
    the output layer is Glorot uniform.

batchnorm : bool, default={batchnorm}
    Insert batch normalization between each hidden Linear layer and its
    activation.

dropout : float, default={dropout}
    Dropout rate in [0, 1) after each hidden activation. With
    ``activation="selu"`` it is AlphaDropout, which keeps
    self-normalization.

ensemble_size : int, default={ensemble_size}
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

bootstrap : bool, default={bootstrap}
    Train each member on its own bootstrap sample of the training rows
    (as many rows, drawn with replacement, anew at every fit), as bagging
    does, instead of on every row. Off by default: members that differ by
    their initialization and data order alone are better ensembles of
    neural networks (Lakshminarayanan et al., 2017).

optimizer : str or torch.optim.Optimizer subclass, default={optimizer}
    One of ``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``,
    ``"adamax"``, ``"nadam"``, ``"adamw"``, or an optimizer class, which
    receives ``lr`` (and ``momentum``, ``nesterov`` when it takes them).

learning_rate : float, default={learning_rate}
    Initial learning rate (the peak rate for ``schedule="onecycle"``).

momentum : float, default={momentum}
    Momentum of ``"sgd"`` and ``"rmsprop"``.

nesterov : bool, default={nesterov}
    Use Nesterov momentum with ``"sgd"``.

schedule : str or None, default={schedule}
    Learning-rate schedule: ``"exponential"``, ``"step"`` (piecewise
    constant), ``"power"``, ``"plateau"`` (performance scheduling on the
    monitored loss), ``"onecycle"`` (stepped every batch) or ``"cosine"``.
    None keeps the rate constant.

decay_rate : float, default={decay_rate}
    Factor the learning rate is multiplied by: every ``decay_steps``
    epochs (``"exponential"``, smoothly; ``"step"``, at once) or after
    ``decay_steps`` epochs without improvement (``"plateau"``).

decay_steps : int or tuple of int, default={decay_steps}
    Epochs per decay (see ``decay_rate``), the time scale ``s`` of
    ``"power"`` (``lr / (1 + t / s) ** power_t``), or, for ``"step"``, a
    tuple of the epochs at which the rate drops.

power_t : float, default={power_t}
    Exponent of the ``"power"`` schedule.

l1 : float, default={l1}
    Weight of the L1 penalty ``l1 * sum(|W|)`` over every weight matrix
    (not biases, not batch normalization), added to the mean loss of each
    batch as Keras' kernel regularizers do.

l2 : float, default={l2}
    Weight of the L2 penalty ``l2 * sum(W ** 2)``, like ``l1``.

max_norm : float or None, default={max_norm}
    After every optimizer step, rescale each hidden unit's incoming
    weight vector to an L2 norm of at most ``max_norm``.

clip_grad_norm : float or None, default={clip_grad_norm}
    Clip the norm of the whole gradient to this value at every step.

batch_size : int or "auto", default={batch_size}
    Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.

max_epochs : int, default={max_epochs}
    Largest number of passes over the training data in one call to
    ``fit``.

early_stopping : bool or "auto", default={early_stopping}
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

validation_fraction : float, default={validation_fraction}
    Fraction of the rows held out when ``early_stopping=True``.

patience : int, default={patience}
    Epochs without improvement before training stops.

tol : float, default={tol}
    Smallest decrease of the monitored loss that counts as improvement.

scoring : str or None, default={scoring}
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

random_state : int, RandomState instance or None, default={random_state}
    Seeds the weight initialization, the shuffling, dropout and the
    validation split. The same integer gives the same model, bit for bit
    on the same machine; torch's and numpy's global random state are left
    untouched.

device : {{"cpu", "cuda", "auto"}}, default={device}
    Where to train; ``"auto"`` picks a CUDA GPU when torch sees one.
    Predictions are always returned as numpy arrays.

n_threads : int or None, default={n_threads}
    Intra-op threads torch uses while this estimator fits and predicts;
    torch's global setting is restored afterwards. None keeps torch's
    setting, capped by ``OMP_NUM_THREADS`` when set (joblib's worker
    processes and Dask's workers set it, so parallel fits do not
    oversubscribe the cores). On small networks one thread is often the
    fastest.

verbose : int, default={verbose}
    0 prints nothing; 1 prints a line per epoch: the epoch as ``k/N`` (of
    this fit's ``max_epochs``), ``left``, the time the remaining epochs
    would take at the mean pace so far (early stopping may end sooner),
    and the losses. Best values are coloured on a terminal only, never in
    a file or a pipe. 2 adds a progress bar per epoch over the mini-batches
    (``skorch.callbacks.ProgressBar``, on stderr) when ``tqdm`` is
    installed.

warm_start : bool, default={warm_start}
    When True, a second call to ``fit`` continues from the current
    weights (and the optimizer's state, when the optimizer is the same
    kind) instead of starting afresh, for ``max_epochs`` more epochs at
    most. Every other hyperparameter applies to the continued fit: its
    learning rate, batch size, penalties, dropout, early stopping and
    schedule (which restarts over the fit's ``max_epochs``). A changed
    architecture (``hidden_layer_sizes``, ``activation``, ``initializer``,
    ``batchnorm``, ``pretrained``) is refused by name. The continued fit
    trains a copy: if it fails, the fitted model is kept as it was.

diagnostics : bool, default={diagnostics}
    Record gradient health while training (see ``gradient_norms_`` and
    ``dead_units_``, which exist only then) and warn with a
    ``GradientHealthWarning`` when gradients vanish (input layer's norm
    under 1e-3 times the output layer's), explode (a layer's norm grows
    1e3-fold, is not finite, or the input layer's is over 1e3 times the
    output layer's) or more than half of a hidden layer's units are dead.
    Costs a gradient norm per layer and batch and, after training, one
    pass over at most 1,000 rows: fits take about 1.1 times as long
    (``benchmarks/bench_diagnostics.py``). See also ``plot_gradients``.

pretrained : PretrainedLayers or None, default={pretrained}
    Hidden layers to start from, copied from another network; set by
    :meth:`from_pretrained`, which is the way to fill it. Their
    architecture replaces ``hidden_layer_sizes``, ``activation``,
    ``batchnorm`` and ``dropout``.

n_frozen : int or None, default={n_frozen}
    How many of the reused hidden layers (input side first) stay frozen;
    None freezes all of them. Frozen batch normalization keeps its
    running statistics.

unfreeze_after : int or None, default={unfreeze_after}
    Release the frozen layers after this many epochs; None never does.

unfrozen_lr_factor : float, default={unfrozen_lr_factor}
    Released layers train at ``learning_rate * unfrozen_lr_factor``, so
    the reused features are fine-tuned, not overwritten.

callbacks : list or None, default={callbacks}
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

class_weight : dict, list of dict, "balanced" or None, default={class_weight}
    Weights of the classes in the loss, multiplied into ``sample_weight``
    as scikit-learn does (``sklearn.utils.class_weight.compute_sample_weight``):
    ``{{label: weight}}`` (a class without a key weighs 1; weights must be
    finite and non-negative); ``"balanced"``, ``n_samples / (n_classes *
    np.bincount(y))`` computed on the ``y`` of each ``fit``, with each row
    counted by its ``sample_weight`` (as ``LogisticRegression`` does: rows
    of weight zero count as removed); or None, every class weighs 1. For
    multilabel ``y``, ``"balanced"`` or one dict per label
    (``{{0: w0, 1: w1}}``). ``partial_fit`` refuses ``"balanced"``: the
    class frequencies of one chunk are not those of the data.
"""

_ATTRIBUTES = """\
module_ : torch.nn.Module
    The trained network (an ``MLP``), in evaluation mode.

net_ : skorch.NeuralNet
    The skorch net that trained ``module_``.

history_ : list of dict
    One dict per epoch with ``epoch``, ``train_loss`` (the data loss,
    comparable with ``valid_loss``), ``train_penalty`` (the mean ``l1`` and
    ``l2`` penalty the optimizer added to it), ``lr`` (the learning rate
    at the end of the epoch) and ``dur`` (seconds); with early stopping
    also ``valid_loss`` and ``valid_score`` (accuracy, subset accuracy
    for multilabel, or R^2 on the held-out rows), and ``best=True`` on the
    epoch whose weights were restored. Without early stopping, training
    stops on ``train_loss + train_penalty``, the objective.

n_iter_ : int
    Number of epochs trained (``len(history_)``).

gradient_norms_ : ndarray of shape (n_iter_, n_linear_layers)
    Only with ``diagnostics=True``: the mean over each epoch's batches of
    the L2 norm of each Linear layer's weight gradient, input layer
    first, output layer last; also in ``history_`` as
    ``"gradient_norms"``. It is the gradient of the data loss, before
    clipping and without the ``l1`` and ``l2`` terms. NaN marks a frozen
    layer, or an epoch trained without diagnostics (warm start); ``inf``
    a gradient that blew up.

dead_units_ : ndarray of shape (n_hidden_layers,)
    Only with ``diagnostics=True``: the fraction of each hidden layer's
    units that are dead after training, i.e. whose activation has a zero
    derivative (for ReLU, a pre-activation <= 0) on every one of up to
    1,000 evenly spaced training rows.

n_features_in_ : int
    Number of features seen during fit.

feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when X has string column names.
"""


def _indent(text, width):
    return textwrap.indent(text, " " * width).lstrip()


def fill_doc(cls):
    """Fill ``{parameters}`` and ``{attributes}`` in a class docstring.

    The default of every parameter is read from the class's ``__init__``,
    so the two estimators share one text and each shows its own defaults
    (and only the entries of its own parameters).
    """
    defaults = {
        name: repr(param.default).replace("'", '"')
        for name, param in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    # Each parameter's entry is a paragraph starting with its name; an
    # estimator's docstring gets the entries of its own parameters only.
    entries = [e for e in _PARAMETERS.split("\n\n") if e.split(" :", 1)[0] in defaults]
    parameters = "\n\n".join(entries).format(**defaults).rstrip("\n") + "\n"
    cls.__doc__ = cls.__doc__.replace("{parameters}", _indent(parameters, 4)).replace(
        "{attributes}", _indent(_ATTRIBUTES, 4)
    )
    return cls
