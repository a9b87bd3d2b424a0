"""The review queue and the access decision at 1,000 and 100,000 access requests.

Bulk-loads with SQL (creating 100,000 requests through the API would take
hours) four organisations with one reviewer (admin) each, 20,000 users, 1,000
datasets of tier ``controlled`` with two resources each, spread over the
organisations, and then the requests: pending, approved, rejected, returned
and withdrawn, with their history (governance_request_change) and a grant for
every approved one (active, expired or revoked). A user asks for a dataset at
most twice and the earlier request is then closed, so there is never more than
one open request per user and dataset (the partial unique index). One
researcher holds grants of 50 of the first 100 datasets of the first
organisation, expired or revoked grants of 30, a pending request for 10 and a
returned one for 5.

At each size it counts the SQL statements (a ``before_cursor_execute``
listener on the engine) and times, median of 50 runs:
the review queue of the first organisation for its reviewer, as the action
(``governance_request_list``, state pending, 50 a page) and as the web page
GET /organization/<id>/requests (a Flask test client, an API token in the
Authorization header), also filtered to returned requests, which shows fewer
rows at the small size (a query per row would change the count); and the
decision for a page of 100 datasets (``access.gates`` and ``package_search``
with rows=100, through Apache Solr 9) for the researcher and the reviewer.
At 100,000 it prints PostgreSQL's plans of the queue's queries and of the
decision's query for the page, which must read governance_request and
governance_grant through indexes, never a sequential scan.

    make bench-requests   (or: .venv/bin/python benchmarks/request_scale.py)
"""
from __future__ import annotations

import json
import re
import sys
import time

import overhead
from export_memory import psql

SIZES = (1_000, 100_000)
ORGS, USERS, DATASETS, RUNS = 4, 20_000, 1_000, 50
REVIEWER, RESEARCHER = "request-bench-reviewer-0", "request-bench-researcher"
ORG = "request-bench-org-0"
# The researcher's own requests (the rest of SIZES are generated): for the
# i-th dataset of the first organisation (dataset 4 i), i = 1..100.
RESEARCHER_ROWS = 95

CLEAN = overhead.delete_named("request-bench-", """
TRUNCATE governance_request, governance_request_change, governance_grant CASCADE;""")

# Ids look like CKAN's (UUIDs), derived from the names so every statement can
# compute them. Dataset d (1..1,000) belongs to organisation d mod 4.
LOAD = f"""
INSERT INTO "group" (id, name, title, state, type, is_organization, approval_status, created)
SELECT md5('request-bench-org-' || o)::uuid::text, 'request-bench-org-' || o, 'Request bench ' || o,
       'active', 'organization', true, 'approved', now()
  FROM generate_series(0, {ORGS - 1}) AS o;
INSERT INTO "user" (id, name, email, state, sysadmin, created)
SELECT md5(n)::uuid::text, n, n || '@example.org', 'active', false, now()
  FROM (SELECT 'request-bench-user-' || g AS n FROM generate_series(1, {USERS}) AS g
        UNION ALL SELECT 'request-bench-reviewer-' || o FROM generate_series(0, {ORGS - 1}) AS o
        UNION ALL VALUES ('{RESEARCHER}'), ('request-bench-publisher')) AS u;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
SELECT md5('request-bench-reviewer-member-' || o)::uuid::text, md5('request-bench-org-' || o)::uuid::text,
       md5('request-bench-reviewer-' || o)::uuid::text, 'user', 'admin', 'active'
  FROM generate_series(0, {ORGS - 1}) AS o;
INSERT INTO package (id, name, title, notes, state, type, private, owner_org, creator_user_id,
                     metadata_created, metadata_modified)
SELECT md5('request-bench-ds-' || i)::uuid::text, 'request-bench-ds-' || lpad(i::text, 4, '0'),
       'Request bench ' || lpad(i::text, 4, '0'), 'Data under controlled access', 'active',
       'dataset', false, md5('request-bench-org-' || i % {ORGS})::uuid::text,
       md5('request-bench-publisher')::uuid::text, now(), now()
  FROM generate_series(1, {DATASETS}) AS i;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
SELECT md5('request-bench-ds-member-' || i)::uuid::text, md5('request-bench-org-' || i % {ORGS})::uuid::text,
       md5('request-bench-ds-' || i)::uuid::text, 'package', 'organization', 'active'
  FROM generate_series(1, {DATASETS}) AS i;
INSERT INTO resource (id, package_id, url, name, format, position, state, created,
                      metadata_modified)
SELECT md5('request-bench-res-' || i || '-' || r)::uuid::text, md5('request-bench-ds-' || i)::uuid::text,
       'https://data.example.org/controlled/' || i || '/' || r || '.csv', 'File ' || r, 'CSV', r,
       'active', now(), now()
  FROM generate_series(1, {DATASETS}) AS i, generate_series(0, 1) AS r;
INSERT INTO governance_dataset_policy (package_id, access_tier, grant_days)
SELECT md5('request-bench-ds-' || i)::uuid::text, 'controlled', 365
  FROM generate_series(1, {DATASETS}) AS i;
ANALYZE package; ANALYZE member; ANALYZE resource; ANALYZE "user"; ANALYZE "group";
ANALYZE governance_dataset_policy;
"""

