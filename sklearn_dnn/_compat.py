"""Everything that depends on a dependency's private names or on its version.

The rest of the package uses only public APIs of scikit-learn, torch and
skorch; what has no public equivalent, or differs between the versions we
support, lives here, each with a fallback, and is tested at the oldest
and newest versions CI installs.

- Per-layer gradient norms use torch's multi-tensor ``_foreach_norm``
  kernel (one call per step instead of one per layer) when torch has it.
- Optimizer kernels: the fused and the multi-tensor (``foreach``)
  implementations exist for some optimizers, devices and dtypes only, and
  which ones has changed between torch releases (fused Adam was CUDA-only
  before torch 2.4; fused Adagrad is CPU-only). :func:`optimizer_kernel`
  tries them in order of speed on the actual device and dtype and keeps
  the first that works.
"""

import inspect

import torch

# Kernel keyword arguments, fastest first; ``{}`` is torch's default loop.
KERNELS = ({"fused": True}, {"foreach": True}, {})

_kernel_cache = {}


def tensor_norms(tensors):
    """The L2 norm of each tensor, as a list of 0-d tensors on their device."""
    foreach_norm = getattr(torch, "_foreach_norm", None)
    if foreach_norm is not None and tensors:
        try:
            return list(foreach_norm(tensors))
        except (RuntimeError, TypeError):  # a torch whose kernel rejects these tensors
            pass
    return [torch.linalg.vector_norm(t) for t in tensors]


def _kernel_works(optimizer_class, kernel, device, dtype):
    accepted = inspect.signature(optimizer_class).parameters
    if any(name not in accepted for name in kernel):
        return False
    param = torch.zeros(2, device=device, dtype=dtype, requires_grad=True)
    param.grad = torch.ones_like(param)
    try:
        optimizer_class([param], lr=1e-3, **kernel).step()
    except (RuntimeError, ValueError, TypeError, NotImplementedError):
        return False
    return True


def optimizer_kernel(optimizer_class, device, dtype, kernels=KERNELS):
    """The fastest of ``kernels`` that ``optimizer_class`` runs on ``device`` and ``dtype``.

    Each candidate is tried once, on a two-element parameter, and the
    answer is cached per (class, device type, dtype).
    """
    key = (
        optimizer_class,
        torch.device(device).type,
        dtype,
        tuple(tuple(sorted(k.items())) for k in kernels),
    )
    if key not in _kernel_cache:
        _kernel_cache[key] = next(
            (k for k in kernels if _kernel_works(optimizer_class, k, device, dtype)), {}
        )
    return _kernel_cache[key]
