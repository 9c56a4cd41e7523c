"""``mx.init`` / ``mx.initializer``: MXNet 1.9.1's Initializer classes over optjax.initializers.

``Initializer.__call__(desc, arr)`` reproduces MXNet's dispatch (an ``InitDesc``
with an ``__init__`` attribute always calls ``_init_weight``; otherwise by name
suffix: weight, bias, gamma, beta, min, max, ...; a plain string takes the
legacy path). The fills come from :func:`optjax.initializers.from_mxnet`; the
random ones draw from ``mx.random``'s JAX key, so only the distributions match
MXNet (its generator cannot be reproduced). User subclasses override
``_init_weight`` (and ``_init_bias`` and friends) as in MXNet.
"""

from __future__ import annotations

import json
import re
import warnings

import jax.numpy as jnp
import numpy as np

from optjax import initializers as _oi
from optjax.compat.mxnet import ndarray as _nd

__all__ = ["Initializer", "InitDesc", "register", "alias", "create", "Zero", "One", "Constant",
           "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "Bilinear", "LSTMBias",
           "FusedRNN", "Load", "Mixed"]

_REGISTRY: dict = {}


def register(klass):
    assert issubclass(klass, Initializer), "Can only register subclass of Initializer"
    _REGISTRY[klass.__name__.lower()] = klass
    return klass


def alias(*aliases):
    def reg(klass):
        register(klass)
        for a in aliases:
            _REGISTRY[a.lower()] = klass
        return klass
    return reg


def create(initializer, *args, **kwargs):
    if isinstance(initializer, Initializer):
        return initializer
    if isinstance(initializer, dict):
        return create(**initializer)
    if isinstance(initializer, str):
        s = initializer.strip()
        if s.startswith("["):
            name, kw = json.loads(s)
            return create(name, **kw)
        if s.startswith("{"):
            return create(**json.loads(s))
        key = s.lower()
        assert key in _REGISTRY, (f"Cannot find initializer {initializer}; registered: "
                                  f"{sorted(_REGISTRY)}")
        return _REGISTRY[key](*args, **kwargs)
    raise TypeError(f"cannot create an initializer from {initializer!r}")


class InitDesc(str):
    """A parameter name with ``attrs`` (``__init__`` and friends) and ``global_init``."""

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


