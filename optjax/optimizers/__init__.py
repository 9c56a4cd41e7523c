"""optjax.optimizers: the optimizer catalogue (public names listed in __all__ are
re-exported by optjax)."""

from optjax.optimizers.adam import ScaleByAdamState, ScaleByAmsgradState, adam, adamw, scale_by_adam, scale_by_amsgrad
from optjax.optimizers.momentum import TraceState, sgd, trace

__all__: list[str] = ["ScaleByAdamState", "ScaleByAmsgradState", "TraceState", "adam", "adamw", "scale_by_adam",
                      "scale_by_amsgrad", "sgd", "trace"]

# --- torch/optax side ---
from optjax.optimizers.adabelief import ScaleByBeliefState, adabelief, scale_by_belief  # noqa: E402
from optjax.optimizers.adafactor import (
    FactoredRmsState, FactoredState, adafactor, scale_by_adafactor, scale_by_factored_rms,
)  # noqa: E402
from optjax.optimizers.adam import amsgrad  # noqa: E402
from optjax.optimizers.adaptive import (  # noqa: E402
    ScaleByAdaDeltaState,
    ScaleByAdamaxState,
    ScaleByRmsState,
    ScaleByRssState,
    adadelta,
    adagrad,
    adamax,
    rmsprop,
    scale_by_adadelta,
    scale_by_adamax,
    scale_by_rms,
    scale_by_rss,
)
from optjax.optimizers.asgd import ASGDState, asgd, scale_by_asgd  # noqa: E402
from optjax.optimizers.lion import ScaleByLionState, lion, scale_by_lion  # noqa: E402
from optjax.optimizers.muon import MuonState, muon, newton_schulz, scale_by_muon  # noqa: E402
from optjax.optimizers.nadam import ScaleByNadamState, nadam, scale_by_nadam  # noqa: E402
from optjax.optimizers.radam import ScaleByRAdamState, radam, scale_by_radam  # noqa: E402
from optjax.optimizers.rprop import ScaleByRpropState, rprop, scale_by_rprop  # noqa: E402

__all__ += [
    "ASGDState", "FactoredRmsState", "FactoredState", "MuonState", "ScaleByAdaDeltaState", "ScaleByAdamaxState",
    "ScaleByBeliefState", "ScaleByLionState", "ScaleByNadamState", "ScaleByRAdamState",
    "ScaleByRmsState", "ScaleByRpropState", "ScaleByRssState",
    "adabelief", "adadelta", "adafactor", "adagrad", "adamax", "amsgrad", "asgd", "lion", "muon",
    "nadam", "newton_schulz", "radam", "rmsprop", "rprop",
    "scale_by_adadelta", "scale_by_adafactor", "scale_by_factored_rms", "scale_by_adamax", "scale_by_asgd",
    "scale_by_belief", "scale_by_lion", "scale_by_muon", "scale_by_nadam", "scale_by_radam", "scale_by_rms",
    "scale_by_rprop", "scale_by_rss",
]
# --- end torch/optax side ---
# --- MXNet side ---
from optjax.optimizers.dcasgd import DcasgdState, dcasgd  # noqa: E402
from optjax.optimizers.ftml import FtmlState, ftml  # noqa: E402
from optjax.optimizers.ftrl import FtrlState, ftrl  # noqa: E402
from optjax.optimizers.group_adagrad import GroupAdagradState, group_adagrad  # noqa: E402
from optjax.optimizers.lamb import ScaleByLambMomentsState, lamb, scale_by_trust_ratio  # noqa: E402
from optjax.optimizers.lars import lars, mxnet_lars_mask, scale_by_mxnet_lars  # noqa: E402
from optjax.optimizers.lbsgd import LbsgdState, lbsgd  # noqa: E402
from optjax.optimizers.nag import NagState, nag  # noqa: E402
from optjax.optimizers.sgld import SgldState, sgld  # noqa: E402
from optjax.optimizers.signum import sign_sgd, signum  # noqa: E402

__all__ += [
    "DcasgdState", "FtmlState", "FtrlState", "GroupAdagradState", "LbsgdState", "NagState",
    "ScaleByLambMomentsState", "SgldState", "dcasgd", "ftml", "ftrl",
    "group_adagrad", "lamb", "lars", "lbsgd", "mxnet_lars_mask", "nag", "scale_by_mxnet_lars",
    "scale_by_trust_ratio", "sgld", "sign_sgd", "signum",
]
# --- end MXNet side ---
# --- optax names (issue 14) ---
from optjax.optimizers.adan import ScaleByAdanState, adan, scale_by_adan  # noqa: E402
from optjax.optimizers.noisy_sgd import noisy_sgd  # noqa: E402
from optjax.optimizers.novograd import ScaleByNovogradState, novograd, scale_by_novograd  # noqa: E402
from optjax.optimizers.optimistic import (  # noqa: E402
    ScaleByOptimisticGradientState, optimistic_adam, optimistic_adam_v2, optimistic_gradient_descent,
    scale_by_optimistic_gradient,
)
from optjax.optimizers.polyak import polyak_sgd, scale_by_polyak  # noqa: E402
from optjax.optimizers.sm3 import ScaleBySM3State, scale_by_sm3, sm3  # noqa: E402
from optjax.optimizers.weight_decayed import adamaxw, fromage, nadamw  # noqa: E402
from optjax.optimizers.yogi import ScaleByYogiState, scale_by_yogi, yogi  # noqa: E402

__all__ += [
    "ScaleByAdanState", "ScaleByNovogradState", "ScaleByOptimisticGradientState", "ScaleBySM3State",
    "ScaleByYogiState", "adamaxw", "adan", "fromage", "nadamw", "noisy_sgd", "novograd",
    "optimistic_adam", "optimistic_adam_v2", "optimistic_gradient_descent", "polyak_sgd",
    "scale_by_adan", "scale_by_novograd", "scale_by_optimistic_gradient", "scale_by_polyak",
    "scale_by_sm3", "scale_by_yogi", "sm3", "yogi",
]
# --- end optax names ---
# --- L-BFGS (issue 14) ---
from optjax.optimizers.lbfgs import (  # noqa: E402
    BacktrackingLinesearchInfo, ScaleByBacktrackingLinesearchState, ScaleByLBFGSState, lbfgs,
    scale_by_backtracking_linesearch, scale_by_lbfgs, value_and_grad_from_state,
)

__all__ += [
    "BacktrackingLinesearchInfo", "ScaleByBacktrackingLinesearchState", "ScaleByLBFGSState", "lbfgs",
    "scale_by_backtracking_linesearch", "scale_by_lbfgs", "value_and_grad_from_state",
]
from optjax.optimizers.zoom_linesearch import (  # noqa: E402
    ScaleByZoomLinesearchState, ZoomLinesearchInfo, scale_by_zoom_linesearch, zoom_linesearch,
)

__all__ += ["ScaleByZoomLinesearchState", "ZoomLinesearchInfo", "scale_by_zoom_linesearch", "zoom_linesearch"]
# --- end L-BFGS ---
