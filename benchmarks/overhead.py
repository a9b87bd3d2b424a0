"""Overhead of ckanext-governance against the same CKAN without it, side by side.

Two CKAN servers (``ckan run``) listen on 127.0.0.1 over one database and one
DataStore database: A with ``datastore governance`` in ckan.plugins, B with
``datastore`` alone. Each has a search index of its own, built by its own
configuration (two Apache Solr 9 nodes of dev/solr/, or the cores CKAN_SOLR_URL and
CKAN_SOLR_URL_WITHOUT name): CKAN answers package_show from the index's copy of
a dataset, and the plugin stores gated datasets there without their URLs, so
over one shared index plain CKAN would serve copies no plain site has (and
answer a download of gated data with a 500). Requests alternate between them,
A B, B A, A B ... (the order flips each round), so machine noise falls on both
alike. For each kind of request the script prints the median and p95 latency
of both and the ratio of the medians, and the number of SQL statements one
request costs on each: counted in two child processes (one per ini) that build
the same app and send the same request once through Flask's test client after
one warm-up, with a ``before_cursor_execute`` listener on every engine (the
DataStore's included).

The kinds of request (issue 9): package_show of a dataset with 20 resources of
each tier, anonymous and logged-in; package_search with 10 and 100 rows over
mixed tiers; the resource download route of a link resource (a 302 redirect,
not followed) of an open dataset (anonymous and as a member of its
organisation) and of a controlled one (as a member, who may have the data);
datastore_search of a 100-row table of an open dataset (anonymous) and of a
controlled one (member); the dataset page, anonymous and logged-in.

    make bench            (or: .venv/bin/python benchmarks/overhead.py --rounds 200)

It uses its own databases (ckan_bench and datastore_bench, prepared by
dev/setup.sh bench) and Apache Solr 9 nodes of dev/solr/ (indexes on disk,
emptied at each run), or the Solr cores CKAN_SOLR_URL and CKAN_SOLR_URL_WITHOUT
name. This is a measurement, not a test: it asserts nothing
about speed; it writes its section of benchmarks/RESULTS.md and
benchmarks/ratio.png.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(os.environ.get("VENV", ROOT / ".venv"))
CKAN = str(VENV / "bin" / "ckan")
PYTHON = str(VENV / "bin" / "python")
WORK = ROOT / ".data" / "bench"
PLOT = pathlib.Path(__file__).resolve().parent / "ratio.png"

# The targets of issue 9.
MAX_RATIO, MAX_EXTRA_QUERIES = 1.05, 3

INI = """\
[app:main]
use = egg:ckan
ckan.site_id = governance_bench
ckan.site_url = http://127.0.0.1:{port}
SECRET_KEY = bench-not-secret
api_token.jwt.encode.secret = string:bench-not-secret
api_token.jwt.decode.secret = string:bench-not-secret
sqlalchemy.url = postgresql://ckan_default:pass@localhost/ckan_bench
ckan.datastore.write_url = postgresql://ckan_default:pass@localhost/datastore_bench
ckan.datastore.read_url = postgresql://datastore_default:pass@localhost/datastore_bench
solr_url = http://127.0.0.1:8983/solr/ckan
ckan.redis.url = redis://127.0.0.1:6379/3
ckan.plugins = {plugins}
ckan.storage_path = {storage}
ckan.auth.allow_dataset_collaborators = true

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = ERROR
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)s %(name)s %(message)s
"""

PLUGINS = {"with": "datastore governance", "without": "datastore"}
TIERS = ("open", "registered", "agreement", "controlled")

SEED = r'''
import json, sys
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
flask_app = app.apps["flask_app"]._wsgi_app if hasattr(app, "apps") else app._wsgi_app
import ckan.model as model
import ckan.plugins.toolkit as tk
tiers = ["open", "registered", "agreement", "controlled"]
out = {"resources": {}, "tables": {}, "tokens": {}}
with flask_app.test_request_context():
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    ctx = lambda: {"user": site, "ignore_auth": True}
    act = lambda action, /, **kw: tk.get_action(action)(ctx(), kw)
    for name in ("bench-researcher", "bench-member"):
        act("user_create", name=name, email=f"{name}@example.org", password="bench-password-1")
    org = act("organization_create", name="bench-org")
    act("organization_member_create", id=org["id"], username="bench-member", role="member")
    for tier in tiers:
        pkg = act("package_create", name=f"show-{tier}", owner_org=org["id"], access_tier=tier,
                  resources=[{"name": f"file {i}", "url": f"https://data.example.org/{tier}/{i}.csv"}
                             for i in range(20)])
        out["resources"][tier] = pkg["resources"][0]["id"]
    for tier in ("open", "controlled"):
        pkg = act("package_create", name=f"table-{tier}", owner_org=org["id"], access_tier=tier)
        table = act("datastore_create", force=True,
                    resource={"package_id": pkg["id"], "name": "small table"},
                    fields=[{"id": "n", "type": "int"}, {"id": "station", "type": "text"},
                            {"id": "value", "type": "float"}],
                    records=[{"n": i, "station": f"S{i % 7}", "value": i / 3} for i in range(100)])
        out["tables"][tier] = table["resource_id"]
    for i in range(int(sys.argv[2])):
        act("package_create", name=f"search-{i:04d}", owner_org=org["id"], access_tier=tiers[i % 4],
            notes="benchmark dataset", resources=[{"url": f"https://data.example.org/s/{i}.csv"}])
    for name in ("bench-researcher", "bench-member"):
        out["tokens"][name] = tk.get_action("api_token_create")(
            {"user": name, "ignore_auth": True}, {"user": name, "name": "bench"})["token"]
print(json.dumps(out))
'''

# One app per process (CKAN's plugins are process-wide): build it from the ini
# and send every kind of request through the test client, counting statements.
COUNT = r'''
import collections, json, re, sys, traceback
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
flask_app = app._wsgi_app
import sqlalchemy as sa

kinds = json.loads(sys.argv[2])
statements, origins = [], []


INFRASTRUCTURE = ("/sqlalchemy/", "/psycopg2/", "/ckan/model/", "/python3.11/", "/flask_sqlalchemy/")


def origin():
    """Where the plugin is on the stack: its innermost frame (code or template),
    and the first frame below it outside the plugin and the database layers
    when the statement is CKAN's own work that the plugin called; None when the
    plugin is not on the stack."""
    stack = traceback.extract_stack()[:-2]
    for depth in range(len(stack) - 1, -1, -1):
        if "ckanext/governance/" in stack[depth].filename:
            frame = stack[depth]
            mine = f"{frame.filename.split('ckanext/governance/')[1]}:{frame.lineno} {frame.name}"
            for inner in stack[depth + 1:]:
                if not any(part in inner.filename for part in INFRASTRUCTURE):
                    where = inner.filename.split("site-packages/")[-1]
                    return f"{mine} → {where}:{inner.lineno} {inner.name}"
            return mine
    return None


def record(conn, cursor, statement, *rest):
    database = conn.engine.url.database
    statements.append(statement if database == "ckan_bench" else f"[{database}] {statement}")
    origins.append(origin())


sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)


def shape(statement):  # the statement with its (expanded) parameters elided
    s = re.sub(r"\(?%\(\w+\)s(?:, %\(\w+\)s)*\)?", "?", statement)
    s = re.sub(r"'[^']*'", "'?'", s)
    return " ".join(s.split())


client = flask_app.test_client()
found = {}
for kind in kinds:
    headers = {"Authorization": kind["token"]} if kind["token"] else {}
    counts = []
    for i in range(4):  # one to warm up
        del statements[:], origins[:]
        resp = client.get(kind["path"], headers=headers)
        resp.get_data()
        if resp.status_code != kind["status"]:
            sys.exit(f"{kind['path']} answered {resp.status_code}, not {kind['status']}")
        if i:
            counts.append(len(statements))
    found[kind["name"]] = {"queries": sorted(set(counts)),
                           "shapes": dict(collections.Counter(shape(s) for s in statements)),
                           "origins": {}}
    for statement, where in zip(statements, origins):
        if where:
            by_shape = found[kind["name"]]["origins"].setdefault(shape(statement), {})
            by_shape[where] = by_shape.get(where, 0) + 1
print(json.dumps(found))
'''


@contextlib.contextmanager
def governance_site(name: str, port: int, extra: Sequence[str] = ()
                    ) -> Iterator[tuple[pathlib.Path, dict[str, str]]]:
    """A benchmark ini with the governance plugin over the ckan_bench database,
    migrated, and a search service (a Solr of dev/solr/ unless CKAN_SOLR_URL is set):
    yields (ini, environment for ckan commands). ``extra``: more lines for
    [app:main], e.g. ``"ckanext.governance.link_fields = related_dataset"``."""
    WORK.mkdir(parents=True, exist_ok=True)
    ini = WORK / f"{name}.ini"
    text = INI.format(port=port, plugins="governance", storage=WORK / "storage")
    if extra:
        text = text.replace("\n\n[loggers]", "".join(f"\n{line}" for line in extra) + "\n\n[loggers]", 1)
    ini.write_text(text)
    with search_service() as env:
        print("preparing the benchmark database ...", file=sys.stderr)
        run(CKAN, "-c", str(ini), "db", "init", env=env)
        run(CKAN, "-c", str(ini), "db", "pending-migrations", "--apply", env=env)
        yield ini, env


@contextlib.contextmanager
def search_service() -> Iterator[dict[str, str]]:
    """The environment for ckan commands, with CKAN_SOLR_URL naming a Solr
    core: the one given, or a real Solr 9 of dev/solr/ (index on disk, in
    .data/bench/solr-with) for as long as this lasts."""
    env = dict(os.environ)
    if env.get("CKAN_SOLR_URL"):
        yield env
        return
    with own_solr("solr-with") as url:
        yield dict(env, CKAN_SOLR_URL=url)


@contextlib.contextmanager
def plain_search_service(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment for the server without the plugin: a search index of its
    own, built by plain CKAN. (CKAN's package_show answers from the index's copy
    of a dataset; one shared index would make plain CKAN serve the copies the
    plugin stored without gated URLs, which neither site would do.) A second
    Solr of dev/solr/, or the core CKAN_SOLR_URL_WITHOUT names when CKAN_SOLR_URL is set."""
    if os.environ.get("CKAN_SOLR_URL"):
        url = os.environ.get("CKAN_SOLR_URL_WITHOUT")
        if not url:
            sys.exit("CKAN_SOLR_URL is set: set CKAN_SOLR_URL_WITHOUT to a second core with "
                     "CKAN's schema for the server without the plugin")
        yield dict(env, CKAN_SOLR_URL=url)
        return
    with own_solr("solr-without") as url:
        yield dict(env, CKAN_SOLR_URL=url)