class Initializer:
    """MXNet's initializer base: ``__call__(desc, arr)`` fills the NDArray ``arr`` in place."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        self._verbose = verbose
        if print_func is None:
            def asum_stat(x):
                return str((_nd.norm(x) / np.sqrt(x.size)).asscalar())
            print_func = asum_stat
        self._print_func = print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            print("Initialized %s as %s: %s" % (desc, init, self._print_func(arr)))

    def dumps(self):
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __eq__(self, other):
        return isinstance(other, type(self)) and self._kwargs == other._kwargs

    __hash__ = object.__hash__

    def __call__(self, desc, arr):
        if not isinstance(desc, InitDesc):
            self._legacy_init(desc, arr)
            return
        if desc.global_init is None:
            desc.global_init = self
        init = desc.attrs.get("__init__", "")
        if init:
            create(init)._init_weight(desc, arr)
            self._verbose_print(desc, init, arr)
        else:
            if desc.endswith("weight"):
                self._init_weight(desc, arr)
                self._verbose_print(desc, "weight", arr)
            elif desc.endswith("bias"):
                self._init_bias(desc, arr)
                self._verbose_print(desc, "bias", arr)
            elif desc.endswith("gamma"):
                self._init_gamma(desc, arr)
                self._verbose_print(desc, "gamma", arr)
            elif desc.endswith("beta"):
                self._init_beta(desc, arr)
                self._verbose_print(desc, "beta", arr)
            elif desc.endswith("min"):
                self._init_zero(desc, arr)
            elif desc.endswith("max"):
                self._init_one(desc, arr)
            elif desc.endswith("weight_quantize"):
                self._init_quantized_weight(desc, arr)
            elif desc.endswith("bias_quantize"):
                self._init_quantized_bias(desc, arr)
            else:
                self._init_default(desc, arr)

    def _legacy_init(self, name, arr):
        warnings.warn("Calling initializer with init(str, NDArray) has been deprecated. "
                      "please use init(mx.init.InitDesc(...), NDArray) instead.",
                      DeprecationWarning, stacklevel=3)
        if not isinstance(name, str):
            raise TypeError("name must be string")
        if not isinstance(arr, _nd.NDArray):
            raise TypeError("arr must be NDArray")
        if name.startswith("upsampling"):
            self._init_bilinear(name, arr)
        elif name.startswith("stn_loc") and name.endswith("weight"):
            self._init_zero(name, arr)
        elif name.startswith("stn_loc") and name.endswith("bias"):
            self._init_loc_bias(name, arr)
        elif name.endswith("bias"):
            self._init_bias(name, arr)
        elif name.endswith("gamma"):
            self._init_gamma(name, arr)
        elif name.endswith("beta"):
            self._init_beta(name, arr)
        elif name.endswith("weight"):
            self._init_weight(name, arr)
        elif name.endswith("moving_mean"):
            self._init_zero(name, arr)
        elif name.endswith("moving_var"):
            self._init_one(name, arr)
        elif name.endswith("moving_inv_var"):
            self._init_zero(name, arr)
        elif name.endswith("moving_avg"):
            self._init_zero(name, arr)
        elif name.endswith("min"):
            self._init_zero(name, arr)
        elif name.endswith("max"):
            self._init_one(name, arr)
        else:
            self._init_default(name, arr)

    # fills -------------------------------------------------------------------------------
    @staticmethod
    def _fill(arr, fn):
        arr[:] = fn(_nd.random.next_key(), arr.shape, jnp.dtype(arr.dtype))

    def _init_bilinear(self, _, arr):
        self._fill(arr, _oi.bilinear)

    def _init_loc_bias(self, _, arr):
        assert arr.shape[0] == 6
        self._fill(arr, _oi.loc_bias)

    def _init_zero(self, _, arr):
        arr[:] = 0.0

    def _init_one(self, _, arr):
        arr[:] = 1.0

    def _init_bias(self, _, arr):
        arr[:] = 0.0

    def _init_quantized_bias(self, _, arr):
        arr[:] = 0

    def _init_gamma(self, _, arr):
        arr[:] = 1.0

    def _init_beta(self, _, arr):
        arr[:] = 0.0

    def _init_quantized_weight(self, _, arr):
        arr[:] = _oi.quantized_weight(_nd.random.next_key(), arr.shape)

    def _init_weight(self, name, arr):
        raise NotImplementedError("Must override it")

    def _init_default(self, name, _):
        raise ValueError(
            "Unknown initialization pattern for %s. Default initialization is now limited to "
            '"weight", "bias", "gamma" (1.0), and "beta" (0.0).'
            "Please use mx.sym.Variable(init=mx.init.*) to set initialization pattern" % name)


class _Core(Initializer):
    """A built-in whose ``_init_weight`` is ``optjax.initializers.from_mxnet(name, **kwargs)``."""

    def _core(self):
        return _oi.from_mxnet(self.__class__.__name__.lower(), **self._kwargs)

    def _init_weight(self, _, arr):
        self._fill(arr, self._core())


@alias("zeros")
class Zero(_Core):
    def __init__(self):
        super().__init__()


@alias("ones")
class One(_Core):
    def __init__(self):
        super().__init__()


@register
class Constant(_Core):
    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        arr[:] = _nd._unwrap(self.value)

    def dumps(self):
        val = self._kwargs["value"]
        if not np.isscalar(val):
            val = np.asarray(_nd._unwrap(val)).tolist()
        return json.dumps([self.__class__.__name__.lower(), {"value": val}])


@register
class Uniform(_Core):
    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale


@register
class Normal(_Core):
    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma


@register
class Orthogonal(_Core):
    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type


@register
class Xavier(_Core):
    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _core(self):
        return _oi.from_mxnet("xavier", rnd_type=self.rnd_type, factor_type=self.factor_type,
                              magnitude=self.magnitude)

    def _init_weight(self, name, arr):
        if len(arr.shape) < 2:
            raise ValueError("Xavier initializer cannot be applied to vector {0}. It requires at"
                             " least 2D.".format(name))
        self._fill(arr, self._core())


@register
class MSRAPrelu(Xavier):
    def __init__(self, factor_type="avg", slope=0.25):
        magnitude = 2. / (1 + slope ** 2)
        super().__init__("gaussian", factor_type, magnitude)
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(_Core):
    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        self._fill(arr, _oi.bilinear)


@register
class LSTMBias(_Core):
    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        self._fill(arr, _oi.lstm_bias(self.forget_bias))


@register
class FusedRNN(Initializer):
    """Fills a fused RNN parameter vector piece by piece (``optjax.initializers.fused_rnn``)."""

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                         num_layers=num_layers, mode=mode, bidirectional=bidirectional,
                         forget_bias=forget_bias)
        self._init = init
        self._num_hidden, self._num_layers, self._mode = num_hidden, num_layers, mode
        self._bidirectional, self._forget_bias = bidirectional, forget_bias

    def _init_weight(self, desc, arr):
        init = self._init if self._init is not None else getattr(desc, "global_init", None)
        if init is None:
            raise ValueError("FusedRNN needs an init (or an InitDesc with a global_init)")
        core = init._core() if isinstance(init, _Core) else _oi.from_mxnet(*json.loads(init.dumps()))
        self._fill(arr, _oi.fused_rnn(core, self._num_hidden, self._num_layers, self._mode,
                                      self._bidirectional, self._forget_bias))


class Load:
    """Initialize by loading arrays from ``param`` (dict name -> array); ``default_init``
    for names not found. ``arg:``/``aux:`` prefixes are stripped."""

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            with np.load(param, allow_pickle=False) as z:
                param = {k: z[k] for k in z.files}
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                self.param[name[4:]] = arr
            else:
                self.param[name] = arr
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            src = self.param[name]
            assert arr.shape == tuple(np.shape(src)), \
                "Parameter %s cannot be initialized from loading. Shape mismatch, target %s vs " \
                "loaded %s" % (name, str(arr.shape), str(np.shape(src)))
            arr[:] = np.asarray(_nd._unwrap(src))
            if self.verbose:
                print("Initialized %s by loading" % name)
        else:
            assert self.default_init is not None, \
                "Cannot Initialize %s. Not found in loaded param and no default Initializer " \
                "is provided." % name
            self.default_init(name, arr)
            if self.verbose:
                print("Initialized %s by default" % name)


class Mixed:
    """The first initializer whose pattern ``re.match``-es the name (anchored at the start)."""

    def __init__(self, patterns, initializers):
        assert len(patterns) == len(initializers)
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, name, arr):
        for prog, init in self.map:
            if prog.match(name):
                init(name, arr)
                return
        raise ValueError("Parameter name %s did not match any pattern. Consider adding a "
                         '".*" pattern at the and with default Initializer.' % name)
