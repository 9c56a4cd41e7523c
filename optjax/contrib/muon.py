"""optax's ``contrib.muon``: Muon with optax's arguments, momentum and Newton-Schulz.

optjax's own :func:`optjax.muon` is torch's ``torch.optim.Muon`` (an un-corrected
momentum, a bfloat16 Newton-Schulz, torch's learning-rate adjustment). This module is
optax 0.2.8's variant, argument for argument:

* momentum ``m <- beta m + (1 - beta) g`` with bias correction (Nesterov by default:
  ``beta m_hat_{t+1} + (1 - beta) g_hat_t``);
* Newton-Schulz in the update's dtype on ``x / (||x|| + eps)`` (``"frobenius"``,
  ``"spectral"``) or with a first step that rescales by AOL or the Schatten-4 norm
  (``"aol"``, ``"schatten"``); ``ns_coeffs`` may be one triple, a list of triples (one
  per step) or a preset name (``"standard"``, ``"dion"``);
* a tensor of any rank is orthogonalised as a batch of matrices chosen by
  :class:`MuonDimensionNumbers` (reduction axes -> rows, output axes -> columns);
* the update is scaled by ``sqrt(max(1, fan_out / fan_in))`` (or, with
  ``consistent_rms``, by ``sqrt(max(fan_in, fan_out)) * consistent_rms``);
* leaves that are not Muon's (not 2-D, or whose dimension numbers are None) get AdamW.

Reference: Jordan et al., *Muon: An optimizer for hidden layers in neural networks*, 2024.
"""

import math
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp

from optjax import numerics, tree_math
from optjax.base import GradientTransformation, ScalarOrSchedule, init_empty_state
from optjax.combine import chain, partition
from optjax.optimizers.adam import adamw
from optjax.transforms.scaling import scale_by_learning_rate
from optjax.transforms.weight_decay import add_decayed_weights
from optjax.tree import is_called_spec

PRECONDITIONINGS = ("frobenius", "spectral", "aol", "schatten")
DEFAULT_NS_COEFFS = (3.4445, -4.7750, 2.0315)
DION_NS_COEFFS = (
    (4.0848, -6.8946, 2.9270),
    (3.9505, -6.3029, 2.6377),
    (3.7418, -5.5913, 2.3037),
    (2.8769, -3.1427, 1.2046),
    (2.8366, -3.0525, 1.2012),
)
NS_COEFFS_PRESETS = {"standard": DEFAULT_NS_COEFFS, "dion": DION_NS_COEFFS}


class MuonDimensionNumbers(NamedTuple):
    """Which axes of a tensor are the matrix's rows (``reduction_axis``, the fan-in) and
    columns (``output_axis``); the remaining axes are a batch of matrices. A 2-D kernel
    ``(in, out)`` is ``MuonDimensionNumbers(0, 1)`` (the default)."""

    reduction_axis: Sequence[int] | int = 0
    output_axis: Sequence[int] | int = 1


def _is_dim_nums(x: Any) -> bool:
    return isinstance(x, MuonDimensionNumbers)


def _axes(x: jax.Array, dim_nums: MuonDimensionNumbers) -> tuple[tuple[int, ...], tuple[int, ...]]:
    def norm(a):
        return tuple(ax % x.ndim for ax in ((a,) if isinstance(a, int) else a))

    return norm(dim_nums.reduction_axis), norm(dim_nums.output_axis)


def _compute_muon_reshape(x: jax.Array, dim_nums: MuonDimensionNumbers
                          ) -> tuple[Callable[[jax.Array], jax.Array], Callable[[jax.Array], jax.Array]]:
    """``(to (batch, fan_in, fan_out), back)`` for ``x`` under ``dim_nums``."""
    if x.ndim < 2:
        raise ValueError(f"Muon optimized parameters must have rank >= 2, got x.ndim={x.ndim}")
    red, out = _axes(x, dim_nums)
    if set(red) & set(out):
        raise ValueError(f"Normalized reduction axes and output axes must be disjoint, got {red} and "
                         f"{out}. Originally dim_nums={dim_nums} and x.shape={x.shape}")
    batch = tuple(sorted(set(range(x.ndim)) - set(red) - set(out)))
    perm = batch + red + out
    inv = tuple(sorted(range(x.ndim), key=lambda i: perm[i]))
    sizes = lambda axes: tuple(x.shape[a] for a in axes)  # noqa: E731
    flat = (math.prod(sizes(batch)), math.prod(sizes(red)), math.prod(sizes(out)))
    unflat = sizes(batch) + sizes(red) + sizes(out)
    return (lambda y: y.transpose(perm).reshape(flat)), (lambda y: y.reshape(unflat).transpose(inv))