_SOLR_SEEN: list[str] = []


def solr_description(url: str | None = None) -> str:
    """What served search: Solr's version, the JVM and its heap, as Solr says
    (read while it runs; the report is written after it stopped)."""
    import json
    import urllib.request

    if url is None and _SOLR_SEEN:
        return _SOLR_SEEN[0]
    url = url or os.environ.get("CKAN_SOLR_URL") or ""
    where = ("two Solr cores given by CKAN_SOLR_URL(_WITHOUT)" if os.environ.get("CKAN_SOLR_URL")
             else "two Apache Solr nodes of dev/solr/, one per server, indexes on disk")
    try:
        with urllib.request.urlopen(url.rsplit("/", 1)[0] + "/admin/info/system?wt=json", timeout=10) as r:
            info = json.load(r)
        jvm = info["jvm"]
        return (f"{where}: Solr {info['lucene']['solr-spec-version']}, "
                f"{jvm['name']} {jvm['version']}, heap {jvm['memory']['max']}")
    except Exception as err:  # the figures stand without it
        return f"{where} (version not read: {err})"


@contextlib.contextmanager
def own_solr(name: str) -> Iterator[str]:
    """A Solr 9 node with CKAN's schema, its index emptied first: both servers
    start from the same state in every run."""
    sys.path.insert(0, str(ROOT / "dev"))
    import shutil

    import solr_process

    home = WORK / name
    shutil.rmtree(home, ignore_errors=True)
    handle = solr_process.start(home, quiet=True)
    _SOLR_SEEN.append(solr_description(handle.url))
    try:
        yield handle.url
    finally:
        handle.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd: str, env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return done.stdout


