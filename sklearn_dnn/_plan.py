"""What the prepare phase of ``fit`` produces, and the checks it runs.

:class:`FitPlan` holds everything a fit needs, checked and prepared before
anything on the estimator changes; the functions here build parts of it.
"""

import math
import os
from dataclasses import dataclass
from numbers import Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array

from ._groups import ParameterGroups
from ._net import TensorData

# The memory a fit assumes when neither psutil nor the operating system
# tells how much there is (Windows without psutil, say).
FALLBACK_MEMORY_BYTES = 64 * 2**30

# The smallest validation set early stopping accepts (as scikit-learn's MLP).
MIN_VALIDATION_ROWS = 2
# early_stopping="auto" holds out a validation set from this many rows on;
# below it every row is kept for training.
AUTO_EARLY_STOPPING_ROWS = 100


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but torch finds no CUDA device; "
            "use device='cpu' or device='auto'."
        )
    return device


def memory_limit(device):
    """Bytes of memory that the network's weights may take on ``device``.

    A CUDA device's free memory; on the CPU, the available memory as
    psutil (if installed) reports it, else the machine's physical memory,
    else :data:`FALLBACK_MEMORY_BYTES`.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        import psutil
    except ImportError:
        pass
    else:
        return psutil.virtual_memory().available
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf, or not these names
        return FALLBACK_MEMORY_BYTES


def check_network_memory(n_parameters, itemsize, device, ensemble_size, hidden_layer_sizes):
    """Raise a ValueError when training a network of ``n_parameters`` cannot fit in memory.

    Training holds the weights and their gradients, at least twice the
    weights' size (an optimizer's state adds more); the check runs before
    anything is allocated, so that a too-large ``ensemble_size`` or
    ``hidden_layer_sizes`` is refused with the sizes, not with an
    allocator's error.
    """
    needed = 2 * n_parameters * itemsize
    limit = memory_limit(device)
    if needed > limit:
        raise ValueError(
            f"The network is too large for the memory: ensemble_size={ensemble_size} "
            f"members with hidden_layer_sizes={hidden_layer_sizes} hold {n_parameters:,} "
            f"parameters, {n_parameters * itemsize / 2**30:.1f} GiB of weights, and "
            f"training needs at least {needed / 2**30:.1f} GiB (the weights and their "
            f"gradients), more than the {limit / 2**30:.1f} GiB of memory available on "
            f"{device}. Use a smaller ensemble_size or smaller hidden_layer_sizes (float32 "
            "input halves the size)."
        )


def check_sample_weight(sample_weight, n_samples):
    """Sample weights as a float64 array of shape (n_samples,), checked.

    Raises a ValueError for a wrong shape, non-finite or negative values,
    or weights that are all zero.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    if isinstance(sample_weight, Real) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    weight = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    if weight.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar; got {weight.ndim} dims.")
    if weight.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {weight.shape}, expected {(n_samples,)}!")
    if (weight < 0).any():
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if not (weight > 0).any():
        raise ValueError("Sample weights must contain at least one non-zero number; all are zero.")
    return weight


@dataclass
class FitPlan:
    """Everything a fit needs, checked and prepared before anything changes."""

    X: np.ndarray
    task: object
    continuing: bool
    n_features_in: int
    feature_names_in: object
    train: TensorData
    valid: TensorData | None
    valid_score: object  # score(y_true, outputs, sample_weight), higher is better
    callbacks: list  # fresh copies of the user's callbacks
    batch_size: int
    batchnorm: bool
    hidden_layer_sizes: tuple
    ensemble_size: int
    n_frozen: int
    groups: ParameterGroups
    init_seed: int
    generator: torch.Generator
    device: str
    torch_dtype: torch.dtype
    max_epochs: int
    incremental: bool  # partial_fit: one pass, no schedule, no validation split


def split_rows(target, task, early_stopping, validation_fraction, rng):
    """Indices of the training and the validation rows; (None, None) without early stopping.

    ``early_stopping="auto"`` holds out from ``AUTO_EARLY_STOPPING_ROWS`` rows on.

    The validation set is stratified by class when the task has
    classes and every class has the rows that needs; otherwise it is a
    plain random split.
    """
    n = len(target)
    if early_stopping == "auto":
        if n < AUTO_EARLY_STOPPING_ROWS:
            return None, None
    elif not early_stopping:
        return None, None
    n_valid = math.ceil(validation_fraction * n)
    if n_valid < MIN_VALIDATION_ROWS or n - n_valid < 1:
        raise ValueError(
            f"The validation set is too small: early_stopping holds out "
            f"validation_fraction={validation_fraction} of {n} rows, {n_valid} "
            f"rows, and needs at least {MIN_VALIDATION_ROWS} (and 1 row left to "
            "train on). Increase validation_fraction or the number of rows, or set "
            "early_stopping=False."
        )
    stratify = task.stratify(target)
    if stratify is not None:
        counts = np.unique(stratify, return_counts=True)[1]
        if counts.min() < 2 or n_valid < len(counts) or n - n_valid < len(counts):
            stratify = None  # some class is too rare to be in both sets
    train_rows, valid_rows = train_test_split(
        np.arange(n), test_size=n_valid, random_state=rng, stratify=stratify
    )
    return np.sort(train_rows), np.sort(valid_rows)
