"""Run one of optax 0.2.8's test files with the optjax shim, print a JSON result.

    python tests/optax_suite/run_file.py optax/_src/alias_test.py [--real] [--only ID ...]

The path is relative to the installed optax package's parent (``optax/...``). ``--real``
runs the file against the real optax (the baseline: what passes in this environment at
all). ``--only`` runs just the listed test ids (``Class.method``). The last line of
stdout is a JSON object ``{"file", "tests": {id: "pass"|"fail"|"error"|"skip"}, "seconds": {id: s},
"import_error"}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _ids(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _ids(t)
        else:
            yield t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args(argv)

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
    sys.path.insert(0, REPO)  # the checkout's optjax wins
    sys.path.insert(0, HERE)
    import shim  # noqa: E402

    from absl import flags
    flags.FLAGS.mark_as_parsed()

    if not args.real:
        shim.install()
    path = os.path.join(os.path.dirname(shim.optax_dir()), args.file)
    modname = args.file[:-3].replace("/", ".")
    result = {"file": args.file, "tests": {}, "seconds": {}, "import_error": None}
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
    except Exception as e:  # noqa: BLE001
        result["import_error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(result))
        return 0

    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    wanted = set(args.only) if args.only is not None else None
    tests = [t for t in _ids(suite)]

    def tid(t):
        return f"{type(t).__name__}.{t._testMethodName}"

    if wanted is not None:
        tests = [t for t in tests if tid(t) in wanted]
        for missing in wanted - {tid(t) for t in tests}:
            result["tests"][missing] = "missing"
    res = unittest.TestResult()
    res.failfast = False
    for t in tests:
        before = (len(res.failures), len(res.errors), len(res.skipped))
        t0 = time.perf_counter()
        t(res)
        result["seconds"][tid(t)] = round(time.perf_counter() - t0, 3)
        after = (len(res.failures), len(res.errors), len(res.skipped))
        outcome = ("fail" if after[0] > before[0] else "error" if after[1] > before[1]
                   else "skip" if after[2] > before[2] else "pass")
        result["tests"][tid(t)] = outcome
        if outcome in ("fail", "error") and os.environ.get("OPTAX_SUITE_VERBOSE"):
            err = (res.failures if outcome == "fail" else res.errors)[-1][1]
            print(f"--- {tid(t)} {outcome}\n{err[-1500:]}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
