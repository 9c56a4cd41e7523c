"""optjax.initializers: MXNet's initializers as pure functions, and name-based tree init.

Everything is in ``__all__``; only the names in ``TOP_LEVEL`` are also re-exported
as ``optjax.<name>`` (the others, like ``uniform``, would be ambiguous there).
"""

__all__: list[str] = []
TOP_LEVEL: tuple[str, ...] = ()
