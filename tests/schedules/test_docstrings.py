"""Every example in the schedules' docstrings runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["basic", "combine", "cyclic", "warmup", "plateau", "torch_lr", "mxnet_lr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"optjax.schedules.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


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
