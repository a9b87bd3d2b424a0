"""The agreement check at 10,000 and 1,000,000 acceptances: same queries, indexed.

Bulk-loads with SQL (creating a million acceptances through the API would take
hours) one organisation, 50,000 users, 50 agreements of four versions each
(material and minor), 120 datasets of tier ``agreement`` with three resources
each, and then the acceptances, spread over users, versions and 1,000 days
(some past an agreement's renewal period). One researcher has accepted every
agreement's required version, one newcomer has accepted none.

At each size it counts the SQL statements (a ``before_cursor_execute``
listener on the engine) and times, median of 50 runs, the decision for one
dataset (``access.gates`` and the whole ``package_show``) and for a page of
100 (``access.gates`` and ``package_search`` with rows=100, through Apache
Solr 9), for both users. At 1,000,000 it prints PostgreSQL's plan of the
decision's query for the page, which must reach governance_acceptance through
an index, never a sequential scan.

    make bench-agreements (or: .venv/bin/python benchmarks/agreement_scale.py)
"""
from __future__ import annotations

import json
import sys
import time

import overhead
from export_memory import psql

SIZES = (10_000, 1_000_000)
USERS, AGREEMENTS, VERSIONS, DATASETS, RUNS = 50_000, 50, 4, 120, 50
RESEARCHER, NEWCOMER = "agreement-bench-researcher", "agreement-bench-newcomer"
# The researcher's own acceptances: version 1 of every agreement long ago (past
# any renewal period), version 3 (required where it is material) a month ago.
RESEARCHER_ROWS = 2 * AGREEMENTS

CLEAN = overhead.delete_named("agreement-bench-", """
TRUNCATE governance_acceptance, governance_agreement_version, governance_agreement,
         governance_dataset_policy, governance_event, governance_notification,
         governance_embargo_subscription CASCADE;""")

# Ids look like CKAN's (UUIDs), derived from the names so every statement can
# compute them. Agreement a requires version 3 when a is even (v3 material),
# version 1 otherwise; every third agreement must be renewed after a year.
LOAD = f"""
INSERT INTO "group" (id, name, title, state, type, is_organization, approval_status, created)
VALUES (md5('agreement-bench-org')::uuid::text, 'agreement-bench-org', 'Agreement bench',
        'active', 'organization', true, 'approved', now());
INSERT INTO "user" (id, name, email, state, sysadmin, created)
SELECT md5(n)::uuid::text, n, n || '@example.org', 'active', false, now()
  FROM (SELECT 'agreement-bench-user-' || g AS n FROM generate_series(1, {USERS}) AS g
        UNION ALL VALUES ('{RESEARCHER}'), ('{NEWCOMER}'), ('agreement-bench-publisher')) AS u;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
VALUES (md5('agreement-bench-publisher-member')::uuid::text, md5('agreement-bench-org')::uuid::text,
        md5('agreement-bench-publisher')::uuid::text, 'user', 'admin', 'active');
INSERT INTO governance_agreement (id, name, owner_org, title, renewal_days)
SELECT 'agreement-bench-ag-' || a, 'agreement-bench-ag-' || a, md5('agreement-bench-org')::uuid::text,
       'Agreement ' || a, CASE WHEN a % 3 = 0 THEN 365 END
  FROM generate_series(0, {AGREEMENTS - 1}) AS a;
INSERT INTO governance_agreement_version (id, agreement_id, number, title, body, sha256, material,
                                          created)
SELECT 'agreement-bench-ag-' || a || '-v' || v, 'agreement-bench-ag-' || a, v, 'Agreement ' || a,
       'Terms, version ' || v, md5(a || '-' || v) || md5(v || '-' || a),
       v = 1 OR (v = 3 AND a % 2 = 0), now() - make_interval(days => 1000 - 200 * v)
  FROM generate_series(0, {AGREEMENTS - 1}) AS a, generate_series(1, {VERSIONS}) AS v;
INSERT INTO package (id, name, title, notes, state, type, private, owner_org, creator_user_id,
                     metadata_created, metadata_modified)
SELECT md5('agreement-bench-ds-' || i)::uuid::text, 'agreement-bench-ds-' || lpad(i::text, 3, '0'),
       'Agreement bench ' || i, 'Data behind an agreement', 'active', 'dataset', false,
       md5('agreement-bench-org')::uuid::text, md5('agreement-bench-publisher')::uuid::text,
       now(), now()
  FROM generate_series(1, {DATASETS}) AS i;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
SELECT md5('agreement-bench-ds-member-' || i)::uuid::text, md5('agreement-bench-org')::uuid::text,
       md5('agreement-bench-ds-' || i)::uuid::text, 'package', 'organization', 'active'
  FROM generate_series(1, {DATASETS}) AS i;
INSERT INTO resource (id, package_id, url, name, format, position, state, created,
                      metadata_modified)
SELECT md5('agreement-bench-res-' || i || '-' || r)::uuid::text,
       md5('agreement-bench-ds-' || i)::uuid::text,
       'https://data.example.org/agreement/' || i || '/' || r || '.csv', 'File ' || r, 'CSV', r,
       'active', now(), now()
  FROM generate_series(1, {DATASETS}) AS i, generate_series(0, 2) AS r;
INSERT INTO governance_dataset_policy (package_id, access_tier, agreement_id)
SELECT md5('agreement-bench-ds-' || i)::uuid::text, 'agreement',
       'agreement-bench-ag-' || (i % {AGREEMENTS})
  FROM generate_series(1, {DATASETS}) AS i;
ANALYZE package; ANALYZE member; ANALYZE resource; ANALYZE "user";
ANALYZE governance_agreement; ANALYZE governance_agreement_version;
ANALYZE governance_dataset_policy;
"""

