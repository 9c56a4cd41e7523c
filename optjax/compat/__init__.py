"""Compatibility layers for legacy optimizer APIs (see optjax.compat.mxnet)."""
