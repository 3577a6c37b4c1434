"""Other libraries' names for our settings: one table for the hints and the migration page.

:data:`EQUIVALENTS` lists the parameters (and some values) of
scikit-learn's ``MLPClassifier``/``MLPRegressor``, skorch's ``NeuralNet``
and Keras (``model.fit``, its layers and callbacks) with our equivalent and
any difference of scale or meaning. It feeds

- the ``TypeError`` of an unknown keyword in the constructor
  (``DeepClassifier(epochs=10)``) and the ``ValueError`` of ``set_params``
  (:func:`unknown_name_hint`);
- "did you mean" for values (``activation="logistic"``,
  ``learning_rate="adaptive"``: :func:`value_hint`) and for a Keras
  callback in ``callbacks`` (:func:`callback_hint`);
- the tables of ``docs/migration.md`` (:func:`markdown_table`, through the
  docs' build hook), which ``tests/test_familiar_names.py`` checks.

Scale of the weight penalty: scikit-learn's MLP adds
``alpha / 2 * ||W||^2 / n`` to each mini-batch's mean loss, ``n`` the
batch's rows (the gradient ``alpha * W / n`` in ``_compute_loss_grad``);
we add ``l2 * ||W||^2`` (as Keras' ``l2(l2)`` regularizer), so
``l2 = alpha / (2 * batch_size)``: ``alpha=1e-4`` with 200-row batches is
``l2=2.5e-7``.
"""

import difflib
from dataclasses import dataclass

# Each library as a message names it (possessive).
LIBRARIES = {
    "sklearn": "scikit-learn's MLP",
    "skorch": "skorch's",
    "keras": "Keras'",
}


@dataclass(frozen=True)
class Equivalent:
    """One name (or one value of a name) of another library, and ours.

    Parameters
    ----------
    library : {"sklearn", "skorch", "keras"}
    name : str
        Their parameter; a name ending in ``"__"`` is a prefix (skorch's
        ``module__*``).
    ours : str
        Our equivalent as code (``"max_epochs"``, ``'schedule="plateau"'``),
        or ``""`` when there is none.
    note : str, default=""
        The difference of scale or meaning, or what to do instead.
    value : str or None, default=None
        Their value, when the entry is about that value of ``name`` only.
    """

    library: str
    name: str
    ours: str
    note: str = ""
    value: str | None = None

    def their(self):
        """Their setting as code: ``alpha`` or ``learning_rate="adaptive"``."""
        name = f"{self.name}*" if self.name.endswith("__") else self.name
        return name if self.value is None else f"{name}={self.value!r}"

    def sentence(self):
        """The hint: what their setting is here, and how it differs."""
        here = f"is {self.ours} here" if self.ours else "has no equivalent here"
        text = f"{LIBRARIES[self.library]} {self.their()} {here}"
        return f"{text}: {self.note}" if self.note else f"{text}."

    def matches(self, name):
        return name.startswith(self.name) if self.name.endswith("__") else name == self.name


_S, _K, _KERAS = "sklearn", "skorch", "keras"
_ALPHA = (
    "l2 = alpha / (2 * batch_size). scikit-learn divides its penalty alpha / 2 * ||W||^2 "
    "by the mini-batch's rows; ours, l2 * ||W||^2, is added to the mean loss as it is "
    "(alpha=1e-4 with 200-row batches is l2=2.5e-7). For a regressor the loss also differs: "
    "ours is the mean squared error of the standardized target, scikit-learn's half that "
    "of the raw target."
)

