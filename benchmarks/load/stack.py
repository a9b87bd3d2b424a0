"""The processes of a load run: the deployment of the README's "Reference
deployment" (gunicorn over dev/stack/wsgi.py with dev/stack/gunicorn.conf.py,
two ``ckan jobs worker``, the cron commands on a loop) over the machine's
PostgreSQL, a Redis server and Apache Solr nodes of the run's own (so the fault
scenarios can stop them), and the run's SMTP server (mailsink.py)."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV = pathlib.Path(os.environ.get("VENV", ROOT / ".venv"))
WORK = ROOT / ".data" / "load"
CRON = ("embargo lift", "grants expire", "notify send")
REDIS_PORT, SMTP_PORT = 6391, 8027
PORTS = {"with": 5060, "without": 5061, "skew-plus": 5062, "skew-minus": 5063,
         "solr-with": 8985, "solr-without": 8986}

INI = """\
[DEFAULT]
debug = false

[app:main]
use = egg:ckan
ckan.site_id = governance_load
ckan.site_url = http://127.0.0.1:{port}
SECRET_KEY = load-not-secret
api_token.jwt.encode.secret = string:load-not-secret
api_token.jwt.decode.secret = string:load-not-secret
sqlalchemy.url = postgresql://ckan_default:pass@localhost/ckan_load
ckan.datastore.write_url = postgresql://ckan_default:pass@localhost/datastore_load
ckan.datastore.read_url = postgresql://datastore_default:pass@localhost/datastore_load
solr_url = http://127.0.0.1:{solr_port}/solr/ckan
ckan.redis.url = redis://127.0.0.1:{redis_port}/0
ckan.plugins = {plugins}
ckanext.governance.link_fields = related_dataset
ckan.storage_path = {storage}
smtp.server = 127.0.0.1:{smtp_port}
smtp.mail_from = governance-load@example.org

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(process)d %(levelname)s %(name)s %(message)s
"""
# The demo's plugins, with the DataStore (the load reads DataStore tables).
PLUGINS = {"with": "activity image_view datastore governance", "without": "activity image_view datastore"}


def write_ini(label: str, port: int, solr_port: int) -> pathlib.Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{label}.ini"
    path.write_text(INI.format(port=port, solr_port=solr_port, redis_port=REDIS_PORT,
                               plugins=PLUGINS[label],
                               storage=WORK / "storage", smtp_port=SMTP_PORT))
    return path


def ping(url: str, timeout: float = 2) -> bool:
    try:
        urllib.request.urlopen(url, timeout=timeout).read()
        return True
    except Exception:  # noqa: BLE001 - any failure is "not up"
        return False


class Stack:
    """Every process the run started, by name; stopped at the end."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(WORK / f"{name}.log", "a")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, **(env or {})),
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        for label in ("with", "without"):
            solr_stop(label)
        redis_stop()

    # The site -----------------------------------------------------------------------------

    def gunicorn(self, name: str, ini: pathlib.Path, port: int, workers: int = 4, offset: float = 0) -> None:
        env = {"CKAN_INI": str(ini), "STACK_PORT": str(port), "STACK_WORKERS": str(workers),
               "STACK_LOG": str(WORK / f"{name}.log"), "STACK_CLOCK_OFFSET_SECONDS": str(offset)}
        self.start(name + "-master", [str(VENV / "bin" / "gunicorn"), "-c", str(ROOT / "dev/stack/gunicorn.conf.py"),
                                      "--chdir", str(ROOT / "dev/stack"), "wsgi:application"], env)
        for _ in range(240):
            if ping(f"http://127.0.0.1:{port}/api/3/action/status_show", 5):
                return
            time.sleep(0.5)
        raise SystemExit(f"gunicorn {name} did not answer on {port} (see {WORK / name}.log)")

    def worker_pids(self, name: str) -> list[int]:
        master = self.procs[name + "-master"].pid
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def job_workers(self, ini: pathlib.Path) -> None:
        # Restarted when they exit, as supervisor's autorestart does on a site.
        for n in (1, 2):
            self.start(f"jobs-{n}", ["bash", "-c", f"while :; do {VENV / 'bin' / 'ckan'} -c {ini} jobs worker; sleep 2; done"])

    def cron(self, ini: pathlib.Path, seconds: int) -> None:
        ckan = f"{VENV / 'bin' / 'ckan'} -c {ini} governance"
        loop = f"while sleep {seconds}; do " + "; ".join(f"{ckan} {c}" for c in CRON) + "; done"
        self.start("cron", ["bash", "-c", loop])

    def mail(self) -> None:
        self.start("smtp", [str(VENV / "bin" / "python"), str(ROOT / "benchmarks/load/mailsink.py"),
                            str(SMTP_PORT), str(WORK / "inbox.jsonl"), str(WORK / "smtp-control")])
        time.sleep(1)


# Services the fault scenarios stop and start -------------------------------------------

def solr_start(label: str, port: int) -> None:
    home = WORK / f"solr-{label}"
    subprocess.run([str(ROOT / "dev/solr/solr.sh"), "start", str(port), str(home), str(WORK / f"solr-{label}.log")],
                   check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, VENV=str(VENV)))


def solr_stop(label: str) -> None:
    subprocess.run([str(ROOT / "dev/solr/solr.sh"), "stop", str(WORK / f"solr-{label}")],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def redis_start() -> None:
    subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--daemonize", "yes",
                    "--save", "", "--appendonly", "no", "--logfile", str(WORK / "redis.log"),
                    "--dir", str(WORK)], check=True)
    for _ in range(40):
        if subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            return
        time.sleep(0.25)
    raise SystemExit("Redis did not start")


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)


def postgres(action: str) -> None:
    """Stop or start the machine's PostgreSQL cluster (the one dev/setup.sh uses)."""
    ver, name = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True,
                               check=True).stdout.split()[:2]
    argv = ["pg_ctlcluster", ver, name, action] + (["-m", "fast"] if action == "stop" else [])
    subprocess.run(argv, check=True)
    if action == "start":
        for _ in range(60):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
                return
            time.sleep(0.5)
        raise SystemExit("PostgreSQL did not come back")
