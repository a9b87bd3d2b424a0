"""Fixtures shared by the whole suite.

The suite runs on CKAN's own pytest plugin (``--ckan-ini=test.ini``, see
pyproject.toml) against real PostgreSQL, Redis and Apache Solr 9: a Solr of dev/solr/ started
for the session on a free port, unless ``CKAN_SOLR_URL`` names a Solr core
with CKAN's schema, in which case the very same tests run against that.
"""
from __future__ import annotations

import email
import os
import pathlib
import re
import socket
import sys
import threading
import time
from email import policy as email_policy

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

# Set when this process started its Solr itself (and so owns its index).
OWN_SOLR = "GOVERNANCE_OWN_SOLR"


# ``make test-future``: the whole session runs this many days ahead.
CLOCK_DAYS = "GOVERNANCE_TEST_CLOCK_DAYS"
_clock_key = pytest.StashKey[object]()


def _move_clock(config: pytest.Config) -> None:
    """Start the session's clock ``$GOVERNANCE_TEST_CLOCK_DAYS`` days ahead,
    ticking; tests that travel themselves nest inside it."""
    days = os.environ.get(CLOCK_DAYS)
    if not days:
        return
    import datetime as dt

    import time_machine

    shifted = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=int(days))
    traveller = time_machine.travel(shifted, tick=True)
    traveller.start()
    config.stash[_clock_key] = traveller


def pytest_configure(config: pytest.Config) -> None:
    _move_clock(config)
    # CKAN's plugin builds the app (and checks the Solr schema) in
    # pytest_sessionstart, so search must be reachable before that hook.
    if os.environ.get("CKAN_SOLR_URL") and not os.environ.get(OWN_SOLR):
        return
    sys.path.insert(0, str(ROOT / "dev"))
    import solr_process

    # One Solr per session, its index in memory; CKAN's clean_index empties
    # it between tests.
    home = ROOT / ".data" / "test-solr" / str(os.getpid())
    handle = solr_process.start(home, memory=True, quiet=True, log=ROOT / ".data" / "test-solr.log")
    # CKAN reads CKAN_SOLR_URL over the solr_url of test.ini.
    os.environ["CKAN_SOLR_URL"] = handle.url
    os.environ[OWN_SOLR] = "1"
    config.stash[_solr_key] = handle


_solr_key = pytest.StashKey[object]()


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_clock_key, None)
    if traveller is not None:
        traveller.stop()
    handle = config.stash.get(_solr_key, None)
    if handle is not None:
        handle.stop()
        import shutil

        shutil.rmtree(handle.home, ignore_errors=True)
        os.environ.pop("CKAN_SOLR_URL", None)
        os.environ.pop(OWN_SOLR, None)


def pytest_report_header(config: pytest.Config) -> str:
    where = "Solr started for this session" if os.environ.get(OWN_SOLR) else "Solr of CKAN_SOLR_URL"
    lines = [f"search: {where} at {os.environ.get('CKAN_SOLR_URL')}"]
    if os.environ.get(CLOCK_DAYS):
        import datetime as dt

        lines.append(f"clock: {os.environ[CLOCK_DAYS]} days ahead, now {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    return lines


# A table each plugin's migrations make, beside its <plugin>_alembic_version.
_MIGRATION_TABLES = {"activity": "activity", "governance": "governance_dataset_policy",
                     "harvest": "harvest_source"}
# Per plugin, the migration state this process last brought the database to.
_MIGRATED: dict[str, tuple] = {}


def _migration_state(plugin: str) -> tuple | None:
    """The plugin's alembic versions, or None when its tables are not there."""
    import sqlalchemy as sa

    import ckan.model as model

    with model.meta.engine.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass(:v) IS NOT NULL AND to_regclass(:t) IS NOT NULL"),
                             {"v": f"{plugin}_alembic_version", "t": _MIGRATION_TABLES[plugin]}).scalar()
        if not found:
            return None
        return tuple(conn.execute(sa.text(
            f'SELECT version_num FROM "{plugin}_alembic_version" ORDER BY 1')).scalars())


@pytest.fixture(scope="module")
def migrate_plugin():
    """migrate_db_for(plugin), skipped when this process already brought the
    plugin's tables to the state they are in: CKAN's reset_db empties the tables
    and keeps them, and an alembic run that has nothing to do costs a sixth of a
    second, for every test. A downgrade or dropped tables change the state."""
    def migrate(plugin: str) -> None:
        state = _migration_state(plugin)
        if state is not None and _MIGRATED.get(plugin) == state:
            return
        from ckan.cli.db import _run_migrations  # what CKAN's migrate_db_for runs

        _run_migrations(plugin, "head", True)
        _MIGRATED[plugin] = _migration_state(plugin) or ()
    return migrate


