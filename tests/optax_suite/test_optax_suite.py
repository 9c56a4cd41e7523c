"""optax 0.2.8's own tests that pass on optjax keep passing (a regression fails CI).

``passing.json`` lists, per optax test file, the tests that passed when it was last
recorded (``python tools/optax_suite.py --write-passing``) with their run time. Each file
runs in its own process with the optjax shim (``shim.py``). To keep CI short, a file whose
passing tests take longer than ``FILE_BUDGET_S`` runs its fastest tests that fit in it;
``python tools/optax_suite.py`` runs everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FILE_BUDGET_S = 15.0

pytest.importorskip("optax")
pytest.importorskip("absl")

with open(os.path.join(HERE, "passing.json")) as fh:
    PASSING: dict[str, dict[str, float]] = json.load(fh)


def ci_selection(tests: dict[str, float], budget: float = FILE_BUDGET_S) -> list[str]:
    """The fastest tests whose recorded times fit in ``budget`` (all of them if they fit)."""
    chosen, total = [], 0.0
    for name, secs in sorted(tests.items(), key=lambda kv: (kv[1], kv[0])):
        if total + secs > budget and chosen:
            break
        chosen.append(name)
        total += secs
    return sorted(chosen)


@pytest.mark.parametrize("path", sorted(f for f, t in PASSING.items() if t))
def test_optax_file_still_passes_on_optjax(path):
    only = ci_selection(PASSING[path])
    cmd = [sys.executable, os.path.join(HERE, "run_file.py"), path, "--only", *only]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"{path}: the runner crashed:\n{out.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["import_error"] is None, f"{path}: {result['import_error']}"
    broken = {k: v for k, v in result["tests"].items() if v != "pass"}
    assert not broken, (f"{path}: optax tests that passed on optjax now do not: {broken}\n"
                        f"rerun: OPTAX_SUITE_VERBOSE=1 python tests/optax_suite/run_file.py {path} "
                        f"--only {' '.join(sorted(broken))}\n{out.stderr[-3000:]}")


def test_deliberate_differences_are_not_recorded_as_passing():
    """A test listed as a deliberate difference (or failing on optax) is not also in passing.json."""
    sys.path.insert(0, HERE)
    from files import DELIBERATE, FAIL_ON_OPTAX, SUITE_FILES

    for path, tests in list(DELIBERATE.items()) + list(FAIL_ON_OPTAX.items()):
        assert path in SUITE_FILES, path
        assert not set(tests) & set(PASSING.get(path, {})), (path, set(tests) & set(PASSING.get(path, {})))
