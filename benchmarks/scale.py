"""Behaviour at scale: the same queries on a large catalogue as on a small one.

Bulk-loads with SQL (creating this through the actions would take hours) a
small seed and then a large one, and at each measures the same things:

========================  ==============  ===============
                          small seed      large
========================  ==============  ===============
mixed-tier datasets       1,000           100,000
acceptances               10,000          1,000,000
access requests           1,000           100,000
ledger events             10,000          1,000,000
========================  ==============  ===============

Besides the mixed-tier datasets (this script's SQL: ten organisations, one
resource each, tiers open/registered/agreement/controlled in turn, every tenth
under an embargo that ends in 30 to 330 days and the first 100 under one that
has ended, not yet lifted) both hold the fixed catalogues of
``agreement_scale`` (50,000 users, 50 agreements, 120 datasets of tier
agreement) and ``request_scale`` (4 organisations, 20,000 users, 1,000
controlled datasets), whose SQL loads the acceptances and the requests (with
their history and grants) at each size; ``export_memory``'s loads the events.

Measured at each size, in a child process with a ``before_cursor_execute``
listener counting the statements, median of 30 runs after 5 to warm up:

- the decision for one dataset (``access.gates`` and ``package_show``) and for
  a page of 100 (``access.gates`` and ``package_search`` rows=100; the search
  index holds that page: its size is Solr's business, not the plugin's), for an
  anonymous user, a researcher with grants and requests, a researcher who
  accepted every agreement, and a reviewer;
- the review queue: ``governance_request_list`` (pending, 50 a page) and the
  page /organization/<org>/requests (Flask test client, an API token);
- the embargo lift's selection: PostgreSQL's plan (EXPLAIN ANALYZE) of the
  statement ``ckan governance embargo lift`` runs, and of the same selection of
  every due row, with the rows read;
- the plans of the decision's and the queue's queries (sequential scans of the
  big tables?);
- the peak memory of ``ckan governance events export`` (``export_memory``).

It then says whether every query count is the same at both sizes, and writes
its section of benchmarks/RESULTS.md.

    make bench-scale      (or: .venv/bin/python benchmarks/scale.py)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time

import agreement_scale
import export_memory
import overhead
import request_scale
import results
from export_memory import psql

PORT = 5094
DUE = 100  # embargoes that have ended, not yet lifted, at every size
SIZES = {
    "small": {"datasets": 1_000, "acceptances": 10_000, "requests": 1_000, "events": 10_000},
    "large": {"datasets": 100_000, "acceptances": 1_000_000, "requests": 100_000, "events": 1_000_000},
}
ORGS = 10
VIEWERS = {
    "anonymous": "",
    "researcher": request_scale.RESEARCHER,  # grants, expired, revoked, pending requests
    "accepted": agreement_scale.RESEARCHER,  # accepted every agreement's required version
    "reviewer": request_scale.REVIEWER,  # admin of request_scale.ORG
}
BIG_TABLES = ("governance_dataset_policy", "governance_acceptance", "governance_request",
              "governance_request_change", "governance_grant", "governance_event", "package",
              "resource", "member")

ORGANISATIONS = f"""
INSERT INTO "group" (id, name, title, state, type, is_organization, approval_status, created)
SELECT md5('scale-bench-org-' || o)::uuid::text, 'scale-bench-org-' || o, 'Scale bench ' || o,
       'active', 'organization', true, 'approved', now()
  FROM generate_series(0, {ORGS - 1}) AS o;
"""

# Datasets lo..hi (the small seed is 1..1,000; the large one adds the rest).
# Ids look like CKAN's (UUIDs), derived from the names.
DATASETS = f"""
INSERT INTO package (id, name, title, notes, state, type, private, owner_org, metadata_created,
                     metadata_modified)
SELECT md5('scale-bench-ds-' || g)::uuid::text, 'scale-bench-ds-' || lpad(g::text, 6, '0'),
       'Scale bench ' || g, 'A dataset of the scale benchmark', 'active', 'dataset', false,
       md5('scale-bench-org-' || g % {ORGS})::uuid::text, now(), now()
  FROM generate_series({{lo}}, {{hi}}) AS g;
