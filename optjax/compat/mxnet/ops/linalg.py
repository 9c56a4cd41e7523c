"""Linear algebra operators (``nd.linalg.*``, registered as ``linalg_<name>``): batched over
leading axes; the matrices are the last two axes."""

from __future__ import annotations

import jax.numpy as jnp

from optjax.compat.mxnet.ops.registry import register


def _t(x, transpose: bool):
    return jnp.swapaxes(x, -1, -2) if transpose else x


def _moved(x, axis: int):
    """Move the row axis ``axis`` to -2 (MXNet's ``axis`` attribute of gemm/gemm2)."""
    return x if axis in (-2, x.ndim - 2) else jnp.moveaxis(x, axis, -2)


@register("linalg_gemm2", ("A", "B"), aliases=("_linalg_gemm2",))
def gemm2(A, B, *, transpose_a: bool = False, transpose_b: bool = False, alpha: float = 1.0,
          axis: int = -2):
    """``alpha * op(A) @ op(B)`` (``op`` transposes when asked)."""
    a, b = _moved(A, axis), _moved(B, axis)
    out = jnp.asarray(alpha, A.dtype) * jnp.matmul(_t(a, transpose_a), _t(b, transpose_b))
    return out if axis in (-2, A.ndim - 2) else jnp.moveaxis(out, -2, axis)


@register("linalg_gemm", ("A", "B", "C"), aliases=("_linalg_gemm",))
def gemm(A, B, C, *, transpose_a: bool = False, transpose_b: bool = False, alpha: float = 1.0,
         beta: float = 1.0, axis: int = -2):
    """``alpha * op(A) @ op(B) + beta * C``."""
    return gemm2(A, B, transpose_a=transpose_a, transpose_b=transpose_b, alpha=alpha,
                 axis=axis) + jnp.asarray(beta, C.dtype) * C


@register("linalg_potrf", ("A",), aliases=("_linalg_potrf",))
def potrf(A):
    """The lower Cholesky factor ``L`` of a symmetric positive-definite ``A = L L^T``."""
    return jnp.linalg.cholesky(A)


@register("linalg_potri", ("A",), aliases=("_linalg_potri",))
def potri(A):
    """``(L L^T)^-1`` from a lower Cholesky factor ``L`` (the input's lower triangle)."""
    inv_l = jnp.linalg.inv(jnp.tril(A))
    return jnp.matmul(jnp.swapaxes(inv_l, -1, -2), inv_l)


@register("linalg_inverse", ("A",), aliases=("_linalg_inverse",))
def inverse(A):
    """The matrix inverse."""
    return jnp.linalg.inv(A)


@register("linalg_det", ("A",), aliases=("_linalg_det",))
def det(A):
    """The determinant."""
    return jnp.linalg.det(A)


@register("linalg_slogdet", ("A",), aliases=("_linalg_slogdet",), num_outputs=2)
def slogdet(A):
    """``(sign, log|det|)``."""
    sign, logdet = jnp.linalg.slogdet(A)
    return sign, logdet


@register("linalg_sumlogdiag", ("A",), aliases=("_linalg_sumlogdiag",))
def sumlogdiag(A):
    """``sum(log(diag(A)))``."""
    return jnp.sum(jnp.log(jnp.diagonal(A, axis1=-2, axis2=-1)), axis=-1)


@register("linalg_syrk", ("A",), aliases=("_linalg_syrk",))
def syrk(A, *, transpose: bool = False, alpha: float = 1.0):
    """``alpha * A A^T`` (``alpha * A^T A`` with ``transpose``)."""
    a = _t(A, transpose)
    return jnp.asarray(alpha, A.dtype) * jnp.matmul(a, jnp.swapaxes(a, -1, -2))


@register("linalg_extractdiag", ("A",), aliases=("_linalg_extractdiag",))
def extractdiag(A, *, offset: int = 0):
    """Diagonal ``offset`` of each matrix."""
    return jnp.diagonal(A, offset, axis1=-2, axis2=-1)


@register("linalg_makediag", ("A",), aliases=("_linalg_makediag",))
def makediag(A, *, offset: int = 0):
    """Square matrices with ``A``'s last axis on diagonal ``offset``."""
    m = A.shape[-1]
    n = m + abs(offset)
    i = jnp.arange(m)
    out = jnp.zeros(A.shape[:-1] + (n, n), A.dtype)
    return out.at[..., i + max(-offset, 0), i + max(offset, 0)].set(A)


@register("linalg_trsm", ("A", "B"), aliases=("_linalg_trsm",))
def trsm(A, B, *, transpose: bool = False, rightside: bool = False, lower: bool = True,
         alpha: float = 1.0):
    """Solve ``op(A) X = alpha B`` (``X op(A) = alpha B`` with ``rightside``), ``A`` triangular."""
    from jax.scipy.linalg import solve_triangular
    a = jnp.where(jnp.tri(A.shape[-1], dtype=bool), A, 0) if lower else \
        jnp.where(jnp.tri(A.shape[-1], dtype=bool).T, A, 0)
    b = jnp.asarray(alpha, B.dtype) * B
    if rightside:  # X op(A) = B  <=>  op(A)^T X^T = B^T
        xt = solve_triangular(a, jnp.swapaxes(b, -1, -2), lower=lower, trans=0 if transpose else 1)
        return jnp.swapaxes(xt, -1, -2)
    return solve_triangular(a, b, lower=lower, trans=1 if transpose else 0)


@register("linalg_trmm", ("A", "B"), aliases=("_linalg_trmm",))
def trmm(A, B, *, transpose: bool = False, rightside: bool = False, lower: bool = True,
         alpha: float = 1.0):
    """``alpha * op(A) B`` (``alpha * B op(A)`` with ``rightside``), ``A`` triangular."""
    tri = jnp.tri(A.shape[-1], dtype=bool)
    a = _t(jnp.where(tri if lower else tri.T, A, 0), transpose)
    out = jnp.matmul(B, a) if rightside else jnp.matmul(a, B)
    return jnp.asarray(alpha, B.dtype) * out
