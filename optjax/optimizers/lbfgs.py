"""L-BFGS (optax's ``scale_by_lbfgs``/``lbfgs``) and the backtracking (Armijo) line search.

The update needs the current ``params``; the line search also needs ``value`` (loss at
``params``), ``grad`` and ``value_fn`` (loss as a function of params) as extra keyword
arguments of ``update``, as in optax::

    value, grad = jax.value_and_grad(f)(params)
    updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)
"""

from __future__ import annotations

import functools
import inspect
import operator
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

from optjax import tree_math, validation
from optjax.base import GradientTransformation, Params, ScalarOrSchedule, Updates, NO_PARAMS_MSG, identity, jit_once
from optjax.combine import chain
from optjax.numerics import safe_increment
from optjax.transforms import scale, scale_by_learning_rate


class ScaleByLBFGSState(NamedTuple):
    """optax's layout: step count, last params and gradient, the ``memory_size`` last
    differences of each (stacked on a leading axis) and their weights ``1 / <dg, dp>``."""

    count: jax.Array
    params: Params
    updates: Params
    diff_params_memory: Any
    diff_updates_memory: Any
    weights_memory: jax.Array


def _precondition_by_lbfgs(updates, diff_params_memory, diff_updates_memory, weights_memory,
                           identity_scale, memory_idx):
    """The two-loop recursion: ``H g`` for the L-BFGS inverse-Hessian estimate ``H``."""
    rhos = weights_memory
    memory_size = weights_memory.shape[0]
    indices = (memory_idx + jnp.arange(memory_size)) % memory_size

    def right_product(vec, idx):
        dwi, dui = jax.tree.map(lambda x: x[idx], (diff_params_memory, diff_updates_memory))
        alpha = rhos[idx] * tree_math.real(tree_math.vdot(dwi, vec))
        return tree_math.cast_like(tree_math.add_scale(vec, -alpha, dui), vec), alpha

    precond, alphas = jax.lax.scan(right_product, updates, indices, reverse=True)
    precond = tree_math.scale(identity_scale, precond)

    def left_product(vec, idx_alpha):
        idx, alpha = idx_alpha
        dwi, dui = jax.tree.map(lambda x: x[idx], (diff_params_memory, diff_updates_memory))
        beta = rhos[idx] * tree_math.real(tree_math.vdot(dui, vec))
        return tree_math.cast_like(tree_math.add_scale(vec, alpha - beta, dwi), vec), beta

    precond, _ = jax.lax.scan(left_product, precond, (indices, alphas))
    return precond


def scale_by_lbfgs(memory_size: int = 10, scale_init_precond: bool = True) -> GradientTransformation:
    r"""Precondition the gradient by the L-BFGS inverse-Hessian estimate built from the last
    ``memory_size`` pairs ``s_k = p_{k+1} - p_k``, ``y_k = g_{k+1} - g_k`` (two-loop
    recursion, Nocedal & Wright Algorithm 7.4). The initial estimate is
    ``gamma I`` with ``gamma = <s, y> / <y, y>`` (``scale_init_precond``; at the first step
    ``min(1, 1 / |g|)``), else ``I``. Needs ``params``.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.scale_by_lbfgs()
        >>> p = {"w": jnp.array([1.0, 2.0])}
        >>> u, s = tx.update({"w": jnp.array([0.3, 0.4])}, tx.init(p), p)
        >>> [round(x, 4) for x in u["w"].tolist()]
        [0.3, 0.4]

    Reference: Nocedal & Wright, Numerical Optimization, 2nd ed., 2006, Algorithm 7.4.
    """
    if memory_size < 1:
        raise ValueError(f"memory_size must be >= 1, got {memory_size}")

    def init_fn(params):
        stacked = jax.tree.map(lambda leaf: jnp.zeros((memory_size,) + leaf.shape, dtype=leaf.dtype), params)
        return ScaleByLBFGSState(count=jnp.asarray(0, dtype=jnp.int32), params=tree_math.zeros_like(params),
                                 updates=tree_math.zeros_like(params), diff_params_memory=stacked,
                                 diff_updates_memory=stacked, weights_memory=jnp.zeros(memory_size))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        memory_idx = state.count % memory_size
        prev_idx = (state.count - 1) % memory_size
        diff_params = tree_math.sub(params, state.params)
        diff_updates = tree_math.sub(updates, state.updates)
        vdot = tree_math.real(tree_math.vdot(diff_updates, diff_params))
        weight = jnp.where(vdot == 0.0, 0.0, 1.0 / vdot)
        diff_params, diff_updates, weight = jax.tree.map(
            lambda x: jnp.where(state.count > 0, x, jnp.zeros_like(x)), (diff_params, diff_updates, weight))
        dp_mem, du_mem, w_mem = jax.tree.map(
            lambda x, y: x.at[prev_idx].set(y),
            (state.diff_params_memory, state.diff_updates_memory, state.weights_memory),
            (diff_params, diff_updates, weight))
        if scale_init_precond:
            num = tree_math.real(tree_math.vdot(diff_updates, diff_params))
            den = tree_math.norm(diff_updates, squared=True)
            gamma = jnp.where(den > 0.0, num / den, 1.0)
            capped_inv_norm = jnp.minimum(1.0, 1.0 / tree_math.norm(jax.lax.stop_gradient(updates)))
            gamma = jnp.where(state.count > 0, gamma, capped_inv_norm)
        else:
            gamma = 1.0
        precond = _precondition_by_lbfgs(updates, dp_mem, du_mem, w_mem, gamma, memory_idx)
        return precond, ScaleByLBFGSState(count=safe_increment(state.count), params=params, updates=updates,
                                          diff_params_memory=dp_mem, diff_updates_memory=du_mem,
                                          weights_memory=w_mem)

    return GradientTransformation(init_fn, jit_once(update_fn))