# Slot g goes to user g mod USERS; that user's k-th slot (k = g / USERS) asks
# for dataset (37 u + 7 (k - k mod 2)) mod DATASETS: slots 2j and 2j + 1 of a
# user share a dataset, and then the earlier one (2j) is closed (an open state
# becomes rejected or withdrawn) and 400 days older. States by a hash of g
# (hashtext, so they do not follow the dataset, hence the organisation):
# 20 % pending, 40 % approved, 15 % rejected, 10 % returned, 15 % withdrawn;
# grants of approved requests: 60 % active, 20 % expired, 20 % revoked.
REQUESTS = f"""
TRUNCATE governance_request, governance_request_change, governance_grant CASCADE;
CREATE TEMP TABLE slot AS
SELECT g, u, k, d, d % {ORGS} AS o,
       CASE WHEN k % 2 = 0 AND g + {USERS} < {{generated}} AND raw = 'pending' THEN 'rejected'
            WHEN k % 2 = 0 AND g + {USERS} < {{generated}} AND raw = 'returned' THEN 'withdrawn'
            ELSE raw END AS state,
       now() - make_interval(days => 21 + g * 31 % 365 + CASE WHEN k % 2 = 0 THEN 400 ELSE 0 END,
                             secs => g % 86400) AS created,
       CASE WHEN h / 20 % 10 < 6 THEN 'active' WHEN h / 20 % 10 < 8 THEN 'expired' ELSE 'revoked' END
         AS grant_kind
  FROM (SELECT g, u, k, d, h,
               CASE WHEN h % 20 < 4 THEN 'pending' WHEN h % 20 < 12 THEN 'approved'
                    WHEN h % 20 < 15 THEN 'rejected' WHEN h % 20 < 17 THEN 'returned'
                    ELSE 'withdrawn' END AS raw
          FROM (SELECT g, g % {USERS} + 1 AS u, g / {USERS} AS k,
                       ((g % {USERS} + 1) * 37 + (g / {USERS} - g / {USERS} % 2) * 7) % {DATASETS} + 1 AS d,
                       abs(hashtext('request-bench-' || g)::bigint) AS h
                  FROM generate_series(0, {{generated}} - 1) AS g) AS y) AS x;
-- The researcher's: dataset 4 i of organisation 0.
INSERT INTO slot (g, u, k, d, o, state, created, grant_kind)
SELECT -i, 0, 0, 4 * i, 0,
       CASE WHEN i <= 80 THEN 'approved' WHEN i <= 90 THEN 'pending' ELSE 'returned' END,
       now() - make_interval(days => 21 + i), CASE WHEN i <= 50 THEN 'active' WHEN i <= 70 THEN 'expired'
                                               ELSE 'revoked' END
  FROM generate_series(1, {RESEARCHER_ROWS}) AS i;
ALTER TABLE slot ADD COLUMN id text, ADD COLUMN user_id text, ADD COLUMN package_id text,
                 ADD COLUMN org_id text, ADD COLUMN reviewer_id text, ADD COLUMN decided timestamptz;
UPDATE slot SET id = md5('request-bench-req-' || g)::uuid::text,
                user_id = CASE WHEN g < 0 THEN md5('{RESEARCHER}')::uuid::text
                               ELSE md5('request-bench-user-' || u)::uuid::text END,
                package_id = md5('request-bench-ds-' || d)::uuid::text,
                org_id = md5('request-bench-org-' || o)::uuid::text,
                reviewer_id = md5('request-bench-reviewer-' || o)::uuid::text,
                decided = CASE WHEN state <> 'pending' THEN created + make_interval(days => abs(g) % 20 + 1) END;
INSERT INTO governance_request (id, package_id, user_id, organization_id, state, intended_use,
                                institution, project_title, ethics_reference, commercial,
                                duration_days, renewal_of, prescreen, message, decided_by,
                                decided_at, created, modified)
SELECT s.id, s.package_id, s.user_id, s.org_id, s.state,
       'Study ' || s.g || ': the association between variants and outcomes in the cohort, '
         || repeat('with adjustment for age and sex, ', 1 + abs(s.g) % 4) || 'for a paper.',
       CASE WHEN s.g % 4 = 0 THEN NULL ELSE 'Institute ' || abs(s.g) % 300 END,
       'Project ' || abs(s.g) % 1000, CASE WHEN s.g % 3 = 0 THEN 'IRB-' || abs(s.g) END,
       s.g % 9 = 0, CASE WHEN s.g % 5 = 0 THEN 180 END,
       CASE WHEN p.state = 'approved' AND p.grant_kind = 'active' THEN md5('request-bench-grant-' || p.g)::uuid::text END,
       CASE WHEN s.g % 4 = 0 THEN jsonb_build_array(jsonb_build_object(
                'code', 'no_institution', 'message', 'No institution given.')) ELSE '[]' END
         || CASE WHEN s.g % 9 = 0 THEN jsonb_build_array(jsonb_build_object(
                'code', 'commercial_use', 'message', 'Commercial use is declared.')) ELSE '[]' END,
       CASE WHEN s.state IN ('rejected', 'returned') THEN 'Please say more about the cohort.' END,
       CASE WHEN s.state IN ('approved', 'rejected', 'returned') THEN s.reviewer_id END,
       CASE WHEN s.state IN ('approved', 'rejected', 'returned') THEN s.decided END,
       s.created, coalesce(s.decided, s.created)
  FROM slot s LEFT JOIN slot p ON s.k % 2 = 1 AND p.g = s.g - {USERS};
INSERT INTO governance_request_change (request_id, actor_id, from_state, to_state, message, created)
SELECT id, user_id, NULL, 'pending', NULL, created FROM slot
UNION ALL  -- some approved requests were returned and resubmitted first
SELECT id, reviewer_id, 'pending', 'returned', 'Which cohort?', created + interval '1 hour'
  FROM slot WHERE state = 'approved' AND g % 7 = 0
UNION ALL
SELECT id, user_id, 'returned', 'pending', NULL, created + interval '2 hours'
  FROM slot WHERE state = 'approved' AND g % 7 = 0
UNION ALL
SELECT id, CASE WHEN state = 'withdrawn' THEN user_id ELSE reviewer_id END, 'pending', state,
       CASE WHEN state IN ('rejected', 'returned') THEN 'Please say more about the cohort.' END, decided
  FROM slot WHERE state <> 'pending';
INSERT INTO governance_grant (id, request_id, package_id, user_id, organization_id, starts, expires,
                              revoked_at, revoked_by, revoke_reason, expiry_recorded, created)
SELECT md5('request-bench-grant-' || g)::uuid::text, id, package_id, user_id, org_id, decided,
       CASE WHEN grant_kind = 'expired' THEN least(decided + interval '365 days', now() - interval '1 hour')
            ELSE now() + make_interval(days => abs(g) % 300 + 1) END,
       CASE WHEN grant_kind = 'revoked' THEN decided + interval '10 days' END,
       CASE WHEN grant_kind = 'revoked' THEN reviewer_id END,
       CASE WHEN grant_kind = 'revoked' THEN 'Terms broken' END,
       CASE WHEN grant_kind = 'expired' THEN least(decided + interval '365 days', now() - interval '1 hour') END,
       decided
  FROM slot WHERE state = 'approved';
DROP TABLE slot;
ANALYZE governance_request; ANALYZE governance_request_change; ANALYZE governance_grant;
"""

