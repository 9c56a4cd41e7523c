"""Run an unchanged MXNet script on the shim: ``python -m optjax.compat.mxnet script.py [args]``.

:func:`install` puts a finder on ``sys.meta_path`` so that ``import mxnet`` and
every ``import mxnet.<sub>`` (``mxnet.gluon.nn``, ``mxnet.ndarray``...) give the
shim's modules (``optjax.compat.mxnet.<sub>``, the same module objects);
:func:`run` installs it and runs the script as ``__main__`` with its arguments.

Example:
  >>> from optjax.compat.mxnet import runner
  >>> runner.install()
  >>> import mxnet, optjax.compat.mxnet
  >>> mxnet is optjax.compat.mxnet
  True
  >>> runner.uninstall()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

__all__ = ["install", "uninstall", "run", "main"]

ALIAS = "mxnet"
TARGET = "optjax.compat.mxnet"


class _Loader(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class MXNetAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``mxnet`` and ``mxnet.*`` to ``optjax.compat.mxnet`` and its submodules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = TARGET + fullname[len(ALIAS):]
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name != real:
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: the optjax MXNet shim has no {real!r}",
                name=fullname) from None
        spec = importlib.util.spec_from_loader(fullname, _Loader(module),
                                               is_package=hasattr(module, "__path__"))
        return spec


_finder = MXNetAliasFinder()


def install() -> None:
    """Make ``import mxnet`` (and its submodules) resolve to the shim."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Undo :func:`install` (modules already imported as ``mxnet.*`` are forgotten too)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        del sys.modules[name]


def run(script: str, args: list[str] | tuple = ()) -> dict:
    """Run ``script`` as ``__main__`` with ``sys.argv = [script, *args]`` on the shim."""
    install()
    old_argv, old_path0 = sys.argv, sys.path[0] if sys.path else None
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        return runpy.run_path(script, run_name="__main__")
    finally:
        sys.argv = old_argv
        if sys.path and sys.path[0] != old_path0:
            sys.path.pop(0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m optjax.compat.mxnet SCRIPT.py [ARGS...]\n\nRuns an MXNet 1.9.1 "
              "script unchanged on JAX: 'import mxnet' resolves to optjax.compat.mxnet.")
        raise SystemExit(0 if argv else 2)
    run(argv[0], argv[1:])
