"""Adafactor: factored second moments, in optax's form and torch's variant.

Reference: Shazeer and Stern, *Adafactor: Adaptive Learning Rates with
Sublinear Memory Cost*, ICML 2018.
"""

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optjax import numerics, per_leaf, validation
from optjax.base import EmptyState, GradientTransformation, ScalarOrSchedule, is_schedule, value_at
from optjax.transforms.averaging import EmaState
from optjax.transforms.scaling import ScaleByScheduleState
from optjax.optimizers._util import is_zero
from optjax.tree import tree_map_none, zeros_mirroring
from optjax.transforms.scaling import scale
from optjax.transforms.weight_decay import add_decayed_weights

VARIANTS = ("optax", "torch")


class FactoredState(NamedTuple):
    """optax's layout: ``v_row``/``v_col``, the factored second moments of factored
    leaves, and ``v``, the full second moment of the others; a leaf's unused fields hold
    a ``(1,)`` zero."""

    count: jax.Array
    v_row: Any
    v_col: Any
    v: Any


def _factored_dims(shape, factored, min_dim):
    """optax's rule: the two largest axes, if the second largest is >= min_dim."""
    if not factored or len(shape) < 2:
        return None
    order = np.argsort(shape)
    if shape[order[-2]] < min_dim:
        return None
    return int(order[-2]), int(order[-1])


def _factored_moment(g2, v_row, v_col, v, d, beta):
    """Adafactor's second moment (optax's form), with decay ``beta = beta2_t`` and ``g2 =
    |g|**2 + eps``: ``(row_scale, col_scale, v_row, v_col, v)`` where the update is
    ``g * row_scale * col_scale``. With ``d = (d1, d0)`` (the two largest axes) the row
    and column means are tracked, else the full ``v`` (``col_scale`` is then 1)."""
    if d is None:
        v = beta * v + (1.0 - beta) * g2
        return v ** -0.5, 1.0, v_row, v_col, v
    d1, d0 = d
    row = beta * v_row + (1.0 - beta) * jnp.mean(g2, axis=d0)
    col = beta * v_col + (1.0 - beta) * jnp.mean(g2, axis=d1)
    rd1 = d1 - 1 if d1 > d0 else d1
    row_scale = jnp.expand_dims((row / jnp.mean(row, axis=rd1, keepdims=True)) ** -0.5, d0)
    return row_scale, jnp.expand_dims(col ** -0.5, d1), row, col, v


def _rms(x):
    return jnp.sqrt(jnp.mean((x * jnp.conj(x)).real))


def _eps_for(eps, dtype):
    return float(jnp.finfo(dtype).eps) if eps is None else eps


