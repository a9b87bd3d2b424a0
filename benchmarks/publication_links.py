"""The publication check of a dataset with 10, 100 and 1,000 links: same queries.

Bulk-loads with SQL one organisation, a publisher (editor of it) and 1,000
target datasets of that organisation: every second one private, every third
one with a policy of tier ``controlled``, every fifth one under an embargo that
ends in 30 days (tier ``open`` unless it is also a third). The dataset under
check is private, of tier ``open``, with a licence and a description, and at
each size N links to the first N targets three ways at once: its extra
``related_dataset`` (``ckanext.governance.link_fields``) holds their names
separated by spaces, N package relationships (``links_to``, subject the
checked dataset) and N resources whose URL is <ckan.site_url>/dataset/<name>.

At each size it checks that the warnings are what the targets call for (one
per private target, per public target under stricter terms, per embargoed
one, each linked through all three ways), then counts the SQL statements (a
``before_cursor_execute`` listener on the engine) and times, median of 30 runs
after 3 to warm up, the action ``governance_publication_check`` with
private=False as the publisher, and ``package_show`` of the same dataset,
which the action calls and which grows with the resources. A bounded check
makes the same number of queries at every size.

    make bench-publication (or: .venv/bin/python benchmarks/publication_links.py)
"""
from __future__ import annotations

import json
import sys
import time

import overhead
from export_memory import psql

SIZES = (10, 100, 1_000)
RUNS, WARMUPS, PORT = 30, 3, 5095
SITE = f"http://127.0.0.1:{PORT}"
PUBLISHER, CHECKED, ORG = "publication-bench-publisher", "publication-bench-checked", "publication-bench-org"
LINK_FIELD = "related_dataset"
VIA = f"{LINK_FIELD}, relationship, resource URL"  # how each target is linked (sorted)
LINK_CODES = ("linked_dataset_private", "linked_dataset_more_restricted", "linked_dataset_embargoed")

MINE = "SELECT id FROM package WHERE name LIKE 'publication-bench-%'"
CLEAN = overhead.delete_named("publication-bench-", f"""
DELETE FROM package_relationship WHERE subject_package_id IN ({MINE}) OR object_package_id IN ({MINE});""")

# Ids look like CKAN's (UUIDs), derived from the names so every statement can
# compute them. CKAN 2.12 keeps a dataset's extras in package.extras (JSONB).
LOAD = f"""
INSERT INTO "group" (id, name, title, state, type, is_organization, approval_status, created)
VALUES (md5('{ORG}')::uuid::text, '{ORG}', 'Publication bench', 'active', 'organization', true,
        'approved', now());
INSERT INTO "user" (id, name, email, state, sysadmin, created)
VALUES (md5('{PUBLISHER}')::uuid::text, '{PUBLISHER}', '{PUBLISHER}@example.org', 'active', false, now());
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
VALUES (md5('{PUBLISHER}-member')::uuid::text, md5('{ORG}')::uuid::text,
        md5('{PUBLISHER}')::uuid::text, 'user', 'editor', 'active');
INSERT INTO package (id, name, title, notes, license_id, state, type, private, owner_org,
                     creator_user_id, metadata_created, metadata_modified)
SELECT md5(n)::uuid::text, n, t, 'A dataset a publication check links to.', 'cc-by', 'active',
       'dataset', p, md5('{ORG}')::uuid::text, md5('{PUBLISHER}')::uuid::text, now(), now()
  FROM (SELECT 'publication-bench-t-' || lpad(i::text, 4, '0') AS n, 'Target ' || i AS t,
               i % 2 = 0 AS p
          FROM generate_series(1, {SIZES[-1]}) AS i
        UNION ALL VALUES ('{CHECKED}', 'Publication bench: the checked dataset', true)) AS x;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
SELECT md5(id || '-member')::uuid::text, owner_org, id, 'package', 'organization', 'active'
  FROM package WHERE name LIKE 'publication-bench-%';
UPDATE package SET notes = 'Survey answers, collected in 2024 and cleaned for reuse.'
 WHERE name = '{CHECKED}';
INSERT INTO governance_dataset_policy (package_id, access_tier, embargo_until, embargo_reason)
SELECT md5('publication-bench-t-' || lpad(i::text, 4, '0'))::uuid::text,
       CASE WHEN i % 3 = 0 THEN 'controlled' ELSE 'open' END,
       CASE WHEN i % 5 = 0 THEN now() + interval '30 days' END,
       CASE WHEN i % 5 = 0 THEN 'Until the paper is out' END
  FROM generate_series(1, {SIZES[-1]}) AS i WHERE i % 3 = 0 OR i % 5 = 0
UNION ALL VALUES (md5('{CHECKED}')::uuid::text, 'open', NULL::timestamptz, NULL);
ANALYZE package; ANALYZE member; ANALYZE governance_dataset_policy; ANALYZE "user"; ANALYZE "group";
"""