INSERT INTO member (id, group_id, table_id, table_name, capacity, state)
SELECT md5('scale-bench-member-' || g)::uuid::text, md5('scale-bench-org-' || g % {ORGS})::uuid::text,
       md5('scale-bench-ds-' || g)::uuid::text, 'package', 'organization', 'active'
  FROM generate_series({{lo}}, {{hi}}) AS g;
INSERT INTO resource (id, package_id, url, name, format, position, state, created, metadata_modified)
SELECT md5('scale-bench-res-' || g)::uuid::text, md5('scale-bench-ds-' || g)::uuid::text,
       'https://data.example.org/scale/' || g || '.csv', 'Data', 'CSV', 0, 'active', now(), now()
  FROM generate_series({{lo}}, {{hi}}) AS g;
INSERT INTO governance_dataset_policy (package_id, access_tier, agreement_id, embargo_until,
                                       embargo_reason)
SELECT md5('scale-bench-ds-' || g)::uuid::text,
       (ARRAY['open', 'registered', 'agreement', 'controlled'])[g % 4 + 1],
       CASE WHEN g % 4 = 2 THEN 'agreement-bench-ag-' || g % {agreement_scale.AGREEMENTS} END,
       CASE WHEN g <= {DUE} THEN now() - make_interval(mins => g)
            WHEN g % 10 = 0 THEN now() + make_interval(days => 30 + g % 300) END,
       CASE WHEN g <= {DUE} OR g % 10 = 0 THEN 'Until the paper is out' END
  FROM generate_series({{lo}}, {{hi}}) AS g;
ANALYZE package; ANALYZE member; ANALYZE resource; ANALYZE governance_dataset_policy;
ANALYZE governance_agreement; ANALYZE governance_agreement_version;
"""

# The page of 100 (the same datasets at both sizes): 40 mixed-tier ones (some
# embargoed), 30 of tier agreement, 30 controlled ones of request_scale.ORG on
# which the researcher has an active, expired or revoked grant or a request.
PAGE = ([f"scale-bench-ds-{g:06d}" for g in range(101, 141)]
        + [f"agreement-bench-ds-{i:03d}" for i in range(1, 31)]
        + [f"request-bench-ds-{4 * i:04d}" for i in range(1, 91, 3)])
ONE = "request-bench-ds-0004"  # controlled; the researcher holds an active grant

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
from ckanext.governance import access, embargo, access_requests, grants, capacities

args = json.loads(sys.argv[2])
runs, warmups = args["runs"], args["warmups"]
statements = []
sa.event.listen(model.meta.engine, "before_cursor_execute",
                lambda conn, cursor, statement, *rest: statements.append(statement))


def as_user(name):  # the context CKAN's API view builds
    return {"user": name, "auth_user_obj": model.User.get(name) if name else None}


def series(run, name):
    counts, times, sizes = [], [], set()
    for i in range(warmups + runs):
        context = as_user(name)
        del statements[:]
        start = time.perf_counter()
        size = run(context)
        elapsed = time.perf_counter() - start
        if i >= warmups:
            counts.append(len(statements))
            times.append(elapsed)
            sizes.add(size)
        model.Session.remove()  # as at the end of a request
    return {"queries": sorted(set(counts)), "ms": statistics.median(times) * 1000,
            "rows": sorted(sizes)}


def literal(query):
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def explain(sql, params=None):
    lines = [line for (line,) in model.Session.execute(
        sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params or {})]
    model.Session.rollback()
    return lines


def explain_decision(params):
    """The plan the decision function keeps (its generic plan), through a
    prepared statement of the same query under the function's settings."""
    sql = (access.facts_query().text.replace(":user_id", "$1").replace(":ids", "$2")
           .replace("CAST(:now AS timestamptz)", "$3"))
    # The settings the function runs with (plan_cache_mode, enable_seqscan).
    settings = model.Session.execute(sa.text(
        "SELECT proconfig FROM pg_proc WHERE proname = 'governance_dataset_facts'")).scalar()
    for setting in settings or []:
        name, value = setting.split("=", 1)
        model.Session.execute(sa.text(f"SET LOCAL {name} = {value}"))
    model.Session.execute(sa.text(
        "PREPARE governance_facts_plan(text, text[], timestamptz) AS " + sql))
    lines = [line for (line,) in model.Session.execute(sa.text(
        "EXPLAIN (ANALYZE, BUFFERS) EXECUTE governance_facts_plan(:user_id, :ids, :now)"), params)]
    model.Session.execute(sa.text("DEALLOCATE governance_facts_plan"))
    model.Session.rollback()
    return lines


