"""Gradient transforms: the building blocks optimizers are chained from."""

from optjax.transforms.accumulation import MultiSteps, MultiStepsState
from optjax.transforms.clipping import clip, clip_by_global_norm
from optjax.transforms.constraints import clip_params, constrain_params
from optjax.transforms.conditional import ApplyIfFiniteState, apply_if_finite
from optjax.transforms.hyperparams import (
    InjectHyperparamsState,
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
    "ApplyIfFiniteState", "InjectHyperparamsState", "MaskedState", "MultiSteps", "MultiStepsState",
    "ScaleByScheduleState", "add_decayed_weights", "apply_if_finite", "clip", "clip_by_global_norm",
    "clip_params", "constrain_params",
    "decoupled_weight_decay", "freeze", "get_hyperparam", "inject_hyperparams", "lr_mult", "masked",
    "mxnet_wd_mult", "scale", "scale_by_learning_rate", "scale_by_schedule", "selective_transform",
    "set_hyperparams",
]

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