class BacktrackingLinesearchInfo(NamedTuple):
    """Steps taken by the last search and its final sufficient-decrease error."""

    num_linesearch_steps: jax.Array
    decrease_error: jax.Array


class ScaleByBacktrackingLinesearchState(NamedTuple):
    """optax's layout: accepted step size, value at the new params, gradient there
    (``store_grad``, else None), search info."""

    learning_rate: jax.Array
    value: jax.Array
    grad: Optional[Updates]
    info: BacktrackingLinesearchInfo


class BacktrackingLineSearchState(NamedTuple):
    """The loop state of one search."""

    learning_rate: jax.Array
    new_value: jax.Array
    new_grad: Updates
    decrease_error: jax.Array
    iter_num: jax.Array


def _extract_fns_kwargs(fns, kwargs):
    names = [list(inspect.signature(fn).parameters.keys()) for fn in fns]
    fns_kwargs = [{k: v for k, v in kwargs.items() if k in n} for n in names]
    every = functools.reduce(operator.add, names)
    return fns_kwargs, {k: v for k, v in kwargs.items() if k not in every}


def scale_by_backtracking_linesearch(
    max_backtracking_steps: int,
    slope_rtol: float = 1e-4,
    decrease_factor: float = 0.8,
    increase_factor: float = 1.5,
    max_learning_rate: float = 1.0,
    atol: float = 0.0,
    rtol: float = 0.0,
    store_grad: bool = False,
    verbose: bool = False,
) -> GradientTransformation:
    r"""Backtracking (Armijo) line search along the update ``u``: starting from
    ``eta = min(increase_factor * eta_prev, max_learning_rate)``, shrink ``eta`` by
    ``decrease_factor`` until

        f(p + eta u) <= (1 + rtol) f(p) + eta * slope_rtol * <u, grad>  (+ atol)

    or ``max_backtracking_steps`` are spent; returns ``eta u`` (``0`` if every trial was
    not finite). ``update`` takes ``value``, ``grad``, ``value_fn`` (and ``value_fn``'s
    own keyword args). ``store_grad`` keeps the gradient at the accepted point for
    :func:`value_and_grad_from_state`. ``verbose`` is accepted for optax's signature.

    Example::

        >>> import jax, jax.numpy as jnp, optjax
        >>> f = lambda p: jnp.sum(p["w"] ** 2)
        >>> tx = optjax.chain(optjax.scale(-1.0), optjax.scale_by_backtracking_linesearch(15))
        >>> p = {"w": jnp.array([1.0, -2.0])}
        >>> v, g = jax.value_and_grad(f)(p)
        >>> u, s = tx.update(g, tx.init(p), p, value=v, grad=g, value_fn=f)
        >>> round(float(s[1].learning_rate), 4)
        0.8

    Reference: Nocedal & Wright, Numerical Optimization, 2nd ed., 2006, Algorithm 3.1.
    """
    validation.not_nan(slope_rtol=slope_rtol, decrease_factor=decrease_factor, increase_factor=increase_factor,
                      max_learning_rate=max_learning_rate, atol=atol, rtol=rtol)
    del verbose

    def init_fn(params):
        grad = tree_math.zeros_like(params) if store_grad else None
        val_dtype = jnp.real(jnp.empty((), dtype=jax.tree.leaves(params)[0].dtype)).dtype
        return ScaleByBacktrackingLinesearchState(
            learning_rate=jnp.array(1.0, dtype=val_dtype), value=jnp.array(jnp.inf, dtype=val_dtype), grad=grad,
            info=BacktrackingLinesearchInfo(num_linesearch_steps=jnp.asarray(0),
                                            decrease_error=jnp.array(jnp.inf, dtype=val_dtype)))

    def decrease_error_of(stepsize, slope, value, new_value):
        err = new_value - (1.0 + rtol) * value - stepsize * slope_rtol * slope
        return jnp.maximum(jnp.where(jnp.isnan(err), jnp.inf, err), 0.0)

    def update_fn(updates, state, params=None, *, value, grad, value_fn, **extra_args):
        if params is None:
            raise ValueError(NO_PARAMS_MSG)
        (fn_kwargs,), remaining = _extract_fns_kwargs((value_fn,), extra_args)
        if remaining:
            raise TypeError(f"Unexpected keyword arguments passed to scale_by_backtracking_linesearch.update: "
                            f"value_fn does not accept {sorted(remaining)}")
        slope = tree_math.real(tree_math.vdot(updates, tree_math.conj(grad)))
        f = functools.partial(value_fn, **fn_kwargs)

        def cond_fn(s):
            return (~(s.decrease_error <= atol)) & (s.iter_num <= max_backtracking_steps)

        def body_fn(s):
            lr = jnp.where(s.iter_num > 0, decrease_factor * s.learning_rate, s.learning_rate)
            new_params = tree_math.add_scale(params, lr, updates)
            new_grad = s.new_grad
            if store_grad:
                new_value, jvp_fn = jax.linearize(f, new_params)
                err = decrease_error_of(lr, slope, value, new_value)
                new_grad = jax.lax.cond((err <= atol) | (s.iter_num == max_backtracking_steps),
                                        lambda p: jax.linear_transpose(jvp_fn, p)(1.0)[0],
                                        lambda *_: new_grad, new_params)
            else:
                new_value = f(new_params)
                err = decrease_error_of(lr, slope, value, new_value)
            new = BacktrackingLineSearchState(learning_rate=lr, new_value=new_value, new_grad=new_grad,
                                              decrease_error=err, iter_num=s.iter_num + 1)
            return tree_math.cast_like(new, s)

        lr0 = jnp.minimum(increase_factor * state.learning_rate, max_learning_rate)
        s = BacktrackingLineSearchState(learning_rate=lr0, new_value=value, new_grad=tree_math.zeros_like(params),
                                        decrease_error=jnp.array(jnp.inf), iter_num=0)
        s = jax.lax.while_loop(cond_fn, body_fn, s)
        new_lr = jnp.where(jnp.isinf(s.decrease_error), 0.0, s.learning_rate)
        new_state = ScaleByBacktrackingLinesearchState(
            learning_rate=new_lr, value=s.new_value, grad=s.new_grad if store_grad else None,
            info=BacktrackingLinesearchInfo(num_linesearch_steps=s.iter_num, decrease_error=s.decrease_error))
        return tree_math.scale(new_lr, updates), tree_math.cast_like(new_state, state)

    return GradientTransformation(init_fn, jit_once(update_fn))