out = {"results": [], "plans": {}}
with flask_app.test_request_context():
    ids = {name: pid for name, pid in model.Session.execute(sa.text(
        "SELECT name, id FROM package WHERE name = ANY(:names)"), {"names": args["page"]})}
    page = [ids[name] for name in args["page"]]
    one = ids[args["one"]]
    org = model.Group.get(args["org"])
    totals = dict(model.Session.execute(sa.text(" UNION ALL ".join(
        f"SELECT '{t}', count(*) FROM {t}" for t in args["tables"]))).all())
    due = model.Session.execute(sa.text(
        "SELECT count(*) FROM governance_dataset_policy WHERE embargo_until <= now() "
        "AND embargo_lifted IS NULL")).scalar_one()
    search.clear_all()
    search.rebuild(package_ids=page, quiet=True)
    search.commit()
    reviewer = args["viewers"]["reviewer"]
    token = tk.get_action("api_token_create")({"user": reviewer, "ignore_auth": True},
                                              {"user": reviewer, "name": "scale-bench"})["token"]
    model.Session.remove()

    search_page = {"q": "*:*", "rows": 100, "sort": "name asc"}
    calls = {
        "gates, 1 dataset": lambda c: len(access.gates(c, [one])),
        "package_show": lambda c: len(tk.get_action("package_show")(c, {"id": one})["resources"]),
        "gates, 100 datasets": lambda c: len(access.gates(c, page)),
        "package_search rows=100": lambda c: len(tk.get_action("package_search")(
            c, dict(search_page))["results"]),
    }
    for call, run in calls.items():
        for label, name in args["viewers"].items():
            out["results"].append({"call": call, "viewer": label, **series(run, name)})
    out["results"].append({"call": "governance_request_list", "viewer": "reviewer", **series(
        lambda c: len(tk.get_action("governance_request_list")(
            c, {"organization": org.id, "state": "pending", "limit": 50})["results"]), reviewer)})

    # Plans: the lift's own statement (one row, locked), every due row, the
    # decision for the page (the researcher), the queue's two queries.
    now = access.utcnow()
    lift = embargo.due_for_lift(now)
    out["plans"]["embargo lift, the statement it runs (LIMIT 1 FOR UPDATE SKIP LOCKED)"] = explain(
        literal(lift))
    out["plans"]["embargo lift, every due row"] = explain(literal(lift.limit(None)))
    out["plans"]["decision for the page of 100 (researcher; the function's generic plan)"] = (
        explain_decision({"user_id": model.User.get(args["viewers"]["researcher"]).id,
                          "ids": page, "now": now}))
    queue, counting = access_requests.select_requests(model.User.get(reviewer),
                                               {"organization_id": org.id, "state": "pending"})
    out["plans"]["review queue, page 1 of 50"] = explain(literal(queue.limit(50).offset(0)))
    out["plans"]["review queue, count"] = explain(literal(counting))
    out["indexes"] = dict(model.Session.execute(sa.text(
        "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'")).all())
    model.Session.rollback()

# The queue page, a whole request through the app.
client = flask_app.test_client()


def queue_page(_context):
    resp = client.get(f"/organization/{args['org']}/requests", headers={"Authorization": token})
    body = resp.get_data(as_text=True)
    if resp.status_code != 200:
        sys.exit(f"the queue page answered {resp.status_code}")
    return body.count('class="governance-queue-row"')


