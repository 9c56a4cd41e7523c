"""optax's ``contrib`` names with optax's signatures, where they differ from optjax's own.

* :func:`reduce_on_plateau`: optax's ``contrib.reduce_on_plateau`` (a transform that scales
  the updates, fed ``value=loss``); optjax's own :func:`optjax.reduce_lr_on_plateau` is torch's
  ``ReduceLROnPlateau``.
"""

from optjax.contrib.reduce_on_plateau import ReduceLROnPlateauState, reduce_on_plateau

__all__ = ["ReduceLROnPlateauState", "reduce_on_plateau"]
