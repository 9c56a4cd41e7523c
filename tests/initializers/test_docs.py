"""The docstring examples run."""

import doctest
import importlib

import pytest

MODULES = ["core", "basic", "fans", "orthogonal", "special", "by_name", "fused_rnn", "registry"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"optjax.initializers.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_everything_exported():
    import optjax
    from optjax import initializers as I

    for n in I.__all__:
        assert hasattr(I, n), n
    assert set(I.TOP_LEVEL) <= set(I.__all__)
    assert optjax.init_params is I.init_params
    assert not hasattr(optjax, "uniform")
