"""Registry of the MXNet-side optimizers for the shared suite (test_suite.py)
and the MXNet suite (test_mxnet_suite.py).

``ENTRIES``: ``(name, kwargs)`` with ``name`` the ``optjax.<name>`` factory and
kwargs that converge on the suite's quadratic. Optional tables, keyed by name
(see registry.py for the format):

* ``INJECT_STATIC``: arguments that must stay static under ``inject_hyperparams``.
* ``NEEDS_2D``: optimizers that only accept 2-D leaves (the suite's ``matrix_only``).
* ``SKIP``: ``{test: reason}`` for suite tests that do not apply.
* ``PROBLEM_KWARGS``: ``{problem: kwargs}`` overriding ``kwargs`` on one
  convergence problem ("quadratic", "rosenbrock").
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

INJECT_STATIC: dict[str, tuple[str, ...]] = {
    # A PRNG key is not a numeric hyperparameter.
    "sgld": ("key",),
    # Integers that set the macro-batch and the warm-up length in calls.
    "lbsgd": ("batch_scale", "warmup_epochs", "updates_per_epoch", "begin_epoch", "num_epochs"),
}
NEEDS_2D: set[str] = {"group_adagrad"}
# Optimizers whose update is random (compare distributions, not numbers).
STOCHASTIC: set[str] = {"sgld"}

_SGLD_SAMPLES = (
    "stochastic sampler: SGLD draws from exp(-loss) (noise variance lr per step), it does "
    "not minimise; at equilibrium each coordinate adds ~1/2 to the loss whatever lr is, above "
    "the suite's tolerance (its noise is checked in test_mxnet_suite.test_sgld_noise_distribution)"
)
SKIP: dict[str, dict[str, str]] = {
    "sgld": {"converges_on_quadratic": _SGLD_SAMPLES, "converges_on_rosenbrock": _SGLD_SAMPLES},
}

# Rosenbrock's curvature reaches ~1000 near its minimum (~200 at the start), so
# the quadratic's lr=0.05 makes (heavy-ball / Nesterov) SGD diverge there; at
# lr=1e-3 nag equals sgd(nesterov=True), dcasgd(lamda=0) and lbsgd(batch_scale=1)
# equal sgd(momentum) to float32 rounding on this problem. DC-ASGD's correction
# lr * lamda * g**2 (g ~ 150 at the start) is also unstable with momentum at 2e-3.
# sign_sgd moves every coordinate by lr each step, so it zigzags across the
# valley at amplitude ~lr; lars' step is tc * lr * |w| per step (times 1/(1-mu)
# with momentum), the same limitation at lr=1.0.
PROBLEM_KWARGS: dict[str, dict[str, dict]] = {
    "nag": {"rosenbrock": dict(learning_rate=1e-3)},
    "dcasgd": {"rosenbrock": dict(learning_rate=1e-3)},
    "lbsgd": {"rosenbrock": dict(learning_rate=1e-3)},
    "sign_sgd": {"rosenbrock": dict(learning_rate=1e-3)},
    "lars": {"rosenbrock": dict(learning_rate=0.03)},
}