@pytest.fixture
def clean_db(reset_db, migrate_plugin):
    """CKAN's clean_db, plus the tables of the loaded plugins that have them."""
    import ckan.plugins as p

    reset_db()
    for plugin in ("activity", "governance"):
        if p.plugin_loaded(plugin):
            migrate_plugin(plugin)


@pytest.fixture(scope="module")
def empty_site(reset_db, migrate_plugin, reset_index):
    """For a module's world: a call that loads the configured plugins and
    empties the database (migrated for activity and governance), the search
    index and the DataStore."""
    def empty() -> None:
        from sqlalchemy import orm

        import ckan.plugins as p
        from ckanext.datastore.backend.postgres import get_write_engine
        from ckanext.datastore.tests.helpers import clear_db

        p.load_all()
        reset_db()
        migrate_plugin("activity")
        migrate_plugin("governance")
        reset_index()
        clear_db(orm.scoped_session(orm.sessionmaker(bind=get_write_engine())))
    return empty


@pytest.fixture
def artifacts_dir() -> pathlib.Path:
    """Where tests leave files for people to look at (screenshots, exports)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def load_plugins(with_plugins):
    """Every test runs with the plugins test.ini lists (``governance``)."""


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self, delay: float = 0.0):
        self.messages: list[email.message.EmailMessage] = []
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # hold the sender, so two senders overlap
        msg = email.message_from_bytes(envelope.content, policy=email_policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(ckan_config, monkeypatch):
    from aiosmtpd.controller import Controller

    """A real SMTP server on a free port; .start()/.stop() to take it up and down."""
    port = free_port()
    monkeypatch.setitem(ckan_config, "smtp.server", f"127.0.0.1:{port}")

    class Server:
        def __init__(self):
            self.inbox = Inbox()
            self.controller = None
            self.address = f"127.0.0.1:{port}"

        def start(self, delay: float = 0.0):
            self.inbox.delay = delay
            self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port)
            self.controller.start()

        def stop(self):
            if self.controller:
                self.controller.stop()
                self.controller = None

    server = Server()
    yield server
    server.stop()


PASSWORD = "log-me-in-2026"
CSRF_TOKEN = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')


def login_client(app, name: str):
    """A test client logged in as a browser is, through CKAN's login form: it
    holds a session cookie and nothing else. The user's password must be
    ``PASSWORD``."""
    client = app.test_client()
    page = client.get("/user/login").get_data(as_text=True)
    answer = client.post("/user/login", data={
        "login": name, "password": PASSWORD, "_csrf_token": CSRF_TOKEN.search(page).group(1)},
        follow_redirects=False)
    assert answer.status_code == 302 and "login" not in answer.headers["Location"]
    return client


class _Login:
    password = PASSWORD

    def __call__(self, app, name: str):
        return login_client(app, name)


@pytest.fixture
def login():
    """``login(app, name)``: a client with ``name``'s cookie session; create
    the user with ``password=login.password``."""
    return _Login()


@pytest.fixture
def concurrently():
    """``concurrently(fn, times)``: run ``fn`` in ``times`` threads at once."""
    return run_concurrently


def run_concurrently(fn, times: int) -> tuple[list, list[BaseException]]:
    """Run ``fn`` in ``times`` threads at once, each with its own database
    session; returns (results, exceptions)."""
    import ckan.model as model

    results: list = []
    errors: list[BaseException] = []
    start = threading.Barrier(times)

    def worker():
        try:
            start.wait(timeout=30)
            results.append(fn())
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            errors.append(err)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


@pytest.fixture
def index_resource_extra(ckan_config, monkeypatch):
    """``index_resource_extra(name)``: the resource extra ``name`` is indexed
    (``res_extras_<name>``), as on a site listing it in
    ``ckan.extra_resource_fields``; undone after the test."""
    from ckan import model

    names: list[str] = []

    def index(name: str) -> None:
        names.append(name)
        monkeypatch.setitem(ckan_config, "ckan.extra_resource_fields", list(names))
        monkeypatch.setattr(model.Resource, "extra_columns", None)

    yield index
    for name in names:
        if name in vars(model.Resource):  # the proxy get_extra_columns added
            delattr(model.Resource, name)
