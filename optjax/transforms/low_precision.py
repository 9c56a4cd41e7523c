"""Writing bfloat16 (or float16) params without losing small updates.

``apply_updates`` rounds ``p + u`` to the param's dtype to nearest. With
bfloat16 params (8 significant bits) an update smaller than half a unit in the
last place of ``p`` (``|u| < 2**-9 |p|``) is rounded away entirely, every step:
training stalls once the steps get small (late in a schedule, small learning
rates, large weights). Two remedies, each a wrapper around any transform:

* :func:`stochastic_rounding`: round ``p + u`` up or down at random, up with
  probability equal to the fraction of the gap, so the rounding error is zero
  on average: ``E[p_new] = p + u`` (Gupta et al., *Deep Learning with Limited
  Numerical Precision*, 2015). No extra memory.
* :func:`kahan_summation`: keep, per param, the part of each update that the
  rounding dropped (a compensation buffer, by default in the param's dtype) and
  add it back on the next step (Kahan summation; Zamirai et al., *Revisiting
  BFloat16 Training*, 2020). Deterministic; one more buffer per param.

Each wrapper returns the update ``u' = p_new - p`` in float32, which
:func:`optjax.apply_updates` (and :func:`optjax.update_and_apply`) adds back
exactly, so the params come out as ``p_new``. Use it outermost (after the
learning rate), around the whole optimizer. Params of float32 or wider pass
through untouched.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax.base import NO_PARAMS_MSG, GradientTransformation, PyTree, call_update
from optjax.tree import is_absent, is_none, zeros_mirroring


def _low_precision(p: Any) -> bool:
    return (not is_absent(p) and hasattr(p, "dtype") and jnp.issubdtype(p.dtype, jnp.floating)
            and jnp.dtype(p.dtype).itemsize < 4)


def stochastic_round(x: jax.Array, dtype: Any, key: jax.Array) -> jax.Array:
    """``x`` rounded to ``dtype`` stochastically: to the representable neighbour
    above ``x`` with probability ``(x - below) / (above - below)``, else below.

    Exact values stay exact; the mean of the result is ``x`` (unbiased). NaN and
    infinities are kept; a finite ``x`` beyond the largest finite value of
    ``dtype`` rounds to that value or infinity like the neighbours say.

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.full(10000, 1.0 + 2.0 ** -10)        # a quarter of bfloat16's gap above 1
    >>> y = stochastic_round(x, jnp.bfloat16, jax.random.PRNGKey(0))
    >>> sorted(set(y.astype(float).tolist())), abs(float(jnp.mean(y.astype(jnp.float32))) - float(x[0])) < 1e-4
    ([1.0, 1.0078125], True)
    """
    x = jnp.asarray(x)
    wide = jnp.promote_types(x.dtype, jnp.float32)
    x = x.astype(wide)
    nearest = x.astype(dtype)
    n = nearest.astype(wide)
    below = jnp.where(n > x, jnp.nextafter(nearest, jnp.asarray(-jnp.inf, dtype)), nearest)
    above = jnp.where(n > x, nearest, jnp.nextafter(nearest, jnp.asarray(jnp.inf, dtype)))
    lo, hi = below.astype(wide), above.astype(wide)
    p_up = (x - lo) / (hi - lo)
    u = jax.random.uniform(key, x.shape, wide)
    out = jnp.where(u < p_up, above, below)
    return jnp.where(jnp.isfinite(x) & jnp.isfinite(lo) & jnp.isfinite(hi), out, nearest)


class StochasticRoundingState(NamedTuple):
    """``key``: the PRNG key of the next step (raw uint32 key data)."""

    key: jax.Array
    inner_state: Any


def _as_key(key: int | jax.Array) -> jax.Array:
    if isinstance(key, int):
        return jax.random.PRNGKey(key)
    if jax.dtypes.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return jnp.asarray(key)


def _inner_update(tx, name, updates, state, params, extra_args):
    if params is None:
        raise ValueError(NO_PARAMS_MSG.format(name=name))
    return call_update(tx, updates, state, params, extra_args)


def stochastic_rounding(tx: GradientTransformation, key: int | jax.Array = 0) -> GradientTransformation:
    """Write low-precision params by stochastic rounding of ``p + u``.

    For each bfloat16/float16 param, ``p_new = stochastic_round(p + u)`` (sum in
    float32) with a fresh key per step and leaf; the returned update is
    ``p_new - p`` in float32, which ``apply_updates`` adds exactly. Wider params
    get ``tx``'s update unchanged. The key lives in the state
    (:class:`StochasticRoundingState`), so a run is reproducible.

    Args:
      tx: the whole optimizer (learning rate included).
      key: an int seed or a PRNG key.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.stochastic_rounding(optjax.sgd(1e-3))
    >>> p = {"w": jnp.ones(4, jnp.bfloat16)}
    >>> p, s = optjax.update_and_apply(tx, {"w": jnp.ones(4)}, tx.init(p), p)
    >>> p["w"].dtype
    dtype(bfloat16)
    """
    key0 = _as_key(key)

    def init_fn(params):
        return StochasticRoundingState(key0, tx.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        u, inner = _inner_update(tx, "stochastic_rounding", updates, state.inner_state, params, extra_args)
        next_key, step_key = jax.random.split(state.key)
        leaves, treedef = jax.tree.flatten(u, is_leaf=is_none)
        p_leaves = treedef.flatten_up_to(params)
        out = []
        for i, (ui, pi) in enumerate(zip(leaves, p_leaves)):
            if is_absent(ui) or not _low_precision(pi):
                out.append(ui)
                continue
            p32 = pi.astype(jnp.float32)
            new = stochastic_round(p32 + ui.astype(jnp.float32), pi.dtype, jax.random.fold_in(step_key, i))
            out.append(new.astype(jnp.float32) - p32)
        return treedef.unflatten(out), StochasticRoundingState(next_key, inner)

    return GradientTransformation(init_fn, update_fn)


class KahanState(NamedTuple):
    """``compensation``: per low-precision param, what the rounding of its
    past writes dropped (None for the other params)."""

    compensation: PyTree
    inner_state: Any


def kahan_summation(tx: GradientTransformation, compensation_dtype: Any = None) -> GradientTransformation:
    """Write low-precision params with Kahan-compensated sums::

        s = p + u + c            (float32)
        p_new = round(s)         (to the param's dtype, nearest)
        c <- s - p_new           (what the rounding dropped, carried to the next step)

    The returned update is ``p_new - p`` in float32. Wider params get ``tx``'s
    update unchanged and no buffer.

    Args:
      tx: the whole optimizer (learning rate included).
      compensation_dtype: dtype of ``c`` (default: the param's, 2 bytes per
        parameter for bfloat16; float32 keeps it exactly).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.kahan_summation(optjax.sgd(1e-3))
    >>> p = {"w": jnp.ones(4, jnp.bfloat16)}
    >>> p, s = optjax.update_and_apply(tx, {"w": jnp.ones(4)}, tx.init(p), p)
    >>> p["w"][0], s.compensation["w"][0]  # 1 - 1e-3 rounds to 1; the -1e-3 is kept for later
    (Array(1, dtype=bfloat16), Array(-0.000999451, dtype=bfloat16))
    """

    def init_fn(params):
        comp = jax.tree.map(
            lambda p: zeros_mirroring(p, compensation_dtype) if _low_precision(p) else None,
            params, is_leaf=is_none,
        )
        return KahanState(comp, tx.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        u, inner = _inner_update(tx, "kahan_summation", updates, state.inner_state, params, extra_args)
        leaves, treedef = jax.tree.flatten(u, is_leaf=is_none)
        p_leaves = treedef.flatten_up_to(params)
        c_leaves = treedef.flatten_up_to(state.compensation)
        out, comp = [], []
        for ui, pi, ci in zip(leaves, p_leaves, c_leaves):
            if is_absent(ui) or not _low_precision(pi):
                out.append(ui)
                comp.append(ci)
                continue
            p32 = pi.astype(jnp.float32)
            s = p32 + (ui.astype(jnp.float32) + ci.astype(jnp.float32))
            new = s.astype(pi.dtype).astype(jnp.float32)
            comp.append((s - new).astype(ci.dtype))
            out.append(new - p32)
        return treedef.unflatten(out), KahanState(treedef.unflatten(comp), inner)

    return GradientTransformation(init_fn, update_fn)