MEASURE = r'''
import collections, json, statistics, sys, time
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
flask_app = app._wsgi_app
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import search
from ckanext.governance import access, access_requests, grants, capacities

runs, reindex, explain = int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
reviewer, researcher, org_name = sys.argv[5], sys.argv[6], sys.argv[7]
users = {"researcher": researcher, "reviewer": reviewer}
statements = []
sa.event.listen(model.meta.engine, "before_cursor_execute",
                lambda conn, cursor, statement, *rest: statements.append(statement))


def as_user(name):  # the context CKAN's API view builds
    return {"user": name, "auth_user_obj": model.User.get(name)}


def series(run, name):
    counts, times, shown = [], [], set()
    for i in range(5 + runs):  # five to warm up
        context = as_user(name)
        del statements[:]
        start = time.perf_counter()
        rows = run(context)
        elapsed = time.perf_counter() - start
        if i >= 5:
            counts.append(len(statements))
            times.append(elapsed)
            shown.add(rows)
        model.Session.remove()  # as at the end of a request
    return {"queries": sorted(set(counts)), "ms": statistics.median(times) * 1000,
            "rows": sorted(shown)}


with flask_app.test_request_context():
    org_id = model.Group.get(org_name).id
    ids = [pid for (pid,) in model.Session.execute(sa.text(
        "SELECT id FROM package WHERE owner_org = :org ORDER BY name"), {"org": org_id})]
    page = ids[:100]
    search_page = {"fq": f"organization:{org_name}", "rows": 100, "sort": "name asc"}
    expected = {state: n for state, n in model.Session.execute(sa.text(
        "SELECT state, count(*) FROM governance_request WHERE organization_id = :org GROUP BY state"),
        {"org": org_id})}
    totals = dict(model.Session.execute(sa.text(
        "SELECT 'requests', count(*) FROM governance_request UNION ALL "
        "SELECT 'history rows', count(*) FROM governance_request_change UNION ALL "
        "SELECT 'grants', count(*) FROM governance_grant")).all())
    if reindex:
        search.rebuild(package_ids=ids, quiet=True)
        search.commit()
    token = tk.get_action("api_token_create")({"user": reviewer, "ignore_auth": True},
                                              {"user": reviewer, "name": "bench"})["token"]
    model.Session.remove()

    # What is measured must be what the pages show: check it first.
    listed = tk.get_action("governance_request_list")(
        as_user(reviewer), {"organization": org_id, "state": "pending", "limit": 50})
    if (listed["count"] != expected.get("pending") or len(listed["results"]) != min(50, listed["count"])
            or {r["state"] for r in listed["results"]} != {"pending"}):
        sys.exit(f"unexpected queue: {listed['count']} of {expected}")
    want = {"granted": 50, "grant_expired": 30, "request_pending": 10, "request_required": 10}
    for label, name in users.items():
        decided = access.gates(as_user(name), page)
        reasons = dict(collections.Counter(g.decision.reason for g in decided.values()))
        found = tk.get_action("package_search")(as_user(name), dict(search_page))["results"]
        open_ids = {pid for pid, g in decided.items() if g.can_access}
        with_urls = {d["id"] for d in found if all(r["url"] for r in d["resources"])}
        without = {d["id"] for d in found if not any(r["url"] for r in d["resources"])}
        if (reasons != (want if label == "researcher" else {"exempt": 100})
                or [d["id"] for d in found] != page or with_urls != open_ids
                or with_urls | without != set(page)):
            sys.exit(f"unexpected decisions for {name}: {reasons}, {len(found)} results, "
                     f"{len(with_urls)} with URLs")
        model.Session.remove()

    in_context = {
        "governance_request_list": lambda c: len(tk.get_action("governance_request_list")(
            c, {"organization": org_id, "state": "pending", "limit": 50})["results"]),
        "gates, 100 datasets": lambda c: len(access.gates(c, page)),
        "package_search rows=100": lambda c: len(tk.get_action("package_search")(
            c, dict(search_page))["results"]),
    }
    results = []
    for call, run in in_context.items():
        for label, name in users.items():
            if call == "governance_request_list" and label != "reviewer":
                continue
            results.append({"call": call, "viewer": label, **series(run, name)})

# The page, a whole request through the app (outside the context above).
client = flask_app.test_client()


def get_page(query):
    def run(_context):
        resp = client.get(f"/organization/{org_name}/requests{query}",
                          headers={"Authorization": token})
        body = resp.get_data(as_text=True)
        if resp.status_code != 200:
            sys.exit(f"GET /organization/{org_name}/requests{query}: {resp.status_code}")
        return body.count('class="governance-queue-row"')
    return run


for call, query, state in (("queue page", "", "pending"),
                           ("queue page, returned", "?state=returned", "returned")):
    found = series(get_page(query), reviewer)
    if found["rows"] != [min(50, expected.get(state, 0))]:
        sys.exit(f"the {call} shows {found['rows']} rows, {expected.get(state)} {state}")
    results.append({"call": call, "viewer": "reviewer", **found})
order = ["governance_request_list", "queue page", "queue page, returned", *list(in_context)[1:]]
results.sort(key=lambda r: order.index(r["call"]))  # stable: researcher, then reviewer

plans, indexes = {}, {}
if explain:
    with flask_app.test_request_context():
        user = model.User.get(reviewer)
        query, count = access_requests.select_requests(user, {"organization_id": org_id, "state": "pending"})

        def literal(q):
            return str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))

        for label, q in (("queue, page 1 of 50", query.limit(50).offset(0)), ("queue, count", count)):
            plans[label] = [line for (line,) in model.Session.execute(
                sa.text("EXPLAIN (ANALYZE, BUFFERS) " + literal(q)))]
        plans["decision for 100 datasets"] = [line for (line,) in model.Session.execute(
            sa.text("EXPLAIN (ANALYZE, BUFFERS) " + access.facts_query().text),
            {"user_id": model.User.get(researcher).id, "ids": page, "now": access.utcnow()})]
        indexes = dict(model.Session.execute(sa.text(
            "SELECT indexname, tablename FROM pg_indexes WHERE tablename LIKE 'governance_%'")).all())
        model.Session.rollback()
print(json.dumps({"results": results, "plans": plans, "indexes": indexes, "expected": expected,
                  "totals": totals}))
'''

