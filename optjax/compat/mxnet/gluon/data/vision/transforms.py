"""``mx.gluon.data.vision.transforms``: MXNet 1.9.1's image transforms as plain callables
on NDArrays (or numpy arrays) of layout HWC (one image) or NHWC (a batch).

- ``ToTensor``: HWC -> CHW (NHWC -> NCHW) float32 divided by 255;
- ``Normalize(mean, std)``: ``(x - mean[c]) / std[c]`` per channel of CHW / NCHW;
- ``Cast(dtype)``, ``Compose([t1, t2, ...])`` (applied in order);
- ``Resize(size, keep_ratio, interpolation)``: ``size`` is ``(width, height)`` or an int
  (with ``keep_ratio``: the short side), OpenCV's bilinear (``interpolation=1``) or
  nearest (``0``) rule with half-pixel centres; uint8 results are rounded, which may
  differ from OpenCV's fixed-point arithmetic by 1;
- ``CenterCrop(size)``, ``RandomResizedCrop(size, scale, ratio)`` (crop positions from
  Python's ``random``, as MXNet draws them), ``RandomFlipLeftRight``/``TopBottom``
  (coin from ``mx.random``: repeats under ``mx.random.seed``, not MXNet's stream).

Example:
    >>> import numpy as np
    >>> import optjax.compat.mxnet as mx
    >>> from optjax.compat.mxnet.gluon.data.vision import transforms
    >>> t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.5)])
    >>> t(mx.nd.array(np.full((2, 2, 3), 255), dtype='uint8')).asnumpy()[:, 0, 0].tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import random
from typing import Callable, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from optjax.compat.mxnet import ndarray as nd
from optjax.compat.mxnet.ndarray.ndarray import from_jax

__all__ = ["Transform", "Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop",
           "RandomResizedCrop", "RandomFlipLeftRight", "RandomFlipTopBottom", "imresize"]


def _np(x) -> np.ndarray:
    return x.asnumpy() if isinstance(x, nd.NDArray) else np.asarray(x)


def _out(a: np.ndarray) -> nd.NDArray:
    a = np.asarray(a)
    return nd.array(a, dtype=a.dtype if a.dtype != np.float64 else np.float32)


def _run(fn: Callable, x, *args) -> nd.NDArray:
    """``fn`` (a jitted JAX function) on ``x``'s array: one compiled call per input shape,
    on the device holding ``x`` (numpy inputs are moved to the default device)."""
    if isinstance(x, nd.NDArray):
        return from_jax(fn(x._data, *args), x._ctx)
    return from_jax(fn(jnp.asarray(np.asarray(x)), *args))


@jax.jit
def _to_tensor(a):
    return jnp.moveaxis(a.astype(jnp.float32) / jnp.float32(255.0), -1, -3)


@jax.jit
def _normalize(a, mean, std):
    return (a.astype(jnp.float32) - mean[:, None, None]) / std[:, None, None]


class Transform:
    """Base of the transforms: ``t(x)`` calls ``t.forward(x)``; ``hybridize()`` is
    accepted (a no-op)."""

    def __call__(self, x, *args):
        return self.forward(x, *args)

    def forward(self, x, *args):
        raise NotImplementedError

    def hybridize(self, active: bool = True, **kwargs) -> None:
        pass

    def __repr__(self):
        return "%s()" % type(self).__name__


class Compose(Transform):
    """Applies ``transforms`` (callables) in order."""

    def __init__(self, transforms: Sequence[Callable]):
        self._transforms = list(transforms)

    def forward(self, x, *args):
        for t in self._transforms:
            x = t(x)
        return x

    def __len__(self):
        return len(self._transforms)

    def __getitem__(self, i):
        return self._transforms[i]


class Cast(Transform):
    """``x.astype(dtype)``."""

    def __init__(self, dtype="float32"):
        self._dtype = dtype

    def forward(self, x, *args):
        return _out(_np(x)).astype(self._dtype) if not isinstance(x, nd.NDArray) \
            else x.astype(self._dtype)


class ToTensor(Transform):
    """HWC (or NHWC) in [0, 255] -> CHW (NCHW) float32 in [0, 1]."""

    def forward(self, x, *args):
        if len(x.shape) not in (3, 4):
            raise ValueError("ToTensor: expected an HWC image or an NHWC batch, got shape %s"
                             % (tuple(x.shape),))
        return _run(_to_tensor, x)


class Normalize(Transform):
    """``(x - mean) / std`` per channel of a CHW image or NCHW batch; ``mean``/``std``:
    a number or one value per channel."""

    def __init__(self, mean: Union[float, Sequence[float]] = 0.0,
                 std: Union[float, Sequence[float]] = 1.0):
        self._mean = mean
        self._std = std

    def forward(self, x, *args):
        shape = tuple(x.shape)
        if len(shape) not in (3, 4):
            raise ValueError("Normalize: expected a CHW image or an NCHW batch, got shape %s"
                             % (shape,))
        channels = shape[-3]
        mean = np.asarray(self._mean, np.float32).reshape(-1)
        std = np.asarray(self._std, np.float32).reshape(-1)
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, channels):
                raise ValueError("Normalize: %s has %d values but the input has %d channels"
                                 % (name, v.size, channels))
        return _run(_normalize, x, np.broadcast_to(mean, (channels,)),
                    np.broadcast_to(std, (channels,)))


def _axis_coords(n_out: int, n_in: int, interpolation: int):
    scale = n_in / n_out
    dst = np.arange(n_out)
    if interpolation == 0:
        i0 = np.minimum(np.floor(dst * scale).astype(np.int64), n_in - 1)
        return i0, i0, np.zeros(n_out, np.float32)
    src = (dst + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = (src - i0).astype(np.float32)
    frac[i0 == n_in - 1] = 0.0
    return i0, i1, frac


def imresize(src, w: int, h: int, interpolation: int = 1) -> nd.NDArray:
    """Resize an HWC image (or NHWC batch) to width ``w`` and height ``h`` with
    OpenCV's nearest (0) or bilinear (1) rule."""
    if interpolation not in (0, 1):
        raise ValueError("interpolation must be 0 (nearest) or 1 (bilinear) here, got %r"
                         % (interpolation,))
    a = _np(src)
    if a.ndim not in (3, 4):
        raise ValueError("expected an HWC image or an NHWC batch, got shape %s" % (a.shape,))
    y0, y1, fy = _axis_coords(h, a.shape[-3], interpolation)
    x0, x1, fx = _axis_coords(w, a.shape[-2], interpolation)
    f = a.astype(np.float32)
    top = f[..., y0, :, :]
    bot = f[..., y1, :, :]
    fy = fy[:, None, None]
    rows = top + (bot - top) * fy
    left = rows[..., x0, :]
    right = rows[..., x1, :]
    out = left + (right - left) * fx[:, None]
    if np.issubdtype(a.dtype, np.integer):
        info = np.iinfo(a.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return _out(out.astype(a.dtype))


class Resize(Transform):
    """Resize to ``size`` = ``(width, height)`` or ``size`` x ``size``; with
    ``keep_ratio`` and an int ``size``, the short side becomes ``size``."""

    def __init__(self, size: Union[int, Tuple[int, int]], keep_ratio: bool = False,
                 interpolation: int = 1):
        self._size = size
        self._keep = keep_ratio
        self._interpolation = interpolation

    def forward(self, x, *args):
        a = _np(x)
        h, w = a.shape[-3], a.shape[-2]
        if isinstance(self._size, (int, np.integer)):
            size = int(self._size)
            if self._keep:
                if h > w:
                    new_w, new_h = size, int(h * size / w)
                else:
                    new_w, new_h = int(w * size / h), size
            else:
                new_w, new_h = size, size
        else:
            new_w, new_h = int(self._size[0]), int(self._size[1])
        return imresize(a, new_w, new_h, self._interpolation)


def _scale_down(src_size, size):
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def _fixed_crop(a, x0, y0, w, h, size, interpolation):
    out = a[y0:y0 + h, x0:x0 + w]
    if size is not None and (w, h) != tuple(size):
        return imresize(out, size[0], size[1], interpolation)
    return _out(out)


def _center_crop(a, size, interpolation):
    h, w = a.shape[0], a.shape[1]
    new_w, new_h = _scale_down((w, h), size)
    x0 = int((w - new_w) / 2)
    y0 = int((h - new_h) / 2)
    return _fixed_crop(a, x0, y0, new_w, new_h, size, interpolation)


def _pair(size):
    return (size, size) if isinstance(size, (int, float, np.integer)) else tuple(size)


class CenterCrop(Transform):
    """The centre ``size`` = ``(width, height)`` region of an HWC image (a smaller image
    gives the largest centred region of that aspect ratio, resized to ``size``)."""

    def __init__(self, size, interpolation: int = 1):
        self._size = _pair(size)
        self._interpolation = interpolation

    def forward(self, x, *args):
        return _center_crop(_np(x), self._size, self._interpolation)


class RandomResizedCrop(Transform):
    """A random region of area fraction in ``scale`` and aspect ratio in ``ratio``
    (log-uniform), resized to ``size``; MXNet's 10 tries, then a centre crop."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation: int = 1):
        self._size = _pair(size)
        self._scale = scale
        self._ratio = ratio
        self._interpolation = interpolation

    def forward(self, x, *args):
        a = _np(x)
        h, w = a.shape[0], a.shape[1]
        area = self._scale
        if isinstance(area, (int, float)):
            area = (area, 1.0)
        for _ in range(10):
            target_area = random.uniform(area[0], area[1]) * h * w
            log_ratio = (np.log(self._ratio[0]), np.log(self._ratio[1]))
            new_ratio = np.exp(random.uniform(*log_ratio))
            new_w = int(round(np.sqrt(target_area * new_ratio)))
            new_h = int(round(np.sqrt(target_area / new_ratio)))
            if new_w <= w and new_h <= h:
                x0 = random.randint(0, w - new_w)
                y0 = random.randint(0, h - new_h)
                return _fixed_crop(a, x0, y0, new_w, new_h, self._size, self._interpolation)
        return _center_crop(a, self._size, self._interpolation)


class _RandomFlip(Transform):
    _axis = -2

    def forward(self, x, *args):
        a = _np(x)
        if float(nd.random.uniform(0, 1, shape=(1,)).asnumpy()[0]) < 0.5:
            a = np.flip(a, axis=self._axis)
        return _out(np.ascontiguousarray(a))


class RandomFlipLeftRight(_RandomFlip):
    """Flip an HWC image horizontally with probability 1/2."""

    _axis = -2


class RandomFlipTopBottom(_RandomFlip):
    """Flip an HWC image vertically with probability 1/2."""

    _axis = -3
