"""Output (loss) operators whose backward is MXNet's fixed gradient, not autodiff of the forward.

``SoftmaxOutput``, ``LinearRegressionOutput``, ``LogisticRegressionOutput``,
``MAERegressionOutput`` and ``MakeLoss`` end a network: the forward returns the
prediction, and the backward writes MXNet's loss gradient into ``data``,
ignoring the incoming head gradient.
Each is a ``jax.custom_vjp``, so autograd, ``jax.vjp`` and ``jax.grad`` all give
MXNet's gradient. The label's gradient is zero.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from optjax.compat.mxnet.base import MXNetError
from optjax.compat.mxnet.ops._checks import fmt
from optjax.compat.mxnet.ops.registry import register


def _with_gradient(forward, gradient):
    """``f(data, label)`` returning ``forward(data)`` whose vjp is ``gradient(out, label)``."""

    @jax.custom_vjp
    def f(data, label):
        return forward(data)

    def fwd(data, label):
        out = forward(data)
        return out, (out, label)

    def bwd(res, head):
        out, label = res
        g = gradient(out, label)
        return g.astype(out.dtype), None

    f.defvjp(fwd, bwd)
    return f


def _softmax_label_shape(data_shape, *, multi_output=False, **_):
    """MXNet's label shape for ``SoftmaxOutput`` (``softmax_output-inl.h``)."""
    if multi_output:
        return {"label": (data_shape[0], math.prod(data_shape[2:]))}
    return {"label": tuple(data_shape[:-1])}


def _same_label_shape(data_shape, **_):
    """A regression output's label has the data's shape."""
    return {"label": tuple(data_shape)}


@register("SoftmaxOutput", ("data", "label"), aliases=("Softmax",),
          param_shapes=_softmax_label_shape)
def softmax_output(data, label, *, grad_scale: float = 1.0, ignore_label: float = -1.0,
                   multi_output: bool = False, use_ignore: bool = False,
                   preserve_shape: bool = False, normalization: str = "null",
                   out_grad: bool = False, smooth_alpha: float = 0.0):
    """Softmax forward; backward ``(p - onehot(label)) * grad_scale / norm`` into ``data``.

    Layouts (as MXNet 1.9.1 measured): with ``multi_output`` the softmax runs
    over axis 1 (data ``(N, C, d...)``, label ``(N, d...)``); with
    ``preserve_shape`` over the last axis (label ``data.shape[:-1]``); otherwise
    over all axes but the first (data read as ``(N, K)``), and row ``i`` takes
    its class from ``label.flat[i]``. ``use_ignore`` zeroes the gradient where
    ``label == ignore_label``. ``normalization``: ``'null'`` norm = 1;
    ``'batch'`` norm = the label's size (``N`` for a ``(N,)`` label; with
    ``multi_output`` ``N * d1 * d2...``, and ``'null'`` then divides by ``d1 * d2...``); ``'valid'`` norm = the number of labels
    not equal to ``ignore_label`` (at least 1). ``smooth_alpha`` smooths the
    target: ``1 - alpha`` at the label, ``alpha / (K - 1)`` elsewhere. A label
    with the data's shape is read as class probabilities: gradient
    ``(p - label) * grad_scale``. ``out_grad=True`` multiplies the gradient by
    the output ``p`` (what MXNet 1.9.1 does, measured both imperatively and in a
    bound executor; the head gradient is not used).

    >>> import jax, jax.numpy as jnp
    >>> from optjax.compat.mxnet.ops.loss_outputs import softmax_output
    >>> x, label = jnp.zeros((2, 2)), jnp.array([1.0, 0.0])
    >>> jax.grad(lambda x: (3 * softmax_output(x, label, normalization="batch")).sum())(x).tolist()
    [[0.25, -0.25], [-0.25, 0.25]]
    """
    if normalization not in ("null", "batch", "valid"):
        raise MXNetError(f"Invalid Input: '{normalization}', valid values are: "
                         "{'batch', 'null', 'valid'}")
    shape = tuple(data.shape)
    if multi_output:
        rows, axis = None, 1
    elif preserve_shape:
        rows, axis = (math.prod(shape[:-1]), shape[-1]), -1
    else:
        rows, axis = (shape[0], math.prod(shape[1:])), -1
    dense_label = tuple(label.shape) == shape and not multi_output

    def forward(x):
        if rows is not None:
            return jax.nn.softmax(x.reshape(rows), axis=-1).reshape(shape)
        return jax.nn.softmax(x, axis=1)

    def gradient(p, lab):
        if dense_label:
            g = (p - lab.astype(p.dtype)) * grad_scale
            return g * p if out_grad else g
        flat = lab.reshape(-1)
        if multi_output:
            pv, c = p, shape[1]
            want = (shape[0],) + shape[2:]
            if flat.size != math.prod(want):
                raise MXNetError(f"SoftmaxOutput: label shape {fmt(lab.shape)} does not match "
                                 f"data shape {fmt(shape)} (expected {fmt(want)})")
            li = flat.reshape(want).astype(jnp.int32)
            batch = flat.size
        else:
            pv, c = p.reshape(rows), rows[1]
            if flat.size < rows[0]:
                raise MXNetError(f"SoftmaxOutput: label shape {fmt(lab.shape)} does not match "
                                 f"data shape {fmt(shape)} (expected {rows[0]} labels)")
            li = flat[:rows[0]].astype(jnp.int32)
            batch = flat.size
        target = jax.nn.one_hot(li, c, dtype=p.dtype, axis=axis)
        if smooth_alpha:
            target = target * (1 - smooth_alpha - smooth_alpha / (c - 1)) + smooth_alpha / (c - 1)
        g = pv - target
        if use_ignore:
            g = jnp.where(jnp.expand_dims(li == int(ignore_label), axis), 0, g)
        if normalization == "valid":
            norm = jnp.maximum(jnp.sum(flat.astype(jnp.int32) != int(ignore_label)), 1)
            norm = norm.astype(p.dtype)
        else:
            norm = batch if normalization == "batch" else (
                math.prod(shape[2:]) if multi_output else 1)
        g = (g * grad_scale / norm).reshape(shape)
        return g * p if out_grad else g

    return _with_gradient(forward, gradient)(data, label)


