"""Headless Chromium (Debian's package) driving the test app over real HTTP.

Playwright's Python API launches /usr/bin/chromium through ``executable_path``;
it never downloads a browser of its own. The app is CKAN's test app served by
a threaded WSGI server on a free loopback port, against the same database the
test's factories write to.
"""
from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("GOVERNANCE_CHROMIUM", "/usr/bin/chromium")
# The password of every user the browser tests log in as.
PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    # The machines have no internet: stop Chromium phoning home at start-up.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(ckan_config, make_app) -> Iterator[str]:
    """The CKAN app served at http://127.0.0.1:<port>; yields that base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    ckan_config["ckan.site_url"] = url
    wsgi = make_app().app
    server = make_server("127.0.0.1", port, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def log_in(page, live_server):
    """``log_in(user, came_from=None, here=False)``: log in through CKAN's form,
    on the login page (``here``: on the login form the page already shows)."""

    def log_in(user, came_from=None, here=False):
        if not here:
            page.goto(f"{live_server}/user/login" + (f"?came_from={came_from}" if came_from else ""))
        page.fill("#field-login", user["name"])
        page.fill("#field-password", PASSWORD)
        page.locator("form button[type=submit]").filter(has_text="Login").click()
        page.wait_for_load_state()

    return log_in
