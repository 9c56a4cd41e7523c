"""optjax.optimizers: the optimizer catalogue (public names listed in __all__ are
re-exported by optjax)."""

from optjax.optimizers.adam import ScaleByAdamState, adam, adamw, scale_by_adam
from optjax.optimizers.momentum import TraceState, sgd, trace

__all__: list[str] = ["ScaleByAdamState", "TraceState", "adam", "adamw", "scale_by_adam", "sgd", "trace"]