EQUIVALENTS = (
    # scikit-learn's MLPClassifier / MLPRegressor
    Equivalent(_S, "alpha", "l2", _ALPHA),
    Equivalent(_S, "learning_rate_init", "learning_rate", "the same initial rate."),
    Equivalent(_S, "max_iter", "max_epochs", "the same count of passes over the data."),
    Equivalent(_S, "n_iter_no_change", "patience", "epochs without improvement by tol."),
    Equivalent(
        _S,
        "solver",
        "optimizer",
        'the same names for "adam" and "sgd"; "lbfgs" (full-batch quasi-Newton) has none: '
        'use optimizer="adam".',
    ),
    Equivalent(
        _S,
        "learning_rate",
        "schedule=None",
        "our learning_rate is the initial rate (scikit-learn's learning_rate_init).",
        value="constant",
    ),
    Equivalent(
        _S,
        "learning_rate",
        'schedule="power"',
        "lr / (1 + t / decay_steps) ** power_t with t in epochs; scikit-learn's t counts the "
        "rows seen (lr / t ** power_t). Our learning_rate is the initial rate.",
        value="invscaling",
    ),
    Equivalent(
        _S,
        "learning_rate",
        'schedule="plateau", decay_rate=0.2, decay_steps=1',
        "the rate is divided by 5 once the monitored loss has not improved by tol for two "
        "epochs in a row, as scikit-learn's (which applies only to solver='sgd'). Our "
        "learning_rate is the initial rate.",
        value="adaptive",
    ),
    Equivalent(_S, "activation", 'activation="sigmoid"', "the same function.", value="logistic"),
    Equivalent(
        _S,
        "activation",
        "activation=torch.nn.Identity",
        "a linear hidden layer (our names are in the Components page).",
        value="identity",
    ),
    Equivalent(
        _S,
        "beta_1",
        "betas=(beta_1, beta_2)",
        "the same pair; scikit-learn's default is (0.9, 0.999), ours (0.9, 0.95).",
    ),
    Equivalent(_S, "beta_2", "betas=(beta_1, beta_2)", "see beta_1."),
    Equivalent(
        _S,
        "epsilon",
        "",
        "Adam's eps is torch's default, 1e-8; for another pass an optimizer class whose "
        "defaults you changed (a subclass of torch.optim.Adam).",
    ),
    Equivalent(_S, "nesterovs_momentum", "nesterov", "the same; its default is True, ours False."),
    Equivalent(_S, "shuffle", "", "the rows are always shuffled every epoch."),
    Equivalent(_S, "max_fun", "", "for scikit-learn's lbfgs solver, which we do not have."),
    # skorch's NeuralNet
    Equivalent(_K, "lr", "learning_rate", "the same rate."),
    Equivalent(
        _K,
        "module",
        "hidden_layer_sizes, activation, dropout, batchnorm",
        "the estimator builds its network; to start from a torch network's layers use "
        "DeepClassifier.from_pretrained(network).",
    ),
    Equivalent(_K, "module__", "hidden_layer_sizes, activation, dropout, batchnorm", "see module."),
    Equivalent(
        _K,
        "optimizer__",
        "momentum, nesterov, betas, l2, weight_decay",
        "optimizer__momentum is momentum, optimizer__nesterov nesterov, optimizer__betas "
        "betas; optimizer__weight_decay w adds w * W to the gradient, which is l2 = w / 2 "
        "(for SGD and Adam; AdamW's is decoupled, as our weight_decay is). Other arguments: "
        "pass an optimizer class with your defaults.",
    ),
    Equivalent(
        _K,
        "iterator_train__",
        "batch_size",
        "iterator_train__batch_size is batch_size; the rows are always shuffled.",
    ),
    Equivalent(_K, "iterator_valid__", "batch_size", "validation batches are batch_size rows."),
    Equivalent(
        _K,
        "train_split",
        "early_stopping, validation_fraction",
        "early_stopping=True holds out validation_fraction of the rows; to give your own "
        "rows (skorch's predefined_split), fit(X, y, X_val=..., y_val=...).",
    ),
    Equivalent(
        _K,
        "criterion",
        "",
        "the loss follows the task: cross-entropy for a classifier (binary for multilabel), "
        "the mean squared error of the standardized target for a regressor.",
    ),
    Equivalent(_K, "criterion__", "", "see criterion."),
    Equivalent(_K, "callbacks__", "callbacks", "configure the callback objects you pass."),
    # Keras
    Equivalent(_KERAS, "epochs", "max_epochs", "an upper bound: early stopping may end sooner."),
    Equivalent(
        _KERAS,
        "hidden_layers",
        "hidden_layer_sizes",
        "a tuple of widths, one per hidden Dense layer: (64, 64).",
    ),
    Equivalent(
        _KERAS, "units", "hidden_layer_sizes", "a tuple of widths, one per hidden layer: (64, 64)."
    ),
    Equivalent(
        _KERAS,
        "validation_split",
        "validation_fraction",
        "with early_stopping=True; ours is a random (stratified) split, Keras' the last rows.",
    ),
    Equivalent(
        _KERAS,
        "validation_data",
        "fit(X, y, X_val=..., y_val=...)",
        "fit's arguments, not a parameter of the estimator.",
    ),
    Equivalent(
        _KERAS,
        "kernel_initializer",
        "initializer",
        'the same names ("glorot_uniform", "he_normal", "lecun_normal"...).',
    ),
    Equivalent(
        _KERAS,
        "kernel_regularizer",
        "l1, l2",
        "the same scale: l2(0.01) is l2=0.01 (added to the mean loss, biases excluded).",
    ),
    Equivalent(_KERAS, "kernel_constraint", "max_norm", "max_norm(c) is max_norm=c."),
    Equivalent(
        _KERAS,
        "clipnorm",
        "clip_grad_norm",
        "ours clips the norm of all gradients together (Keras' global_clipnorm); Keras' "
        "clipnorm clips each weight's gradient on its own.",
    ),
    Equivalent(_KERAS, "global_clipnorm", "clip_grad_norm", "the same."),
    Equivalent(_KERAS, "min_delta", "tol", "EarlyStopping's min_delta is tol."),
    Equivalent(
        _KERAS,
        "restore_best_weights",
        "",
        "with a validation set the best epoch's weights are always restored.",
    ),
    Equivalent(_KERAS, "monitor", "scoring", "None watches the validation loss."),
    Equivalent(_KERAS, "metrics", "scoring", "one validation score, recorded in history_."),
    Equivalent(
        _KERAS,
        "loss",
        "",
        "a DeepClassifier's loss follows the task (cross-entropy); a DeepRegressor's loss is "
        '"squared_error" (the default), "gaussian_nll" or "beta_nll" (a head that also '
        "predicts the noise).",
    ),
    Equivalent(
        _KERAS,
        "loss",
        'loss="squared_error"',
        "the mean squared error, of the standardized target.",
        value="mse",
    ),
    Equivalent(
        _KERAS,
        "loss",
        'loss="squared_error"',
        "the mean squared error, of the standardized target.",
        value="mean_squared_error",
    ),
    Equivalent(_KERAS, "shuffle", "", "the rows are always shuffled every epoch."),
    Equivalent(_KERAS, "seed", "random_state", "the same role."),
    Equivalent(
        _KERAS,
        "callbacks",
        'early_stopping, patience, tol (early_stopping="auto" is on from 100 rows)',
        "Keras' EarlyStopping is built in.",
        value="EarlyStopping",
    ),
    Equivalent(
        _KERAS,
        "callbacks",
        'schedule="plateau" (decay_rate is factor, decay_steps patience)',
        "Keras' ReduceLROnPlateau.",
        value="ReduceLROnPlateau",
    ),
    Equivalent(
        _KERAS,
        "callbacks",
        "schedule",
        "a named schedule, or a skorch.callbacks.LRScheduler in callbacks.",
        value="LearningRateScheduler",
    ),
    Equivalent(
        _KERAS,
        "callbacks",
        "callbacks=[skorch.callbacks.Checkpoint(...)]",
        "skorch's Checkpoint saves the network (examples/checkpoint_resume.py).",
        value="ModelCheckpoint",
    ),
    Equivalent(
        _KERAS,
        "callbacks",
        "history_ (verbose=1 prints it)",
        "every epoch's losses are in history_.",
        value="CSVLogger",
    ),
)


