"""Linear algebra with optax's names: power iteration (dominant eigenpair of a matrix or a
matrix-vector product on pytrees), a matrix's inverse p-th root, non-negative least squares.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, Union

import jax
import jax.numpy as jnp

from optjax import tree_math


def _unit(tree: Any) -> Any:
    return tree_math.scale(1.0 / tree_math.norm(tree), tree)


def _power_iteration_cond_fun(error_tolerance, num_iters, loop_vars) -> jax.Array:
    """Keep iterating while ``|M v - lambda v| / lambda >= error_tolerance`` and steps remain.

    ``loop_vars`` is ``(v, M v, lambda, step)`` with ``v`` of unit norm.
    """
    v, mv, eig, step = loop_vars
    residual = tree_math.norm(tree_math.sub(mv, tree_math.scale(eig, v)))
    return ~(jnp.abs(residual / eig) < error_tolerance) & (step < num_iters)


def power_iteration(
    matrix: Union[jax.typing.ArrayLike, Callable[[Any], Any]],
    *,
    v0: Optional[Any] = None,
    num_iters: int = 100,
    error_tolerance: float = 1e-6,
    precision: jax.lax.Precision = jax.lax.Precision.HIGHEST,
    key: Optional[jax.Array] = None,
) -> tuple[jax.Array, Any]:
    """The dominant eigenvalue and its unit eigenvector, ``(lambda, v)``, by power iteration.

    ``v <- M v / |M v|`` and ``lambda = <v, M v>`` until ``|M v - lambda v| < error_tolerance * |lambda|``
    or ``num_iters`` steps. ``matrix`` is an ``(n, n)`` array or a callable computing ``M v`` on
    a pytree (a Hessian-vector product, say; then ``v0`` is required). Without ``v0`` an array's
    start is uniform in ``[-1, 1]`` drawn with ``key`` (default ``PRNGKey(0)``).

    Example:
        >>> import jax.numpy as jnp
        >>> eig, vec = power_iteration(jnp.diag(jnp.array([3.0, 1.0])), v0=jnp.ones(2))
        >>> round(float(eig), 4)
        3.0
    """
    if callable(matrix):
        if v0 is None:
            raise ValueError("power_iteration: v0 must be given when matrix is a callable")
        mvp = matrix
    else:
        matrix = jnp.asarray(matrix)
        mvp = functools.partial(jnp.matmul, matrix, precision=precision)
        if v0 is None:
            key = jax.random.PRNGKey(0) if key is None else key
            v0 = jax.random.uniform(key, matrix.shape[-1:], matrix.dtype, -1.0, 1.0)
    v0 = _unit(v0)

    def body(loop_vars):
        _, mv, _, step = loop_vars
        v = _unit(mv)
        mv = mvp(v)
        return v, mv, tree_math.vdot(v, mv), step + 1

    cond = functools.partial(_power_iteration_cond_fun, error_tolerance, num_iters)
    _, mv, eig, _ = jax.lax.while_loop(cond, body, (v0, mvp(v0), jnp.asarray(0.0), jnp.asarray(0)))
    return eig, _unit(mv)


def matrix_inverse_pth_root(
    matrix: jax.typing.ArrayLike,
    p: int,
    num_iters: int = 100,
    ridge_epsilon: float = 1e-6,
    error_tolerance: float = 1e-6,
    precision: jax.lax.Precision = jax.lax.Precision.HIGHEST,
) -> tuple[jax.Array, jax.Array]:
    """``(A + eps I)^(-1/p)`` of a symmetric PSD ``A`` and the final error, by coupled Newton iteration.

    Higham, *Functions of Matrices* (2008), eq. 7.18: with ``X_0 = c^(1/p) I``, ``M_0 = c A``,
    ``c = (1 + p) / (2 |A|_F)`` and ``T_k = ((1 + 1/p) I - M_k / p)``,

        X_{k+1} = X_k T_k,        M_{k+1} = T_k^p M_k

    so ``X_k -> A^(-1/p)`` while ``M_k -> I``. ``eps = ridge_epsilon * lambda_max(A)``. It stops
    when ``max|M_k - I| <= error_tolerance``, after ``num_iters`` steps, or when the error grows
    (more than 1.2 times; the previous iterate is returned). The error returned is ``max|M - I|``.
    ``p`` is 1, 2, 4 or 8.
    """
    matrix = jnp.asarray(matrix)
    if p not in (1, 2, 4, 8):
        raise ValueError(f"matrix_inverse_pth_root: p must be 1, 2, 4 or 8, got {p!r}")
    n = matrix.shape[0]
    alpha = jnp.asarray(-1.0 / p, jnp.float32)
    eye = jnp.eye(n, dtype=jnp.float32)
    max_ev, _ = power_iteration(matrix, num_iters=100, error_tolerance=1e-6, precision=precision)
    eps = ridge_epsilon * jnp.maximum(max_ev, 1e-16)
    if n == 1:
        return (matrix + eps) ** alpha, jnp.asarray(0.0)

    def power(mat):
        for _ in range(p.bit_length() - 1):  # p = 2**k: square k times
            mat = jnp.matmul(mat, mat, precision=precision)
        return mat

    def cond(s):
        step, _, _, _, error, improving = s
        return (step < num_iters) & (error > error_tolerance) & improving

    def body(s):
        step, m, h, _, error, _ = s
        t = (1 - alpha) * eye + alpha * m
        new_m = jnp.matmul(power(t), m, precision=precision)
        new_error = jnp.max(jnp.abs(new_m - eye))
        return step + 1, new_m, jnp.matmul(h, t, precision=precision), h, new_error, new_error < 1.2 * error

    damped = matrix + eps * eye
    c = (1 + p) / (2 * jnp.linalg.norm(damped))
    m0 = damped * c
    h0 = eye * jnp.power(c, 1.0 / p)
    _, m, h, h_prev, _, improving = jax.lax.while_loop(
        cond, body, (0, m0, h0, h0, jnp.max(jnp.abs(m0 - eye)), jnp.asarray(True)))
    result = jnp.where(improving, h, h_prev).astype(matrix.dtype)
    return result, jnp.max(jnp.abs(m - eye))


def nnls(A: jax.Array, b: jax.Array, iters: int, unroll: Union[int, bool] = 1,  # noqa: N803
         L: Optional[jax.typing.ArrayLike] = None) -> jax.Array:  # noqa: N803
    """``argmin_{x >= 0} |A x - b|_2`` by Polyak's fast projected gradient (2015), ``iters`` steps.

    With ``Q = A^T A``, ``q = A^T b``, ``L >= lambda_max(Q)`` (default ``min(|Q|_F, |Q|_1)``)
    and ``x_0 = y_0 = 0``, ``t_0 = 0``:

        x_{k+1} = max(y_k - (Q y_k - q) / L, 0)
        t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
        y_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} * (x_{k+1} - x_k)

    ``A`` is ``(M, N)``, ``b`` is ``(M,)`` or ``(M, K)``; the result is ``(N,)`` or ``(N, K)``
    in ``b``'s dtype.

    Example:
        >>> import jax.numpy as jnp
        >>> x = nnls(jnp.array([[1., 2.], [3., 4.]]), jnp.array([5., 6.]), 1000)
        >>> [round(float(v), 2) for v in x]
        [0.0, 1.7]
    """
    if A.ndim != 2:
        raise ValueError(f"nnls: A must be a matrix (M, N), got shape {A.shape}")
    if b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise ValueError(f"nnls: b must have shape ({A.shape[0]},) or ({A.shape[0]}, K), got {b.shape}")
    Q = A.mT @ A  # noqa: N806
    q = A.mT @ b
    if L is None:
        L = jnp.minimum(jnp.linalg.matrix_norm(Q, ord="fro"), jnp.linalg.matrix_norm(Q, ord=1))
    L = jnp.where(L == 0, 1, L)

    def step(carry, _):
        x, y, t = carry
        t_next = (1 + jnp.sqrt(1 + 4 * t**2)) / 2
        x_next = jnp.clip(y - (Q @ y - q) / L, 0)
        return (x_next, x_next + (t - 1) / t_next * (x_next - x), t_next), None

    x0 = jnp.zeros_like(b, shape=A.shape[-1:] + b.shape[1:])
    (x, _, _), _ = jax.lax.scan(step, (x0, x0, 0.0), length=iters, unroll=unroll)
    return x
