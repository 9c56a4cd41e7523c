"""Constraints on the parameters after the step (MXNet's ``clip_weights``)."""

from __future__ import annotations

import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import NO_PARAMS_MSG, GradientTransformation, init_empty_state
from optjax.tree import tree_map_none


def clip_params(max_abs: float) -> GradientTransformation:
    """Keep the new parameters in ``[-max_abs, max_abs]``: ``u <- clip(p + u, -c, c) - p``.

    Put it last in a chain (after the learning rate): ``chain(rmsprop(...),
    clip_params(c))`` is MXNet's ``RMSProp(clip_weights=c)``. Needs params.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.transforms.constraints.clip_params(1.0)
    >>> tx.update({"w": jnp.array([0.5, 2.0])}, tx.init(None), {"w": jnp.array([0.8, 0.0])})[0]["w"]
    Array([0.19999999, 1.        ], dtype=float32)
    """
    validation.non_negative("max_abs", max_abs)

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        if params is None:
            raise ValueError(NO_PARAMS_MSG.format(name="clip_params"))

        def f(u, p):
            cdt = numerics.compute_dtype(u.dtype)
            pc = p.astype(cdt)
            return (jnp.clip(pc + u.astype(cdt), -max_abs, max_abs) - pc).astype(u.dtype)

        return tree_map_none(f, updates, params), state

    return GradientTransformation(init_empty_state, update_fn)


constrain_params = clip_params
