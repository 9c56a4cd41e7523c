"""The transform protocol: ``GradientTransformation(init, update)`` and its types.

The protocol is optax's, so pieces of either library work inside the other:

* ``init(params) -> state``
* ``update(updates, state, params=None, **extra_args) -> (updates, state)``

``updates`` and ``params`` are pytrees with the same structure; ``state`` is any
pytree (usually a NamedTuple). Extra keyword arguments (``value=loss`` for
``reduce_on_plateau``, say) reach only the transforms that declare them; see
:func:`call_update`.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, NamedTuple, Protocol, Union

import jax
import jax.numpy as jnp
import numpy as np

PyTree = Any
Params = PyTree
Updates = PyTree
OptState = PyTree
Schedule = Callable[[jax.typing.ArrayLike], jax.typing.ArrayLike]
ScalarOrSchedule = Union[float, jax.typing.ArrayLike, Schedule]


class TransformInitFn(Protocol):
    def __call__(self, params: Params) -> OptState: ...


class TransformUpdateFn(Protocol):
    def __call__(
        self, updates: Updates, state: OptState, params: Params | None = None, **extra_args: Any
    ) -> tuple[Updates, OptState]: ...


class _TransformFields(NamedTuple):
    init: TransformInitFn
    update: TransformUpdateFn


def _optax_extra_args_class() -> type | None:
    """optax's ``GradientTransformationExtraArgs`` when optax is installed, else None.

    optax's combinators (``optax.chain``, ``MultiSteps``, ``inject_hyperparams``,
    ``partition``) pass extra arguments (``value=loss``) only to transforms that are
    instances of that class, and it is a NamedTuple, which cannot take virtual
    subclasses; so optjax's class is built on it when it exists. optax stays optional:
    without it the class is a plain NamedTuple with the same two fields.
    """
    try:
        from optax._src.base import GradientTransformationExtraArgs
    except Exception:  # noqa: BLE001 - not installed, or an optax that cannot import here
        return None
    if not (isinstance(GradientTransformationExtraArgs, type) and issubclass(GradientTransformationExtraArgs, tuple)
            and getattr(GradientTransformationExtraArgs, "_fields", None) == ("init", "update")):
        return None  # an optax whose class is not the (init, update) NamedTuple this relies on
    return GradientTransformationExtraArgs


class GradientTransformation(_optax_extra_args_class() or _TransformFields):  # type: ignore[misc]
    """A pure optimizer piece: ``init(params) -> state`` and
    ``update(updates, state, params=None, **extra_args) -> (updates, state)``.

    Every optjax transform accepts extra keyword arguments (and passes them on to the
    pieces that declare them), so where optax is installed the class is a subclass of
    optax's ``GradientTransformationExtraArgs``: optax's own combinators then forward
    ``value=``, ``grad=``, ``value_fn=`` to optjax transforms too.

    Example::

        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.chain(optjax.clip_by_global_norm(1.0), optjax.sgd(0.1))
        >>> params = {"w": jnp.ones(3)}
        >>> state = tx.init(params)
        >>> updates, state = tx.update({"w": jnp.full(3, 2.0)}, state, params)
        >>> params = optjax.apply_updates(params, updates)
    """

    __slots__ = ()


# optax has a second class for transforms that take extra arguments; here every
# transform may, so the two names are the same class.
GradientTransformationExtraArgs = GradientTransformation


class EmptyState(NamedTuple):
    """The state of a transform that keeps none."""


class MaskedNode(NamedTuple):
    """Stands in the state for a leaf that a mask left out (it holds nothing)."""


NO_PARAMS_MSG = (
    "{name} needs the current params: call update(updates, state, params)."
)


def init_empty_state(params: Params) -> EmptyState:
    del params
    return EmptyState()


def identity() -> GradientTransformation:
    """The transform that returns the updates unchanged and keeps no state."""

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        return updates, state

    return GradientTransformation(init_empty_state, update_fn)


def set_to_zero() -> GradientTransformation:
    """Replace every update by zeros (keeps no state). Used by :func:`freeze`."""

    def update_fn(updates, state, params=None, **extra_args):
        del params, extra_args
        return jax.tree.map(jnp.zeros_like, updates), state

    return GradientTransformation(init_empty_state, update_fn)


def stateless(f: Callable[[Updates, Params | None], Updates]) -> GradientTransformation:
    """A transform from ``f(updates, params) -> updates`` with no state."""

    def update_fn(updates, state, params=None, **extra_args):
        del extra_args
        return f(updates, params), state

    return GradientTransformation(init_empty_state, update_fn)


# ----------------------------------------------------------------------------
# Extra arguments: a transform receives only what its update declares.


def _accepted_extra_args(update_fn: Callable) -> set[str] | None:
    """Names of extra keyword args ``update_fn`` accepts; None means all."""
    try:
        sig = inspect.signature(update_fn)
    except (TypeError, ValueError):
        return None
    names: set[str] = set()
    positional = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
            if positional <= 3:  # updates, state, params
                continue
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.add(p.name)
    return names


def call_update(
    tx: GradientTransformation,
    updates: Updates,
    state: OptState,
    params: Params | None,
    extra_args: dict[str, Any],
) -> tuple[Updates, OptState]:
    """Call ``tx.update`` passing only the extra args it declares.

    Works for optjax transforms, optax transforms (with or without
    ``**extra_args``) and any ``(init, update)`` pair.
    """
    if not extra_args:
        return tx.update(updates, state, params)
    accepted = _accepted_extra_args(tx.update)
    if accepted is not None:
        extra_args = {k: v for k, v in extra_args.items() if k in accepted}
    return tx.update(updates, state, params, **extra_args)


def with_extra_args_support(tx: GradientTransformation) -> GradientTransformation:
    """Wrap ``tx`` so its update accepts (and drops) extra args it does not declare."""

    def update_fn(updates, state, params=None, **extra_args):
        return call_update(tx, updates, state, params, extra_args)

    return GradientTransformation(tx.init, update_fn)


def jit_once(update_fn: TransformUpdateFn) -> TransformUpdateFn:
    """``update_fn`` behind one ``jax.jit`` made now, for transforms whose update
    builds something per call (a ``lax.cond`` of fresh branches, an inner
    transform rebuilt from traced hyperparameters).

    Eager calls (no ``jax.jit`` around the update) then reuse one trace and one
    compiled step instead of tracing again on every call; inside the caller's
    ``jit`` the nested jit is inlined, so the numbers are the same. Extra
    arguments JAX cannot trace (a callable ``value_fn``) are static: the same
    callable passed again reuses its compiled step; a new callable on each call
    (a fresh ``lambda``) takes the plain, unjitted path instead of compiling
    once per call.
    """
    jitted = jax.jit(update_fn)
    with_static: dict[tuple[str, ...], Callable[..., Any]] = {}
    last_static: list[Any] = [None]

    @functools.wraps(update_fn)  # keeps the signature: callers pass only the extra args it declares
    def update(updates, state, params=None, **extra_args):
        static = tuple(sorted(k for k, v in extra_args.items()
                              if not all(_is_traceable(x) for x in jax.tree.leaves(v))))
        if not static:
            return jitted(updates, state, params, **extra_args)
        values = tuple(extra_args[k] for k in static)
        seen_before = last_static[0] is not None and len(last_static[0]) == len(values) and all(
            a is b for a, b in zip(last_static[0], values))
        last_static[0] = values
        if seen_before and all(callable(v) for v in values):
            fn = with_static.get(static)
            if fn is None:
                fn = with_static[static] = jax.jit(update_fn, static_argnames=static)
            return fn(updates, state, params, **extra_args)
        return update_fn(updates, state, params, **extra_args)

    return update


def _is_traceable(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, np.generic, int, float, complex))


def is_schedule(x: Any) -> bool:
    """True for a schedule (a callable of the step), False for a number or array."""
    return callable(x) and not isinstance(x, (jax.Array,))


def value_at(value: ScalarOrSchedule, step: Any) -> Any:
    """A hyperparameter's value at ``step``: ``value`` itself, or the schedule
    ``value`` evaluated at ``step`` (as an array).

    The one route from ``learning_rate`` (or a scheduled ``weight_decay``) to the
    math: ``step`` is the 0-based index of the update, i.e. the state's count
    *before* this update increments it, so a schedule gives its value at 0 on
    the first update (optax's convention).

    The value is not checked here (inside a step it is traced): a schedule
    that gives NaN or a negative value at some step gives such updates at that
    step. Factories check a schedule when they are built, at the steps
    ``optjax.validation.SCHEDULE_PROBE_STEPS``; ``optjax.apply_if_finite``
    skips a step whose update is not finite (docs/reliability.md).

    >>> import optjax
    >>> optjax.base.value_at(0.1, 5), float(optjax.base.value_at(lambda t: 0.1 / (t + 1), 1))
    (0.1, 0.05)
    """
    return jnp.asarray(value(step)) if is_schedule(value) else value
