"""Updates applied, zeroed or cleaned depending on a condition (optax's
``conditionally_transform``, ``conditionally_mask``, ``skip_not_finite``,
``skip_large_updates``, ``zero_nans``, ``keep_params_nonnegative``)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from optjax import tree_math
from optjax.base import GradientTransformation, OptState, Params, Updates, NO_PARAMS_MSG, call_update, jit_once
from optjax.numerics import safe_increment
from optjax.tree import is_none

ConditionFn = Callable[..., jax.Array]


class ConditionallyTransformState(NamedTuple):
    """The inner state and the step count (optax's field order)."""

    inner_state: Any
    step: jax.Array


def conditionally_transform(inner: GradientTransformation, should_transform_fn: ConditionFn,
                            forward_extra_args: bool = False) -> GradientTransformation:
    """Run ``inner`` at steps where ``should_transform_fn(step)`` is true; elsewhere pass
    the updates through unchanged and keep ``inner``'s state.

    With ``forward_extra_args`` the condition also receives ``update``'s extra keyword args.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.conditionally_transform(optjax.scale(10.0), lambda step: step >= 1)
        >>> s = tx.init({"w": jnp.zeros(1)})
        >>> u1, s = tx.update({"w": jnp.ones(1)}, s)
        >>> u2, s = tx.update({"w": jnp.ones(1)}, s)
        >>> float(u1["w"][0]), float(u2["w"][0])
        (1.0, 10.0)
    """

    def init_fn(params):
        return ConditionallyTransformState(inner_state=inner.init(params), step=jnp.zeros([], jnp.int32))

    def update_fn(updates, state, params=None, **extra_args):
        kw = extra_args if forward_extra_args else {}
        new_updates, inner_state = jax.lax.cond(
            should_transform_fn(state.step, **kw),
            lambda _: call_update(inner, updates, state.inner_state, params, extra_args),
            lambda _: (updates, state.inner_state), None)
        return new_updates, ConditionallyTransformState(inner_state, safe_increment(state.step))

    return GradientTransformation(init_fn, jit_once(update_fn))


class ConditionallyMaskState(NamedTuple):
    """The step count and the inner state (optax's field order)."""

    step: jax.Array
    inner_state: OptState


def conditionally_mask(inner: GradientTransformation, should_transform_fn: ConditionFn,
                       forward_extra_args: bool = False) -> GradientTransformation:
    """Run ``inner`` at steps where ``should_transform_fn(step)`` is true; elsewhere emit
    zeros and keep ``inner``'s state.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.conditionally_mask(optjax.scale(10.0), lambda step: step >= 1)
        >>> s = tx.init({"w": jnp.zeros(1)})
        >>> u1, s = tx.update({"w": jnp.ones(1)}, s)
        >>> float(u1["w"][0])
        0.0
    """

    def init_fn(params):
        return ConditionallyMaskState(step=jnp.zeros([], jnp.int32), inner_state=inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        kw = extra_args if forward_extra_args else {}
        new_updates, inner_state = jax.lax.cond(
            should_transform_fn(state.step, **kw),
            lambda _: call_update(inner, updates, state.inner_state, params, extra_args),
            lambda _: (tree_math.zeros_like(updates), state.inner_state), None)
        return new_updates, ConditionallyMaskState(step=safe_increment(state.step), inner_state=inner_state)

    return GradientTransformation(init_fn, jit_once(update_fn))


def skip_not_finite(updates: Updates, gradient_step: jax.Array, params: Params | None) -> tuple[jax.Array, dict]:
    """A ``should_skip_update_fn`` for :class:`optjax.MultiSteps`: skip when any update
    element is not finite. Returns ``(should_skip, {'should_skip', 'num_not_finite'})``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> skip, info = optjax.skip_not_finite({"w": jnp.array([1.0, jnp.nan])}, 0, None)
        >>> bool(skip), int(info["num_not_finite"])
        (True, 1)
    """
    del gradient_step, params
    counts = [jnp.sum(jnp.logical_not(jnp.isfinite(p))) for p in jax.tree.leaves(updates)]
    num_not_finite = jnp.sum(jnp.array(counts))
    should_skip = num_not_finite > 0
    return should_skip, {"should_skip": should_skip, "num_not_finite": num_not_finite}


def skip_large_updates(updates: Updates, gradient_step: jax.Array, params: Params | None,
                       max_squared_norm: float) -> tuple[jax.Array, dict]:
    """A ``should_skip_update_fn``: skip when ``sum(g^2) >= max_squared_norm`` (or NaN).
    Bind ``max_squared_norm`` with ``functools.partial``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> skip, info = optjax.skip_large_updates({"w": jnp.array([3.0, 4.0])}, 0, None, 20.0)
        >>> bool(skip), float(info["norm_squared"])
        (True, 25.0)
    """
    del gradient_step, params
    norm_sq = jnp.sum(jnp.array([jnp.sum(p**2) for p in jax.tree.leaves(updates)]))
    should_skip = jnp.logical_not(norm_sq < max_squared_norm)
    return should_skip, {"should_skip": should_skip, "norm_squared": norm_sq}


class ZeroNansState(NamedTuple):
    """Per leaf, whether the last update had a NaN."""

    found_nan: Any


def zero_nans() -> GradientTransformation:
    """Replace NaNs in the updates by 0, recording per leaf whether there was one.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.zero_nans()
        >>> u, s = tx.update({"w": jnp.array([1.0, jnp.nan])}, tx.init({"w": jnp.zeros(2)}))
        >>> u["w"].tolist(), bool(s.found_nan["w"])
        ([1.0, 0.0], True)
    """

    def init_fn(params):
        return ZeroNansState(found_nan=jax.tree.map(lambda p: jnp.array(False, dtype=jnp.bool_), params))

    def update_fn(updates, state, params=None):
        del params, state
        state = ZeroNansState(found_nan=jax.tree.map(lambda p: jnp.any(jnp.isnan(p)), updates))
        return jax.tree.map(lambda p: jnp.where(jnp.isnan(p), jnp.zeros_like(p), p), updates), state

    return GradientTransformation(init_fn, update_fn)


class NonNegativeParamsState(NamedTuple):
    """No state (optax's class name for :func:`keep_params_nonnegative`)."""


def keep_params_nonnegative() -> GradientTransformation:
    """Change updates so that ``params + updates >= 0``: where it would go negative the
    update becomes ``-params`` (the parameter lands on 0). Put it last in a chain.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.keep_params_nonnegative()
        >>> p = {"w": jnp.array([1.0, 1.0])}
        >>> u, _ = tx.update({"w": jnp.array([-2.0, -0.5])}, tx.init(p), p)
        >>> u["w"].tolist()
        [-1.0, -0.5]
    """

    def init_fn(params):
        del params
        return NonNegativeParamsState()

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        updates = jax.tree.map(lambda p, u: None if p is None else jnp.where((p + u) < 0.0, -p, u),
                               params, updates, is_leaf=is_none)
        return updates, state

    return GradientTransformation(init_fn, update_fn)


__all__ = ["ConditionallyMaskState", "ConditionallyTransformState", "NonNegativeParamsState", "ZeroNansState",
           "conditionally_mask", "conditionally_transform", "keep_params_nonnegative", "skip_large_updates",
           "skip_not_finite", "zero_nans"]