def _per_output(out, label):
    """The label in the output's shape and MXNet's ``num_output = label.size / label.shape[0]``."""
    if math.prod(label.shape) != math.prod(out.shape):
        raise MXNetError(f"Shape inconsistent: label {fmt(label.shape)} vs data {fmt(out.shape)}")
    n = math.prod(label.shape[1:]) if label.ndim > 1 else 1
    return label.reshape(out.shape).astype(out.dtype), n


def _regression(name, forward, residual, formula):
    def op(data, label, *, grad_scale: float = 1.0):
        def gradient(out, lab):
            lab, n = _per_output(out, lab)
            return residual(out, lab) * (grad_scale / n)

        return _with_gradient(forward, gradient)(data, label)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"``{name}``: forward {formula[0]}; backward "
                  f"``{formula[1]} * grad_scale / num_output`` into ``data``, with "
                  "``num_output = label.size / label.shape[0]`` (head gradient ignored).")
    return op


register("LinearRegressionOutput", ("data", "label"), param_shapes=_same_label_shape)(
    _regression("LinearRegressionOutput", lambda x: x, lambda o, y: o - y, ("identity", "(out - label)")))
register("LogisticRegressionOutput", ("data", "label"), param_shapes=_same_label_shape)(
    _regression("LogisticRegressionOutput", jax.nn.sigmoid, lambda o, y: o - y,
                ("sigmoid(x)", "(sigmoid(x) - label)")))
register("MAERegressionOutput", ("data", "label"), param_shapes=_same_label_shape)(
    _regression("MAERegressionOutput", lambda x: x, lambda o, y: jnp.sign(o - y),
                ("identity", "sign(out - label)")))


@register("MakeLoss", ("data",), aliases=("make_loss",))
def make_loss(data, *, grad_scale: float = 1.0, valid_thresh: float = 0.0,
              normalization: str = "null"):
    """Identity forward; backward ``grad_scale / norm`` in every element of ``data``
    (head gradient ignored): norm = 1 (``'null'``), the first dimension
    (``'batch'``), or the count of elements greater than ``valid_thresh``
    (``'valid'``, at least 1)."""

    @jax.custom_vjp
    def f(x):
        return x

    def fwd(x):
        return x, x

    def bwd(x, head):
        if normalization == "batch":
            norm = x.shape[0]
        elif normalization == "valid":
            norm = jnp.maximum(jnp.sum(x > valid_thresh), 1).astype(x.dtype)
        else:
            norm = 1
        return (jnp.full(x.shape, grad_scale, x.dtype) / norm,)

    f.defvjp(fwd, bwd)
    return f(data)


@register("SVMOutput", ("data", "label"))
def svm_output(data, label, *, margin: float = 1.0, regularization_coefficient: float = 1.0,
               use_linear: bool = False):
    """Identity forward; backward the (squared, or with ``use_linear`` plain) hinge loss's
    gradient into ``data`` (rows ``(N, K)``, integer labels; ``C = regularization_coefficient``):
    at the label ``-C * 2 (margin - x)`` where ``margin > x`` (``-C`` with ``use_linear``),
    elsewhere ``C * 2 (margin + x)`` where ``margin > -x`` (``C`` with ``use_linear``)."""

    def gradient(out, lab):
        x = out.reshape(out.shape[0], -1)
        hot = jax.nn.one_hot(lab.reshape(-1).astype(jnp.int32), x.shape[1], dtype=jnp.bool_)
        c = jnp.asarray(regularization_coefficient, x.dtype)
        m = jnp.asarray(margin, x.dtype)
        if use_linear:
            g = jnp.where(hot, -(m > x).astype(x.dtype), (m > -x).astype(x.dtype)) * c
        else:
            g = jnp.where(hot, jnp.where(m > x, -2 * (m - x), 0), jnp.where(m > -x, 2 * (m + x), 0)) * c
        return g.reshape(out.shape)

    return _with_gradient(lambda x: x, gradient)(data, label)