def unknown_name_hint(name, valid_names):
    """What an unknown parameter ``name`` is here, and the closest of ``valid_names``, or None."""
    hints = [e.sentence() for e in EQUIVALENTS if e.value is None and e.matches(name)]
    close = difflib.get_close_matches(name, sorted(valid_names), n=1)
    if close and not hints:
        hints.append(f"Did you mean {close[0]}?")
    return " ".join(hints) or None


def unknown_name_message(estimator_name, name, valid_names):
    """The message of the TypeError for an unknown keyword ``name`` of the constructor."""
    message = f"{estimator_name}.__init__() got an unexpected keyword argument {name!r}."
    hint = unknown_name_hint(name, valid_names)
    return f"{message} {hint}" if hint else message


def value_hint(name, value):
    """What another library's ``value`` of our parameter ``name`` is here, or None."""
    if not isinstance(value, str):
        return None
    for entry in EQUIVALENTS:
        if entry.name == name and entry.value is not None and entry.value == value.lower():
            return entry.sentence()
    return None


def callback_hint(callback):
    """What a Keras callback object is here ('' for anything else)."""
    module = type(callback).__module__ or ""
    if not module.startswith(("keras", "tensorflow", "tf_keras")):
        return ""
    kind = type(callback).__name__
    for entry in EQUIVALENTS:
        if entry.library == "keras" and entry.name == "callbacks" and entry.value == kind:
            return f" {LIBRARIES['keras']} {kind} is {entry.ours} here: {entry.note}"
    return (
        f" {kind} is a Keras callback; sklearn-dnn trains with skorch and takes skorch "
        "callbacks (see the migration page of the docs)."
    )


