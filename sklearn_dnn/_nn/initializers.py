"""Weight initializers: the name -> function table.

Each function fills a 2-D weight tensor of shape ``(fan_out, fan_in)`` in
place. Biases are always set to zero.

=================  ==============================================
name               standard deviation of the weights
=================  ==============================================
glorot_*           ``sqrt(2 / (fan_in + fan_out))``
he_*               ``sqrt(2 / fan_in)``
lecun_*            ``sqrt(1 / fan_in)``
orthogonal         rows (or columns) orthonormal
=================  ==============================================
"""

import threading
from functools import partial

import torch
from torch import nn

# Serializes the only code that has to use torch's global generator: a
# user's initializer function, which cannot be handed a generator.
_GLOBAL_RNG_LOCK = threading.Lock()

INITIALIZERS = {
    "glorot_uniform": nn.init.xavier_uniform_,
    "glorot_normal": nn.init.xavier_normal_,
    "he_uniform": partial(nn.init.kaiming_uniform_, nonlinearity="relu"),
    "he_normal": partial(nn.init.kaiming_normal_, nonlinearity="relu"),
    "lecun_uniform": partial(nn.init.kaiming_uniform_, nonlinearity="linear"),
    "lecun_normal": partial(nn.init.kaiming_normal_, nonlinearity="linear"),
    "orthogonal": nn.init.orthogonal_,
}

# What ``initializer="auto"`` picks for each activation family.
AUTO_INITIALIZERS = {
    "he": "he_uniform",
    "lecun": "lecun_normal",
    "glorot": "glorot_uniform",
}


def get_initializer(initializer, family):
    """Return the function that initializes a weight tensor.

    Parameters
    ----------
    initializer : str or callable
        ``"auto"``, a key of :data:`INITIALIZERS` or a callable that
        fills a weight tensor in place.
    family : {"he", "lecun", "glorot"}
        The family of the activation, used when ``initializer="auto"``.
    """
    if callable(initializer):
        return initializer
    if initializer == "auto":
        initializer = AUTO_INITIALIZERS[family]
    return INITIALIZERS[initializer]


def initialize_weight(weight, initializer, family, generator):
    """Fill ``weight`` in place from ``generator``.

    The named initializers draw from ``generator`` directly. A user's
    callable cannot be given one: it runs with torch's global generator
    seeded from ``generator``, inside ``torch.random.fork_rng`` (the global
    state is restored afterwards) and under a lock, so two threads never
    interleave there.
    """
    if not callable(initializer):
        name = AUTO_INITIALIZERS[family] if initializer == "auto" else initializer
        INITIALIZERS[name](weight, generator=generator)
        return
    seed = int(torch.randint(2**31 - 1, (), generator=generator))
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        initializer(weight)
