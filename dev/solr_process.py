"""Start and stop the real Solr of dev/solr/ from Python (tests, CKAN's own
suite, benchmarks).

    handle = solr_process.start(home)   # a free port, waits for /admin/ping
    handle.url                          # http://127.0.0.1:PORT/solr/ckan
    handle.stop()

``memory=True`` keeps the index in memory (gone at stop): a commit then costs
no fsync, which is what a test suite that commits after every dataset write
needs. Solr also stops by itself when the process that started it ends
(``SOLR_WATCH_PID``), so a killed test run leaves no Solr behind.
"""
from __future__ import annotations

import os
import sys
import pathlib
import socket
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "dev" / "solr" / "solr.sh"
# As dev/solr/solr.sh's default.
DEFAULT_JAVA_OPTS = "-Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class SolrError(RuntimeError):
    pass


class Handle:
    def __init__(self, url: str, home: pathlib.Path) -> None:
        self.url = url
        self.home = home

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.home)], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(home: pathlib.Path | str, *, port: int | None = None, memory: bool = False,
          log: pathlib.Path | str | None = None, quiet: bool = False,
          attempts: int = 3) -> Handle:
    """Start Solr on ``home`` (created if missing) and return when it answers.
    A free port is chosen unless one is given; another process may take it
    first, so the start is tried again on a new one. ``quiet``: only warnings
    and errors are logged, not every request (a test session makes hundreds
    of thousands)."""
    home = pathlib.Path(home).resolve()
    log = pathlib.Path(log) if log else home / "solr.log"
    env = dict(os.environ, SOLR_WATCH_PID=str(os.getpid()))
    env.setdefault("VENV", sys.prefix)
    if memory:
        env["SOLR_MEMORY_INDEX"] = "1"
    if quiet:
        env["SOLR_JAVA_OPTS"] = (env.get("SOLR_JAVA_OPTS") or DEFAULT_JAVA_OPTS) + " -Dsolr.log.level=WARN"
    error = ""
    for _ in range(1 if port else attempts):
        chosen = port or free_port()
        done = subprocess.run([str(SCRIPT), "start", str(chosen), str(home), str(log)],
                              env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return Handle(done.stdout.strip().splitlines()[-1], home)
        error = done.stderr.strip()
        if "already in use" not in error:
            break
    raise SolrError(f"Solr did not start on {home}:\n{error}")