def scale_by_adafactor(
    learning_rate: ScalarOrSchedule | None = None,
    min_dim_size_to_factor: int = 128,
    decay_rate: float = 0.8,
    decay_offset: int = 0,
    multiply_by_parameter_scale: bool = True,
    clipping_threshold: float | None = 1.0,
    momentum: float | None = None,
    dtype_momentum: Any = jnp.float32,
    eps: float | None = 1e-30,
    factored: bool = True,
    *,
    variant: str = "optax",
    min_scale: float = 1e-3,
) -> GradientTransformation:
    """The Adafactor step without weight decay and without the final sign flip:
    ``p <- p - u`` with ``u`` the result. See :func:`adafactor`.

    The step runs fused; the state is a tuple in the layout of optax's chain for
    the same options: ``FactoredState``, then (optax variant) an ``EmptyState`` for
    the clipping, the learning rate's stage (a schedule's count), an ``EmptyState``
    for the parameter scale and ``EmaState(count, ema)`` for the momentum, each
    present when its option is on."""
    validation.one_of("variant", variant, VARIANTS)
    validation.non_negative("decay_rate", decay_rate)
    validation.non_negative("decay_offset", decay_offset)
    if eps is not None:
        validation.non_negative("eps", eps)
    validation.non_negative("min_scale", min_scale)
    if clipping_threshold is not None:
        validation.positive("clipping_threshold", clipping_threshold)
    if momentum is not None:
        validation.check("momentum", momentum, low=0.0, high=1.0)
    torch_style = variant == "torch"
    if torch_style:
        if learning_rate is None:
            raise ValueError("learning_rate is required with variant='torch'")
        if momentum is not None:
            raise ValueError("momentum is not part of torch's Adafactor (variant='torch')")
    validation.learning_rate(learning_rate, optional=True)

    def dims(p):
        if torch_style:
            return (p.ndim - 2, p.ndim - 1) if p.ndim >= 2 else None
        return _factored_dims(p.shape, factored, min_dim_size_to_factor)

    def unused(p):
        return jnp.zeros((1,), numerics.second_moment_dtype(p.dtype))

    def init_row(p):
        d = dims(p)
        if d is None:
            return unused(p)
        shape = list(p.shape)
        shape[d[1]] = 1 if torch_style else None  # torch keeps dims; optax drops them
        return jnp.zeros([s for s in shape if s is not None], numerics.second_moment_dtype(p.dtype))

    def init_col(p):
        d = dims(p)
        if d is None:
            return unused(p)
        shape = list(p.shape)
        shape[d[0]] = 1 if torch_style else None
        return jnp.zeros([s for s in shape if s is not None], numerics.second_moment_dtype(p.dtype))

    def init_v(p):
        return unused(p) if dims(p) is not None else zeros_mirroring(p, numerics.second_moment_dtype(p.dtype))

    def init_mu(p):
        return zeros_mirroring(p, dtype_momentum)

    # the stages of optax's chain after scale_by_factored_rms (optax variant)
    scheduled = is_schedule(learning_rate)
    with_clip = not torch_style and clipping_threshold is not None
    with_lr = not torch_style and learning_rate is not None
    with_scale = not torch_style and multiply_by_parameter_scale
    with_ema = not torch_style and momentum is not None

    def stages(count, ema):
        out = [EmptyState()] * with_clip
        if with_lr:
            out.append(ScaleByScheduleState(count) if scheduled else EmptyState())
        out += [EmptyState()] * with_scale
        if with_ema:
            out.append(EmaState(count=count, ema=ema))
        return tuple(out)

    @jax.jit
    def leaf(g, p, v_row, v_col, v, mu, *, count, lr):
        t = (count - decay_offset).astype(jnp.float32)
        w = t ** (-decay_rate)  # 1 - beta2_t
        d = dims(p)
        e = _eps_for(eps, g.dtype)
        g2 = (g * jnp.conj(g)).real
        if torch_style:
            if d is not None:
                row = v_row + w * (jnp.mean(g2, axis=-1, keepdims=True) - v_row)
                col = v_col + w * (jnp.mean(g2, axis=-2, keepdims=True) - v_col)
                v_row, v_col = row, col
                var = (row @ col) / jnp.maximum(jnp.mean(row, axis=-2, keepdims=True), e)
            else:
                var = v = v + w * (g2 - v)
            u = g * jax.lax.rsqrt(jnp.maximum(var, e * e))
            thr = 1.0 if clipping_threshold is None else clipping_threshold
            denom = jnp.maximum(1.0, _rms(u) / thr)
            rho = jnp.minimum(lr, 1.0 / jnp.sqrt(t))
            alpha = jnp.maximum(min_scale, _rms(p)) * rho
            return u * (alpha / denom), (v_row, v_col, v, mu)
        row_scale, col_scale, v_row, v_col, v = _factored_moment(g2 + e, v_row, v_col, v, d, 1.0 - w)
        u = g * row_scale * col_scale
        if clipping_threshold is not None:
            u = u / jnp.maximum(1.0, _rms(u) / clipping_threshold)
        if lr is not None:
            u = u * lr
        if multiply_by_parameter_scale:
            u = u * jnp.maximum(_rms(p), min_scale)
        if momentum is not None:
            u = mu = momentum * mu + (1.0 - momentum) * u
        return u, (v_row, v_col, v, mu)

    def init_fn(params):
        zero = numerics.zero_count()
        factored_state = FactoredState(
            count=zero,
            v_row=tree_map_none(init_row, params),
            v_col=tree_map_none(init_col, params),
            v=tree_map_none(init_v, params),
        )
        return (factored_state, *stages(zero, tree_map_none(init_mu, params) if with_ema else None))

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        fs = state[0]
        count = numerics.safe_increment(fs.count)
        lr = None if learning_rate is None else jnp.asarray(value_at(learning_rate, fs.count), jnp.float32)
        mu = state[-1].ema if with_ema else per_leaf.nothing(fs.v)
        updates, (v_row, v_col, v, mu) = per_leaf.apply(
            leaf, updates, (fs.v_row, fs.v_col, fs.v, mu), params,
            name="adafactor", needs_params=True, count=count, lr=lr)
        return updates, (FactoredState(count=count, v_row=v_row, v_col=v_col, v=v), *stages(count, mu))

    return GradientTransformation(init_fn, update_fn)


