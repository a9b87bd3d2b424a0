"""resource_search with hidden-field terms at 3,000 matches, against plain CKAN.

Bulk-loads with SQL one open dataset with 3,000 resources whose URLs share a
word, one controlled dataset with 300 more, and a logged-in user who may not
have the controlled data. Then times, median of 30 runs after 3 to warm up,
in one process over the same database:

- CKAN's own ``resource_search`` (the core function, no plugin in the chain);
- the action as the site runs it (``governance`` chained), for an anonymous
  caller and for the logged-in one;

for a ``url:`` term with ``limit=10``, the same with ``order_by=url``, and a
term on a visible field (``name:``) with ``order_by=url``. It checks the
counts (plain CKAN counts the controlled resources too, the plugin does not),
prints one line per case with both medians and their ratio, and removes what
it loaded.

    .venv/bin/python benchmarks/resource_search.py --ini test.ini

Any ini whose database has the governance tables migrated will do (a test
database after a test run, or the bench one); it asserts nothing about speed.
"""
from __future__ import annotations

import argparse
import statistics
import time

RUNS, WARMUPS, OPEN_N, CLOSED_N = 30, 3, 3_000, 300
PREFIX = "rs-bench-"

CLEAN = f"""
DELETE FROM resource WHERE package_id IN (SELECT id FROM package WHERE name LIKE '{PREFIX}%');
DELETE FROM governance_dataset_policy
 WHERE package_id IN (SELECT id FROM package WHERE name LIKE '{PREFIX}%');
DELETE FROM package WHERE name LIKE '{PREFIX}%';
DELETE FROM "user" WHERE name LIKE '{PREFIX}%';
"""

LOAD = f"""
INSERT INTO "user" (id, name, email, state, sysadmin, created)
VALUES (md5('{PREFIX}user')::uuid::text, '{PREFIX}user', 'rs@example.org', 'active', false, now());
INSERT INTO package (id, name, title, state, type, private, metadata_created, metadata_modified)
VALUES (md5('{PREFIX}open')::uuid::text, '{PREFIX}open', 'Open', 'active', 'dataset', false, now(), now()),
       (md5('{PREFIX}closed')::uuid::text, '{PREFIX}closed', 'Closed', 'active', 'dataset', false,
        now(), now());
INSERT INTO governance_dataset_policy (package_id, access_tier)
VALUES (md5('{PREFIX}open')::uuid::text, 'open'), (md5('{PREFIX}closed')::uuid::text, 'controlled');
INSERT INTO resource (id, package_id, url, name, format, position, state, created, metadata_modified)
SELECT md5('{PREFIX}res-' || k || i)::uuid::text, md5('{PREFIX}' || k)::uuid::text,
       'https://bench.example.org/zzrsbench/' || k || '/' || i || '.csv', 'Part ' || i, 'CSV', i,
       'active', now(), now()
  FROM (SELECT 'open' AS k, i FROM generate_series(1, {OPEN_N}) AS i
        UNION ALL SELECT 'closed', i FROM generate_series(1, {CLOSED_N}) AS i) AS x;
ANALYZE resource; ANALYZE package; ANALYZE governance_dataset_policy;
"""

CASES = {
    "url:zzrsbench, limit 10": {"query": "url:zzrsbench", "limit": 10},
    "url:zzrsbench, order_by url, limit 10": {"query": "url:zzrsbench", "order_by": "url", "limit": 10},
    "name:part, order_by url, limit 10": {"query": "name:part", "order_by": "url", "limit": 10},
}


def median_ms(run) -> float:
    import ckan.model as model

    times = []
    for i in range(WARMUPS + RUNS):
        start = time.perf_counter()
        run()
        if i >= WARMUPS:
            times.append(time.perf_counter() - start)
        model.Session.remove()  # as at the end of a request
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=True)
    args = parser.parse_args()

    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(args.ini))
    import sqlalchemy as sa

    import ckan.model as model
    import ckan.plugins.toolkit as tk
    from ckan.logic.action.get import resource_search as plain

    def sql(script: str) -> None:
        for statement in filter(str.strip, script.split(";")):
            model.Session.execute(sa.text(statement))
        model.Session.commit()

    with app._wsgi_app.test_request_context():
        sql(CLEAN)
        sql(LOAD)
        try:
            callers = {"anonymous": "", "logged-in": f"{PREFIX}user"}
            print(f"{'case':42} {'caller':10} {'CKAN ms':>8} {'ours ms':>8} {'ratio':>6}  counts")
            for label, data in CASES.items():
                for caller, user in callers.items():
                    def ckan_call():
                        return plain({"user": user, "model": model, "session": model.Session}, dict(data))

                    def ours_call():
                        return tk.get_action("resource_search")({"user": user}, dict(data))

                    counts = (ckan_call()["count"], ours_call()["count"])
                    gated_counted = data["query"].startswith("url:")
                    want = (OPEN_N + CLOSED_N, OPEN_N if gated_counted else OPEN_N + CLOSED_N)
                    assert counts == want, (label, caller, counts)
                    a, b = median_ms(ckan_call), median_ms(ours_call)
                    print(f"{label:42} {caller:10} {a:8.1f} {b:8.1f} {b / a:6.2f}  {counts}")
        finally:
            sql(CLEAN)


if __name__ == "__main__":
    main()
