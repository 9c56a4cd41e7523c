"""Hyperparameters that live in the state: read and change them at run time.

``inject_hyperparams(adamw)(learning_rate=1e-3, weight_decay=1e-2)`` stores each
numeric hyperparameter as a scalar in ``state.hyperparams`` (by name), so a
jitted step reads it as data: changing it (MXNet's ``set_learning_rate``,
torch's ``group['lr'] = x``) never recompiles. A schedule given for a
hyperparameter is evaluated at the step count and its value stored.

``set_hyperparams`` checks a new value with the factory's own checks (the
factory is called again with it), so ``learning_rate=-5.0`` or ``b1=1.5`` is
the same ``ValueError`` it is at construction, raised before anything changes.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optjax import numerics, validation
from optjax.base import GradientTransformation, PyTree, call_update, jit_once


class _FactoryChecks:
    """The factory's own argument checks, run on new hyperparameter values.

    Kept as pytree metadata of :class:`Hyperparams` (it holds no arrays), so it
    travels through ``jit`` with the state. Two states made by the same factory
    have equal metadata, whatever their static arguments.
    """

    def __init__(self, factory: Callable[..., Any], static: dict):
        self.factory = factory
        self.static = static

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _FactoryChecks) and other.factory is self.factory

    def __hash__(self) -> int:
        return hash(id(self.factory))

    def __call__(self, current: dict, new: dict) -> None:
        self.factory(**self.static, **{**current, **new})


class Hyperparams(dict):
    """``InjectHyperparamsState.hyperparams``: a dict of the current values
    that also remembers the factory's checks, for :func:`set_hyperparams`."""

    def __init__(self, values: dict, checks: _FactoryChecks | None = None):
        super().__init__(values)
        self.checks = checks


def _flatten_hyperparams(h: Hyperparams):
    keys = tuple(sorted(h))
    return [(jax.tree_util.DictKey(k), h[k]) for k in keys], (keys, h.checks)


def _unflatten_hyperparams(aux, children) -> Hyperparams:
    keys, checks = aux
    return Hyperparams(dict(zip(keys, children)), checks)


jax.tree_util.register_pytree_with_keys(Hyperparams, _flatten_hyperparams, _unflatten_hyperparams)


class InjectStatefulHyperparamsState(NamedTuple):
    """``hyperparams`` maps each injected name to its current value;
    ``hyperparams_states`` holds each scheduled one's schedule state (optax's layout)."""

    count: jax.Array  # int32, steps taken
    hyperparams: dict
    hyperparams_states: dict
    inner_state: Any


InjectHyperparamsState = InjectStatefulHyperparamsState  # the name optjax used first


def _is_numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    if not (hasattr(v, "dtype") and hasattr(v, "shape")):
        return False
    if jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key):
        return False  # a PRNG key (sgld's) is state, not a number to inject
    return jnp.issubdtype(v.dtype, jnp.number)


def _stored(v: Any, dtype: Any) -> jax.Array:
    """A hyperparameter as stored (optax's rule): a strongly typed array as given, other floats
    (Python floats, weakly typed arrays) in ``dtype``, integers as they are."""
    if isinstance(v, jax.Array) and not getattr(v, "weak_type", False):
        return v
    v = jnp.asarray(v)
    return v.astype(dtype) if jnp.issubdtype(v.dtype, jnp.floating) else v


