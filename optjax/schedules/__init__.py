"""optjax.schedules: pure ``step -> value`` schedules and ``reduce_lr_on_plateau``.

Names in ``__all__`` are re-exported at the top level (``optjax.cosine_decay_schedule``).
Exact reproductions of other libraries' classes stay in their submodules:

* ``optjax.schedules.torch_lr``: torch 2.13 ``torch.optim.lr_scheduler`` classes
  (``torch_lr.step_lr(base_lr, step_size, gamma)``, ...).
* ``optjax.schedules.mxnet_lr``: MXNet 1.9.1 ``mx.lr_scheduler`` classes
  (``mxnet_lr.factor_scheduler(step, factor, ...)``, ...).

(The submodules are not called ``torch``/``mxnet`` so that they never shadow
the real packages.) See ``docs/schedules.md`` for the mapping table.
"""

from optjax.schedules import mxnet_lr, torch_lr
from optjax.schedules.basic import (
    constant_schedule,
    cosine_annealing_schedule,
    cosine_decay_schedule,
    cosine_onecycle_schedule,
    exponential_decay,
    interpolate_knots,
    inverse_time_decay,
    linear_onecycle_schedule,
    linear_schedule,
    piecewise_constant_schedule,
    piecewise_interpolate_schedule,
    polynomial_schedule,
    sgdr_schedule,
    warmup_constant_schedule,
    warmup_cosine_decay_schedule,
    warmup_exponential_decay_schedule,
)
from optjax.schedules.combine import (
    join_schedules,
    lambda_schedule,
    multiplicative_schedule,
    multiply_schedules,
)
from optjax.schedules.cyclic import cosine_warm_restarts_schedule, cyclic_schedule, onecycle_schedule
from optjax.schedules.plateau import ReduceLROnPlateauState, reduce_lr_on_plateau
from optjax.schedules.warmup import add_warmup

__all__ = [
    "add_warmup",
    "constant_schedule",
    "cosine_annealing_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "cosine_warm_restarts_schedule",
    "cyclic_schedule",
    "exponential_decay",
    "inverse_time_decay",
    "join_schedules",
    "lambda_schedule",
    "linear_onecycle_schedule",
    "linear_schedule",
    "multiplicative_schedule",
    "multiply_schedules",
    "onecycle_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "reduce_lr_on_plateau",
    "ReduceLROnPlateauState",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]

# --- optax names (issue 14) ---
from optjax.schedules.stateful import StatefulSchedule, WrappedSchedule, WrappedScheduleState  # noqa: E402

__all__ += ["StatefulSchedule", "WrappedSchedule", "WrappedScheduleState"]
# --- end optax names ---