# Row g goes to user g mod USERS; a user's k-th acceptance is of version slot
# (37 u + 7 k) mod 200, distinct for the 20 a user gets at 1M (one record per
# user and version). Dates spread over 1,000 days.
ACCEPT = f"""
TRUNCATE governance_acceptance;
INSERT INTO governance_acceptance (user_id, agreement_id, version_id, version_number, package_id,
                                   created, channel, text_sha256, typed_name)
SELECT md5('{RESEARCHER}')::uuid::text, 'agreement-bench-ag-' || a,
       'agreement-bench-ag-' || a || '-v' || v, v, NULL,
       now() - make_interval(days => CASE WHEN v = 1 THEN 700 ELSE 30 END), 'web',
       md5(a || '-' || v) || md5(v || '-' || a), 'Rea Searcher'
  FROM generate_series(0, {AGREEMENTS - 1}) AS a, generate_series(1, 3, 2) AS v;
INSERT INTO governance_acceptance (user_id, agreement_id, version_id, version_number, package_id,
                                   created, channel, text_sha256, typed_name)
SELECT md5('agreement-bench-user-' || (u + 1))::uuid::text, 'agreement-bench-ag-' || s / {VERSIONS},
       'agreement-bench-ag-' || s / {VERSIONS} || '-v' || (s % {VERSIONS} + 1), s % {VERSIONS} + 1,
       CASE WHEN g % 3 = 0 THEN md5('agreement-bench-ds-' || (g % {DATASETS} + 1))::uuid::text END,
       now() - make_interval(days => (g::bigint * 7919 % 1000)::int, secs => g % 86400),
       CASE WHEN g % 4 = 0 THEN 'api' ELSE 'web' END,
       md5(s / {VERSIONS} || '-' || (s % {VERSIONS} + 1)) || md5((s % {VERSIONS} + 1) || '-' || s / {VERSIONS}),
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'User ' || (u + 1) END
  FROM (SELECT g, g % {USERS} AS u,
               ((g % {USERS}) * 37 + (g / {USERS}) * 7) % ({AGREEMENTS} * {VERSIONS}) AS s
          FROM generate_series(0, {{generated}} - 1) AS g) AS x;
ANALYZE governance_acceptance;
"""

