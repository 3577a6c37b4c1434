"""Reusing pretrained layers: a frozen copy of another network's hidden layers."""


class PretrainedLayers:
    """Placeholder, filled in below."""