def psql(sql: str, database: str = "ckan_bench") -> None:
    """Run SQL in a benchmark database as the site's database user."""
    env = dict(os.environ, PGPASSWORD="pass")
    subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "ckan_default", "-d", database,
                    "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, env=env)


def delete_named(prefix: str, before: str = "") -> str:
    """SQL that deletes a scale benchmark's own rows (datasets, their resources
    and terms, organisations, users and memberships whose names start with
    ``prefix``), after ``before`` (statements for the tables that point at them)."""
    packages = f"SELECT id FROM package WHERE name LIKE '{prefix}%'"
    return f"""{before}
DELETE FROM api_token WHERE user_id IN (SELECT id FROM "user" WHERE name LIKE '{prefix}%');
DELETE FROM resource WHERE package_id IN ({packages});
DELETE FROM governance_dataset_policy WHERE package_id IN ({packages});
DELETE FROM member WHERE group_id IN (SELECT id FROM "group" WHERE name LIKE '{prefix}%')
                      OR table_id IN (SELECT id FROM "user" WHERE name LIKE '{prefix}%');
DELETE FROM package WHERE name LIKE '{prefix}%';
DELETE FROM "group" WHERE name LIKE '{prefix}%';
DELETE FROM "user" WHERE name LIKE '{prefix}%';
"""


