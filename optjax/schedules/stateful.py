"""Stateful schedules (optax's ``StatefulSchedule`` protocol and ``WrappedSchedule``).

A stateful schedule has ``init() -> state``, ``update(state, **extra_args) -> state`` and
``__call__(state, **extra_args) -> value``; ``inject_hyperparams`` in optax accepts one in
place of a ``step -> value`` function.
"""

from __future__ import annotations

import abc
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from optjax.base import Schedule
from optjax.numerics import safe_increment


class StatefulSchedule(abc.ABC):
    """A schedule whose value depends on a state advanced by ``update`` (e.g. on the loss)."""

    @abc.abstractmethod
    def init(self) -> Any:
        """The initial state."""

    @abc.abstractmethod
    def update(self, state: Any, **extra_args: Any) -> Any:
        """The state after one step."""

    @abc.abstractmethod
    def __call__(self, state: Any, **extra_args: Any) -> jax.typing.ArrayLike:
        """The value for ``state``."""


class WrappedScheduleState(NamedTuple):
    """Step count."""

    count: jax.Array


class WrappedSchedule(StatefulSchedule):
    """A ``step -> value`` schedule as a :class:`StatefulSchedule` counting steps.

    Example::

        >>> import optjax
        >>> s = optjax.WrappedSchedule(optjax.linear_schedule(1.0, 0.0, 4))
        >>> st = s.update(s.init())
        >>> float(s(st))
        0.75
    """

    def __init__(self, schedule_fn: Schedule):
        self.schedule_fn = schedule_fn

    def init(self) -> WrappedScheduleState:
        return WrappedScheduleState(count=jnp.zeros([], jnp.int32))

    def update(self, state: WrappedScheduleState, **extra_args: Any) -> WrappedScheduleState:
        del extra_args
        return WrappedScheduleState(count=safe_increment(state.count))

    def __call__(self, state: WrappedScheduleState, **extra_args: Any) -> jax.typing.ArrayLike:
        del extra_args
        return self.schedule_fn(state.count)