# The checked dataset's links to the first {n} targets, three ways.
LINKS = f"""
DELETE FROM package_relationship WHERE subject_package_id = md5('{CHECKED}')::uuid::text;
DELETE FROM resource WHERE package_id = md5('{CHECKED}')::uuid::text;
UPDATE package SET extras = jsonb_build_object('{LINK_FIELD}',
         (SELECT string_agg('publication-bench-t-' || lpad(i::text, 4, '0'), ' ' ORDER BY i)
            FROM generate_series(1, {{n}}) AS i))
 WHERE name = '{CHECKED}';
INSERT INTO package_relationship (id, subject_package_id, object_package_id, type, comment, state)
SELECT md5('publication-bench-rel-' || i)::uuid::text, md5('{CHECKED}')::uuid::text,
       md5('publication-bench-t-' || lpad(i::text, 4, '0'))::uuid::text, 'links_to', NULL, 'active'
  FROM generate_series(1, {{n}}) AS i;
INSERT INTO resource (id, package_id, url, name, format, position, state, created, metadata_modified)
SELECT md5('publication-bench-res-' || i)::uuid::text, md5('{CHECKED}')::uuid::text,
       '{SITE}/dataset/publication-bench-t-' || lpad(i::text, 4, '0'), 'Link ' || i, 'HTML', i - 1,
       'active', now(), now()
  FROM generate_series(1, {{n}}) AS i;
ANALYZE package_relationship; ANALYZE resource;
"""

MEASURE = r'''
import collections, json, re, statistics, sys, time
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
import sqlalchemy as sa
import ckan.model as model
import ckan.plugins.toolkit as tk

runs, warmups, publisher, checked = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
statements = []
sa.event.listen(model.meta.engine, "before_cursor_execute",
                lambda conn, cursor, statement, *rest: statements.append(statement))


def shape(statement):  # the statement with its (expanded) parameters elided
    s = re.sub(r"\(?%\(\w+\)s(?:, %\(\w+\)s)*\)?", "?", statement)
    return " ".join(s.split())


def as_user(name):  # the context CKAN's API view builds
    return {"user": name, "auth_user_obj": model.User.get(name)}


def series(run):
    counts, times, last = [], [], []
    for i in range(warmups + runs):
        context = as_user(publisher)
        del statements[:]
        start = time.perf_counter()
        run(context)
        elapsed = time.perf_counter() - start
        if i >= warmups:
            counts.append(len(statements))
            times.append(elapsed)
            last = list(statements)
        model.Session.remove()  # as at the end of a request
    return {"queries": sorted(set(counts)), "ms": statistics.median(times) * 1000,
            "shapes": dict(collections.Counter(shape(s) for s in last))}


def check(context):
    return tk.get_action("governance_publication_check")(context, {"id": checked, "private": False})


with app._wsgi_app.test_request_context():
    # What is measured must be the check being made: report what it found.
    found = check(as_user(publisher))
    model.Session.remove()
    codes = dict(collections.Counter(w["code"] for w in found["warnings"]))
    via = dict(collections.Counter(
        w["message"].split(":")[0].removeprefix("Linked through ")
        for w in found["warnings"] if w["code"].startswith("linked_dataset_")))
    hidden = sum(1 for w in found["warnings"] if w["code"].startswith("linked_dataset_")
                 and w["item"]["id"] is None)
    resources = len(tk.get_action("package_show")(as_user(publisher), {"id": checked})["resources"])
    model.Session.remove()
    result = {"codes": codes, "via": via, "hidden": hidden, "more_reachable": found["more_reachable"],
              "resources": resources,
              "check": series(check),
              "show": series(lambda c: tk.get_action("package_show")(c, {"id": checked}))}
print(json.dumps(result))
'''


