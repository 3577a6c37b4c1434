"""Seeding torch from scikit-learn's random_state without touching global state."""

from contextlib import contextmanager

import numpy as np
import torch
from sklearn.utils import check_random_state


@contextmanager
def seeded_torch(seed, device):
    """Seed torch's global generators for the block, then restore their state."""
    gpu = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=gpu):
        torch.manual_seed(seed)
        yield


def draw_seed(random_state):
    """An int32 seed drawn from ``random_state`` (sklearn's conventions)."""
    return check_random_state(random_state).randint(np.iinfo(np.int32).max)
