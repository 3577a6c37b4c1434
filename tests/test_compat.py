"""The compatibility module: kernels chosen by what runs, fallbacks that work."""

import pytest
import torch

from sklearn_dnn import DeepClassifier, _compat

from ._data import classification


def make_optimizer_class(rejected):
    """An Adam whose listed kernels fail at the first step, as in torch releases without them."""

    class PickyAdam(torch.optim.Adam):
        def __init__(self, params, lr=1e-3, fused=None, foreach=None):
            self.kernel = "fused" if fused else "foreach" if foreach else "plain"
            super().__init__(params, lr=lr, fused=fused, foreach=foreach)

        def step(self, closure=None):
            if self.kernel in rejected:
                raise RuntimeError(f"{self.kernel} is not supported on this device")
            return super().step(closure)

    return PickyAdam


@pytest.mark.parametrize(
    "rejected, expected",
    [
        ((), {"fused": True}),
        (("fused",), {"foreach": True}),
        (("fused", "foreach"), {}),
    ],
)
def test_optimizer_kernel_falls_back_to_what_runs(rejected, expected):
    optimizer_class = make_optimizer_class(rejected)
    assert _compat.optimizer_kernel(optimizer_class, "cpu", torch.float32) == expected


def test_an_optimizer_without_kernel_arguments_gets_none():
    class Bare(torch.optim.SGD):
        def __init__(self, params, lr=1e-3):
            super().__init__(params, lr=lr)

    assert _compat.optimizer_kernel(Bare, "cpu", torch.float64) == {}


def test_adam_trains_on_the_fastest_kernel_that_runs_here():
    X, y = classification()
    clf = DeepClassifier(max_epochs=1).fit(X, y)
    expected = _compat.optimizer_kernel(torch.optim.Adam, "cpu", torch.float64)
    group = clf.net_.optimizer_.param_groups[0]
    assert expected  # torch 2.13 on the CPU runs fused Adam
    assert all(group[name] == value for name, value in expected.items())


def test_tensor_norms_without_the_foreach_kernel(monkeypatch):
    tensors = [torch.arange(4.0), torch.ones(2, 3)]
    fast = _compat.tensor_norms(tensors)
    monkeypatch.delattr(torch, "_foreach_norm")
    slow = _compat.tensor_norms(tensors)
    assert torch.allclose(torch.stack(fast), torch.stack(slow))
    assert torch.allclose(torch.stack(slow), torch.tensor([14.0**0.5, 6.0**0.5]))
