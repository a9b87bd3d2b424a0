"""The embargo lift at scale: 100,000 embargoed datasets, 1,000 of them due.

Bulk-loads the datasets and their policies with SQL (creating 100,000
datasets through the API would take hours), prints PostgreSQL's plan for the
lift's selection (it must read only due rows, through the partial index), then
times `ckan governance embargo lift` (lift, ledger events, notifications and
reindexing of the 1,000 due datasets).

    make bench-embargo    (or: .venv/bin/python benchmarks/embargo_lift.py)
"""
from __future__ import annotations

import subprocess
import time

import overhead
from export_memory import psql

TOTAL, DUE = 100_000, 1_000

LOAD = f"""
TRUNCATE governance_dataset_policy, governance_event, governance_notification CASCADE;
DELETE FROM package WHERE name LIKE 'embargo-bench-%';
INSERT INTO package (id, name, title, state, type, private, metadata_created, metadata_modified)
SELECT 'embargo-bench-' || g, 'embargo-bench-' || g, 'Embargo bench ' || g, 'active', 'dataset',
       false, now(), now()
  FROM generate_series(1, {TOTAL}) AS g;
INSERT INTO governance_dataset_policy (package_id, access_tier, embargo_until)
SELECT 'embargo-bench-' || g, 'open',
       CASE WHEN g <= {DUE} THEN now() - make_interval(mins => g)
            ELSE now() + make_interval(days => 30 + g % 300) END
  FROM generate_series(1, {TOTAL}) AS g;
ANALYZE governance_dataset_policy;
"""

PLAN = r'''
import sys
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import ckan.model as model
from ckanext.governance import access, embargo
with app._wsgi_app.test_request_context():
    query = embargo.due_for_lift(access.utcnow())
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    for (line,) in model.Session.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)):
        print("   ", line)
    model.Session.rollback()
'''


def main() -> None:
    with overhead.governance_site("embargo", 5098) as (ini, env):
        psql(LOAD)
        print(f"{TOTAL:,} embargoed datasets, {DUE:,} due. Plan of the lift's selection:")
        print(overhead.run(overhead.PYTHON, "-c", PLAN, str(ini), env=env))
        start = time.perf_counter()
        out = subprocess.run([overhead.CKAN, "-c", str(ini), "governance", "embargo", "lift"],
                             env=env, capture_output=True, text=True, check=True).stdout
        elapsed = time.perf_counter() - start
        print(f"ckan governance embargo lift: {out.strip()} in {elapsed:.1f} s "
              f"({elapsed / DUE * 1000:.1f} ms per lifted dataset, reindex included)")
        again = time.perf_counter()
        out = subprocess.run([overhead.CKAN, "-c", str(ini), "governance", "embargo", "lift"],
                             env=env, capture_output=True, text=True, check=True).stdout
        print(f"second run: {out.strip()} in {time.perf_counter() - again:.1f} s")
        psql("TRUNCATE governance_dataset_policy, governance_event, governance_notification CASCADE; "
             "DELETE FROM package WHERE name LIKE 'embargo-bench-%'")


if __name__ == "__main__":
    main()
