import os

# Lets scikit-learn's check_array_api_input run instead of skipping; scipy
# reads it when first imported, so it is set before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # Small networks on a 2-core machine train fastest, and most steadily,
    # on one intra-op thread; results do not depend on it.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