BIG_TABLES = ("governance_request", "governance_request_change", "governance_grant")


def main() -> None:
    with overhead.governance_site("requests", 5096) as (ini, env):
        psql(CLEAN)
        psql(LOAD)
        measured: dict[int, list[dict]] = {}
        plans: dict[str, list[str]] = {}
        indexes: dict[str, str] = {}
        counts: dict[int, dict[str, int]] = {}
        totals: dict[int, dict[str, int]] = {}
        for size in SIZES:
            start = time.perf_counter()
            psql(REQUESTS.format(generated=size - RESEARCHER_ROWS))
            print(f"loaded {size:,} requests in {time.perf_counter() - start:.1f} s ...",
                  file=sys.stderr)
            out = overhead.run(overhead.PYTHON, "-c", MEASURE, str(ini), str(RUNS),
                               "1" if size == SIZES[0] else "0", "1" if size == SIZES[-1] else "0",
                               REVIEWER, RESEARCHER, ORG, env=env)
            found = json.loads(out.strip().splitlines()[-1])
            measured[size] = found["results"]
            counts[size] = found["expected"]
            totals[size] = found["totals"]
            plans = found["plans"] or plans
            indexes = found["indexes"] or indexes

        print(f"{USERS:,} users, {ORGS} organisations, {DATASETS:,} datasets of tier controlled; "
              f"median of {RUNS} runs")
        for size in SIZES:
            c = counts[size]
            t = totals[size]
            print(f"  {t['requests']:,} requests, {t['history rows']:,} history rows, "
                  f"{t['grants']:,} grants; {ORG} has "
                  + ", ".join(f"{c.get(s, 0):,} {s}" for s in
                              ("pending", "approved", "rejected", "returned", "withdrawn")))
        print(f"\n{'requests':>8}  {'call':<24} {'viewer':<10} {'rows':>4} {'queries':>7} {'median':>10}")
        for size in SIZES:
            for row in measured[size]:
                low, high = row["queries"][0], row["queries"][-1]
                queries = str(low) if low == high else f"{low}-{high}"
                rows = "/".join(str(r) for r in row["rows"])
                print(f"{size:>8,}  {row['call']:<24} {row['viewer']:<10} {rows:>4} {queries:>7}"
                      f" {row['ms']:>8.2f}ms")

        for label, plan in plans.items():
            print(f"\nPlan of the {label} at {SIZES[-1]:,} requests:")
            for line in plan:  # the 100 ids make one line very long
                print("   ", line if len(line) <= 150 else line[:147] + "...")
        print()
        reads: dict[str, set[str]] = {table: set() for table in BIG_TABLES}
        for line in (line for plan in plans.values() for line in plan):
            node = line.strip().lstrip("-> ").split("  (")[0]
            named = re.search(r" on (\S+)", node)  # a table, or the index of a bitmap scan
            if named and "Scan" in node:
                table = named[1] if named[1] in reads else indexes.get(named[1])
                if table in reads:
                    reads[table].add(re.sub(r" on \S+ \S+$", f" on {named[1]}", node))
        for table, nodes in reads.items():
            seq = any(node.startswith(("Seq Scan", "Parallel Seq Scan")) for node in nodes)
            print(f"{table} read by: {'; '.join(sorted(nodes)) or 'none of these queries'}; "
                  f"sequential scan: {'YES' if seq else 'no'}")
        small, large = ([(r["call"], r["viewer"], r["queries"]) for r in measured[s]] for s in SIZES)
        print(f"query counts at {SIZES[0]:,} and {SIZES[-1]:,} requests: "
              + ("equal" if small == large else f"DIFFERENT ({small} vs {large})"))
        psql(CLEAN)


if __name__ == "__main__":
    main()
