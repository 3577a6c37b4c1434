"""Random generators for an estimator's own work, seeded from scikit-learn's random_state.

Nothing here seeds or reads torch's global generator: every fit and every
sampling call owns its generators, so threads never share one.
"""

import numpy as np
import torch
from sklearn.utils import check_random_state


def draw_seed(random_state):
    """An int32 seed drawn from ``random_state`` (sklearn's conventions)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def make_generator(seed, device="cpu"):
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(seed)