class FactoredRmsState(NamedTuple):
    """optax's ``FactoredState``: ``v_row``/``v_col`` for factored leaves and ``v`` for the
    others; a leaf's unused fields hold a ``(1,)`` zero, as in optax, so an optax
    checkpoint restores."""

    count: jax.Array
    v_row: Any
    v_col: Any
    v: Any


def _decay_rate_pow(i: Any, exponent: float = 0.8) -> jax.Array:
    """Adafactor's ``beta2_t = 1 - (i + 1)**-exponent`` (optax's default ``decay_rate_fn``)."""
    return 1.0 - jnp.asarray(i + 1, jnp.float32) ** (-exponent)


def scale_by_factored_rms(
    factored: bool = True,
    decay_rate: float = 0.8,
    step_offset: int = 0,
    min_dim_size_to_factor: int = 128,
    epsilon: float = 1e-30,
    decay_rate_fn: Callable[[Any, Any], Any] = _decay_rate_pow,
) -> GradientTransformation:
    """Scale by a factored estimate of the gradient RMS (optax's, Adafactor's core).

    With ``beta_t = decay_rate_fn(step - step_offset, decay_rate)`` (step 0-based,
    default ``1 - (step + 1)**-decay_rate``) and ``g2 = |g|**2 + epsilon``: a leaf whose
    two largest axes are both at least ``min_dim_size_to_factor`` (and ``factored``)
    keeps row and column means ``r <- beta_t r + (1 - beta_t) mean(g2, cols)`` (and
    ``c`` likewise) and gives ``u = g / sqrt(r / mean(r)) / sqrt(c)``; any other leaf
    keeps ``v <- beta_t v + (1 - beta_t) g2`` and gives ``u = g / sqrt(v)``.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.scale_by_factored_rms(min_dim_size_to_factor=2)
    >>> p = {"w": jnp.ones((2, 3)), "b": jnp.ones(3)}
    >>> u, s = tx.update(p, tx.init(p), p)
    >>> s.v_row["w"].shape, s.v["w"].shape, s.v["b"].shape
    ((2,), (1,), (3,))
    """
    validation.non_negative("decay_rate", decay_rate)
    validation.non_negative("epsilon", epsilon)

    def dims(p):
        return _factored_dims(p.shape, factored, min_dim_size_to_factor)

    def init_leaf(p):
        d = dims(p)
        unused = jnp.zeros((1,), p.dtype)
        if d is None:
            return unused, unused, zeros_mirroring(p)
        d1, d0 = d
        return (jnp.zeros(np.delete(p.shape, d0), p.dtype), jnp.zeros(np.delete(p.shape, d1), p.dtype),
                unused)

    @jax.jit
    def leaf(g, p, v_row, v_col, v, *, step):
        del p
        beta = decay_rate_fn(step - step_offset, decay_rate)
        row_scale, col_scale, v_row, v_col, v = _factored_moment(
            (g * jnp.conj(g)).real + epsilon, v_row, v_col, v, dims(g), beta)
        return g * row_scale * col_scale, (v_row, v_col, v)

    def init_fn(params):
        field = lambda i: tree_map_none(lambda p: init_leaf(p)[i], params)  # noqa: E731
        return FactoredRmsState(numerics.zero_count(), field(0), field(1), field(2))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        updates, (v_row, v_col, v) = per_leaf.apply(
            leaf, updates, (state.v_row, state.v_col, state.v), step=state.count,
            state_like_params=False)  # factored rows/columns and (1,) placeholders
        return updates, FactoredRmsState(numerics.safe_increment(state.count), v_row, v_col, v)

    return GradientTransformation(init_fn, update_fn)


