"""The training engine: from a plan to a trained net, and the network run on new rows.

- ``plan``: the prepare phase of ``fit``: everything training needs, decided once;
- ``training``: the train phase: a skorch net built from the plan, and its epochs;
- ``net``, ``conventions``: the skorch net (tensor data, sliced batches, the
  weighted loss) and what skorch's callbacks expect of it;
- ``callbacks``, ``user_callbacks``: our callbacks, and the user's, copied and checked;
- ``groups``, ``optimizers``, ``schedules``: which parameters train at which rate;
- ``divergence``: when a training loss has gone wrong;
- ``inference``: every forward pass over new rows, chunked within one memory budget;
- ``seeding``, ``threads``: generators and thread counts of an estimator's own.
"""