def _fans(x: jax.Array, dim_nums: MuonDimensionNumbers) -> tuple[int, int]:
    red, out = _axes(x, dim_nums)
    return math.prod(x.shape[a] for a in red), math.prod(x.shape[a] for a in out)


def _ns_step(x: jax.Array, coeffs: jax.Array, first_rescale: str | None, eps: float = 1e-8) -> jax.Array:
    """One Newton-Schulz step ``a X + (b A + c A A) X`` with ``A = X X^H``; on the first
    step ``"aol"`` and ``"schatten"`` rescale ``X`` (and ``A``) first."""
    a = x @ x.T.conj()
    if first_rescale == "aol":
        s = jnp.expand_dims(jax.lax.rsqrt(jnp.clip(jnp.abs(a).sum(axis=-1), min=eps)), -1)
        x, a = x * s, a * s * s.transpose(-1, -2)
    elif first_rescale == "schatten":
        s = jnp.expand_dims(jax.lax.rsqrt(jnp.clip(jnp.linalg.norm(a, ord="fro", axis=(-2, -1)), min=eps)),
                            (0, -1))
        x, a = x * s, a * s ** 2
    b = coeffs[1] * a + coeffs[2] * a @ a
    return coeffs[0] * x + b @ x


def orthogonalize_via_newton_schulz(
    x: jax.Array,
    ns_coeffs: jax.Array,
    ns_steps: int = 5,
    preconditioning: str = "frobenius",
    eps: float = 1e-8,
    dimension_numbers: MuonDimensionNumbers | None = None,
) -> jax.Array:
    """Approximately orthogonalise (unitarise) ``x``, a matrix or, with
    ``dimension_numbers``, a batch of matrices (optax's function).

    >>> import jax.numpy as jnp
    >>> from optjax.contrib import orthogonalize_via_newton_schulz
    >>> o = orthogonalize_via_newton_schulz(jnp.array([[3.0, 0.0], [0.0, 1.0]]),
    ...                                     jnp.array([2.0, -1.5, 0.5]), ns_steps=30)
    >>> jnp.round(o, 3).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if x.ndim != 2 and not _is_dim_nums(dimension_numbers):
        raise ValueError("Input must have shape (m, n) or weight dimension numbers must be provided. "
                         f"Got shape={x.shape} and dimension_numbers={dimension_numbers}.")
    if x.ndim == 2:
        dimension_numbers = MuonDimensionNumbers(0, 1)
    ns_coeffs = jnp.asarray(ns_coeffs)
    if ns_coeffs.ndim > 2 or ns_coeffs.shape[-1] != 3:
        raise ValueError(f"Newton-Schulz coefficients must have shape (3,) or (n, 3), got {ns_coeffs.shape}")
    if preconditioning not in PRECONDITIONINGS:
        raise ValueError(f"Unknown preconditioning {preconditioning}; expected one of {list(PRECONDITIONINGS)}")
    first = preconditioning if preconditioning in ("aol", "schatten") else None

    def one(m):
        tall = m.shape[0] > m.shape[1]
        if tall:
            m = m.T
        if preconditioning == "frobenius":
            m = m / (jnp.linalg.norm(m, ord="fro") + eps)
        elif preconditioning == "spectral":
            m = m / (jnp.linalg.norm(m, ord=2) + eps)
        coeffs = ns_coeffs.astype(m.dtype)
        steps = [coeffs] * int(ns_steps) if coeffs.ndim == 1 else list(coeffs)
        for i, c in enumerate(steps):
            m = _ns_step(m, c, first if i == 0 else None)
        return m.T if tall else m

    to_flat, back = _compute_muon_reshape(x, dimension_numbers)
    return back(jax.vmap(one)(to_flat(x)))


class MuonState(NamedTuple):
    """optax's ``contrib.MuonState``: the step count, the momentum ``mu`` and the
    Newton-Schulz coefficients in use."""

    count: jax.Array
    mu: Any
    ns_coeffs: jax.Array


def _resolve_dim_nums(spec: Any, tree: Any) -> Any:
    return spec(tree) if is_called_spec(spec) else spec


def _dims_over(dim_nums: Any, updates: Any) -> Any:
    """One MuonDimensionNumbers per leaf of ``updates`` (``dim_nums`` may be one for all
    or a prefix tree)."""
    if dim_nums is None or _is_dim_nums(dim_nums):
        return jax.tree.map(lambda _: dim_nums or MuonDimensionNumbers(), updates)
    return jax.tree.map(lambda d, sub: jax.tree.map(lambda _: d, sub), dim_nums, updates,
                        is_leaf=lambda x: x is None or _is_dim_nums(x))


def scale_by_muon(
    ns_coeffs: Any = DEFAULT_NS_COEFFS,
    ns_steps: int = 5,
    beta: float = 0.95,
    eps: float = 1e-8,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = "frobenius",
    weight_dimension_numbers: Any = None,
) -> GradientTransformation:
    """optax's ``contrib.scale_by_muon``: ``m <- beta m + (1 - beta) g``; ``m_hat`` its
    bias-corrected value (Nesterov: ``beta m_hat_{t+1} + (1 - beta) g_hat_t``);
    ``u = NS(m_hat)`` (:func:`orthogonalize_via_newton_schulz`), and with ``adaptive``
    ``u <- <m_hat, u> u``.

    >>> import jax.numpy as jnp
    >>> from optjax.contrib import scale_by_muon
    >>> tx = scale_by_muon()
    >>> u, s = tx.update({"w": jnp.eye(3)}, tx.init({"w": jnp.zeros((3, 3))}))
    >>> s.mu["w"].shape, s.ns_coeffs.shape
    ((3, 3), (3,))
    """
    if preconditioning not in PRECONDITIONINGS:
        raise ValueError(f"scale_by_muon: preconditioning must be one of {list(PRECONDITIONINGS)}, "
                         f"got {preconditioning!r}")

    def init_fn(params):
        coeffs = jnp.asarray(ns_coeffs)
        if coeffs.ndim > 2 or coeffs.shape[-1] != 3:
            raise ValueError(f"ns_coeffs must have shape (3,) or (n, 3), got {coeffs.shape}")
        if coeffs.ndim == 2:
            if not coeffs.shape[0] <= ns_steps:
                raise ValueError(f"Not enough coeffs to perform {ns_steps} steps")
            coeffs = coeffs[-ns_steps:]
        return MuonState(numerics.zero_count(), tree_math.zeros_like(params, dtype=mu_dtype), coeffs)

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        dims = _dims_over(_resolve_dim_nums(weight_dimension_numbers, updates), updates)
        mu = tree_math.update_moment(updates, state.mu, beta, 1)
        count = numerics.safe_increment(state.count)
        if nesterov:
            mu_hat = jax.tree.map(lambda m, g: beta * m + (1 - beta) * g,
                                  tree_math.bias_correction(mu, beta, numerics.safe_increment(count)),
                                  tree_math.bias_correction(updates, beta, count))
        else:
            mu_hat = tree_math.bias_correction(mu, beta, count)
        new = jax.tree.map(
            lambda x, d: orthogonalize_via_newton_schulz(x, state.ns_coeffs, ns_steps, preconditioning, eps, d),
            mu_hat, dims, is_leaf=_is_dim_nums)
        if adaptive:
            new = jax.tree.map(lambda x, y: jnp.sum(x.conj() * y) * y, mu_hat, new)
        return new, MuonState(count, tree_math.cast(mu, mu_dtype), state.ns_coeffs)

    return GradientTransformation(init_fn, update_fn)


def scale_by_shape(weight_dimension_numbers: Any = None,
                   consistent_rms: float | None = None) -> GradientTransformation:
    """optax's ``contrib.scale_by_shape``: ``u <- sqrt(max(1, fan_out / fan_in)) u``, or with
    ``consistent_rms`` ``u <- sqrt(max(fan_in, fan_out)) * consistent_rms * u``."""

    def scaled(u, d):
        fan_in, fan_out = _fans(u, d)
        if consistent_rms is not None:
            return jnp.sqrt(jnp.maximum(fan_in, fan_out)) * consistent_rms * u
        return jnp.sqrt(jnp.maximum(1, fan_out / fan_in)) * u

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        dims = _dims_over(_resolve_dim_nums(weight_dimension_numbers, updates), updates)
        return jax.tree.map(scaled, updates, dims, is_leaf=_is_dim_nums), state

    return GradientTransformation(init_empty_state, update_fn)


def muon(
    learning_rate: ScalarOrSchedule,
    ns_coeffs: Any = DEFAULT_NS_COEFFS,
    ns_steps: int = 5,
    beta: float = 0.95,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    weight_decay_mask: Any = None,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    adaptive: bool = False,
    preconditioning: str = "frobenius",
    adam_b1: float = 0.9,
    adam_b2: float = 0.999,
    adam_eps_root: float = 0.0,
    adam_weight_decay: float = 0.0,
    adam_learning_rate: ScalarOrSchedule | None = None,
    muon_weight_dimension_numbers: Any = None,
    consistent_rms: float | None = None,
) -> GradientTransformation:
    """optax's ``contrib.muon``: Muon on 2-D leaves (or the leaves that
    ``muon_weight_dimension_numbers`` names; None marks a leaf for Adam), AdamW
    (``adam_*``, Nesterov as ``nesterov``) on the rest::

        p <- p - lr (scale_by_shape(scale_by_muon(g)) + wd p)

    >>> import jax.numpy as jnp
    >>> from optjax.contrib import muon
    >>> tx = muon(1e-3)
    >>> p = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
    >>> u, s = tx.update({"w": jnp.eye(3, 2), "b": jnp.ones(2)}, tx.init(p), p)
    """
    if isinstance(ns_coeffs, str):
        if ns_coeffs not in NS_COEFFS_PRESETS:
            raise ValueError(f"Unknown ns_coeff preset string: {ns_coeffs}; expected one of "
                             f"{sorted(NS_COEFFS_PRESETS)}")
        ns_coeffs = NS_COEFFS_PRESETS[ns_coeffs]
    adam_lr = learning_rate if adam_learning_rate is None else adam_learning_rate
    spec = muon_weight_dimension_numbers

    def labels(params):
        if spec is None:
            return jax.tree.map(lambda x: "muon" if x.ndim == 2 else "adam", params)
        dims = _resolve_dim_nums(spec, params)
        return jax.tree.map(lambda d, sub: jax.tree.map(lambda _: "adam" if d is None else "muon", sub),
                            dims, params, is_leaf=lambda x: x is None or _is_dim_nums(x))

    def muon_dims(updates):
        # the muon group's updates hold MaskedNode (no leaves) where a leaf is Adam's, so a
        # user's tree (None there) still broadcasts over them in _dims_over
        return MuonDimensionNumbers() if spec is None else _resolve_dim_nums(spec, updates)

    muon_tx = chain(
        scale_by_muon(ns_coeffs, ns_steps, beta, eps, mu_dtype, nesterov=nesterov, adaptive=adaptive,
                      preconditioning=preconditioning, weight_dimension_numbers=muon_dims),
        scale_by_shape(muon_dims, consistent_rms),
        add_decayed_weights(weight_decay, weight_decay_mask),
        scale_by_learning_rate(learning_rate),
    )
    adam_tx = adamw(adam_lr, adam_b1, adam_b2, eps, adam_eps_root, adam_weight_decay,
                    mu_dtype=mu_dtype, nesterov=nesterov)
    return partition({"muon": muon_tx, "adam": adam_tx}, labels)

