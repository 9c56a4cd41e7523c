"""Everything the initializers export is there.

The docstring examples run as doctests (pytest's ``--doctest-modules`` on optjax/, see
pyproject.toml).
"""


def test_everything_exported():
    import optjax
    from optjax import initializers as I

    for n in I.__all__:
        assert hasattr(I, n), n
    assert set(I.TOP_LEVEL) <= set(I.__all__)
    assert optjax.init_params is I.init_params
    assert not hasattr(optjax, "uniform")
