"""``make bench-load``: the reference deployment under a portal's load, with
and without the plugin, then with faults injected; asserts that nothing was
lost, duplicated or leaked, and writes benchmarks/RESULTS.md's "Under load"
section and benchmarks/load.png.

    make bench-load                          every scenario (about 35 minutes on 2 cores)
    make bench-load SCENARIO=redis           one (after the content is seeded)
    .venv/bin/python -m benchmarks.load.run --scenario solr --seconds 90

Scenarios: compare (the shared mix, with and without the plugin, alternating
A B B A), steady (the full mix), postgres, redis, smtp-down, smtp-slow, solr,
worker-kill, clock-skew. Exits non-zero when an assertion fails.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import psycopg2

from . import checks, faults, report, seed
from . import stack as st

ROOT = st.ROOT
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
PYTHON = str(st.VENV / "bin" / "python")
CKAN = str(st.VENV / "bin" / "ckan")
PLAN = st.WORK / "plan.json"
ALL = ("compare", "steady", "postgres", "redis", "smtp-down", "smtp-slow", "solr", "worker-kill", "clock-skew")
# Time a scenario's pending mail, lifts and expiries may take after the load
# stops: the outbox's backoff after failures is 1, 2, 4 ... minutes.
DRAIN_SECONDS = 480
# The cron commands' period: what falls due in a two-minute run happens in it.
CRON_SECONDS = 10


def sh(*argv: str, **kw) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, **kw)
    if done.returncode:
        sys.exit(f"failed: {' '.join(argv)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return done.stdout


def prepare(stack: st.Stack) -> dict[str, pathlib.Path]:
    """Fresh databases and indexes, the seed, the site and its job workers and cron."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from overhead import DATASTORE_CLEAN  # one clean-up for both benchmarks

    inis = {label: st.write_ini(label, st.PORTS[label], st.PORTS[f"solr-{label}"]) for label in ("with", "without")}
    st.redis_stop()
    st.redis_start()
    for label in inis:
        st.solr_stop(label)
        shutil.rmtree(st.WORK / f"solr-{label}", ignore_errors=True)
        st.solr_start(label, st.PORTS[f"solr-{label}"])
    print("preparing ckan_load ...", file=sys.stderr)
    sh(CKAN, "-c", str(inis["with"]), "db", "clean", "--yes")
    env = dict(os.environ, PGPASSWORD="pass")
    sh("psql", "-X", "-q", "-h", "127.0.0.1", "-U", "ckan_default", "-d", "datastore_load",
       "-v", "ON_ERROR_STOP=1", "-c", DATASTORE_CLEAN, env=env)
    sh(CKAN, "-c", str(inis["with"]), "db", "init")
    sh(CKAN, "-c", str(inis["with"]), "db", "pending-migrations", "--apply")
    shutil.rmtree(st.WORK / "storage", ignore_errors=True)
    for stale in [st.WORK / "inbox.jsonl", st.WORK / "smtp-control", *st.WORK.glob("plan-*.json")]:
        stale.unlink(missing_ok=True)  # of an earlier run, against the databases just cleaned
    print("seeding ...", file=sys.stderr)
    started = time.time()
    sh(PYTHON, str(ROOT / "benchmarks/load/seed.py"), str(inis["with"]), str(PLAN), "seed")
    print(f"seeded in {time.time() - started:.0f} s; indexing for the site without the plugin ...", file=sys.stderr)
    sh(CKAN, "-c", str(inis["without"]), "search-index", "rebuild")
    return inis


def start_site(stack: st.Stack, inis: dict[str, pathlib.Path]) -> None:
    stack.mail()
    stack.gunicorn("with", inis["with"], st.PORTS["with"])
    stack.gunicorn("without", inis["without"], st.PORTS["without"])
    stack.job_workers(inis["with"])


def arm(ini: pathlib.Path, tag: str, shift: float = 0) -> tuple[dict, float]:
    start = time.time() + 25
    sh(PYTHON, str(ROOT / "benchmarks/load/seed.py"), str(ini), str(PLAN), "arm", tag, str(start), str(shift))
    plan_path = PLAN.with_name(f"plan-{tag}.json")
    time.sleep(max(0.0, start - time.time()))
    return json.loads(plan_path.read_text()), start


def locust(name: str, plan: dict, mode: str, hosts: list[str], args,
           seconds: int | None = None) -> tuple[subprocess.Popen, pathlib.Path]:
    log = st.WORK / "runs" / name
    shutil.rmtree(log, ignore_errors=True)
    log.mkdir(parents=True)
    (log / "plan.json").write_text(json.dumps(plan))
    env = dict(os.environ, LOAD_PLAN=str(log / "plan.json"), LOAD_MODE=mode, LOAD_HOSTS=",".join(hosts),
               LOAD_RATE=str(args.rate), LOAD_LOG=str(log))
    out = open(log / "locust.log", "w")
    proc = subprocess.Popen([str(LOCUST), "-f", str(ROOT / "benchmarks/load/locustfile.py"), "--headless",
                             "-u", str(args.users), "-r", str(args.users), "--run-time", f"{seconds or args.seconds}s",
                             "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING"],
                            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(log))
    return proc, log


