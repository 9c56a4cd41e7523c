"""Gradient transforms: the building blocks optimizers are chained from."""

from optjax.transforms.accumulation import MultiSteps, MultiStepsState
from optjax.transforms.clipping import clip, clip_by_global_norm
from optjax.transforms.constraints import clip_params, constrain_params
from optjax.transforms.conditional import ApplyIfFiniteState, apply_if_finite
from optjax.transforms.layouts import flatten
from optjax.transforms.lookahead import LookaheadParams, LookaheadState, lookahead
from optjax.transforms.monitoring import MonitorState, SnapshotState, measure_with_ema, monitor, snapshot
from optjax.transforms.hyperparams import (
    InjectHyperparamsState,
    InjectStatefulHyperparamsState,
    get_hyperparam,
    inject_hyperparams,
    set_hyperparams,
)
from optjax.transforms.masking import MaskedState, freeze, masked, selective_transform
from optjax.transforms.scaling import (
    ScaleByScheduleState,
    lr_mult,
    scale,
    scale_by_learning_rate,
    scale_by_schedule,
)
from optjax.transforms.weight_decay import add_decayed_weights, decoupled_weight_decay, mxnet_wd_mult

__all__ = [
    "ApplyIfFiniteState", "InjectHyperparamsState", "InjectStatefulHyperparamsState", "MaskedState",
    "LookaheadParams", "LookaheadState", "MonitorState", "MultiSteps", "MultiStepsState", "SnapshotState",
    "flatten", "lookahead", "measure_with_ema", "monitor", "snapshot",
    "ScaleByScheduleState", "add_decayed_weights", "apply_if_finite", "clip", "clip_by_global_norm",
    "clip_params", "constrain_params",
    "decoupled_weight_decay", "freeze", "get_hyperparam", "inject_hyperparams", "lr_mult", "masked",
    "mxnet_wd_mult", "scale", "scale_by_learning_rate", "scale_by_schedule", "selective_transform",
    "set_hyperparams",
]

# --- optax names (issue 14) ---
from optjax.transforms.averaging import (  # noqa: E402
    ApplyEvery, EmaState, apply_every, ema, incremental_update, periodic_update,
)
from optjax.transforms.conditions import (  # noqa: E402
    ConditionallyMaskState, ConditionallyTransformState, NonNegativeParamsState, ZeroNansState,
    conditionally_mask, conditionally_transform, keep_params_nonnegative, skip_large_updates,
    skip_not_finite, zero_nans,
)
from optjax.transforms.moments import (  # noqa: E402
    ScaleByDistanceOverGradientsState, ScaleByRStdDevState, ScaleByRStdDevWithCountState,
    scale_by_distance_over_gradients, scale_by_stddev,
)
from optjax.transforms.named import named_chain, stateless_with_tree_map  # noqa: E402
from optjax.transforms.noise import AddNoiseState, add_noise  # noqa: E402
from optjax.transforms.norms import (  # noqa: E402
    adaptive_grad_clip, centralize, clip_by_block_rms, normalize_by_update_norm,
    per_example_global_norm_clip, per_example_layer_norm_clip, safe_norm, safe_root_mean_squares,
    scale_by_param_block_norm, scale_by_param_block_rms, unitwise_clip, unitwise_norm,
)

__all__ += [
    "AddNoiseState", "ApplyEvery", "ConditionallyMaskState", "ConditionallyTransformState", "EmaState",
    "NonNegativeParamsState", "ScaleByDistanceOverGradientsState", "ScaleByRStdDevState",
    "ScaleByRStdDevWithCountState", "ZeroNansState", "adaptive_grad_clip", "add_noise", "apply_every",
    "centralize", "clip_by_block_rms", "conditionally_mask", "conditionally_transform", "ema",
    "incremental_update", "keep_params_nonnegative", "named_chain", "normalize_by_update_norm",
    "per_example_global_norm_clip", "per_example_layer_norm_clip", "periodic_update", "safe_norm",
    "safe_root_mean_squares", "scale_by_distance_over_gradients", "scale_by_param_block_norm",
    "scale_by_param_block_rms", "scale_by_stddev", "skip_large_updates", "skip_not_finite",
    "stateless_with_tree_map", "unitwise_clip", "unitwise_norm", "zero_nans",
]
# --- end optax names ---

# --- scale and memory (issue 16) ---
from optjax.transforms.low_precision import (  # noqa: E402
    KahanState,
    StochasticRoundingState,
    kahan_summation,
    stochastic_round,
    stochastic_rounding,
)
from optjax.transforms.state_sharding import partition_state  # noqa: E402
from optjax.transforms.state_quantization import (  # noqa: E402
    QuantizedArray,
    QuantizedState,
    dequantize_state,
    dynamic_code_book,
    quantize_blockwise,
    quantized_state,
)

__all__ += [
    "KahanState", "QuantizedArray", "QuantizedState", "StochasticRoundingState", "dequantize_state", "dynamic_code_book",
    "kahan_summation", "partition_state", "quantize_blockwise", "quantized_state", "stochastic_round",
    "stochastic_rounding",
]
# --- end scale and memory ---
