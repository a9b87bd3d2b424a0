"""pytest plugin for CKAN's own test suite run beside ours (dev/ckan_suite.sh).

Loaded with ``-p ckan_suite_plugin`` next to CKAN's own pytest plugin. It

- starts an Apache Solr 9 of dev/solr/ for the session (as tests/conftest.py
  does) unless ``CKAN_SOLR_URL`` names a Solr core;
- with ``--append-governance``: appends ``governance`` to the plugins of every
  test, whatever the test loads (CKAN's tests choose their plugins per test
  with ``ckan_config("ckan.plugins", ...)`` and ``with_plugins``; tests that
  load none get ``governance`` alone), and migrates governance's tables (and
  activity's, where that plugin is in use) after every database reset;
- with ``--suite-results=FILE``: writes each test's outcome as JSON, which
  dev/ckan_core/compare.py compares between the two runs.
"""
from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGIN = "governance"
OWN_SOLR = "GOVERNANCE_OWN_SOLR"

_solr_key = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ckan-suite", "CKAN's own suite beside governance")
    group.addoption("--append-governance", action="store_true",
                    help="load governance in every test, after the test's own plugins")
    group.addoption("--suite-results", metavar="FILE",
                    help="write {node id: outcome} of every test to FILE (JSON)")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # CKAN's plugin builds the app (and checks the Solr schema) in
    # pytest_sessionstart: search must answer before that.
    if not os.environ.get("CKAN_SOLR_URL") or os.environ.get(OWN_SOLR):
        sys.path.insert(0, str(ROOT / "dev"))
        import solr_process

        work = ROOT / ".data" / "ckan-core"
        handle = solr_process.start(work / f"solr-{os.getpid()}", memory=True, quiet=True,
                                    log=work / "solr.log")
        os.environ["CKAN_SOLR_URL"] = handle.url
        os.environ[OWN_SOLR] = "1"
        config.stash[_solr_key] = handle
    if config.getoption("append_governance"):
        _append_governance_to_every_load()
        _migrate_after_every_reset()
        config.pluginmanager.register(_GovernanceEverywhere(), "governance-everywhere")


def pytest_unconfigure(config: pytest.Config) -> None:
    handle = config.stash.get(_solr_key, None)
    if handle is not None:
        import shutil

        handle.stop()  # type: ignore[attr-defined]
        shutil.rmtree(handle.home, ignore_errors=True)  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Both runs start from the same state: CKAN's tables created afresh (and
    # ours, in the governance run), whatever an earlier run left.
    import ckan.tests.helpers as test_helpers

    test_helpers.reset_db()


def pytest_report_header(config: pytest.Config) -> str:
    mode = "with governance appended" if config.getoption("append_governance") else "baseline"
    where = "Solr started for this session" if os.environ.get(OWN_SOLR) else "Solr of CKAN_SOLR_URL"
    return f"CKAN's own suite, {mode}; search: {where} at {os.environ.get('CKAN_SOLR_URL')}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _DURATIONS[report.nodeid] = _DURATIONS.get(report.nodeid, 0.0) + report.duration
    # One outcome per test: a failing setup or teardown makes it an error.
    if report.when != "call" and report.outcome == "passed":
        return
    outcome = report.outcome
    if report.when != "call" and report.outcome == "failed":
        outcome = "error"
    if hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    previous = _RESULTS.get(report.nodeid)
    if previous is None or previous["outcome"] in ("passed", "skipped"):
        _RESULTS[report.nodeid] = {"outcome": outcome, "message": _message(report)}


def _message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return (str(crash.message).splitlines() or [""])[0][:300]
    if isinstance(report.longrepr, tuple):  # skips: (file, line, reason)
        return str(report.longrepr[2])[:300]
    return ""


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("suite_results")
    if path:
        for nodeid, result in _RESULTS.items():
            result["seconds"] = round(_DURATIONS.get(nodeid, 0.0), 3)
        pathlib.Path(path).write_text(json.dumps(_RESULTS, indent=1, sort_keys=True))


_RESULTS: dict[str, dict] = {}
_DURATIONS: dict[str, float] = {}


# CKAN's tests freeze the clock with freezegun through a ``freeze_time`` mark
# and a ``freezer`` fixture (CKAN's dev requirements bring a plugin for them).


@pytest.fixture
def freezer(request: pytest.FixtureRequest):
    import freezegun

    mark = request.node.get_closest_marker("freeze_time")
    with freezegun.freeze_time(*(mark.args if mark else ()), **(mark.kwargs if mark else {})) as frozen:
        yield frozen


def pytest_runtest_setup(item: pytest.Item) -> None:
    fixturenames = getattr(item, "fixturenames", None)
    if item.get_closest_marker("freeze_time") and fixturenames is not None and "freezer" not in fixturenames:
        fixturenames.insert(0, "freezer")


# ---------------------------------------------------------------- governance


def _aslist(value) -> list[str]:
    if isinstance(value, str):
        return value.split()
    return list(value or [])


def _append_governance_to_every_load() -> None:
    """Every ``load_all`` (CKAN's with_plugins fixture, the app factory,
    tests calling it directly) loads the configured plugins, then ours."""
    import ckan.plugins as plugins
    from ckan.common import config
    from ckan.plugins import core

    def load_all(force_update: bool = False) -> None:
        core.unload_all()
        names = [n for n in _aslist(config.get("ckan.plugins")) if n != PLUGIN]
        core.load(*names, PLUGIN, force_update=force_update)

    plugins.load_all = core.load_all = load_all  # type: ignore[assignment]


def _migrate_after_every_reset() -> None:
    """CKAN's reset_db/clean_db fixtures call ``ckan.tests.helpers.reset_db``:
    after it, our tables (and activity's, if in use) exist at their head."""
    import ckan.tests.helpers as test_helpers

    original = test_helpers.reset_db

    def reset_db() -> None:
        original()
        import ckan.plugins as plugins
        from ckan.common import config

        _migrate(PLUGIN)
        if "activity" in _aslist(config.get("ckan.plugins")) or plugins.plugin_loaded("activity"):
            _migrate("activity")

    test_helpers.reset_db = reset_db


def _migrate(name: str) -> None:
    import sqlalchemy as sa

    import ckan.model as model

    # CKAN drops every table (plugins' version tables included) on the first
    # reset of a process and only empties them later: a version table that
    # exists was brought to its head earlier in this process.
    if sa.inspect(model.meta.engine).has_table(f"{name}_alembic_version"):
        return
    module = __import__(f"ckanext.{name}", fromlist=["__file__"])
    ini = pathlib.Path(module.__file__).parent / "migration" / name / "alembic.ini"
    # What `ckan db upgrade -p NAME` does, without needing the plugin loaded
    # (clean_db may run before the test's plugins are).
    original = model.repo._alembic_ini
    model.repo._alembic_ini = str(ini)
    try:
        model.repo.upgrade_db("head")
    finally:
        model.repo._alembic_ini = original


class _GovernanceEverywhere:
    """Registered only in the governance run."""

    @pytest.fixture(autouse=True)
    def _governance_loaded(self, request: pytest.FixtureRequest):
        import ckan.plugins as plugins

        # with_plugins loads (through the patched load_all) ours as well.
        ours = "with_plugins" not in request.fixturenames and not plugins.plugin_loaded(PLUGIN)
        if ours:
            plugins.load(PLUGIN)
        yield
        if ours and plugins.plugin_loaded(PLUGIN):
            plugins.unload(PLUGIN)
