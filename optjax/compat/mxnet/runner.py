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

__all__ = ["install", "uninstall", "run", "main", "set_xla_threads"]

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


_USAGE = """usage: python -m optjax.compat.mxnet [--xla-threads N] SCRIPT.py [ARGS...]

Runs an MXNet 1.9.1 script unchanged on JAX: 'import mxnet' resolves to optjax.compat.mxnet.

  --xla-threads N  size of XLA:CPU's thread pool (default: one thread per core; sets
                   PJRT_NPROC). On a machine with few cores, 1 leaves a core to the
                   Python front end: faster for small dense models, slower for
                   convolutional ones (benchmarks/README.md)."""


def _backends_started() -> bool:
    try:
        from jax._src.xla_bridge import backends_are_initialized
    except ImportError:  # another JAX layout: the caller's word is all we have
        return False
    return backends_are_initialized()


def set_xla_threads(n: int) -> None:
    """Size XLA:CPU's thread pool to ``n`` threads (``PJRT_NPROC``). JAX reads it when it
    starts its CPU client, so call this before the first JAX computation; importing the
    shim starts none. Raises ValueError for ``n < 1`` and RuntimeError once JAX has started."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"--xla-threads must be a positive integer, got {n!r}")
    if _backends_started():
        raise RuntimeError("set_xla_threads: JAX has already started its backends; set "
                           "PJRT_NPROC before the first JAX computation")
    os.environ["PJRT_NPROC"] = str(n)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        raise SystemExit(0 if argv else 2)
    if argv[0] == "--xla-threads" or argv[0].startswith("--xla-threads="):
        value = argv[0].partition("=")[2] if "=" in argv[0] else (argv[1] if len(argv) > 1 else "")
        argv = argv[1:] if "=" in argv[0] else argv[2:]
        try:
            set_xla_threads(int(value))
        except ValueError:
            raise SystemExit(f"--xla-threads must be a positive integer, got {value!r}") from None
        if not argv:
            raise SystemExit(_USAGE)
    run(argv[0], argv[1:])
