"""A browser's cookie session for form tests: logged in, with its CSRF token."""
from __future__ import annotations

import re

import ckan.model as model
import ckan.plugins.toolkit as tk

TOKEN = re.compile(r'<meta name="_csrf_token" content="([^"]+)"')


def logged_in(app, name: str):
    """A test client logged in as ``name`` (a cookie session) and its CSRF token."""
    client = app.test_client()
    # The session cookie must be for the site's host, where requests go.
    with client.session_transaction(base_url=tk.config["ckan.site_url"]) as session:
        session["_user_id"], session["_fresh"] = model.User.get(name).id, True
    page = client.get("/dashboard/datasets", base_url=tk.config["ckan.site_url"],
                      follow_redirects=False)
    assert page.status_code == 200  # logged in
    return client, TOKEN.search(page.get_data(as_text=True)).group(1)
