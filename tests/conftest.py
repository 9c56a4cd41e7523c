"""Test setup: 8 simulated CPU devices (for the sharding tests) and x64 available.

XLA_FLAGS must be set before jax is first imported, so this file does it.

Tests that need an optional package (optax, flax, torch, the notebook runners) ask for it
with ``pytest.importorskip``: outside CI a missing package skips them with the reason
"could not import ...". In CI (the ``CI`` environment variable set, as ``.ci/run`` does)
every such package must be there, because ``pip install -e ".[test]"`` installs it, so the
same skip is turned into a failure: a comparison against a live peer never passes by not
running.
"""

import os

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
# pytest.importorskip's reason starts with this
_MISSING = "could not import"


def _fail_missing_in_ci(report):
    if not (IN_CI and report.skipped and isinstance(report.longrepr, tuple)):
        return
    reason = str(report.longrepr[2])
    if _MISSING in reason:
        report.outcome = "failed"
        report.longrepr = (f"{reason.removeprefix('Skipped: ')}\nCI runs every test: "
                           "this package belongs in pyproject.toml's `test` extra "
                           "(pip install -e \".[test]\").")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_missing_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_missing_in_ci(outcome.get_result())
