"""Overhead of ckanext-governance against the same CKAN without it, side by side.

Two CKAN servers run on 127.0.0.1 over one database and one search service:
A with ``governance`` in ckan.plugins, B without. Requests alternate A, B, A, B
so machine noise falls on both alike; for each kind of request the script
prints the median and p95 latency of both and the ratio of the medians.

    make bench            (or: .venv/bin/python benchmarks/overhead.py --rounds 200)

It uses its own database (ckan_bench, created by dev/setup.sh bench) and an
in-memory Solr stand-in, or a real Solr when CKAN_SOLR_URL is set. This is a
measurement, not a test: it asserts nothing and prints what it saw.
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
import urllib.parse
from collections.abc import Iterator, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = pathlib.Path(os.environ.get("VENV", ROOT / ".venv"))
CKAN = str(VENV / "bin" / "ckan")
PYTHON = str(VENV / "bin" / "python")
WORK = ROOT / ".data" / "bench"

INI = """\
[app:main]
use = egg:ckan
ckan.site_id = governance_bench
ckan.site_url = http://127.0.0.1:{port}
SECRET_KEY = bench-not-secret
api_token.jwt.encode.secret = string:bench-not-secret
api_token.jwt.decode.secret = string:bench-not-secret
sqlalchemy.url = postgresql://ckan_default:pass@localhost/ckan_bench
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

SEED = r'''
import json, sys
from ckan.cli import load_config
from ckan.config.middleware import make_app
app = make_app(load_config(sys.argv[1]))
flask_app = app.apps["flask_app"]._wsgi_app if hasattr(app, "apps") else app._wsgi_app
import ckan.model as model
import ckan.plugins.toolkit as tk
tiers = ["open", "registered", "agreement", "controlled"]
with flask_app.test_request_context():
    site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    ctx = lambda: {"user": site, "ignore_auth": True}
    act = lambda action, /, **kw: tk.get_action(action)(ctx(), kw)
    researcher = act("user_create", name="bench-researcher", email="r@example.org", password="bench-password-1")
    org = act("organization_create", name="bench-org")
    for tier in tiers:
        act("package_create", name=f"show-{tier}", owner_org=org["id"], access_tier=tier,
            resources=[{"name": f"file {i}", "url": f"https://data.example.org/{tier}/{i}.csv"}
                       for i in range(20)])
    for i in range(int(sys.argv[2])):
        act("package_create", name=f"search-{i:04d}", owner_org=org["id"], access_tier=tiers[i % 4],
            notes="benchmark dataset", resources=[{"url": f"https://data.example.org/s/{i}.csv"}])
    token = tk.get_action("api_token_create")({"user": "bench-researcher", "ignore_auth": True},
                                              {"user": "bench-researcher", "name": "bench"})["token"]
print(json.dumps({"token": token}))
'''


@contextlib.contextmanager
def governance_site(name: str, port: int, extra: Sequence[str] = ()
                    ) -> Iterator[tuple[pathlib.Path, dict[str, str]]]:
    """A benchmark ini with the governance plugin over the ckan_bench database,
    migrated, and a search service (the stand-in unless CKAN_SOLR_URL is set):
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
    """The environment for ckan commands, with CKAN_SOLR_URL naming a search
    service: the one given, or the Solr stand-in for as long as this lasts."""
    env = dict(os.environ)
    standin = None
    if not env.get("CKAN_SOLR_URL"):
        sys.path.insert(0, str(ROOT / "dev"))
        import solr_standin

        standin = solr_standin.serve_in_thread()
        env["CKAN_SOLR_URL"] = standin.url
    try:
        yield env
    finally:
        if standin is not None:
            standin.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd: str, env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return done.stdout


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


def timed(conn: http.client.HTTPConnection, path: str, token: str | None) -> float:
    headers = {"Authorization": token} if token else {}
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - start
    if resp.status >= 400:
        sys.exit(f"{path} answered {resp.status}")
    return elapsed


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100, help="requests per kind and server")
    parser.add_argument("--datasets", type=int, default=200, help="datasets for search")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    with search_service() as env:
        compare(args, env)


def compare(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Two servers over one database, with and without the plugin, side by side."""
    ports = {"with": free_port(), "without": free_port()}
    inis = {}
    for label, plugins in (("with", "governance"), ("without", "")):
        ini = WORK / f"{label}.ini"
        ini.write_text(INI.format(port=ports[label], plugins=plugins, storage=WORK / "storage"))
        inis[label] = str(ini)

    print("preparing the benchmark database ...", file=sys.stderr)
    run(CKAN, "-c", inis["with"], "db", "clean", "--yes", env=env)
    run(CKAN, "-c", inis["with"], "db", "init", env=env)
    run(CKAN, "-c", inis["with"], "db", "pending-migrations", "--apply", env=env)
    seeded = json.loads(run(PYTHON, "-c", SEED, inis["with"], str(args.datasets), env=env).strip().splitlines()[-1])

    procs = {
        label: subprocess.Popen(
            [CKAN, "-c", inis[label], "run", "--host", "127.0.0.1", "--port", str(ports[label]),
             "--disable-reloader"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for label in ("with", "without")
    }
    try:
        for label, proc in procs.items():
            wait_ready(ports[label], proc)
        conns = {label: http.client.HTTPConnection("127.0.0.1", ports[label]) for label in ports}
        token = seeded["token"]
        kinds = [
            (f"package_show {tier} ({who})", f"/api/3/action/package_show?id=show-{tier}", tok)
            for tier in ("open", "controlled") for who, tok in (("anonymous", None), ("logged-in", token))
        ] + [
            (f"package_search rows={rows} ({who})", f"/api/3/action/package_search?rows={rows}", tok)
            for rows in (10, 100) for who, tok in (("anonymous", None), ("logged-in", token))
        ] + [
            ("dataset page (anonymous)", "/dataset/show-controlled", None),
        ]
        print(f"\n{'request':<40} {'median with':>12} {'without':>10} {'ratio':>7} {'p95 with':>10} {'without':>10}")
        for name, path, tok in kinds:
            times: dict[str, list[float]] = {"with": [], "without": []}
            for label in ("with", "without"):  # warm up both
                for _ in range(5):
                    timed(conns[label], path, tok)
            for _ in range(args.rounds):
                for label in ("with", "without"):
                    times[label].append(timed(conns[label], path, tok))
            mw, mo = statistics.median(times["with"]), statistics.median(times["without"])
            print(f"{name:<40} {mw * 1000:>10.1f}ms {mo * 1000:>8.1f}ms {mw / mo:>7.3f}"
                  f" {p95(times['with']) * 1000:>8.1f}ms {p95(times['without']) * 1000:>8.1f}ms")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
