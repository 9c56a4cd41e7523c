"""Run optax 0.2.8's own test files on optjax and print the pass rate per file.

    python tools/optax_suite.py                 # optjax standing in for optax
    python tools/optax_suite.py --real          # the same files on the real optax (baseline)
    python tools/optax_suite.py --write-passing # also record the passing tests for CI
    python tools/optax_suite.py --files optax/_src/alias_test.py
    python tools/optax_suite.py --files optax/_src/alias_test.py --only AliasTest.test_optimization53 --write-passing

Each file runs in its own process (``tests/optax_suite/run_file.py``). Failures listed in
``tests/optax_suite/files.py`` as ``DELIBERATE`` (optjax differs by design) or
``FAIL_ON_OPTAX`` (the real optax fails them here too) are counted apart in the note. With
``--write-passing`` the ids of the tests that pass on optjax (with their run time in seconds) are written to
``tests/optax_suite/passing.json`` (merged: tests already listed stay listed, so the list
only grows); ``tests/optax_suite/test_optax_suite.py`` runs exactly those in CI, so a test
that passed once and breaks fails CI. Re-run with ``--write-passing`` after adding names.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SUITE = os.path.join(REPO, "tests", "optax_suite")
sys.path.insert(0, SUITE)

from files import DELIBERATE, FAIL_ON_OPTAX, SUITE_FILES  # noqa: E402


def run_file(path: str, real: bool, only: list[str] | None = None, timeout: float = 1800) -> dict:
    cmd = [sys.executable, os.path.join(SUITE, "run_file.py"), path]
    if real:
        cmd.append("--real")
    if only is not None:
        cmd += ["--only", *only]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"file": path, "tests": {}, "import_error": f"timed out after {timeout}s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"file": path, "tests": {}, "import_error": f"crashed: {out.stderr[-800:]}"}
    return json.loads(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", action="store_true", help="run on the real optax (baseline)")
    ap.add_argument("--files", nargs="*", default=None, help="optax test files (default: all)")
    ap.add_argument("--write-passing", action="store_true", help="write tests/optax_suite/passing.json")
    ap.add_argument("--json", default=None, help="write the full per-test results here")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run just these test ids (Class.method) of the given file(s)")
    args = ap.parse_args()

    files = args.files or SUITE_FILES
    results = []
    print(f"{'file':45s} {'pass':>5s} {'total':>5s} {'rate':>6s} {'secs':>5s}  note")
    tot_p = tot_n = 0
    for f in files:
        t0 = time.time()
        r = run_file(f, args.real, args.only)
        results.append(r)
        n = len(r["tests"])
        p = sum(v == "pass" for v in r["tests"].values())
        skips = sum(v == "skip" for v in r["tests"].values())
        tot_p, tot_n = tot_p + p, tot_n + n
        failed = {k for k, v in r["tests"].items() if v in ("fail", "error")}
        notes = [f"{skips} skipped" if skips else ""]
        if not args.real:
            notes.append(f"{len(failed & set(DELIBERATE.get(f, {})))} deliberate" if failed & set(DELIBERATE.get(f, {}))
                         else "")
            notes.append(f"{len(failed & set(FAIL_ON_OPTAX.get(f, ())))} fail on optax too"
                         if failed & set(FAIL_ON_OPTAX.get(f, ())) else "")
        note = r["import_error"][:70] if r["import_error"] else ", ".join(n for n in notes if n)
        rate = f"{100 * p / n:5.1f}%" if n else "   -  "
        print(f"{f:45s} {p:5d} {n:5d} {rate} {time.time() - t0:5.0f}  {note}", flush=True)
    print(f"{'TOTAL':45s} {tot_p:5d} {tot_n:5d} {100 * tot_p / max(tot_n, 1):5.1f}%")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, sort_keys=True)
    if args.write_passing and not args.real:
        path = os.path.join(SUITE, "passing.json")
        old = {}
        if os.path.exists(path):
            with open(path) as fh:
                old = json.load(fh)
        for r in results:
            # merge: a test recorded as passing stays listed (if it fails now, CI says so)
            secs = r.get("seconds", {})
            merged = dict(old.get(r["file"], {}))
            merged.update({k: secs.get(k, 0.0) for k in r["tests"] if r["tests"][k] == "pass"})
            lost = sorted(k for k in old.get(r["file"], {}) if r["tests"].get(k, "pass") != "pass")
            if lost:
                print(f"warning: {r['file']}: recorded as passing but not passing now: {lost}")
            old[r["file"]] = dict(sorted(merged.items()))
        with open(path, "w") as fh:
            json.dump(dict(sorted(old.items())), fh, indent=1)
            fh.write("\n")
        print(f"wrote {os.path.relpath(path, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