MEASURE = r'''
import json, statistics, sys, time
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
import sqlalchemy as sa
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckanext.governance import access

runs, reindex, explain = int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
users = {"accepted": sys.argv[5], "not accepted": sys.argv[6]}
statements = []
sa.event.listen(model.meta.engine, "before_cursor_execute",
                lambda conn, cursor, statement, *rest: statements.append(statement))
with app._wsgi_app.test_request_context():
    ids = [pid for (pid,) in model.Session.execute(sa.text(
        "SELECT id FROM package WHERE name LIKE 'agreement-bench-ds-%' ORDER BY name"))]
    page, search_page = ids[:100], {"fq": "organization:agreement-bench-org", "rows": 100}
    if reindex:
        search.rebuild(package_ids=ids, quiet=True)
        search.commit()
    model.Session.remove()

    def as_user(name):  # the context CKAN's API view builds
        return {"user": name, "auth_user_obj": model.User.get(name)}

    # What is measured must be the decision being made: check it first.
    for label, name in users.items():
        decided = access.gates(as_user(name), page)
        found = tk.get_action("package_search")(as_user(name), dict(search_page))["results"]
        urls = {bool(r["url"]) for d in found for r in d["resources"]}
        want = label == "accepted"
        if (len(decided) != 100 or {g.can_access for g in decided.values()} != {want}
                or len(found) != 100 or urls != {want}):
            sys.exit(f"unexpected decisions for {name}: {len(decided)} gates, "
                     f"{ {g.decision.reason for g in decided.values()} }, {len(found)} results")
        model.Session.remove()

    calls = {
        "gates, 1 dataset": lambda c: access.gates(c, page[:1]),
        "package_show": lambda c: tk.get_action("package_show")(c, {"id": page[0]}),
        "gates, 100 datasets": lambda c: access.gates(c, page),
        "package_search rows=100": lambda c: tk.get_action("package_search")(c, dict(search_page)),
    }
    results = []
    for call, run in calls.items():
        for label, name in users.items():
            counts, times = [], []
            for i in range(5 + runs):  # five to warm up
                context = as_user(name)
                del statements[:]
                start = time.perf_counter()
                run(context)
                elapsed = time.perf_counter() - start
                if i >= 5:
                    counts.append(len(statements))
                    times.append(elapsed)
                model.Session.remove()  # as at the end of a request
            results.append({"call": call, "viewer": label, "queries": sorted(set(counts)),
                            "ms": statistics.median(times) * 1000})

    plan = []
    if explain:
        user_id = model.User.get(users["accepted"]).id
        plan = [line for (line,) in model.Session.execute(
            sa.text("EXPLAIN (ANALYZE, BUFFERS) " + access.facts_query().text),
            {"user_id": user_id, "ids": page, "now": access.utcnow()})]
        model.Session.rollback()
print(json.dumps({"results": results, "plan": plan}))
'''


def main() -> None:
    with overhead.governance_site("agreements", 5097) as (ini, env):
        psql(CLEAN)
        psql(LOAD)
        measured: dict[int, list[dict]] = {}
        plan: list[str] = []
        for size in SIZES:
            start = time.perf_counter()
            psql(ACCEPT.format(generated=size - RESEARCHER_ROWS))
            print(f"loaded {size:,} acceptances in {time.perf_counter() - start:.1f} s ...",
                  file=sys.stderr)
            out = overhead.run(overhead.PYTHON, "-c", MEASURE, str(ini), str(RUNS),
                               "1" if size == SIZES[0] else "0", "1" if size == SIZES[-1] else "0",
                               RESEARCHER, NEWCOMER, env=env)
            found = json.loads(out.strip().splitlines()[-1])
            measured[size] = found["results"]
            plan = found["plan"] or plan

        print(f"{USERS:,} users, {AGREEMENTS} agreements of {VERSIONS} versions, "
              f"{DATASETS} datasets of tier agreement; median of {RUNS} runs")
        print(f"\n{'acceptances':>11}  {'call':<24} {'viewer':<13} {'queries':>7} {'median':>10}")
        for size in SIZES:
            for row in measured[size]:
                low, high = row["queries"][0], row["queries"][-1]
                queries = str(low) if low == high else f"{low}-{high}"
                print(f"{size:>11,}  {row['call']:<24} {row['viewer']:<13} {queries:>7}"
                      f" {row['ms']:>8.2f}ms")

        print(f"\nPlan of the decision's query for 100 datasets at {SIZES[-1]:,} acceptances"
              " (the researcher):")
        for line in plan:  # the 100 ids make one line very long
            print("   ", line if len(line) <= 150 else line[:147] + "...")
        touching = [line.strip() for line in plan if "governance_acceptance" in line]
        seq_scan = any("Seq Scan on governance_acceptance" in line for line in plan)
        print(f"governance_acceptance read by: {'; '.join(touching) or 'nothing'}")
        print("sequential scan of governance_acceptance: " + ("YES" if seq_scan else "no"))
        small, large = ([(r["call"], r["viewer"], r["queries"]) for r in measured[s]] for s in SIZES)
        print(f"query counts at {SIZES[0]:,} and {SIZES[-1]:,} acceptances: "
              + ("equal" if small == large else f"DIFFERENT ({small} vs {large})"))
        psql(CLEAN)


if __name__ == "__main__":
    main()