out["results"].append({"call": "queue page (HTML)", "viewer": "reviewer", **series(queue_page, reviewer)})
out["totals"], out["due"] = totals, due
print(json.dumps(out))
'''


def load(size: str, previous: str | None) -> dict[str, float]:
    """Bring the database to ``size``; seconds per part."""
    n, took = SIZES[size], {}
    lo = SIZES[previous]["datasets"] + 1 if previous else 1
    for part, sql in (
        ("datasets", DATASETS.format(lo=lo, hi=n["datasets"])),
        ("acceptances", agreement_scale.ACCEPT.format(
            generated=n["acceptances"] - agreement_scale.RESEARCHER_ROWS)),
        ("requests", request_scale.REQUESTS.format(
            generated=n["requests"] - request_scale.RESEARCHER_ROWS)),
        ("events", "TRUNCATE governance_event; " + export_memory.LOAD % n["events"]
         + "; ANALYZE governance_event"),
    ):
        start = time.perf_counter()
        psql(sql)
        took[part] = time.perf_counter() - start
        print(f"  {size}: {part} loaded in {took[part]:.1f} s", file=sys.stderr)
    return took


def scans(plan: list[str]) -> list[str]:
    """The scan nodes of a plan, with their table or index and the rows they read."""
    found = []
    for i, line in enumerate(plan):
        node = line.strip().removeprefix("->").strip()
        if "Scan" not in node.split("(")[0]:
            continue
        rows = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", node)
        removed = 0
        for detail in plan[i + 1:]:
            if detail.strip().startswith("->") or "(actual" in detail:
                break
            hit = re.search(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", detail)
            removed += int(hit[1]) if hit else 0
        read = (int(rows[1]) + removed) * int(rows[2]) if rows else None
        found.append(f"{node.split('  (')[0]}" + (f": {read:,} rows read" if read is not None else ""))
    return found


def seq_scans(plan: list[str]) -> list[str]:
    return [s for s in scans(plan) if s.startswith(("Seq Scan", "Parallel Seq Scan"))
            and any(f" on {t} " in s + " " for t in BIG_TABLES)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per call")
    args = parser.parse_args()
    started = time.perf_counter()
    with overhead.governance_site("scale", PORT) as (ini, env):
        print("emptying the benchmark database ...", file=sys.stderr)
        overhead.run(overhead.CKAN, "-c", str(ini), "db", "clean", "--yes", env=env)
        overhead.run(overhead.CKAN, "-c", str(ini), "db", "init", env=env)
        overhead.run(overhead.CKAN, "-c", str(ini), "db", "pending-migrations", "--apply", env=env)
        psql(agreement_scale.LOAD)
        psql(request_scale.LOAD)
        psql(ORGANISATIONS)
        measured, loaded, exports = {}, {}, {}
        previous = None
        for size in SIZES:
            loaded[size] = load(size, previous)
            previous = size
            print(f"  {size}: measuring ...", file=sys.stderr)
            spec = {"runs": args.runs, "warmups": 5, "page": PAGE, "one": ONE, "org": request_scale.ORG,
                    "viewers": VIEWERS, "tables": BIG_TABLES}
            out = overhead.run(overhead.PYTHON, "-c", MEASURE, str(ini), json.dumps(spec), env=env)
            measured[size] = json.loads(out.strip().splitlines()[-1])
            print(f"  {size}: exporting {SIZES[size]['events']:,} events ...", file=sys.stderr)
            exports[size] = export_memory.export_peak(str(ini), env)
        report(measured, loaded, exports, time.perf_counter() - started, args)
        # Dropping the tables is far quicker than deleting 100,000 datasets row by row
        # (foreign keys without indexes point at package); leave them empty and migrated.
        print("emptying the benchmark database ...", file=sys.stderr)
        for step in (("db", "clean", "--yes"), ("db", "init"), ("db", "pending-migrations", "--apply")):
            overhead.run(overhead.CKAN, "-c", str(ini), *step, env=env)


def span(counts: list[int]) -> str:
    return str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"


def report(measured: dict, loaded: dict, exports: dict, elapsed: float, args) -> None:
    small, large = (measured[s] for s in SIZES)
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text)
        lines.append(text)

    rows = []
    for a, b in zip(small["results"], large["results"]):
        assert (a["call"], a["viewer"]) == (b["call"], b["viewer"])
        rows.append([a["call"], a["viewer"], "/".join(map(str, b["rows"])), span(a["queries"]),
                     span(b["queries"]), f"{a['ms']:.2f} ms", f"{b['ms']:.2f} ms",
                     "yes" if a["queries"] == b["queries"] else "**NO**"])
    counts_equal = all(r[-1] == "yes" for r in rows)

    say(f"{'call':<26} {'viewer':<11} {'rows':>4} {'queries small':>13} {'large':>5}"
        f" {'median small':>12} {'large':>10}  same count")
    for r in rows:
        say(f"{r[0]:<26} {r[1]:<11} {r[2]:>4} {r[3]:>13} {r[4]:>5} {r[5]:>12} {r[6]:>10}  {r[7]}")
    say("query counts at both sizes: " + ("the same for every call" if counts_equal else "DIFFERENT"))

    lift_plans = {k: v for k, v in large["plans"].items() if k.startswith("embargo lift")}
    every_due = large["plans"]["embargo lift, every due row"]
    due_scans = scans(every_due)
    # Rows read from the table itself (a bitmap's index node counts the same rows again).
    read = sum(int(m[1].replace(",", "")) for s in due_scans
               if re.search(r" on governance_dataset_policy\b(?!_)", s) and (m := re.search(r": ([\d,]+) rows read", s)))
    uses_index = any("governance_dataset_policy_embargo_due_idx" in s for s in due_scans)
    lift_ok = uses_index and read == large["due"] and not seq_scans(every_due)
    say(f"embargo lift at {large['totals']['governance_dataset_policy']:,} policies, {large['due']} due: "
        + "; ".join(f"{k.split(', ', 1)[1]}: {'; '.join(scans(v))}" for k, v in lift_plans.items()))
    say("the lift's selection reads only due rows: " + ("yes" if lift_ok else "NO"))
    seq = {label: seq_scans(plan) for label, plan in large["plans"].items()}
    say("sequential scans of the big tables at the large size: "
        + ("none" if not any(seq.values()) else "; ".join(f"{k}: {v}" for k, v in seq.items() if v)))
    for size in SIZES:
        seconds, peak = exports[size]
        say(f"event CSV export, {SIZES[size]['events']:,} events: {seconds:.1f} s, peak RSS {peak:.0f} MiB")
    growth = exports["large"][1] - exports["small"][1]
    say(f"({elapsed / 60:.1f} minutes)")

    body = [
        "## Behaviour at scale (`make bench-scale`)\n",
        f"{results.machine()}.\n",
        "Bulk-loaded with SQL (`benchmarks/scale.py`, reusing the loads of agreement_scale.py, "
        "request_scale.py and export_memory.py; creating this through the actions would take "
        "hours). Rows in the database at each size:\n",
        results.table(["table", "small seed", "large"],
                      [[t, f"{small['totals'][t]:,}", f"{large['totals'][t]:,}"] for t in BIG_TABLES]),
        "Load times (s), small / large: " + "; ".join(
            f"{part} {loaded['small'][part]:.1f} / {loaded['large'][part]:.1f}"
            for part in loaded["small"]) + f". The whole run took {elapsed / 60:.1f} minutes.\n",
        f"Median of {args.runs} runs after 5 to warm up, in one process (no HTTP, except the "
        "queue page through Flask's test client); statements counted on CKAN's engine. The "
        "page of 100: 40 mixed-tier datasets (4 embargoed), 30 of tier agreement, 30 controlled "
        "ones on which the researcher holds an active, expired or revoked grant or a pending "
        "request; the search index holds that page only (Apache Solr 9 of dev/solr/). Viewers: anonymous; "
        "researcher (grants and requests, no acceptances); accepted (has accepted every "
        "agreement); reviewer (admin of the requests' organisation). `rows` is what the call "
        "returned (datasets decided, resources shown, results or queue rows).\n",
        results.table(["call", "viewer", "rows", "queries small", "large", "median small", "large",
                       "same count"], rows),
        "### Targets\n",
        "- Same query counts at scale as on the small seed: " + (
            "**met** for every call." if counts_equal else "**missed**: " + "; ".join(
                f"{r[0]} ({r[1]}) {r[3]} vs {r[4]}" for r in rows if r[-1] != "yes") + "."),
        f"- The lift selection reads only due rows: " + ("**met**" if lift_ok else "**missed**")
        + f": at {large['totals']['governance_dataset_policy']:,} policies with {large['due']} due, "
        f"selecting every due row reads {read:,} rows "
        + ("through the partial index `governance_dataset_policy_embargo_due_idx`" if uses_index
           else "WITHOUT the partial index")
        + "; the lift's own statement takes one row at a time (LIMIT 1 FOR UPDATE SKIP LOCKED): "
        + "; ".join(scans(large["plans"]["embargo lift, the statement it runs (LIMIT 1 FOR UPDATE SKIP LOCKED)"]))
        + ".",
        "- Indexed lookups at scale (no sequential scan of the big tables in the plans of the "
        "decision for the page, the queue and the lift): " + (
            "**met**." if not any(seq.values()) else "**missed**: " + "; ".join(
                f"{k}: {', '.join(v)}" for k, v in seq.items() if v) + "."),
        "- Event CSV export: " + ", ".join(
            f"{SIZES[s]['events']:,} events in {exports[s][0]:.1f} s, peak RSS {exports[s][1]:.0f} MiB"
            for s in SIZES) + f" ({growth:+.0f} MiB for 100 times the rows).\n",
        "### Plans at the large size\n",
    ]
    for label, plan in large["plans"].items():
        body.append(f"{label}:\n")
        body.append("```")
        body.extend(line if len(line) <= 160 else line[:157] + "..." for line in plan)
        body.append("```\n")
    body.append(NOTES.rstrip("\n"))
    count_scan = [s for s in scans(large["plans"]["review queue, count"]) if "Heap" in s or "Only" in s
                  or s.startswith("Index Scan")]
    body.append(f"- The queue's count (`governance_request_list` returns it with the page) visits "
                f"every request of the organisation in the state asked for, through the index: "
                f"{'; '.join(count_scan) or 'see its plan'} at the large size. That is why the "
                f"queue's time can grow with the queue (here {small['results'][-2]['ms']:.1f} → "
                f"{large['results'][-2]['ms']:.1f} ms for the action, within the machine's noise) "
                f"while its statements stay the same; the tables are ANALYZEd, not "
                f"VACUUMed, after the bulk load, so the count reads the heap too.")
    results.write_section("scale", "\n".join(body))
    print(f"wrote {results.RESULTS.relative_to(overhead.ROOT)}")


NOTES = """\
### Notes

- The decision is one statement for any number of datasets (the function
  `governance_dataset_facts`, whose query `access.facts_query()` reads from the database; the plan
  shown is the generic one the function keeps): the acceptances, grants and
  requests it consults are reached through
  `governance_acceptance_user_agreement_idx`,
  `governance_grant_user_package_idx` and the partial
  `governance_request_pending_idx` by the viewer's id, so their size changes
  neither the count nor the plan's shape.
- The function keeps one generic plan per connection and runs without
  sequential scans (migration 008): left to itself, the generic plan scanned
  the small `governance_agreement_version` table once per dataset (about 1 ms
  of a page of 100 at 50 agreements), where a custom plan memoises per
  agreement. On this machine, against the same query sent as text (a custom
  plan each time): one dataset 0.5–0.8 ms (0.8–1.2 ms as text), a page of 100
  3.9–4.9 ms (2.6–4.1 ms as text: for a page, planning is cheap next to
  running, and the custom plan memoises per agreement).
- The queue reads `governance_request_queue_idx` (organisation, state,
  created) for one page; its count reads the same index.
- At the small seed PostgreSQL may prefer sequential scans of small tables;
  the indexed-lookup target is judged on the large size's plans.
"""


if __name__ == "__main__":
    main()