def inject_hyperparams(
    inner_factory: Callable[..., GradientTransformation],
    static_args: str | tuple[str, ...] = (),
    hyperparam_dtype: Any = None,
) -> Callable[..., GradientTransformation]:
    """Wrap an optimizer factory so its numeric hyperparameters live in the state.

    Args:
      inner_factory: e.g. ``optjax.adamw``; called again on each update with the
        current values (as traced scalars).
      static_args: names to keep as Python values (shapes, flags, ints that
        steer tracing).
      hyperparam_dtype: dtype of the stored floats given as Python floats (or
        weakly typed arrays; an array with a dtype of its own keeps it, as in
        optax). Default float32, or float64 when some param is float64: never the
        params' low precision (with bfloat16 params b2=0.999 would become 1.0,
        optax issue 1414).

    Returns a factory taking the same arguments. As in optax, every numeric
    argument of the call, given or defaulted, is injected (floats in
    ``hyperparam_dtype``, integers as integers); bools, strings, None and
    ``static_args`` stay static; a callable is a schedule of the step (evaluated
    at 0 on the first update, like ``scale_by_learning_rate``) and a
    :class:`optjax.StatefulSchedule` is advanced with the update's extra
    arguments. optjax's own keyword-only options are injected only when given,
    so the state is optax's ``InjectStatefulHyperparamsState(count, hyperparams,
    hyperparams_states, inner_state)`` for every call optax accepts.

    >>> import jax.numpy as jnp, optjax
    >>> tx = optjax.inject_hyperparams(optjax.sgd)(learning_rate=0.1)
    >>> state = tx.init({"w": jnp.ones(2)})
    >>> state = optjax.set_hyperparams(state, learning_rate=0.01)  # no recompilation
    >>> float(optjax.get_hyperparam(state, "learning_rate"))
    0.009999999776482582
    """
    from optjax.schedules.stateful import StatefulSchedule, WrappedSchedule  # schedules sit below transforms

    statics = (static_args,) if isinstance(static_args, str) else tuple(static_args)
    sig = inspect.signature(inner_factory)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = sorted(set(statics) - set(sig.parameters))
    if unknown and not takes_any:
        raise ValueError(f"inject_hyperparams: static_args {unknown} are not parameters of "
                         f"{getattr(inner_factory, '__name__', inner_factory)} ({list(sig.parameters)})")

    @functools.wraps(inner_factory)
    def factory(*args, **kwargs) -> GradientTransformation:
        bound = sig.bind(*args, **kwargs)
        passed = set(bound.arguments)
        bound.apply_defaults()
        # Build once with the given values: validates them at construction.
        inner_factory(*bound.args, **bound.kwargs)
        given, static = {}, {}
        for k, v in bound.arguments.items():
            p = sig.parameters[k]
            if p.kind is p.VAR_KEYWORD:
                given.update(v)
            elif p.kind is p.KEYWORD_ONLY and k not in passed:
                static[k] = v  # an optjax-only option left at its default: not injected
            else:
                given[k] = v
        for k in [k for k, v in given.items() if k in statics or not (_is_numeric(v) or callable(v))]:
            static[k] = given.pop(k)
        numeric = {k: v for k, v in given.items() if k not in static and _is_numeric(v)}
        schedules = {k: v if isinstance(v, StatefulSchedule) else WrappedSchedule(v)
                     for k, v in given.items() if k not in static and k not in numeric}

        def dtype_for(params):
            if hyperparam_dtype is not None:
                return hyperparam_dtype
            return numerics.hyperparam_dtype(params)

        checks = _FactoryChecks(inner_factory, static)

        def init_fn(params):
            dt = dtype_for(params)
            hps = {k: _stored(v, dt) for k, v in numeric.items()}
            hp_states = {k: s.init() for k, s in schedules.items()}
            hps.update({k: _stored(s(hp_states[k]), dt) for k, s in schedules.items()})
            inner = inner_factory(**static, **hps)
            return InjectStatefulHyperparamsState(numerics.zero_count(), Hyperparams(hps, checks), hp_states,
                                                  inner.init(params))

        def update_fn(updates, state, params=None, **extra_args):
            hps = Hyperparams(state.hyperparams, checks)
            for k, s in schedules.items():
                old = hps[k]
                dt = old.dtype if jnp.issubdtype(old.dtype, jnp.floating) else dtype_for(params)
                hps[k] = _stored(s(state.hyperparams_states[k], **extra_args), dt)
            hp_states = {k: s.update(state.hyperparams_states[k], **extra_args) for k, s in schedules.items()}
            inner = inner_factory(**static, **hps)
            new_u, new_inner = call_update(inner, updates, state.inner_state, params, extra_args)
            return new_u, InjectStatefulHyperparamsState(numerics.safe_increment(state.count), hps, hp_states,
                                                         new_inner)

        # update_fn rebuilds the inner transform from the hyperparameters in the
        # state: jit_once lets eager calls reuse that trace and its compiled step.
        return GradientTransformation(init_fn, jit_once(update_fn))

    return factory


