"""optax's ``contrib`` names with optax's signatures, where they differ from optjax's own.

* :func:`muon` (with :class:`MuonDimensionNumbers`, :func:`scale_by_muon`,
  :func:`scale_by_shape`, :func:`orthogonalize_via_newton_schulz`): optax's Muon
  (bias-corrected momentum, float Newton-Schulz with its preconditionings, AdamW for
  the other leaves); optjax's own :func:`optjax.muon` is torch's ``torch.optim.Muon``.
* :func:`reduce_on_plateau`: optax's ``contrib.reduce_on_plateau`` (a transform that scales
  the updates, fed ``value=loss``); optjax's own :func:`optjax.reduce_lr_on_plateau` is torch's
  ``ReduceLROnPlateau``.
"""

from optjax.contrib.muon import (
    MuonDimensionNumbers,
    MuonState,
    muon,
    orthogonalize_via_newton_schulz,
    scale_by_muon,
    scale_by_shape,
)
from optjax.contrib.reduce_on_plateau import ReduceLROnPlateauState, reduce_on_plateau

__all__ = [
    "MuonDimensionNumbers", "MuonState", "ReduceLROnPlateauState", "muon", "orthogonalize_via_newton_schulz",
    "reduce_on_plateau", "scale_by_muon", "scale_by_shape",
]
