"""Compare CKAN's own tests run without and with governance.

Usage: compare.py BASELINE.json GOVERNANCE.json KNOWN_DIFFERENCES.txt

A regression is a test that passed in the baseline and did not pass with
governance appended. Each one must be listed in KNOWN_DIFFERENCES.txt
(``<node id> | <reason>`` per line, ``#`` comments); an unlisted one makes
the exit status 1. Listed tests that now pass are reported, not fatal (a
subset run does not run every listed test).
"""
from __future__ import annotations

import json
import pathlib
import sys
from collections import Counter


def load_known(path: pathlib.Path) -> dict[str, str]:
    known: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, sep, reason = line.rpartition(" | ")
        if not sep or not reason.strip():
            raise SystemExit(f"{path}:{number}: expected '<node id> | <reason>'")
        known[nodeid.strip()] = reason.strip()
    return known


def main(baseline_path: str, governance_path: str, known_path: str) -> int:
    baseline = json.loads(pathlib.Path(baseline_path).read_text())
    governance = json.loads(pathlib.Path(governance_path).read_text())
    known = load_known(pathlib.Path(known_path))

    def summary(results: dict) -> str:
        counts = Counter(r["outcome"] for r in results.values())
        return ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))

    print(f"baseline:        {len(baseline)} tests: {summary(baseline)}")
    print(f"with governance: {len(governance)} tests: {summary(governance)}")

    regressions = {
        nodeid: governance.get(nodeid, {"outcome": "not run", "message": ""})
        for nodeid, result in baseline.items()
        if result["outcome"] == "passed"
        and governance.get(nodeid, {}).get("outcome") != "passed"
    }
    listed = {n: r for n, r in regressions.items() if n in known}
    unlisted = {n: r for n, r in regressions.items() if n not in known}
    fixed = sorted(n for n in known if n in governance and governance[n]["outcome"] == "passed")
    gained = sorted(n for n, r in governance.items()
                    if r["outcome"] == "passed" and baseline.get(n, {}).get("outcome") not in (None, "passed"))

    print(f"regressions: {len(regressions)} ({len(listed)} listed in {known_path}, {len(unlisted)} not)")
    for nodeid in sorted(listed):
        print(f"  listed    {nodeid}\n            {known[nodeid]}")
    for nodeid, result in sorted(unlisted.items()):
        print(f"  UNLISTED  {nodeid}\n            {result['outcome']}: {result['message']}")
    if fixed:
        print(f"listed but passing now ({len(fixed)}): remove them from {known_path}")
        for nodeid in fixed:
            print(f"  {nodeid}")
    if gained:
        print(f"pass only with governance ({len(gained)}):")
        for nodeid in gained:
            print(f"  {nodeid} (baseline: {baseline[nodeid]['outcome']})")
    return 1 if unlisted else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
