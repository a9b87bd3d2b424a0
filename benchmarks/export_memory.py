"""Peak memory of the ledger's CSV export at 100,000 and 1,000,000 events.

The events are bulk-loaded with SQL (generate_series) into the benchmark
database; `ckan governance events export` then streams them to /dev/null in a
child process whose peak resident memory (ru_maxrss) is reported. Flat memory
means the figure does not grow with the row count.

    make bench-export     (or: .venv/bin/python benchmarks/export_memory.py)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import overhead  # the benchmark database and ini, shared with overhead.py

SIZES = (100_000, 1_000_000)

LOAD = """
INSERT INTO governance_event (created, kind, actor_id, package_id, organization_id, detail)
SELECT now() - make_interval(secs => g), 'download', 'user-' || (g %% 5000),
       'package-' || (g %% 20000), 'org-' || (g %% 50),
       jsonb_build_object('resource_id', 'resource-' || g, 'tier', 'controlled')
  FROM generate_series(1, %d) AS g
"""


psql = overhead.psql  # the other benchmarks import it from here


def export_peak(ini: str, env: dict[str, str]) -> tuple[float, float]:
    """Export every event to /dev/null in a child process: (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [overhead.CKAN, "-c", ini, "governance", "events", "export", "--output", "/dev/null"],
        env=env, stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.exit(f"export failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    overhead.WORK.mkdir(parents=True, exist_ok=True)
    ini = overhead.WORK / "export.ini"
    ini.write_text(overhead.INI.format(port=5099, plugins="governance",
                                       storage=overhead.WORK / "storage"))
    env = dict(os.environ, CKAN_SOLR_URL=os.environ.get("CKAN_SOLR_URL", "http://127.0.0.1:9/solr/none"))
    print("preparing the benchmark database ...", file=sys.stderr)
    overhead.run(overhead.CKAN, "-c", str(ini), "db", "init", env=env)
    overhead.run(overhead.CKAN, "-c", str(ini), "db", "pending-migrations", "--apply", env=env)
    print(f"{'events':>10} {'export s':>9} {'peak RSS':>10}")
    for size in SIZES:
        psql("TRUNCATE governance_event")
        psql(LOAD % size)
        elapsed, peak = export_peak(str(ini), env)
        print(f"{size:>10,} {elapsed:>9.1f} {peak:>8.0f} MB")
    psql("TRUNCATE governance_event")


if __name__ == "__main__":
    main()
