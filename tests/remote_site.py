"""A second CKAN site with governance, served over HTTP by a real server (`ckan run`) on a
database of its own (ckan_remote_test), for the clients that only speak HTTP: ckanapi's
RemoteCKAN and its dump command, ckanext-harvest's CKAN harvester.

It shares the session's Solr under its own ``ckan.site_id`` (CKAN filters every search by
it), and Redis under a database number of its own.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Iterator

import sqlalchemy as sa

ROOT = pathlib.Path(__file__).resolve().parents[1]
CKAN = pathlib.Path(sys.executable).parent / "ckan"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RemoteSite:
    def __init__(self, ini: pathlib.Path, url: str, env: dict[str, str]):
        self.ini, self.url, self.env = ini, url, env

    def ckan(self, *args: str) -> str:
        """A ``ckan`` command against this site; its standard output."""
        done = subprocess.run([str(CKAN), "-c", str(self.ini), *args], env=self.env,
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"ckan {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def sysadmin_token(self, name: str = "remote-admin") -> str:
        self.ckan("user", "add", name, f"email={name}@example.org", "password=remote-site-2026")
        self.ckan("sysadmin", "add", name)
        return self.ckan("user", "token", "add", name, "tests").strip().splitlines()[-1].strip()


@contextlib.contextmanager
def serve(tmp: pathlib.Path, test_config: dict, plugins: str = "activity governance",
          extra: dict[str, str] | None = None) -> Iterator[RemoteSite]:
    """Empty ckan_remote_test, initialise it, serve it until the block ends."""
    url = sa.engine.make_url(test_config["sqlalchemy.url"]).set(database="ckan_remote_test")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    port = _free_port()
    site_url = f"http://127.0.0.1:{port}"
    options = {
        "sqlalchemy.url": url.render_as_string(hide_password=False),
        "ckan.site_url": site_url,
        "ckan.site_id": "remote",
        "ckan.plugins": plugins,
        "solr_url": os.environ.get("CKAN_SOLR_URL") or test_config["solr_url"],
        "ckan.redis.url": "redis://127.0.0.1:6379/4",
        "SECRET_KEY": "remote-site-test-secret-0123456789abcdef",
        "api_token.jwt.encode.secret": "string:remote-site-test-secret-0123456789abcdef",
        "api_token.jwt.decode.secret": "string:remote-site-test-secret-0123456789abcdef",
        "ckan.storage_path": str(tmp / "storage"),
        "ckan.auth.create_user_via_web": "true",
        "smtp.server": "127.0.0.1:9",  # nothing listens: mail stays queued
        **(extra or {}),
    }
    ini = tmp / "remote.ini"
    ini.write_text("[app:main]\nuse = egg:ckan\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    site = RemoteSite(ini, site_url, env)
    site.ckan("db", "init")
    # The search index outlives the database: an earlier site of this name left its copies.
    site.ckan("search-index", "clear")
    log = open(tmp / "remote-server.log", "w")
    server = subprocess.Popen([str(CKAN), "-c", str(ini), "run", "--host", "127.0.0.1",
                               "--port", str(port), "--disable-reloader", "--threaded"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{site_url}/api/3/action/status_show", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError((tmp / "remote-server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield site
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


TIERS = ("open", "registered", "agreement", "controlled")


def secret(name: str) -> str:
    """The URL of a dataset's data, unique to it and easy to find in any answer."""
    return f"https://files.example.org/{name}-s3cr3t.csv"


def seed_tiers(site: RemoteSite) -> dict:
    """A sysadmin, a plain user, an organisation with an agreement and a dataset per tier
    (remote-<tier>; the controlled one with DUO conditions, the registered one embargoed)."""
    from ckanapi import RemoteCKAN

    token = site.sysadmin_token()
    admin = RemoteCKAN(site.url, apikey=token)
    admin.action.user_create(name="plain-user", email="plain@example.org", password="plain-user-2026")
    plain = site.ckan("user", "token", "add", "plain-user", "t").strip().splitlines()[-1].strip()
    admin.action.organization_create(name="remote-lab")
    admin.action.governance_agreement_create(owner_org="remote-lab", name="lab-dua",
                                             title="Lab terms", body="Cite the lab.")
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=60)).replace(microsecond=0)
    for tier in TIERS:
        terms: dict = {"access_tier": tier}
        if tier in ("agreement", "controlled"):
            terms["agreement"] = "lab-dua"
        if tier == "controlled":
            terms.update(data_use=["HMB", "IRB"], grant_days=90)
        if tier == "registered":
            terms.update(embargo_until=until.isoformat(), embargo_reason="Paper in review")
        admin.action.package_create(
            name=f"remote-{tier}", title=f"Remote {tier}", owner_org="remote-lab", notes=f"The {tier} one.",
            resources=[{"url": secret(f"remote-{tier}"), "name": "Data", "format": "CSV"}], **terms)
    return {"site": site, "token": token, "plain": plain, "until": until}