def value_and_grad_from_state(value_fn: Callable[..., jax.Array]) -> Callable[..., tuple[jax.Array, Updates]]:
    """``jax.value_and_grad(value_fn)`` that reuses the ``value`` and ``grad`` a line search
    stored in the optimizer ``state`` (``store_grad=True``) when they are finite.

    Call as ``value_and_grad(params, *args, state=opt_state, **kwargs)``.
    """

    def _value_and_grad(params, *fn_args, state, **fn_kwargs):
        value = tree_math.get(state, "value")
        grad = tree_math.get(state, "grad")
        if value is None or grad is None:
            raise ValueError("state: no 'value' and 'grad' stored in the optimizer state; use a line "
                             "search with store_grad=True")
        return jax.lax.cond((~jnp.isinf(value)) & (~jnp.isnan(value)), lambda *_: (value, grad),
                            lambda p, a, kw: jax.value_and_grad(value_fn)(p, *a, **kw), params, fn_args, fn_kwargs)

    return _value_and_grad


def lbfgs(learning_rate: Optional[ScalarOrSchedule] = None, memory_size: int = 10,
          scale_init_precond: bool = True, linesearch: Any = "zoom") -> GradientTransformation:
    """L-BFGS: :func:`scale_by_lbfgs`, ``-learning_rate`` (``-1`` if None), then ``linesearch``
    (as ``optax.lbfgs``). The default ``"zoom"`` is optax's default,
    ``scale_by_zoom_linesearch(max_linesearch_steps=20, initial_guess_strategy='one')``;
    ``linesearch=None`` uses no line search.

    Example::

        >>> import jax, jax.numpy as jnp, optjax
        >>> f = lambda p: jnp.sum((p["w"] - 3.0) ** 2)
        >>> tx = optjax.lbfgs()
        >>> p = {"w": jnp.zeros(2)}
        >>> s = tx.init(p)
        >>> for _ in range(5):
        ...     v, g = jax.value_and_grad(f)(p)
        ...     u, s = tx.update(g, s, p, value=v, grad=g, value_fn=f)
        ...     p = optjax.apply_updates(p, u)
        >>> [round(x, 3) for x in p["w"].tolist()]
        [3.0, 3.0]
    """
    if isinstance(linesearch, str):
        if linesearch != "zoom":
            raise ValueError(f"linesearch must be a transform, None or 'zoom', got {linesearch!r}")
        from optjax.optimizers.zoom_linesearch import scale_by_zoom_linesearch

        linesearch = scale_by_zoom_linesearch(max_linesearch_steps=20, initial_guess_strategy="one")
    base_scaling = scale(-1.0) if learning_rate is None else scale_by_learning_rate(learning_rate)
    return chain(scale_by_lbfgs(memory_size=memory_size, scale_init_precond=scale_init_precond), base_scaling,
                 identity() if linesearch is None else linesearch)