def drain() -> str:
    """Wait until the outbox is empty and every lift and expiry due is recorded
    (cron and the job workers do the work, as on a site). Returns the
    database's time when that held: the checks judge what was due as of then."""
    deadline = time.time() + DRAIN_SECONDS
    while time.time() < deadline:
        try:
            with psycopg2.connect(checks.DSN) as conn, conn.cursor() as cur:
                cur.execute("""SELECT now()::text, (SELECT count(*) FROM governance_notification WHERE status = 'pending')
                             + (SELECT count(*) FROM governance_dataset_policy
                                WHERE embargo_until <= now() AND embargo_lifted IS NULL)
                             + (SELECT count(*) FROM governance_grant WHERE expires <= now()
                                AND expiry_recorded IS NULL AND revoked_at IS NULL)""")
                as_of, due = cur.fetchone()
                if due == 0:
                    return as_of
        except psycopg2.OperationalError:
            pass
        time.sleep(5)
    return ""  # not drained: the checks judge as of their own time, and report what is missing


def scenario(name: str, stack: st.Stack, inis, args) -> report.Run:
    print(f"--- {name}", file=sys.stderr)
    hosts = [f"http://127.0.0.1:{st.PORTS['with']}@0"]
    shift = 0.0
    if name == "clock-skew":
        stack.stop("with-master")
        stack.gunicorn("skew-plus", inis["with"], st.PORTS["skew-plus"], workers=2, offset=300)
        stack.gunicorn("skew-minus", inis["with"], st.PORTS["skew-minus"], workers=2, offset=-300)
        hosts = [f"http://127.0.0.1:{st.PORTS['skew-plus']}@300", f"http://127.0.0.1:{st.PORTS['skew-minus']}@-300"]
        shift = 300.0  # the +5 min server sees the ends during the run
    plan, t0 = arm(inis["with"], name.replace("-", ""), shift)
    proc, log = locust(name, plan, "full", hosts, args)
    marks = faults.INJECT[name](stack, t0) if name in faults.INJECT else []
    if name == "clock-skew":
        marks = [("clocks +5 min and -5 min", t0, t0 + args.seconds)]
    proc.wait()
    (log / "marks.json").write_text(json.dumps(marks))  # the fault's windows, for re-plotting
    as_of = drain()
    if name == "clock-skew":
        for group in ("skew-plus", "skew-minus"):
            stack.stop(group + "-master")
        stack.gunicorn("with", inis["with"], st.PORTS["with"])
    if (st.WORK / "inbox.jsonl").exists():  # everything delivered since the seed
        shutil.copy(st.WORK / "inbox.jsonl", log / "inbox.jsonl")
    result = json.loads(sh(PYTHON, "-m", "benchmarks.load.checks", str(log), as_of, cwd=str(ROOT)))
    run = report.Run(name, str(log), args.seconds, marks, result["counts"])
    gate_failures, run.decided = run.gate_failures(plan)
    run.failures = ([f"exactly once: {f['check']} ({f.get('count', 1)} rows, e.g. {f.get('rows', [''])[:2]})"
                     for f in result["failures"]]
                    + [f"leak: {len(run.leaks)} answers carried data the caller may not have"] * bool(run.leaks)
                    + gate_failures[:5] + faults.expect(name, run))
    if not run.rows:
        run.failures.append("the load generator made no requests (see locust.log)")
    for f in run.failures:
        print(f"  FAIL {f}", file=sys.stderr)
    return run


def compare(stack: st.Stack, inis, args) -> list[report.Run]:
    """The shared mix (reads of every tier, publisher edits) against both sites, A B B A."""
    plan = seed.known_plan(PLAN)
    for label in ("with", "without"):  # warm both (templates, caches, pools); not measured
        print(f"--- compare: warming {label}", file=sys.stderr)
        locust(f"warm-{label}", plan, "shared", [f"http://127.0.0.1:{st.PORTS[label]}@0"], args, 20)[0].wait()
    runs = []
    for i, label in enumerate(("with", "without", "without", "with")):
        print(f"--- compare {label} ({i + 1}/4)", file=sys.stderr)
        proc, log = locust(f"compare-{label}-{i}", plan, "shared", [f"http://127.0.0.1:{st.PORTS[label]}@0"], args)
        proc.wait()
        run = report.Run(f"compare {label}", str(log), args.seconds)
        run.failures = faults.expect("compare", run)
        if label == "with" and run.leaks:
            run.failures.append(f"leak: {len(run.leaks)} answers carried data the caller may not have")
        if label == "without" and not run.leaks:
            # The scanner's control: plain CKAN serves every tier's data to all.
            run.failures.append("the scanner found no gated data on the site without the plugin")
        for f in run.failures:
            print(f"  FAIL {f}", file=sys.stderr)
        runs.append(run)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=ALL)
    parser.add_argument("--seconds", type=int, default=120, help="each scenario's load (compare: each quarter)")
    parser.add_argument("--users", type=int, default=20, help="simulated users")
    parser.add_argument("--rate", type=float, default=0.5, help="requests per second per user")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RESULTS.md and load.png")
    args = parser.parse_args()
    names = args.scenario or list(ALL)
    stack = st.Stack()
    try:
        inis = prepare(stack)
        start_site(stack, inis)
        runs: list[report.Run] = []
        for name in names:
            if name == "compare":
                runs += compare(stack, inis, args)
                continue
            if "cron" not in stack.procs:
                # Not during the comparison: each round starts three CKAN
                # processes, CPU the two sites would share unevenly.
                stack.cron(inis["with"], CRON_SECONDS)
            runs.append(scenario(name, stack, inis, args))
    finally:
        stack.stop_all()
    if not args.no_write:
        from .results_section import write
        write(runs, args)
    failed = [r for r in runs if r.failures]
    print(f"{len(runs) - len(failed)} of {len(runs)} runs passed", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
