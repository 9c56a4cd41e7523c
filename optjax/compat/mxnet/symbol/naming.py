"""``mx.name`` and ``mx.attribute``: MXNet's automatic symbol names and attribute scopes.

``NameManager.current.get(name, hint)`` returns ``name`` when given, else
``hint`` followed by a per-hint counter (``fullyconnected0``,
``fullyconnected1``, ...), as MXNet 1.9.1 names operators created without a
name. ``Prefix('net_')`` prepends a prefix to every name made inside its
``with`` block. ``AttrScope(ctx_group='dev1')`` adds attributes to every
symbol made inside its block.

Example:
    >>> with Prefix("net_"):
    ...     Prefix.current.get(None, "fullyconnected")
    'net_fullyconnected0'
"""

from __future__ import annotations

import threading

__all__ = ["NameManager", "Prefix", "AttrScope"]


class _Current(threading.local):
    def __init__(self):
        self.names = None
        self.attrs = None


_current = _Current()


class _CurrentDescriptor:
    """``NameManager.current`` / ``AttrScope.current``: the innermost active scope."""

    def __init__(self, slot, factory):
        self.slot, self.factory = slot, factory

    def __get__(self, obj, owner):
        value = getattr(_current, self.slot)
        if value is None:
            value = self.factory()
            setattr(_current, self.slot, value)
        return value

    def __set__(self, obj, value):  # pragma: no cover - class attribute assignment
        setattr(_current, self.slot, value)


class NameManager:
    """Names symbols created without ``name=``: ``hint`` + a per-hint counter."""

    current = None  # replaced by the descriptor below

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name: str | None, hint: str) -> str:
        if name:
            return name
        if hint not in self._counter:
            self._counter[hint] = 0
        name = "%s%d" % (hint, self._counter[hint])
        self._counter[hint] += 1
        return name

    def __enter__(self):
        self._old_manager = _current.names
        _current.names = self
        return self

    def __exit__(self, *exc):
        _current.names = self._old_manager


class Prefix(NameManager):
    """A name manager that prepends ``prefix`` to every name."""

    def __init__(self, prefix: str):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)


class AttrScope:
    """Attributes (strings) attached to every symbol created in the ``with`` block."""

    current = None

    def __init__(self, **kwargs):
        self._old_scope = None
        for value in kwargs.values():
            if not isinstance(value, str):
                raise ValueError("Attributes need to be string")
        self._attr = kwargs

    def get(self, attr: dict | None) -> dict:
        """``attr`` updated with this scope's attributes (the scope's win, as in MXNet)."""
        if self._attr:
            ret = self._attr.copy()
            if attr:
                ret.update(attr)
            return ret
        return dict(attr) if attr else {}

    def __enter__(self):
        self._old_scope = _current.attrs
        merged = dict(self._old_scope._attr) if self._old_scope is not None else {}
        merged.update(self._attr)
        self._attr = merged
        _current.attrs = self
        return self

    def __exit__(self, *exc):
        _current.attrs = self._old_scope


NameManager.current = _CurrentDescriptor("names", NameManager)
AttrScope.current = _CurrentDescriptor("attrs", AttrScope)
