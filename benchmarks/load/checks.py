"""Exactly once, after a load run: what the database and the SMTP inbox hold.

    python benchmarks/load/checks.py LOG_DIR [AS_OF]   prints JSON: {"failures": [...], "counts": {...}}

Run in CKAN's virtualenv after the run's outbox is drained. Every check is a
query whose rows are failures; the counts say how much each check covered.
What is "due" (an ended grant, an ended embargo) is judged as of AS_OF, the
instant the drain saw every due item done: an end that passes between that
instant and the checks is the next cron pass's work, not a lost one.
"""
from __future__ import annotations

import collections
import glob
import json
import os
import sys

import psycopg2

DSN = "dbname=ckan_load user=ckan_default password=pass host=127.0.0.1"
# The instant ends are judged at: the session's load.as_of when set, else now().
AS_OF = "coalesce(nullif(current_setting('load.as_of', true), '')::timestamptz, now())"

# Each entry: (what must hold, SQL returning the rows that break it).
CHECKS = [
    ("one acceptance per user, dataset and agreement version",
     """SELECT user_id, package_id, version_number, count(*) FROM governance_acceptance
        GROUP BY 1, 2, 3 HAVING count(*) > 1"""),
    ("one agreement_accepted event per acceptance, none without one",
     """WITH e AS (SELECT actor_id, package_id, (detail->>'version')::int AS v, count(*) AS n
                   FROM governance_event WHERE kind = 'agreement_accepted' GROUP BY 1, 2, 3)
        SELECT a.user_id, a.package_id, e.actor_id, e.n FROM governance_acceptance a
        FULL JOIN e ON e.actor_id = a.user_id AND e.package_id = a.package_id AND e.v = a.version_number
        WHERE e.n IS DISTINCT FROM 1 OR a.id IS NULL"""),
    ("one ledger event per decision (approve, reject, return) and per request made",
     """WITH c AS (SELECT request_id, 'request_' || to_state AS kind, count(*) AS n
                   FROM governance_request_change WHERE to_state IN ('approved', 'rejected', 'returned')
                   GROUP BY 1, 2
                   UNION ALL
                   SELECT request_id, 'request_created', count(*) FROM governance_request_change
                   WHERE from_state IS NULL GROUP BY 1),
             e AS (SELECT detail->>'request_id' AS request_id, kind, count(*) AS n FROM governance_event
                   WHERE kind IN ('request_approved', 'request_rejected', 'request_returned',
                                  'request_created') GROUP BY 1, 2)
        SELECT * FROM c FULL JOIN e USING (request_id, kind) WHERE c.n IS DISTINCT FROM e.n"""),
    ("every request's history is one valid path ending in its state",
     """WITH h AS (SELECT r.id, r.state, array_agg(coalesce(c.from_state, '-') || '>' || c.to_state
                                               ORDER BY c.id) AS steps
                   FROM governance_request r LEFT JOIN governance_request_change c ON c.request_id = r.id
                   GROUP BY 1, 2)
        SELECT id, state, steps FROM h
        WHERE steps[1] <> '->pending' OR split_part(steps[array_length(steps, 1)], '>', 2) <> state
           OR EXISTS (SELECT 1 FROM unnest(steps) WITH ORDINALITY s(step, i)
                      WHERE i > 1 AND split_part(step, '>', 1) <> split_part(steps[i - 1], '>', 2))
           OR EXISTS (SELECT 1 FROM unnest(steps) s(step) WHERE i_invalid(step))"""),
    ("at most one open (pending or returned) request per researcher and dataset",
     """SELECT user_id, package_id, count(*) FROM governance_request
        WHERE state IN ('pending', 'returned') GROUP BY 1, 2 HAVING count(*) > 1"""),
    ("every grant comes from an approval, one grant per approval",
     """WITH a AS (SELECT request_id, count(*) AS n FROM governance_request_change
                   WHERE to_state = 'approved' GROUP BY 1),
             g AS (SELECT request_id, count(*) AS n FROM governance_grant GROUP BY 1)
        SELECT * FROM a FULL JOIN g USING (request_id) WHERE a.n IS DISTINCT FROM g.n"""),
    ("one grant_created event per grant",
     """SELECT g.id, count(e.id) FROM governance_grant g
        LEFT JOIN governance_event e ON e.kind = 'grant_created' AND e.detail->>'grant_id' = g.id
        GROUP BY 1 HAVING count(e.id) <> 1"""),
    ("every ended grant's expiry recorded once, none recorded twice",
     """SELECT g.id, g.expiry_recorded, count(e.id) FROM governance_grant g
        LEFT JOIN governance_event e ON e.kind = 'grant_expired' AND e.detail->>'grant_id' = g.id
        WHERE g.revoked_at IS NULL AND (g.expires <= {AS_OF} OR g.expiry_recorded IS NOT NULL)
        GROUP BY 1, 2 HAVING count(e.id) <> 1 OR g.expiry_recorded IS NULL"""),
    ("every ended embargo lifted once, none lifted twice",
     """SELECT p.package_id, p.embargo_until, p.embargo_lifted, count(e.id) FROM governance_dataset_policy p
        LEFT JOIN governance_event e ON e.kind = 'embargo_lifted' AND e.package_id = p.package_id
             AND (e.detail->>'embargo_until')::timestamptz = p.embargo_until
        WHERE p.embargo_until <= {AS_OF} GROUP BY 1, 2, 3
        HAVING count(e.id) <> 1 OR p.embargo_lifted IS NULL"""),
    ("no embargo end lifted twice",
     """SELECT package_id, detail->>'embargo_until', count(*) FROM governance_event
        WHERE kind = 'embargo_lifted' GROUP BY 1, 2 HAVING count(*) > 1"""),
    ("one 'request decided' e-mail per decision, one 'request submitted' per reviewer and request made",
     """SELECT * FROM (
          SELECT 'request_decided' AS template,
                 (SELECT count(*) FROM governance_notification WHERE template = 'request_decided') AS n,
                 (SELECT count(*) FROM governance_event WHERE kind IN
                      ('request_approved', 'request_rejected', 'request_returned')) AS expected
          UNION ALL
          SELECT 'request_submitted',
                 (SELECT count(*) FROM governance_notification WHERE template = 'request_submitted'),
                 -- each of the owning organisation's admins (the reviewers) with an address
                 (SELECT count(*) FROM governance_event e
                  JOIN package p ON p.id = e.package_id
                  JOIN member m ON m.group_id = p.owner_org AND m.capacity = 'admin'
                       AND m.state = 'active' AND m.table_name = 'user'
                  JOIN "user" u ON u.id = m.table_id AND u.state = 'active' AND coalesce(u.email, '') <> ''
                  WHERE e.kind IN ('request_created', 'request_resubmitted') AND u.id <> e.actor_id)) x
        WHERE n <> expected"""),
    ("nothing left in the outbox, nothing given up",
     "SELECT id, status, attempts, last_error FROM governance_notification WHERE status <> 'sent'"),
]
CHECKS = [(what, sql.replace("{AS_OF}", AS_OF)) for what, sql in CHECKS]

