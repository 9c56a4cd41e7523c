"""optjax.initializers (public names listed in __all__ are re-exported by optjax)."""

__all__: list[str] = []
