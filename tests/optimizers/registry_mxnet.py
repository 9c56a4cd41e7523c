"""Registry of the MXNet-side optimizers for the shared suite.

``ENTRIES``: ``(name, kwargs)`` with ``name`` the ``optjax.<name>`` factory and
kwargs that converge on a small quadratic. ``INJECT_STATIC`` lists arguments
that must stay static under ``inject_hyperparams`` (sgld's PRNG key).
``NEEDS_2D``: optimizers that only accept 2-D leaves.
"""

import jax

ENTRIES: list[tuple[str, dict]] = [
    ("nag", dict(learning_rate=0.05, momentum=0.9)),
    ("nag", dict(learning_rate=0.05, momentum=0.9, weight_decay=1e-3, wd_on_updated_weight=True)),
    ("dcasgd", dict(learning_rate=0.05, lamda=0.04)),
    ("dcasgd", dict(learning_rate=0.05, momentum=0.9)),
    ("sgld", dict(learning_rate=1e-4, key=jax.random.key(0))),
    ("sign_sgd", dict(learning_rate=0.01)),
    ("signum", dict(learning_rate=0.01, beta=0.9, wd_lh=1e-4)),
    ("ftml", dict(learning_rate=0.05)),
    ("ftrl", dict(learning_rate=0.5, l1=0.0, beta=1.0)),
    ("lbsgd", dict(learning_rate=0.05, momentum=0.9, batch_scale=2, warmup_epochs=1, updates_per_epoch=4)),
    ("lamb", dict(learning_rate=0.05)),
    ("lamb", dict(learning_rate=0.05, bias_correction=False, lower_bound=0.1, upper_bound=10.0)),
    ("lars", dict(learning_rate=1.0, trust_coefficient=0.05, momentum=0.9)),
    ("lars", dict(learning_rate=1.0, trust_coefficient=0.05, momentum=0.9, trust_ratio_form="mxnet")),
    ("group_adagrad", dict(learning_rate=0.3)),
]

INJECT_STATIC: dict[str, tuple[str, ...]] = {"sgld": ("key",)}
NEEDS_2D: set[str] = {"group_adagrad"}
# Optimizers whose update is random (compare distributions, not numbers).
STOCHASTIC: set[str] = {"sgld"}
