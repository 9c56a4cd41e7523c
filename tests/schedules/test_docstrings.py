"""Every public schedule has a docstring with an example and type hints.

The examples themselves run as doctests (pytest's ``--doctest-modules`` on optjax/, see
pyproject.toml).
"""


def test_public_functions_have_docs_and_hints():
    import inspect

    import optjax.schedules as S
    for name in S.__all__ + ["torch_lr." + n for n in S.torch_lr.__all__] + [
            "mxnet_lr." + n for n in S.mxnet_lr.__all__]:
        obj = S
        for part in name.split("."):
            obj = getattr(obj, part)
        if inspect.isclass(obj):
            continue
        assert obj.__doc__ and "Example" in obj.__doc__, name
        sig = inspect.signature(obj)
        assert sig.return_annotation is not inspect.Signature.empty, name