def adafactor(
    learning_rate: ScalarOrSchedule | None = None,
    min_dim_size_to_factor: int = 128,
    decay_rate: float = 0.8,
    decay_offset: int = 0,
    multiply_by_parameter_scale: bool = True,
    clipping_threshold: float | None = 1.0,
    momentum: float | None = None,
    dtype_momentum: Any = jnp.float32,
    weight_decay_rate: float | None = None,
    eps: float | None = 1e-30,
    factored: bool = True,
    weight_decay_mask: Any = None,
    *,
    variant: str = "optax",
    min_scale: float = 1e-3,
) -> GradientTransformation:
    """Adafactor. Both variants use ``1 - beta2_t = t**-decay_rate`` and a
    second moment factored into row and column means for matrices.

    ``variant="optax"`` (default; ``optax.adafactor``, same arguments): factor
    the two largest axes when the second largest is >= ``min_dim_size_to_factor``;
    ``eps`` is added to ``g**2``; ``u`` is clipped to block RMS
    ``clipping_threshold``, scaled by ``lr`` (if given), by ``max(rms(p),
    min_scale)`` (``multiply_by_parameter_scale``), averaged with ``momentum``;
    ``weight_decay_rate * p`` is added (not multiplied by lr); ``p <- p - u``.

    ``variant="torch"``: ``torch.optim.Adafactor(lr, beta2_decay=-decay_rate,
    eps=(eps, min_scale), d=clipping_threshold, weight_decay=weight_decay_rate)``.
    Every leaf with ndim >= 2 is factored over its last two axes;
    ``V = row @ col / max(mean(row), eps)``; ``U = g / sqrt(max(V, eps**2))``;
    ``p <- p (1 - lr wd) - max(min_scale, rms(p)) min(lr, 1/sqrt(t)) U /
    max(1, rms(U)/d)``. ``eps=None`` means the float epsilon of the dtype
    (torch's default ``eps=(None, 1e-3)``).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.adafactor(1e-2, eps=None, variant="torch")
    >>> p = {"w": jnp.ones((2, 3))}
    >>> u, s = tx.update({"w": jnp.ones((2, 3))}, tx.init(p), p)
    """
    core = scale_by_adafactor(learning_rate, min_dim_size_to_factor, decay_rate, decay_offset,
                              multiply_by_parameter_scale, clipping_threshold, momentum,
                              dtype_momentum, eps, factored, variant=variant, min_scale=min_scale)
    if weight_decay_rate is not None:
        validation.non_negative("weight_decay_rate", weight_decay_rate)
    if variant == "torch":
        parts = []
        if not is_zero(weight_decay_rate):
            # p <- p - alpha U - lr wd p: the decay is scaled by lr (decoupled).
            parts.append(add_decayed_weights(_lr_times(learning_rate, weight_decay_rate)))
        parts.append(scale(-1.0))
        return _then(core, parts)
    parts = []
    if weight_decay_rate is not None:
        parts.append(add_decayed_weights(weight_decay_rate, weight_decay_mask))
    parts.append(scale(-1.0))
    return _then(core, parts)


def _then(first: GradientTransformation, parts: list) -> GradientTransformation:
    """``chain(first, *parts)`` with one flat tuple of stage states, as optax's one chain
    (``first`` keeps a tuple of stage states itself)."""

    def init_fn(params):
        return (*first.init(params), *(t.init(params) for t in parts))

    def update_fn(updates, state, params=None, **extra_args):
        k = len(state) - len(parts)
        updates, head = first.update(updates, state[:k], params, **extra_args)
        tail = []
        for t, s in zip(parts, state[k:]):
            updates, s = t.update(updates, s, params, **extra_args)
            tail.append(s)
        return updates, (*head, *tail)

    return GradientTransformation(init_fn, update_fn)


def _lr_times(lr, wd):
    if is_schedule(lr):
        return lambda count: lr(count) * wd
    return lr * wd
