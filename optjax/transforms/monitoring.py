"""Measurements of the updates kept in the state, for debugging a chain (optax's
``snapshot``, ``monitor``, ``measure_with_ema``): read them with ``optjax.tree.get(state, name)``."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional, Union

from optjax.base import GradientTransformation, call_update, stateless
from optjax.combine import chain
from optjax.transforms.averaging import ema


class SnapshotState(NamedTuple):
    """``{measure_name: measurement}`` of the last updates (of the params after ``init``)."""

    measurement: dict[str, Any]


def snapshot(measure_name: str, measure: Callable[[Any], Any]) -> GradientTransformation:
    """Store ``measure(updates)`` in the state under ``measure_name``; the updates pass unchanged.

    Example:
        >>> import jax.numpy as jnp, optjax
        >>> tx = optjax.chain(optjax.sgd(0.1), optjax.snapshot("norm", optjax.tree.norm),
        ...                   optjax.clip_by_global_norm(0.05))
        >>> state = tx.init(jnp.ones(4))
        >>> _, state = tx.update(jnp.ones(4), state)
        >>> float(optjax.tree.get(state, "norm"))  # the norm before clipping
        0.2000000...
    """

    def init_fn(params):
        return SnapshotState({measure_name: measure(params)})

    def update_fn(updates, state, params=None, **extra_args):
        del state, params, extra_args
        return updates, SnapshotState({measure_name: measure(updates)})

    return GradientTransformation(init_fn, update_fn)


class MonitorState(NamedTuple):
    """The last measurements by name (empty after ``init``, as optax) and each measure's own state."""

    measurements: dict[str, Any]
    measure_states: tuple[Any, ...]


def monitor(measures: dict[str, Union[GradientTransformation, Callable[[Any], Any]]]) -> GradientTransformation:
    """Store several measurements of the updates; a measure is ``f(updates)`` or a transform whose
    output is the measurement (a stateful one such as :func:`measure_with_ema`). The updates
    pass unchanged; extra arguments reach the measures that declare them.
    """
    txs = {name: stateless(lambda u, _, m=m: m(u)) if callable(m) else m for name, m in measures.items()}

    def init_fn(params):
        return MonitorState({}, tuple(tx.init(params) for tx in txs.values()))

    def update_fn(updates, state, params=None, **extra_args):
        measurements, states = {}, []
        for (name, tx), s in zip(txs.items(), state.measure_states):
            measurements[name], s = call_update(tx, updates, s, params, extra_args)
            states.append(s)
        return updates, MonitorState(measurements, tuple(states))

    return GradientTransformation(init_fn, update_fn)


def measure_with_ema(measure: Callable[[Any], Any], decay: float, debias: bool = True,
                     accumulator_dtype: Optional[Any] = None) -> GradientTransformation:
    """``measure(updates)`` averaged by :func:`optjax.ema` (``decay``, ``debias``): a measure for :func:`monitor`."""
    average = ema(decay, debias, accumulator_dtype)
    # the average has the measurement's shape, not the params'
    on_measurement = GradientTransformation(lambda params: average.init(measure(params)), average.update)
    return chain(stateless(lambda u, _: measure(u)), on_measurement)