def markdown_table(library):
    """The migration table of ``library`` (a key of :data:`LIBRARIES`), as Markdown."""
    lines = ["| theirs | ours | difference |", "|---|---|---|"]
    for entry in EQUIVALENTS:
        if entry.library == library:
            ours = f"`{entry.ours}`" if entry.ours else "(none)"
            note = entry.note.replace("|", "\\|")
            lines.append(f"| `{entry.their()}` | {ours} | {note} |")
    return "\n".join(lines)


# Other libraries' arguments of ``fit``: what each is here.
FIT_EQUIVALENTS = {
    "validation_data": "Keras' validation_data=(X_val, y_val) is fit(X, y, X_val=..., y_val=...) "
    "here (and sample_weight_val=).",
    "eval_set": "eval_set=[(X_val, y_val)] (XGBoost, LightGBM, CatBoost) is fit(X, y, "
    "X_val=..., y_val=...) here.",
    "validation_split": "Keras' validation_split is the constructor's validation_fraction here "
    "(with early_stopping=True).",
    "epochs": "Keras' epochs is the constructor's max_epochs here.",
    "batch_size": "batch_size is a constructor parameter here.",
    "callbacks": "callbacks is a constructor parameter here (skorch callbacks).",
    "verbose": "verbose is a constructor parameter here.",
    "shuffle": "the rows are always shuffled every epoch.",
    "class_weight": "class_weight is a constructor parameter of DeepClassifier here.",
    "initial_epoch": "a continued fit is warm_start=True (or partial_fit) here.",
    "classes": "classes is an argument of partial_fit, not of fit.",
}


def unknown_fit_argument_message(estimator_name, names):
    """The TypeError message of ``fit`` called with the unknown keyword ``names``."""
    listed = ", ".join(repr(name) for name in names)
    plural = "s" if len(names) > 1 else ""
    message = f"{estimator_name}.fit() got unexpected keyword argument{plural} {listed}."
    hints = [FIT_EQUIVALENTS[name] for name in names if name in FIT_EQUIVALENTS]
    return " ".join([message, *hints])


def fit_arguments_table():
    """The docs' table of other libraries' ``fit`` arguments (docs/migration.md)."""
    lines = ["| their argument of `fit` | here |", "|---|---|"]
    for name, hint in FIT_EQUIVALENTS.items():
        lines.append(f"| `{name}` | {hint} |")
    return "\n".join(lines)
