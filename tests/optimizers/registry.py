"""Optimizers the shared suite (test_suite.py) runs: ``(name, factory_kwargs)``.

``name`` is a factory in the ``optjax`` namespace; ``factory_kwargs`` are the
arguments the suite builds it with (chosen so it converges on the suite's
quadratic and Rosenbrock problems in the suite's step budget). The MXNet side
adds registry_mxnet.py with the same format.

Optional module-level tables, keyed by ``name`` (they apply to every entry of
that name; the suite rejects names with no entry and unknown tests/problems):

* ``NEEDS_2D: set[str]``: accepts only 2-D leaves; the suite uses trees of
  matrices for it (``matrix_only``).
* ``INJECT_STATIC: dict[str, tuple[str, ...]]``: arguments kept static under
  ``inject_hyperparams`` (integers are found automatically).
* ``SKIP: dict[str, dict[str, str]]``: ``{test: reason}``, suite tests that do
  not apply (test name without ``test_``; the reason is required).
* ``PROBLEM_KWARGS: dict[str, dict[str, dict]]``: ``{problem: kwargs}`` merged
  over ``factory_kwargs`` for one convergence problem (``"quadratic"``,
  ``"rosenbrock"``).
"""

ENTRIES = [
    ("sgd", {"learning_rate": 2e-3, "momentum": 0.9}),
    ("sgd", {"learning_rate": 2e-3, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}),
    ("sgd", {"learning_rate": 2e-3, "momentum": 0.9, "dampening": 0.5}),
    ("adam", {"learning_rate": 2e-2}),
    ("adam", {"learning_rate": 2e-2, "amsgrad": "raw", "weight_decay": 1e-4, "decoupled_weight_decay": True}),
    ("adamw", {"learning_rate": 2e-2, "weight_decay": 1e-4}),
    ("amsgrad", {"learning_rate": 2e-2}),
    ("nadam", {"learning_rate": 2e-2}),
    ("nadam", {"learning_rate": 2e-2, "momentum_decay": 4e-3}),
    ("radam", {"learning_rate": 5e-3}),
    ("adamax", {"learning_rate": 2e-2}),
    ("adamax", {"learning_rate": 2e-2, "eps_in_max": True}),
    ("rmsprop", {"learning_rate": 1e-2}),
    ("rmsprop", {"learning_rate": 1e-3, "decay": 0.99, "eps_in_sqrt": False, "centered": True,
                 "momentum": 0.9, "lr_in_momentum_buffer": False}),
    ("adagrad", {"learning_rate": 3e-1}),
    ("adagrad", {"learning_rate": 3e-1, "initial_accumulator_value": 0.0, "eps": 1e-10,
                 "eps_in_sqrt": False, "lr_decay": 1e-4}),
    ("adadelta", {"learning_rate": 0.5, "rho": 0.99, "eps": 1e-3}),
    ("asgd", {"learning_rate": 2e-3, "t0": 100.0}),
    ("rprop", {"learning_rate": 1e-2}),
    ("adafactor", {"learning_rate": 5e-2, "multiply_by_parameter_scale": False, "min_dim_size_to_factor": 2}),
    ("adafactor", {"learning_rate": 5e-2, "eps": None, "variant": "torch", "min_scale": 1e-2}),
    ("lion", {"learning_rate": 3e-3, "weight_decay": 0.0}),
    ("adabelief", {"learning_rate": 2e-2, "eps": 1e-8, "eps_root": 1e-8}),
    # bfloat16 Newton-Schulz (the default, as torch) rounds differently jitted and
    # eager; the suite runs it in float32 (bf16 is covered by the torch golden test).
    ("muon", {"learning_rate": 2e-2, "weight_decay": 0.0, "ns_dtype": "float32"}),
]