def _walk(state: Any, fn: Callable[[InjectHyperparamsState], Any]) -> Any:
    """Rebuild ``state`` with ``fn`` applied to every InjectHyperparamsState in it."""
    is_inj = lambda x: isinstance(x, InjectHyperparamsState)  # noqa: E731
    return jax.tree.map(lambda x: fn(x) if is_inj(x) else x, state, is_leaf=is_inj)


def get_hyperparam(state: PyTree, name: str) -> jax.Array:
    """The current value of hyperparameter ``name`` anywhere in ``state``.

    Raises KeyError if it is not found, or found in several places with
    different values (use the sub-state then, e.g. ``state.inner_states['head']``).
    """
    found = []
    _walk(state, lambda s: found.append(s.hyperparams[name]) if name in s.hyperparams else None)
    if not found:
        raise KeyError(f"no injected hyperparameter named {name!r} in this state")
    first = found[0]
    if len(found) > 1 and not all(
        isinstance(f, jax.core.Tracer) or bool(jnp.all(f == first)) for f in found[1:]
    ):
        raise KeyError(f"hyperparameter {name!r} appears {len(found)} times with different values")
    return first


def set_hyperparams(state: PyTree, **values: Any) -> PyTree:
    """A copy of ``state`` with the named hyperparameters replaced, everywhere they occur.

    Values keep the stored dtype, so the jitted step sees the same types and
    does not recompile. Each new value is checked first, as the factory checks
    it at construction (the factory is called again with the new values): a
    string, an array that is not 0-d, NaN or a value out of range is an error
    naming the hyperparameter, and ``state`` is left as it was. A traced value
    (``set_hyperparams`` inside ``jit``) is not checked. A name found nowhere
    is a KeyError.

    >>> import jax.numpy as jnp, optjax
    >>> state = optjax.inject_hyperparams(optjax.adam)(1e-3).init({"w": jnp.ones(2)})
    >>> optjax.set_hyperparams(state, b1=1.5)
    Traceback (most recent call last):
    ...
    ValueError: b1 must be in [0, 1), got 1.5
    """
    for k, v in values.items():
        validation.scalar(k, v)
    seen = set()

    def fn(s):
        hps = Hyperparams(s.hyperparams, getattr(s.hyperparams, "checks", None))
        new = {k: v for k, v in values.items() if k in hps}
        for k, v in new.items():
            if np.shape(v) != np.shape(hps[k]):
                raise ValueError(f"{k} must have shape {np.shape(hps[k])} (as stored), got {np.shape(v)}")
            old = hps[k]
            if jnp.issubdtype(old.dtype, jnp.integer) and not jnp.issubdtype(jnp.asarray(v).dtype, jnp.integer):
                raise TypeError(f"hyperparameter {k!r} is stored as {old.dtype} (it was injected as an "
                                f"integer); got {v!r}: inject it as a float (e.g. 1.0) to set floats")
        if new and hps.checks is not None and not any(isinstance(v, jax.core.Tracer) for v in new.values()):
            hps.checks(dict(hps), new)
        for k, v in new.items():
            seen.add(k)
            hps[k] = jnp.asarray(v, hps[k].dtype)
        return s._replace(hyperparams=hps)

    new = _walk(state, fn)
    missing = set(values) - seen
    if missing:
        raise KeyError(f"no injected hyperparameter named {sorted(missing)} in this state")
    return new