# The DataStore's tables of earlier runs (the main database is cleaned by `ckan db clean`).
DATASTORE_CLEAN = r"""
DO $body$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
              WHERE schemaname = 'public' AND tablename NOT LIKE '\_%' LOOP
        EXECUTE format('DROP TABLE %I CASCADE', t);
    END LOOP;
    IF to_regclass('public._table_stats') IS NOT NULL THEN
        DELETE FROM _table_stats;
    END IF;
END
$body$;
"""


def wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"server on {port} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/3/action/status_show")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"server on {port} did not start")


def timed(conn: http.client.HTTPConnection, path: str, token: str | None, status: int = 200) -> float:
    """Seconds for one GET, body read; redirects are not followed."""
    headers = {"Authorization": token} if token else {}
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - start
    if resp.status != status:
        sys.exit(f"{path} answered {resp.status}, not {status}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def write_ini(label: str, port: int) -> pathlib.Path:
    WORK.mkdir(parents=True, exist_ok=True)
    ini = WORK / f"{label}.ini"
    ini.write_text(INI.format(port=port, plugins=PLUGINS[label], storage=WORK / "storage"))
    return ini


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="requests per kind and server")
    parser.add_argument("--datasets", type=int, default=200, help="datasets for search")
    parser.add_argument("--write-ini", metavar="PATH",
                        help="only write the ini of the server with the plugin to PATH "
                             "(dev/setup.sh bench uses it for the DataStore permissions)")
    args = parser.parse_args()
    if args.write_ini:
        pathlib.Path(args.write_ini).write_text(
            INI.format(port=5000, plugins=PLUGINS["with"], storage=WORK / "storage"))
        return

    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with search_service() as env, plain_search_service(env) as plain_env:
        rows, counted = compare(args, {"with": env, "without": plain_env})
    report(args, rows, counted, time.perf_counter() - started)


def kinds_of_request(seeded: dict) -> list[dict]:
    """What is measured: name, path, token (None: anonymous), expected status."""
    researcher, member = seeded["tokens"]["bench-researcher"], seeded["tokens"]["bench-member"]
    res, tables = seeded["resources"], seeded["tables"]
    kinds = [
        (f"package_show {tier} ({who})", f"/api/3/action/package_show?id=show-{tier}", tok, 200)
        for tier in TIERS for who, tok in (("anonymous", None), ("logged-in", researcher))
    ] + [
        (f"package_search rows={rows} ({who})", f"/api/3/action/package_search?rows={rows}", tok, 200)
        for rows in (10, 100) for who, tok in (("anonymous", None), ("logged-in", researcher))
    ] + [
        ("download open (anonymous)", f"/dataset/show-open/resource/{res['open']}/download", None, 302),
        ("download open (member)", f"/dataset/show-open/resource/{res['open']}/download", member, 302),
        ("download controlled (member)",
         f"/dataset/show-controlled/resource/{res['controlled']}/download", member, 302),
        ("datastore_search open (anonymous)",
         f"/api/3/action/datastore_search?resource_id={tables['open']}", None, 200),
        ("datastore_search controlled (member)",
         f"/api/3/action/datastore_search?resource_id={tables['controlled']}", member, 200),
        ("dataset page (anonymous)", "/dataset/show-controlled", None, 200),
        ("dataset page (logged-in)", "/dataset/show-controlled", researcher, 200),
    ]
    return [{"name": n, "path": p, "token": t, "status": s} for n, p, t, s in kinds]


