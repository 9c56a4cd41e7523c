"""An ``optax`` that serves optjax's names, for running optax 0.2.8's own test files.

optax's tests import the library's modules (``from optax._src import alias``,
``from optax.transforms import _clipping``, ``import optax.tree``). :func:`install`
imports the real optax once (its test utilities stay real: ``optax._src.test_utils``,
``optax.losses``), then replaces every other ``optax*`` entry of ``sys.modules`` with a
proxy module whose attributes are looked up in optjax only:

* ``optax.tree.X`` / ``optax.tree_utils.X``  -> ``optjax.tree.X``
* ``optax.contrib.X`` (and its submodules)   -> ``optjax.contrib.X``
* any other ``optax...X``                     -> ``optjax.X``

A name optjax lacks raises ``AttributeError`` naming it, so a test that needs it fails:
the pass rate measures optjax alone. Test files themselves (``*_test.py``) are loaded
from the installed optax wheel with the proxies in place.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import types

# real optax modules the tests may use as tools, not as the library under test
REAL_PREFIXES = ("optax._src.test_utils", "optax.losses", "optax._src.loss", "optax.assignment")
# type aliases only (used in annotations; no behaviour) and test helpers: served from the
# real optax when optjax has no such name
TYPING_NAMES = frozenset({"ArrayTree", "Numeric", "Shape", "PyTree", "OptState", "Params", "Updates",
                          "PRNGKey", "Schedule", "ScalarOrSchedule", "ScheduleState", "ValueFn",
                          "TransformInitFn", "TransformUpdateFn", "TransformUpdateExtraArgsFn",
                          "ArrayLike", "NDArray"})
# test helpers that live in optax's library modules (no optimizer behaviour)
TEST_HELPERS = frozenset({"x64_precision"})


class OptjaxProxy(types.ModuleType):
    """A module named like an optax module whose attributes are optjax's."""

    def __init__(self, name: str, real: types.ModuleType, sources: list[types.ModuleType]):
        super().__init__(name, getattr(real, "__doc__", None))
        self.__spec__ = getattr(real, "__spec__", None)
        self.__file__ = getattr(real, "__file__", None)
        if hasattr(real, "__path__"):
            self.__path__ = list(real.__path__)  # so optax's *_test.py files can be imported
        self.__package__ = name if hasattr(real, "__path__") else name.rpartition(".")[0]
        self._sources = sources
        self._real = real

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        sub = sys.modules.get(f"{self.__name__}.{attr}")
        if sub is not None:
            return sub
        for src in self._sources:
            if hasattr(src, attr):
                return getattr(src, attr)
        if (attr in TYPING_NAMES or attr in TEST_HELPERS) and hasattr(self._real, attr):
            return getattr(self._real, attr)
        raise AttributeError(f"optjax has no {attr!r} (asked for as {self.__name__}.{attr})")


_OPTAX_DIR: list[str] = []


def optax_dir() -> str:
    """The installed optax package's folder (found before the proxies replace it)."""
    if _OPTAX_DIR:
        return _OPTAX_DIR[0]
    spec = importlib.util.find_spec("optax")
    if spec is None or spec.origin is None:
        raise ImportError("optax is not installed: the optax suite needs optax 0.2.8's test files")
    _OPTAX_DIR.append(os.path.dirname(spec.origin))
    return _OPTAX_DIR[0]


# optax modules whose names optjax also keeps in a module of its own
MODULE_MAP = {
    "optax._src.numerics": "optjax.numerics",
    "optax._src.base": "optjax.base",
    "optax._src.combine": "optjax.combine",
    "optax._src.update": "optjax.updates",
    "optax._src.utils": "optjax.utils",
    "optax._src.linear_algebra": "optjax.linear_algebra",
    "optax._src.linesearch": "optjax.optimizers.zoom_linesearch",
    "optax._src.transform": "optjax.optimizers.lbfgs",
}


# optax's private helpers that its tests call directly, served by optjax's equivalent
# (module -> {optax's name: "optjax.module:name"})
PRIVATE_ALIASES = {
    "optax.transforms._masking": {"_mask_callable": "optjax.tree:is_called_spec"},
    "optax.contrib._muon": {"_compute_muon_reshape": "optjax.contrib.muon:_compute_muon_reshape"},
}


class _Aliases(types.SimpleNamespace):
    """A source whose attributes are optjax functions under optax's private names."""


def _aliases_for(name: str) -> list[types.ModuleType]:
    out = {}
    for attr, target in PRIVATE_ALIASES.get(name, {}).items():
        mod, _, fn = target.partition(":")
        out[attr] = getattr(importlib.import_module(mod), fn)
    return [_Aliases(**out)] if out else []


def _sources_for(name: str) -> list[types.ModuleType]:
    return _own_sources_for(name) + _aliases_for(name)


def _own_sources_for(name: str) -> list[types.ModuleType]:
    import optjax
    import optjax.tree

    if name in MODULE_MAP:
        own = importlib.import_module(MODULE_MAP[name]) if _has(MODULE_MAP[name]) else None
        return [m for m in (optjax, own) if m is not None]
    if name in ("optax.tree", "optax.tree_utils") or name.startswith(("optax.tree_utils.", "optax.tree.")):
        return [optjax.tree]
    if name == "optax.contrib" or name.startswith("optax.contrib."):
        # only optjax.contrib: optjax's own names (its torch-style muon) have other signatures
        return [importlib.import_module("optjax.contrib")] if _has("optjax.contrib") else []
    return [optjax]


def _has(modname: str) -> bool:
    try:
        importlib.import_module(modname)
        return True
    except ImportError:
        return False


def install() -> None:
    """Replace optax's modules in ``sys.modules`` by proxies serving optjax's names."""
    import optax  # noqa: F401  (the real one, imported once so its test utilities work)
    import optax._src.test_utils  # noqa: F401

    root = optax_dir()
    for info in pkgutil.walk_packages([root], "optax."):
        if info.name.endswith("_test") or "_test." in info.name:
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001  (optional-dependency modules of optax)
            pass
    for name in sorted(n for n in list(sys.modules) if n == "optax" or n.startswith("optax.")):
        if name.startswith(REAL_PREFIXES) or name.endswith("_test"):
            continue
        real = sys.modules[name]
        sys.modules[name] = OptjaxProxy(name, real, _sources_for(name))
    # `import optax.x` binds attributes on the parent: point them at the proxies
    for name, mod in list(sys.modules.items()):
        if isinstance(mod, OptjaxProxy) and "." in name:
            parent, _, child = name.rpartition(".")
            if isinstance(sys.modules.get(parent), OptjaxProxy):
                object.__setattr__(sys.modules[parent], child, mod)
