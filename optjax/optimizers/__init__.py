"""optjax.optimizers: the optimizer catalogue (public names listed in __all__ are
re-exported by optjax)."""

from optjax.optimizers.adam import ScaleByAdamState, adam, adamw, scale_by_adam
from optjax.optimizers.momentum import TraceState, sgd, trace

__all__: list[str] = ["ScaleByAdamState", "TraceState", "adam", "adamw", "scale_by_adam", "sgd", "trace"]

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
from optjax.optimizers.signum import SignSgdState, SignumState, sign_sgd, signum  # noqa: E402

__all__ += [
    "DcasgdState", "FtmlState", "FtrlState", "GroupAdagradState", "LbsgdState", "NagState",
    "ScaleByLambMomentsState", "SgldState", "SignSgdState", "SignumState", "dcasgd", "ftml", "ftrl",
    "group_adagrad", "lamb", "lars", "lbsgd", "mxnet_lars_mask", "nag", "scale_by_mxnet_lars",
    "scale_by_trust_ratio", "sgld", "sign_sgd", "signum",
]
# --- end MXNet side ---