def compare(args: argparse.Namespace, envs: dict[str, dict[str, str]]) -> tuple[list[dict], dict]:
    """Two servers over one database, with and without the plugin, side by side."""
    ports = {"with": free_port(), "without": free_port()}
    inis = {label: str(write_ini(label, ports[label])) for label in ports}
    env = envs["with"]

    print("preparing the benchmark databases ...", file=sys.stderr)
    if os.environ.get("CKAN_SOLR_URL"):  # a real Solr keeps what earlier runs indexed
        for label in inis:
            run(CKAN, "-c", inis[label], "search-index", "clear", env=envs[label])
    run(CKAN, "-c", inis["with"], "db", "clean", "--yes", env=env)
    psql(DATASTORE_CLEAN, "datastore_bench")
    run(CKAN, "-c", inis["with"], "db", "init", env=env)
    run(CKAN, "-c", inis["with"], "db", "pending-migrations", "--apply", env=env)
    print(f"seeding {args.datasets + 6} datasets ...", file=sys.stderr)
    seeded = json.loads(run(PYTHON, "-c", SEED, inis["with"], str(args.datasets), env=env)
                        .strip().splitlines()[-1])
    kinds = kinds_of_request(seeded)
    print("indexing them for the server without the plugin ...", file=sys.stderr)
    run(CKAN, "-c", inis["without"], "search-index", "rebuild", env=envs["without"])

    print("counting SQL statements per request ...", file=sys.stderr)
    counted = {}
    for label in ("with", "without"):
        done = subprocess.run([PYTHON, "-c", COUNT, inis[label], json.dumps(kinds)], env=envs[label],
                              capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"counting statements ({label} the plugin) failed:\n{done.stderr[-3000:]}")
        counted[label] = json.loads(done.stdout.strip().splitlines()[-1])

    procs = {
        label: subprocess.Popen(
            [CKAN, "-c", inis[label], "run", "--host", "127.0.0.1", "--port", str(ports[label]),
             "--disable-reloader"],
            env=envs[label], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for label in ("with", "without")
    }
    rows = []
    try:
        for label, proc in procs.items():
            wait_ready(ports[label], proc)
        conns = {label: http.client.HTTPConnection("127.0.0.1", ports[label]) for label in ports}
        print(f"\n{'request':<38} {'median with':>11} {'without':>8} {'ratio':>6} {'p95 with':>9}"
              f" {'without':>8} {'queries with':>12} {'without':>7} {'extra':>5}")
        for kind in kinds:
            name, path, tok, status = kind["name"], kind["path"], kind["token"], kind["status"]
            times: dict[str, list[float]] = {"with": [], "without": []}
            for label in ("with", "without"):  # warm up both
                for _ in range(5):
                    timed(conns[label], path, tok, status)
            for i in range(args.rounds):
                for label in (("with", "without") if i % 2 == 0 else ("without", "with")):
                    times[label].append(timed(conns[label], path, tok, status))
            q = {label: counted[label][name]["queries"] for label in ("with", "without")}
            row = {
                "name": name,
                "median": {label: statistics.median(times[label]) for label in times},
                "p95": {label: p95(times[label]) for label in times},
                "queries": {label: span(q[label]) for label in q},
                "extra": q["with"][-1] - q["without"][-1],
                "exact": len(q["with"]) == 1 and len(q["without"]) == 1,
            }
            row["ratio"] = row["median"]["with"] / row["median"]["without"]
            rows.append(row)
            print(f"{name:<38} {ms(row['median']['with']):>11} {ms(row['median']['without']):>8}"
                  f" {row['ratio']:>6.3f} {ms(row['p95']['with']):>9} {ms(row['p95']['without']):>8}"
                  f" {row['queries']['with']:>12} {row['queries']['without']:>7} {row['extra']:>+5}",
                  flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=20)
    return rows, counted


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def span(counts: list[int]) -> str:
    return str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"


def extra_statements(counted: dict, name: str) -> list[tuple[int, str]]:
    """Statements the plugin adds to one request: (how many more, statement shape)."""
    w, o = counted["with"][name]["shapes"], counted["without"][name]["shapes"]
    diff = [(w.get(s, 0) - o.get(s, 0), s) for s in set(w) | set(o)]
    return sorted((d for d in diff if d[0]), key=lambda d: (-d[0], d[1]))


def report(args: argparse.Namespace, rows: list[dict], counted: dict, elapsed: float) -> None:
    import results

    over = [r for r in rows if r["ratio"] > MAX_RATIO]
    too_many = [r for r in rows if r["extra"] > MAX_EXTRA_QUERIES]
    per_rows = {}
    for who in ("anonymous", "logged-in"):
        per_rows[who] = {r["name"].split()[1]: r["extra"] for r in rows
                         if r["name"].startswith("package_search") and who in r["name"]}
    independent = all(len(set(v.values())) == 1 for v in per_rows.values())
    search = solr_description()

    print(f"\nmedian ratio <= {MAX_RATIO}: " + ("met for every kind" if not over else
          f"MISSED for {len(over)} of {len(rows)} kinds (worst {max(r['ratio'] for r in over):.3f})"))
    print(f"extra SQL statements <= {MAX_EXTRA_QUERIES}: " + ("met for every kind" if not too_many else
          "MISSED for " + ", ".join(f"{r['name']} (+{r['extra']})" for r in too_many)))
    print("extra statements of package_search at 10 and 100 rows: "
          + ("the same" if independent else f"DIFFERENT {per_rows}"))
    print(f"({elapsed / 60:.1f} minutes)")

    body = [
        "## Overhead against plain CKAN (`make bench`)\n",
        f"{results.machine()}.\n",
        f"Two `ckan run` servers on 127.0.0.1 over one database (ckan_bench) and one DataStore "
        f"database (datastore_bench), each with a search index of its own built by its own "
        f"configuration ({search}; over one shared index plain CKAN would serve the copies the "
        f"plugin stores without gated URLs): plugins `{PLUGINS['with']}` against "
        f"`{PLUGINS['without']}`. {args.datasets + 6} datasets ({args.datasets} for search, mixed "
        f"tiers; `show-<tier>` with 20 link resources each; two with a 100-row DataStore table). "
        f"{args.rounds} rounds of interleaved requests per kind after 5 to warm up, the order "
        f"flipping each round; latency is the client's, body read, redirects not followed. SQL "
        f"statements: one request through the Flask test client after one warm-up, every "
        f"engine (the DataStore's too). Logged-in is a registered user without membership "
        f"(`bench-researcher`); member is a member of the datasets' organisation. The whole run "
        f"took {elapsed / 60:.1f} minutes.\n",
        results.table(
            ["request", "median with", "without", "ratio", "p95 with", "without",
             "queries with", "without", "extra"],
            [[r["name"], ms(r["median"]["with"]), ms(r["median"]["without"]),
              (f"**{r['ratio']:.3f}**" if r["ratio"] > MAX_RATIO else f"{r['ratio']:.3f}"),
              ms(r["p95"]["with"]), ms(r["p95"]["without"]), r["queries"]["with"],
              r["queries"]["without"], f"{r['extra']:+d}"] for r in rows]),
        "![Median latency ratio per request kind](ratio.png)\n",
        "### Targets\n",
    ]
    if over:
        body.append(f"- Median ratio with/without ≤ {MAX_RATIO}: **missed** for {len(over)} of "
                    f"{len(rows)} kinds: " + "; ".join(
                        f"{r['name']} {r['ratio']:.3f} (+{(r['ratio'] - MAX_RATIO):.3f} over the "
                        f"target, +{(r['median']['with'] - r['median']['without']) * 1000:.1f} ms)"
                        for r in over) + f". Met for the other {len(rows) - len(over)}.")
    else:
        body.append(f"- Median ratio with/without ≤ {MAX_RATIO}: **met** for all {len(rows)} kinds "
                    f"(highest {max(r['ratio'] for r in rows):.3f}).")
    if too_many:
        body.append(f"- Extra SQL statements per request ≤ {MAX_EXTRA_QUERIES}: **missed** for "
                    + "; ".join(f"{r['name']} (+{r['extra']}, {r['extra'] - MAX_EXTRA_QUERIES} over)"
                                for r in too_many)
                    + f". Met for the other {len(rows) - len(too_many)} kinds.")
    else:
        body.append(f"- Extra SQL statements per request ≤ {MAX_EXTRA_QUERIES}: **met** for every "
                    f"kind (at most +{max(r['extra'] for r in rows)}).")
    body.append("- Extra statements independent of the number of results: "
                + ("**met**" if independent else "**missed**") + ": package_search "
                + "; ".join(f"{who} +{v.get('rows=10')} at 10 rows, +{v.get('rows=100')} at 100"
                            for who, v in per_rows.items()) + ".\n")
    body.append("### Where the extra statements come from\n")
    body.append("Statements of one request with the plugin minus without it, by shape "
                "(parameters elided; `[datastore_bench]` marks the DataStore's engine), each "
                "with where the plugin was on the stack when statements of that shape ran: its "
                "innermost frame (file:line function, code or template) and, for CKAN's own "
                "code called from there, the first frame outside the plugin.\n")
    for r in rows:
        extra = extra_statements(counted, r["name"])
        body.append(f"- **{r['name']}** ({r['extra']:+d})" + ("" if extra else ": none"))
        origins = counted["with"][r["name"]].get("origins", {})
        for diff, statement in extra:
            where = "; ".join(f"`{o}`" + (f" ×{n}" if n > 1 else "")
                              for o, n in sorted(origins.get(statement, {}).items(), key=lambda x: -x[1]))
            body.append(f"  - {diff:+d} × `{statement[:110]}{'…' if len(statement) > 110 else ''}`"
                        + (f" ← {where}" if where else " (the plugin not on the stack)"))
    body.append("")
    body.append(NOTES)
    results.write_section("overhead", "\n".join(body))
    plot(rows)
    print(f"wrote {results.RESULTS.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


NOTES = """\
### Notes

- **Where the added latency comes from.** Every kind gains one statement, the
  decision: `governance_dataset_facts` (migrations 007, 008), a PL/pgSQL function
  around one query (policy, agreement, the viewer's membership, collaboration,
  acceptance, grant and pending request) for any number of datasets. The
  function keeps its generic plan for the connection and reads by index only;
  the same query sent as text was planned anew each time, and for one dataset
  planning cost more than running it.
  Measured in the app on this machine (median of 300): for one dataset the
  function takes 0.35 ms for anonymous and logged-in viewers alike, the text
  took 0.61 ms and 0.94 ms; for 100 datasets both take about 1 ms (execution
  then dominates). On top come a database round trip and a transaction that
  an anonymous `package_search` of plain CKAN does not open, and Python: the
  viewer, `policy.decide`, the `governance` block and redaction per result
  (about 0.3 ms for 100 results), and larger bodies. Against requests of
  8–25 ms (Solr answers a page of results in a few milliseconds, and
  `package_show` is served from the index's copy) that is 5–20 %; the
  target of 5 % would leave 0.4–1.2 ms for all of it.
- **The download route** asks for the same dataset four times (the route's
  guard, CKAN's `resource_show` and the `package_show` inside it, the view's
  own `package_show`). The guard turns on `access.remember_decisions`, so one
  decision and one restoring of URLs serve the request. A download of gated
  data is recorded in the ledger (an INSERT and a commit, after CKAN answered
  and only when it handed the data out; setting
  `ckanext.governance.log_downloads`).
- **The dataset page** shows "Check before publishing" with CKAN's own
  "Manage" button, whose `check_access('package_update')` it reuses instead
  of asking again (that cost 6 statements logged-in, 2 anonymous): +1.
- `datastore_search` gains the resource lookup and the decision in the chained
  auth function (+2). `package_search` and `package_show` gain the decision
  (+1) and, for viewers who may have gated data, one statement restoring the
  URLs the index copy lacks (+1), at 10 as at 100 results.
- Latencies are of the development server (`ckan run`), one request at a time,
  client-side; ratios within about ±0.03 of each other are at the level of the
  machine's noise (other work may share its two cores).
"""


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in rows][::-1]
    ratios = [r["ratio"] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.34 * len(rows) + 1.4))
    colours = ["#c0392b" if v > MAX_RATIO else "#2e86c1" for v in ratios]
    ax.barh(names, ratios, color=colours)
    ax.axvline(MAX_RATIO, color="#333333", linestyle="--", linewidth=1,
               label=f"target {MAX_RATIO}")
    ax.axvline(1.0, color="#999999", linewidth=0.8)
    low = min(0.9, min(ratios) - 0.02)
    ax.set_xlim(low, max(MAX_RATIO + 0.05, max(ratios) + 0.05))
    for y, v in enumerate(ratios):
        ax.text(v + 0.003, y, f"{v:.3f}", va="center", fontsize=8)
    ax.set_xlabel("median latency with governance / without")
    ax.set_title("ckanext-governance: median latency ratio per request kind")
    ax.legend(loc="lower right", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
