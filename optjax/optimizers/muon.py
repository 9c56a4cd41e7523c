"""Muon: momentum orthogonalised by a Newton-Schulz iteration, for matrices.

Reference: Jordan et al., *Muon: An optimizer for hidden layers in neural
networks*, 2024 (https://kellerjordan.github.io/posts/muon/); torch.optim.Muon.
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax import numerics, per_leaf, validation
from optjax.base import GradientTransformation, ScalarOrSchedule
from optjax.combine import partition
from optjax.optimizers._util import with_decay
from optjax.optimizers.adam import scale_by_adam
from optjax.tree import flatten_with_names, is_absent

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NON_MATRIX = ("adamw", "error")
ADJUST_LR = ("original", "match_rms_adamw", "none")


class MuonState(NamedTuple):
    """``momentum_buffer``: torch's ``momentum_buffer`` (an EMA of gradients)."""

    count: jax.Array
    momentum_buffer: Any


def newton_schulz(x: jax.Array, coefficients=NS_COEFFICIENTS, steps: int = 5, eps: float = 1e-7,
                  dtype: Any = jnp.bfloat16) -> jax.Array:
    """Approximately orthogonalise the matrix ``x`` (torch's ``_zeropower_via_newtonschulz``):
    ``X = x / max(||x||_F, eps)``; ``steps`` times ``A = X X^T; X <- a X + (b A + c A A) X``,
    in ``dtype`` (torch: bfloat16; products accumulate in float32), on the wide
    orientation (``x`` is transposed when it has more rows than columns).
    """
    a, b, c = coefficients
    tall = x.shape[0] > x.shape[1]
    X = x.astype(dtype)
    if tall:
        X = X.T
    norm = jnp.sqrt(jnp.sum(jnp.square(X.astype(jnp.float32)))).astype(dtype)
    X = X / jnp.maximum(norm, jnp.asarray(eps, dtype))
    mm = lambda u, v: jnp.matmul(u, v, preferred_element_type=jnp.float32)  # noqa: E731
    for _ in range(steps):
        A = mm(X, X.T).astype(dtype)
        B = (b * A.astype(jnp.float32) + c * mm(A, A)).astype(dtype)
        X = (a * X.astype(jnp.float32) + mm(B, X)).astype(dtype)
    if tall:
        X = X.T
    return X


def _lerp(a, b, w):
    """torch.lerp's formula (the branch on ``w`` keeps it exact at both ends)."""
    if isinstance(w, float):
        return a + w * (b - a) if w < 0.5 else b - (b - a) * (1.0 - w)
    return jnp.where(w < 0.5, a + w * (b - a), b - (b - a) * (1.0 - w))


def _adjust(shape, adjust_lr_fn):
    A, B = shape[:2]
    if adjust_lr_fn == "original":
        return math.sqrt(max(1.0, A / B))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(A, B))
    return 1.0


def scale_by_muon(
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str = "original",
    *,
    ns_dtype: Any = jnp.bfloat16,
    mu_dtype: Any = None,
) -> GradientTransformation:
    """``b <- b + (1 - mu)(g - b)``; ``v = g + mu (b - g)`` (nesterov) or ``b``;
    ``u = adjust(shape) * newton_schulz(v)`` for 2-D leaves only (any other
    leaf is a ValueError naming it). ``adjust`` is ``sqrt(max(1, rows/cols))``
    (``"original"``), ``0.2 sqrt(max(rows, cols))`` (``"match_rms_adamw"``) or 1.
    """
    validation.check("momentum", momentum, low=0.0, high=1.0)
    validation.non_negative("eps", eps)
    validation.one_of("adjust_lr_fn", adjust_lr_fn, ADJUST_LR)
    if int(ns_steps) != ns_steps or ns_steps < 0:
        raise ValueError(f"ns_steps must be a non-negative integer, got {ns_steps!r}")

    @jax.jit
    def leaf(g, p, momentum_buffer):
        del p
        buf = _lerp(momentum_buffer, g, 1.0 - momentum)
        v = _lerp(g, buf, momentum) if nesterov else buf
        o = newton_schulz(v, ns_coefficients, ns_steps, eps, ns_dtype).astype(g.dtype)
        return o * _adjust(g.shape, adjust_lr_fn), (buf,)

    def init_fn(params):
        return MuonState(count=numerics.zero_count(), momentum_buffer=per_leaf.zeros(params, mu_dtype))

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        _check_matrices(updates)
        updates, (buf,) = per_leaf.apply(leaf, updates, (state.momentum_buffer,))
        return updates, MuonState(count=numerics.safe_increment(state.count), momentum_buffer=buf)

    return GradientTransformation(init_fn, update_fn)


def _check_matrices(tree):
    names, leaves, _ = flatten_with_names(tree)
    for n, x in zip(names, leaves):
        if not is_absent(x) and hasattr(x, "ndim") and x.ndim != 2:
            raise ValueError(f"muon: parameter '{n}' has shape {tuple(x.shape)}; Muon updates 2-D "
                             "matrices only (use muon(..., non_matrix='adamw') for the rest)")


def muon(
    learning_rate: ScalarOrSchedule = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str = "original",
    *,
    non_matrix: str = "adamw",
    ns_dtype: Any = jnp.bfloat16,
    mu_dtype: Any = None,
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
    adam_eps: float = 1e-8,
    adam_weight_decay: float | None = None,
) -> GradientTransformation:
    """Muon with torch.optim.Muon's arguments and defaults::

        p <- p (1 - lr wd) - lr adjust(shape) NS(v)          (see scale_by_muon)

    torch accepts 2-D parameters only. Here ``non_matrix`` says what happens to
    the others (biases, norms, embeddings of other rank):

    * ``"adamw"`` (default): they get AdamW with ``adam_b1``, ``adam_b2``,
      ``adam_eps``, the same learning rate and ``adam_weight_decay`` (default:
      ``weight_decay``) - the usual recipe, and optax.contrib.muon's;
    * ``"error"``: ``init``/``update`` raise ValueError naming the first such leaf.

    ``ns_dtype`` is the Newton-Schulz precision (bfloat16 as torch; float32 is
    closer to exact orthogonalisation).

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.muon(1e-3)
    >>> p = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
    >>> u, s = tx.update({"w": jnp.eye(3, 2), "b": jnp.ones(2)}, tx.init(p), p)
    """
    validation.one_of("non_matrix", non_matrix, NON_MATRIX)
    validation.non_negative("weight_decay", weight_decay)
    # The fallback's arguments, named as the caller wrote them (AdamW's own
    # checks would name them b1, b2, eps).
    validation.unit_interval("adam_b1", adam_b1)
    validation.unit_interval("adam_b2", adam_b2)
    validation.non_negative("adam_eps", adam_eps)
    validation.non_negative("adam_weight_decay", adam_weight_decay)
    mat = with_decay(scale_by_muon(momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn,
                                   ns_dtype=ns_dtype, mu_dtype=mu_dtype),
                     learning_rate, weight_decay, decoupled=True, keep_zero_decay=True)
    if non_matrix == "error":
        def init_fn(params):
            _check_matrices(params)
            return mat.init(params)
        return GradientTransformation(init_fn, mat.update)
    wd = weight_decay if adam_weight_decay is None else adam_weight_decay
    fallback = with_decay(scale_by_adam(adam_b1, adam_b2, adam_eps, mu_dtype=mu_dtype),
                          learning_rate, wd, decoupled=True)

    def labels(params):
        return jax.tree.map(lambda x: "muon" if getattr(x, "ndim", 0) == 2 else "adamw", params)

    return partition({"muon": mat, "adamw": fallback}, labels)
