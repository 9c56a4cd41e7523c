"""One registry of MXNet operators, each a pure JAX function.

An operator is written once, as a function of JAX arrays and keyword attributes
(``fully_connected(data, weight, bias=None, *, num_hidden, no_bias=False,
flatten=True)``), and registered under its MXNet name. Every front end calls the
same function: ``mx.nd`` eagerly on NDArrays, gluon's ``F`` (which is ``mx.nd``,
also inside ``hybridize``'s ``jax.jit``), and ``mx.sym`` when a symbol graph is
evaluated. Gradients are JAX's autodiff of that function.

Conventions for an operator function:

- positional parameters are the array inputs in MXNet's order (``inputs``);
  a variadic operator (``Concat``) takes ``*data``; an optional input is ``None``;
- keyword-only parameters are the attributes, with MXNet's defaults and types
  (the types are used to parse attributes given as strings, as in symbol JSON);
- an operator with auxiliary states (``BatchNorm``'s ``moving_mean`` and
  ``moving_var``) takes them after its inputs and returns ``(outputs, new_aux)``,
  ``new_aux`` a tuple with one array per auxiliary state;
- ``moving_average(**attrs) -> momentum | None``: for such an operator, whether a
  training call updates its auxiliary states as moving averages
  ``aux = aux * momentum + increment`` (None: they stay as they are). MXNet applies
  that update in the operator's BACKWARD pass, reading the auxiliary state then; the
  front ends do the same: they call the function with zero auxiliary states (whose
  ``new_aux`` is then exactly the increment, and whose outputs must not read them),
  keep the increment and apply :func:`moving_average_updates` when the gradient is taken;
- ``needs_key``: the operator draws random numbers and takes ``key=`` (a JAX PRNG key);
- ``needs_mode``: its result depends on training vs inference and takes ``is_train=``;
- ``param_shapes(data_shape, **attrs) -> {input name: shape}`` completes the
  shapes of an operator's weights (and an output operator's label) from its data shape (deferred initialization in
  gluon, ``infer_shape`` in ``mx.sym``); output shapes come from ``jax.eval_shape``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import jax
import jax.numpy as jnp

__all__ = ["Op", "register", "get", "names", "OPS", "moving_average_updates"]


class Op:
    """An MXNet operator: its pure JAX function and what the front ends need to know."""

    def __init__(self, name: str, fn: Callable, inputs: tuple = ("data",), *, aux: tuple = (),
                 num_outputs: int | Callable = 1, needs_key: bool = False,
                 needs_mode: bool = False, param_shapes: Callable | None = None,
                 aliases: tuple = (), moving_average: Callable | None = None):
        self.name = name
        self.fn = fn
        self.inputs = tuple(inputs)
        self.variadic = bool(self.inputs) and self.inputs[0].startswith("*")
        self.aux = tuple(aux)
        self._num_outputs = num_outputs
        self.needs_key = needs_key
        self.needs_mode = needs_mode
        self.param_shapes = param_shapes
        self.aliases = tuple(aliases)
        self.moving_average = moving_average
        self.signature = inspect.signature(fn)
        self.attr_names = tuple(
            p.name for p in self.signature.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("key", "is_train"))

    def num_outputs(self, **attrs) -> int:
        """How many outputs the operator returns for these attributes."""
        n = self._num_outputs
        return n(**attrs) if callable(n) else n

    def deferred_momentum(self, is_train: bool, attrs: dict) -> float | None:
        """The momentum of this call's moving-average auxiliary update, applied in the
        backward pass as MXNet does (None: no deferred update for this call)."""
        if not (self.aux and is_train and self.moving_average is not None):
            return None
        return self.moving_average(**attrs)

    def __call__(self, *arrays, **attrs):
        return self.fn(*arrays, **attrs)

    def __repr__(self):
        return f"Op({self.name!r}, inputs={self.inputs}, aux={self.aux})"


@functools.partial(jax.jit, static_argnums=(2,))
def _moving_averages(values, increments, plan):
    values = list(values)
    for (slot, momentum), increment in zip(plan, increments):
        v = values[slot]
        values[slot] = v * jnp.asarray(momentum, v.dtype) + increment.astype(v.dtype)
    return values


def moving_average_updates(values: list, updates: list) -> list:
    """The deferred auxiliary updates ``aux = aux * momentum + increment`` applied in
    order (``updates``: ``(slot in values, momentum, increment)``, where ``increment =
    batch statistic * (1 - momentum)`` was saved by the forward pass), in one compiled
    call; returns the new ``values``."""
    plan = tuple((slot, float(m)) for slot, m, _ in updates)
    return _moving_averages(list(values), [inc for _, _, inc in updates], plan)


OPS: dict[str, Op] = {}


def register(name: str, inputs: tuple = ("data",), **options) -> Callable:
    """Register ``fn`` as the MXNet operator ``name`` (and its ``aliases``)."""

    def deco(fn):
        op = Op(name, fn, inputs, **options)
        for n in (name, *op.aliases):
            if n in OPS:
                raise ValueError(f"operator {n!r} is registered twice")
            OPS[n] = op
        fn.op = op
        return fn

    return deco


def get(name: str) -> Op:
    """The operator registered as ``name``; ``KeyError`` lists close names."""
    try:
        return OPS[name]
    except KeyError:
        import difflib
        close = difflib.get_close_matches(name, OPS, n=5)
        raise KeyError(f"no MXNet operator {name!r} in the shim"
                       + (f" (did you mean {', '.join(close)}?)" if close else "")) from None


def names() -> list[str]:
    return sorted(OPS)