COUNTS = {
    "acceptances": "SELECT count(*) FROM governance_acceptance",
    "requests": "SELECT count(*) FROM governance_request",
    "decisions": "SELECT count(*) FROM governance_request_change WHERE to_state IN ('approved', 'rejected', 'returned')",
    "grants": "SELECT count(*) FROM governance_grant",
    "grant expiries": "SELECT count(*) FROM governance_event WHERE kind = 'grant_expired'",
    "embargo lifts": "SELECT count(*) FROM governance_event WHERE kind = 'embargo_lifted'",
    "tier and embargo changes": "SELECT count(*) FROM governance_event WHERE kind IN "
                                "('tier_changed', 'embargo_set', 'embargo_changed', 'embargo_removed')",
    "ledger events": "SELECT count(*) FROM governance_event",
    "notifications": "SELECT count(*) FROM governance_notification",
    "delivery retries": "SELECT coalesce(sum(attempts - 1), 0) FROM governance_notification WHERE status = 'sent'",
}

INVALID = """CREATE OR REPLACE FUNCTION pg_temp.i_invalid(step text) RETURNS boolean LANGUAGE sql AS $$
    SELECT step NOT IN ('->pending', 'pending>approved', 'pending>rejected', 'pending>returned',
                        'pending>withdrawn', 'returned>pending', 'returned>withdrawn') $$"""


def inbox_failures(cur, log_dir: str) -> tuple[list, dict]:
    """Every sent notification exactly once in the inbox; nothing else there."""
    seen = collections.Counter()
    path = os.path.join(log_dir, "inbox.jsonl")
    if os.path.exists(path):
        for line in open(path):
            seen[json.loads(line)["notification"]] += 1
    cur.execute("SELECT id::text FROM governance_notification WHERE status = 'sent'")
    sent = {row[0] for row in cur.fetchall()}
    failures = [f"notification {n} delivered {k} times" for n, k in seen.items() if k > 1]
    failures += [f"notification {n} in the inbox but not marked sent" for n in seen if n not in sent]
    failures += [f"notification {n} marked sent, not in the inbox" for n in sent if n not in seen]
    return failures, {"inbox messages": sum(seen.values())}


def client_failures(cur, log_dir: str) -> tuple[list, dict]:
    """What the load generator saw succeed is in the database."""
    failures, made, decided = [], 0, 0
    for path in glob.glob(os.path.join(log_dir, "writes-*.jsonl")):
        for line in open(path):
            w = json.loads(line)
            if w["kind"] == "request_create":
                made += 1
                cur.execute("SELECT 1 FROM governance_request WHERE id = %s", (w["id"],))
                if cur.fetchone() is None:
                    failures.append(f"request {w['id']} answered as made, not in the database")
            elif w["kind"] == "request_decide":
                for rid in w["ids"]:
                    decided += 1
                    cur.execute("SELECT 1 FROM governance_request_change WHERE request_id = %s "
                                "AND to_state = %s AND from_state = 'pending'", (rid, w["state"]))
                    if cur.fetchone() is None:
                        failures.append(f"request {rid} answered as {w['state']}, no such change")
    return failures, {"requests the client saw made": made, "decisions the client saw made": decided}


def main(log_dir: str, as_of: str = "") -> None:
    conn = psycopg2.connect(DSN)
    cur = conn.cursor()
    cur.execute("SELECT set_config('load.as_of', %s, false)", (as_of,))
    cur.execute(INVALID)
    failures, counts = [], {}
    for what, sql in CHECKS:
        cur.execute(sql.replace("i_invalid(", "pg_temp.i_invalid("))
        rows = cur.fetchall()
        if rows:
            failures.append({"check": what, "rows": [list(map(str, r)) for r in rows[:10]], "count": len(rows)})
    for what, sql in COUNTS.items():
        cur.execute(sql)
        counts[what] = cur.fetchone()[0]
    for extra in (inbox_failures, client_failures):
        more, c = extra(cur, log_dir)
        failures += [{"check": m} for m in more]
        counts.update(c)
    print(json.dumps({"failures": failures, "counts": counts, "checks": [w for w, _ in CHECKS]}, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:3])