def expected(n: int) -> dict[str, int]:
    """The link warnings the first n targets call for (see LOAD)."""
    counts = dict.fromkeys(LINK_CODES, 0)
    for i in range(1, n + 1):
        if i % 2 == 0:
            counts["linked_dataset_private"] += 1
        elif i % 3 == 0:
            counts["linked_dataset_more_restricted"] += 1
        if i % 5 == 0:
            counts["linked_dataset_embargoed"] += 1
    return counts


def main() -> None:
    with overhead.governance_site("publication", PORT,
                                  extra=[f"ckanext.governance.link_fields = {LINK_FIELD}"]) as (ini, env):
        psql(CLEAN)
        psql(LOAD)
        measured: dict[int, dict] = {}
        for n in SIZES:
            start = time.perf_counter()
            psql(LINKS.format(n=n))
            print(f"linked {n:,} targets in {time.perf_counter() - start:.1f} s ...", file=sys.stderr)
            out = overhead.run(overhead.PYTHON, "-c", MEASURE, str(ini), str(RUNS), str(WARMUPS),
                               PUBLISHER, CHECKED, env=env)
            found = json.loads(out.strip().splitlines()[-1])
            want = expected(n)
            got = {code: found["codes"].get(code, 0) for code in LINK_CODES}
            if (got != want or found["via"] != {VIA: sum(want.values())} or found["hidden"]
                    or not found["more_reachable"] or found["resources"] != n):
                psql(CLEAN)
                sys.exit(f"unexpected check at {n} links: {found['codes']}, want {want}; linked through "
                         f"{found['via']}; {found['hidden']} hidden; {found['resources']} resources")
            measured[n] = found
        psql(CLEAN)

    print(f"{CHECKED} (private, tier open) checked with private=False by its organisation's editor.")
    print(f"It links to N targets three ways at once: {VIA}.")
    print("Every second target is private, every third of tier controlled, every fifth embargoed.")
    print(f"Median of {RUNS} runs after {WARMUPS} to warm up.")
    print(f"\n{'links':>5}  {'private':>7} {'stricter':>8} {'embargo':>7}  {'other warnings':<28}"
          f" {'queries':>7} {'median':>10}   {'package_show in it':>18}")
    for n in SIZES:
        row = measured[n]
        other = ", ".join(f"{code} {count}" for code, count in sorted(row["codes"].items())
                          if code not in LINK_CODES) or "none"
        show = row["show"]
        print(f"{n:>5,}  " + " ".join(f"{row['codes'].get(code, 0):>{w}}" for code, w in
                                      zip(LINK_CODES, (7, 8, 7)))
              + f"  {other:<28} {span(row['check']['queries']):>7} {row['check']['ms']:>8.1f}ms"
              f"   {span(show['queries']):>5} q {show['ms']:>8.1f}ms")

    counts = [measured[n]["check"]["queries"] for n in SIZES]
    sizes = ", ".join(f"{n:,}" for n in SIZES[:-1]) + f" and {SIZES[-1]:,}"
    if all(c == counts[0] and len(c) == 1 for c in counts):
        print(f"\nquery count of governance_publication_check at {sizes} links: the same ({counts[0][0]})")
    else:
        print(f"\nquery count of governance_publication_check at {sizes} links: DIFFERENT "
              f"({' vs '.join(span(c) for c in counts)})")
        first, last = measured[SIZES[0]]["check"]["shapes"], measured[SIZES[-1]]["check"]["shapes"]
        for statement in sorted(set(first) | set(last), key=lambda s: last.get(s, 0) - first.get(s, 0)):
            if first.get(statement, 0) != last.get(statement, 0):
                print(f"  {first.get(statement, 0):>5} -> {last.get(statement, 0):>5}  {statement[:200]}")


def span(counts: list[int]) -> str:
    return str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"


if __name__ == "__main__":
    main()
