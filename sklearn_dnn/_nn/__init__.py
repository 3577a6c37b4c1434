"""The network: its layers, with every part stacking its members on a leading axis.

- ``architecture``: the one frozen description of a network, built from the
  hyperparameters or from reused layers, compared for warm starts;
- ``mlp``: :class:`MLP`, the network the estimators train, and Monte-Carlo
  dropout through it;
- ``blocks``: the hidden block, in named parts, and the one parser of torch
  sources;
- ``layers``: the member-stacked layers (Linear, batch normalization,
  activations with parameters);
- ``activations``, ``initializers``: the name -> factory tables.
"""
