"""optjax: composable functional optimizers for JAX.

Every optimizer is a pure ``GradientTransformation(init, update)`` over pytrees,
following the optax protocol; schedules are pure ``step -> value`` functions.
``optjax.compat.mxnet`` runs MXNet 1.9.1 optimizer code with MXNet's numbers.
"""

from optjax.base import (
    EmptyState,
    GradientTransformation,
    GradientTransformationExtraArgs,
    MaskedNode,
    Params,
    Schedule,
    ScalarOrSchedule,
    Updates,
    identity,
    set_to_zero,
    stateless,
    with_extra_args_support,
)
from optjax.combine import PartitionState, chain, multi_transform, partition
from optjax.leafwise import leafwise
from optjax.transforms import *  # noqa: F401,F403
from optjax.updates import apply_updates, update_and_apply
from optjax.tree import global_norm, leaf_names, match as path_match, named_leaves

from optjax.schedules import *  # noqa: F401,F403,E402
from optjax import initializers  # noqa: E402  (initializers live in their namespace: optjax.initializers.xavier)
from optjax.initializers import TOP_LEVEL as _INIT_TOP  # noqa: E402

globals().update({_n: getattr(initializers, _n) for _n in _INIT_TOP})
from optjax.optimizers import *  # noqa: F401,F403,E402

__version__ = "0.1.0"
from optjax import contrib  # noqa: E402,F401  (optax's contrib names: optjax.contrib.reduce_on_plateau)
