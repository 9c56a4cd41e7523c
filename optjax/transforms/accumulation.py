"""Gradient accumulation: ``MultiSteps`` (MXNet's ``grad_req='add'``)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, validation
from optjax.base import GradientTransformation, PyTree, call_update, jit_once
from optjax.per_leaf import flatten_like_state
from optjax.tree import is_none, tree_map_none, zeros_like


class MultiStepsState(NamedTuple):
    """State of :class:`MultiSteps`."""

    mini_step: jax.Array  # int32: mini-steps accumulated since the last real update
    gradient_step: jax.Array  # int32: real updates made so far
    inner_opt_state: Any
    acc_grads: PyTree  # running mean (or sum) of this window's mini-step gradients
    skip_state: PyTree = ()  # what should_skip_update_fn returned last (optax's layout)


class MultiSteps:
    """Accumulate gradients over ``k`` mini-steps, then run ``opt`` once.

    On mini-steps ``1..k-1`` the updates are zero and ``opt`` does **not** run
    (a ``lax.cond`` skips it, unlike optax which runs it and discards the
    result); on mini-step ``k`` ``opt`` gets the mean of the ``k`` gradients
    (the sum with ``use_grad_mean=False``). This is MXNet's
    ``grad_req='add'`` with ``trainer.step(batch_size * k)``.

    The state is optax's ``MultiStepsState``: ``acc_grads`` holds the running
    mean ``a <- a + (g - a) / n`` of the window's gradients (the sum without
    ``use_grad_mean``), so an optax checkpoint taken mid-window continues here.

    Args:
      opt: the inner transform.
      every_k_schedule: ``k >= 1``, an int or a function of the real-update
        count (``gradient_step``) giving k.
      use_grad_mean: average (True) or sum the accumulated gradients.
      should_skip_update_fn: optional ``f(updates, gradient_step, params) ->
        (skip, skip_state)`` (e.g. :func:`optjax.skip_not_finite`): a skipped
        mini-step changes nothing but ``skip_state``, as if it never happened.
      accumulator_dtype: dtype of the accumulator (default float32 for
        low-precision gradients, else the gradient's dtype).

    >>> import jax.numpy as jnp, optjax
    >>> ms = optjax.MultiSteps(optjax.sgd(1.0), every_k_schedule=2)
    >>> s = ms.init({"w": jnp.zeros(1)})
    >>> u, s = ms.update({"w": jnp.ones(1)}, s, {"w": jnp.zeros(1)})      # mini-step: zeros
    >>> u, s = ms.update({"w": 3 * jnp.ones(1)}, s, {"w": jnp.zeros(1)})  # update with mean 2
    >>> u["w"]
    Array([-2.], dtype=float32)
    """

    def __init__(
        self,
        opt: GradientTransformation,
        every_k_schedule: int | Callable[[jax.Array], jax.Array],
        use_grad_mean: bool = True,
        should_skip_update_fn: Callable[..., tuple[jax.Array, Any]] | None = None,
        accumulator_dtype: Any = None,
    ):
        if not callable(every_k_schedule):
            validation.check("every_k_schedule", every_k_schedule, low=1)
            if int(every_k_schedule) != every_k_schedule:
                raise ValueError(f"every_k_schedule must be an integer >= 1, got {every_k_schedule!r}")
        self._opt = opt
        self._k = every_k_schedule
        self._use_mean = use_grad_mean
        self._acc_dtype = accumulator_dtype
        self._should_skip = should_skip_update_fn
        # the lax.cond's branches are new closures on every call: jit_once traces them once
        self._update = jit_once(self._update_fn)

    @property
    def inner_opt(self) -> GradientTransformation:
        return self._opt

    def _k_at(self, gradient_step: jax.Array) -> jax.Array:
        k = self._k(gradient_step) if callable(self._k) else self._k
        return jnp.asarray(k, jnp.int32)

    def _acc_dt(self, x):
        if self._acc_dtype is not None:
            return self._acc_dtype
        return numerics.compute_dtype(x.dtype)

    def _skip(self, updates, gradient_step, params) -> tuple[Any, Any]:
        if self._should_skip is None:
            return None, ()
        skip, skip_state = self._should_skip(updates, gradient_step, params)
        skip = jnp.asarray(skip)
        if (skip.dtype, skip.shape) != (jnp.bool_, ()):
            raise ValueError("should_skip_update_fn must return a boolean scalar as its first value, "
                             f"got dtype {skip.dtype} and shape {skip.shape}")
        return skip, skip_state

    def init(self, params: PyTree) -> MultiStepsState:
        gradient_step = numerics.zero_count()
        _, skip_state = self._skip(tree_map_none(jnp.zeros_like, params), gradient_step, params)
        return MultiStepsState(
            mini_step=numerics.zero_count(),
            gradient_step=gradient_step,
            inner_opt_state=self._opt.init(params),
            acc_grads=tree_map_none(lambda p: zeros_like(p, self._acc_dt(p)), params),
            skip_state=skip_state,
        )

    def update(self, updates: PyTree, state: MultiStepsState, params: PyTree | None = None, **extra_args):
        """Accumulate ``updates``; on every k-th call run the inner optimizer on their mean."""
        return self._update(updates, state, params, **extra_args)

    def _update_fn(self, updates, state, params=None, **extra_args):
        flatten_like_state(updates, state.acc_grads, "the accumulated gradients")
        should_skip, skip_state = self._skip(updates, state.gradient_step, params)
        k = self._k_at(state.gradient_step)
        n = (state.mini_step + 1).astype(jnp.float32)

        def add(a, g):
            if g is None:
                return a
            g = g.astype(a.dtype)
            return a + (g - a) / n.astype(a.dtype) if self._use_mean else a + g

        acc = jax.tree.map(add, state.acc_grads, updates, is_leaf=is_none)
        mini = state.mini_step + 1
        emit = mini >= k

        def do_update(_):
            grads = jax.tree.map(lambda a, g: None if g is None else a.astype(g.dtype), acc, updates,
                                 is_leaf=is_none)
            new_u, new_inner = call_update(self._opt, grads, state.inner_opt_state, params, extra_args)
            return new_u, MultiStepsState(numerics.zero_count(), numerics.safe_increment(state.gradient_step),
                                          new_inner, zeros_like(acc), skip_state)

        def accumulate(_):
            zero_u = tree_map_none(jnp.zeros_like, updates)
            return zero_u, MultiStepsState(mini, state.gradient_step, state.inner_opt_state, acc, skip_state)

        def skip(_):
            zero_u = tree_map_none(jnp.zeros_like, updates)
            return zero_u, state._replace(skip_state=skip_state)

        if should_skip is None:
            return jax.lax.cond(emit, do_update, accumulate, None)
        branch = jnp.where(should_skip, 2, emit.astype(jnp.int32))
        return jax.lax.switch(branch, [accumulate, do_update, skip], None)

    def has_updated(self, state: MultiStepsState) -> jax.Array:
        """True right after a step that ran the inner optimizer."""
        return jnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

    def gradient_transformation(self) -> GradientTransformation:
        return GradientTransformation(self.init, self.update)
