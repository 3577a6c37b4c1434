"""Plots of a fitted estimator: the training history and the gradient norms.

matplotlib is an optional dependency (``pip install sklearn-dnn[plot]``);
it is imported only when a plot is drawn.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def new_axes(ax=None):
    """Return ``ax``, or the Axes of a new figure when it is None.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib, an optional dependency of sklearn-dnn: "
            'pip install "sklearn-dnn[plot]" (or pip install matplotlib).'
        ) from exc
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_history(estimator, ax=None):
    """Plot the training (and validation) loss and the learning rate per epoch.

    The losses use the left axis, the learning rate (log scale) a twin
    axis on the right. The training loss is the data loss, comparable with
    the validation loss; the l1/l2 penalty, when there is one, is its own
    (dashed) line. The epoch whose weights early stopping restored
    (``best=True`` in ``history_``) is marked by a vertical line.

    Parameters
    ----------
    estimator : fitted DeepClassifier or DeepRegressor
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The Axes of the losses (the learning rate's twin is ``ax.right_ax``).
    """
    check_is_fitted(estimator, "history_")
    ax = new_axes(ax)
    history = estimator.history_
    epochs = [epoch["epoch"] for epoch in history]
    ax.plot(epochs, [epoch["train_loss"] for epoch in history], label="train loss")
    if all("valid_loss" in epoch for epoch in history):
        ax.plot(epochs, [epoch["valid_loss"] for epoch in history], label="validation loss")
    penalties = [epoch.get("train_penalty", 0.0) for epoch in history]
    if any(penalties):
        ax.plot(epochs, penalties, linestyle="--", color="C2", label="penalty (l1, l2)")
    for epoch in history:
        if epoch.get("best"):
            ax.axvline(
                epoch["epoch"],
                color="C3",
                linestyle="-.",
                label=f"restored best epoch ({epoch['epoch']})",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    right = ax.twinx()
    right.plot(epochs, [epoch["lr"] for epoch in history], color="0.5", linestyle=":")
    right.set_yscale("log")
    right.set_ylabel("learning rate (dotted)")
    ax.right_ax = right
    ax.legend(loc="upper right")
    ax.set_title(f"{type(estimator).__name__}: training history")
    return ax


def plot_gradients(estimator, ax=None):
    """Plot the mean gradient norm of each Linear layer per epoch (log scale).

    Parameters
    ----------
    estimator : DeepClassifier or DeepRegressor fitted with ``diagnostics=True``
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        If the estimator was fitted without ``diagnostics=True``.
    """
    check_is_fitted(estimator, "history_")
    if not hasattr(estimator, "gradient_norms_"):
        raise ValueError(
            f"This {type(estimator).__name__} was fitted with diagnostics=False, so no "
            "gradient norms were recorded. Refit it with diagnostics=True, for example "
            "est.set_params(diagnostics=True).fit(X, y)."
        )
    ax = new_axes(ax)
    from matplotlib import colormaps

    norms = estimator.gradient_norms_
    n_layers = norms.shape[1]
    epochs = np.arange(1, len(norms) + 1)
    # One color per depth, dark at the input, light at the output.
    colors = colormaps["viridis"](np.linspace(0, 0.9, n_layers))
    for j in range(n_layers):
        where = {0: " (input)", n_layers - 1: " (output)"}.get(j, "")
        ax.plot(epochs, norms[:, j], color=colors[j], label=f"layer {j + 1}{where}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean gradient norm of the weights")
    ax.set_title(f"{type(estimator).__name__}: gradient norm per layer")
    ax.legend(fontsize="small", ncol=2 if n_layers > 6 else 1)
    return ax
