import os

# Lets scikit-learn's check_array_api_input run instead of skipping; scipy
# reads it when first imported, so it is set before anything imports scipy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest
import torch

from sklearn_dnn import DeepClassifier

from ._data import classification


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # Small networks on a 2-core machine train fastest, and most steadily,
    # on one intra-op thread; results do not depend on it.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def source_16_16():
    """A fitted classifier with two hidden layers of 16 units, to transfer from."""
    X, y = classification(n_samples=200)
    return DeepClassifier(hidden_layer_sizes=(16, 16), max_epochs=5, random_state=0).fit(X, y)
