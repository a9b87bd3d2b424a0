"""Fuzz of the governance API and forms: whatever a caller sends, the answer
is a CKAN error naming the field (or not found / not authorised) and nothing
is written — never a 500, never half a change.

Property-based (hypothesis). Every governance action is called through
``tk.get_action`` as a sysadmin, an organisation admin, a plain user and an
anonymous visitor, with every documented parameter (and unknown ones) taking
values of every JSON type: null, booleans, huge and negative integers,
floats with nan and infinities, text with NUL characters and any unicode,
far dates, nested lists and objects. ``package_create``/``update``/``patch``
get the same for the governance fields. Every governance form is posted over
HTTP as a logged-in user with a valid CSRF token.

The site is built once per test function and reused across examples: a
failing call must leave every governance table, and the package and resource
tables, exactly as they were (compared by a digest of their rows); after a
call that succeeded, the objects it used up (a pending request, a grant...)
are made again.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import math
import urllib.parse
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from cookie_session import logged_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.governance import access_requests as gov_requests
from ckanext.governance.logic import action as gov_action
from ckanext.governance.model import AccessRequest, Grant

# Examples per action (API) and per form (HTTP): the whole file runs in about
# a minute and a half on two cores; raise them locally to dig deeper.
API_EXAMPLES = 30
PACKAGE_EXAMPLES = 40
FORM_EXAMPLES = 10

USE = "We will study how blood pressure medication relates to kidney outcomes in adults."
CALLERS = ("sysadmin", "admin", "user", "anonymous")
REQUEST_FIELDS = {"intended_use": USE, "institution": "University of Somewhere",
                  "project_title": "Kidneys", "ethics_reference": "IRB-1",
                  "commercial": False, "duration_days": 30}
PACKAGE_FIELDS = ("access_tier", "embargo_until", "embargo_reason", "agreement", "data_use",
                  "grant_days", "governance_confirm", "governance", "governance_warnings")

FUZZ_SETTINGS = dict(deadline=None, database=None, print_blob=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])


# Values --------------------------------------------------------------------------

def _nul_text() -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=6), st.text(max_size=6))


def _far_dates() -> st.SearchStrategy[str]:
    offsets = st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
                        st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59))
    stamps = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59))
    return st.one_of(
        st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                         "0001-01-01", "9999-12-31", "10000-01-01", "-0001-01-01",
                         "2024-02-30", "2100-01-01T00:00:00Z", "99999-01-01T00:00:00",
                         "2100-01-01T00:00:00+24:00", "1970-01-01T00:00:00\x00"]),
        st.builds(lambda d, o: d.isoformat() + o, stamps, offsets),
        stamps.map(lambda d: d.date().isoformat()),
    )


WORDS = ["", " ", "true", "false", "yes", "no", "on", "0", "1", "-1", "1.5", "1e3", "NaN",
         "007", "+7", "٣", "36500", "36501", "3650", "1000000", "1000001", "99999999999",
         "approve", "reject", "return", "open", "registered", "agreement", "controlled",
         "web", "api", "newest", "oldest", "pending", "returned", "active", "revoked",
         "GRU", "HMB", "IRB", "NCU", "DS:MONDO:0005148", "TS:9999-12-31", "MOR:0001-01-01",
         "GS:EU", "GRU, PUB", "tier_changed", "request_created", "Ω≈ç√", "🙂", "a" * 600,
         "<script>alert(1)</script>", "%00", "../..", "'; drop table package; --"]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.sampled_from([0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 63, 10 ** 30, 36_500, 36_501]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1.5, 5.0, -0.0, 1e308]),
    st.text(max_size=20),
    _nul_text(),
    _far_dates(),
    st.sampled_from(WORDS),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _jsonable(value: Any) -> Any:
    """As the action API receives it from JSON (Python's json module also
    reads NaN and Infinity, so those stay)."""
    return json.loads(json.dumps(value))


# The site ------------------------------------------------------------------------

class Site:
    """One of every governance object, made again when a call uses it up."""

    def __init__(self) -> None:
        self.users = {"sysadmin": factories.Sysadmin(name="sam-sysadmin")["name"]}
        for role, name in (("admin", "rita-reviewer"), ("editor", "ed-editor"),
                           ("user", "ann"), ("other", "bob")):
            factories.User(name=name, email=f"{name}@example.org")
            self.users[role] = name
        self.users["anonymous"] = ""
        self.org = factories.Organization(name="fuzz-org", users=[
            {"name": "rita-reviewer", "capacity": "admin"},
            {"name": "ed-editor", "capacity": "editor"}])["id"]
        factories.Organization(name="other-org")
        ed = {"user": "ed-editor"}
        call_action("governance_agreement_create", dict(ed), owner_org="fuzz-org",
                    name="fuzz-dua", title="Fuzz terms", body="Be kind to the data.",
                    renewal_days=365)
        for name in ("gated-a", "gated-b", "gated-c", "gated-d"):
            call_action("package_create", dict(ed), name=name, owner_org=self.org,
                        access_tier="controlled", data_use=["GRU", "IRB"],
                        resources=[{"url": f"https://files.example.org/{name}.csv"}])
        call_action("package_create", dict(ed), name="agreed", owner_org=self.org,
                    access_tier="agreement", agreement="fuzz-dua",
                    resources=[{"url": "https://files.example.org/agreed.csv"}])
        until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=60)).isoformat()
        call_action("package_create", dict(ed), name="embargoed", owner_org=self.org,
                    embargo_until=until, embargo_reason="Paper in review",
                    resources=[{"url": "https://files.example.org/embargoed.csv"}])
        call_action("package_create", dict(ed), name="fuzz-pkg", owner_org=self.org,
                    notes="A dataset to fuzz.", license_id="cc-by",
                    resources=[{"url": "https://files.example.org/fuzz.csv"}])
        self.ids: dict[str, str] = {}
        self.refresh()

    # Objects the calls use up, made again -----------------------------------

    def _ask(self, dataset: str) -> str:
        return call_action("governance_request_create", {"user": "ann", "ignore_auth": False},
                           id=dataset, **REQUEST_FIELDS)["id"]

    def _close_open(self, dataset: str) -> None:
        """Withdraw the open requests for ``dataset`` (one open request each)."""
        pkg = model.Package.get(dataset)
        open_requests = model.Session.execute(
            sa.select(AccessRequest.id, model.User.name)
            .join(model.User, model.User.id == AccessRequest.user_id)
            .where(AccessRequest.package_id == pkg.id,
                   AccessRequest.state.in_(gov_requests.OPEN_STATES))).all()
        for ref, requester in open_requests:
            call_action("governance_request_withdraw", {"user": requester}, id=ref)

    def _state(self, slot: str) -> str | None:
        ref = self.ids.get(slot)
        row = model.Session.get(Grant if slot == "grant" else AccessRequest, ref) if ref else None
        if row is None:
            return None
        if slot == "grant":
            return "revoked" if row.revoked_at is not None else "active"
        return row.state

    def refresh(self) -> None:
        model.Session.rollback()
        if self._state("pending") != "pending":
            self._close_open("gated-a")
            self.ids["pending"] = self._ask("gated-a")
        if self._state("returned") != "returned":
            self._close_open("gated-b")
            ref = self._ask("gated-b")
            call_action("governance_request_decide", {"user": "rita-reviewer"}, id=ref,
                        decision="return", message="Which years?")
            self.ids["returned"] = ref
        if self._state("grant") != "active":
            self._close_open("gated-c")
            ref = self._ask("gated-c")
            done = call_action("governance_request_decide", {"user": "rita-reviewer"}, id=ref,
                               decision="approve")
            self.ids["grant"] = done["results"][0]["grant"]["id"]
        self._close_open("gated-d")  # where request_create asks
        model.Session.commit()

    def refs(self) -> list[str]:
        """Real ids and names, so generated values also name existing things."""
        return [self.ids["pending"], self.ids["returned"], self.ids["grant"], self.org,
                "fuzz-org", "other-org", "fuzz-dua", "gated-a", "gated-d", "agreed", "embargoed",
                "fuzz-pkg", "ann", "rita-reviewer", "sam-sysadmin"]


@pytest.fixture
def site(clean_db, clean_index) -> Site:
    return Site()


# What is compared before and after a failing call ----------------------------------

def _tables() -> list[str]:
    names = model.Session.execute(sa.text(
        "select table_name from information_schema.tables "
        "where table_schema = current_schema() and table_type = 'BASE TABLE' "
        "and (table_name like 'governance\\_%' or table_name in "
        "('package', 'resource', 'package_extra', 'activity', 'member'))")).scalars()
    return sorted(names)


def snapshot(tables: list[str]) -> dict[str, str]:
    """A digest of every row of ``tables``, as this session sees them: a
    change not yet committed (left for a later commit to write) counts too."""
    query = " union all ".join(
        f"select '{t}', md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from \"{t}\" r"
        for t in tables)
    return dict(model.Session.execute(sa.text(query)).all())


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [t for t in before if before[t] != after.get(t)]


# Calling an action ----------------------------------------------------------------

def call(site: Site, tables: list[str], action: str, caller: str, data: dict[str, Any],
         fields: set[str]) -> bool:
    """Call ``action`` as ``caller``; assert it answers as CKAN answers bad
    input and writes nothing when it refuses. True when it succeeded."""
    before = snapshot(tables)
    context = {"user": site.users[caller], "ignore_auth": False}
    try:
        result = tk.get_action(action)(context, copy.deepcopy(data))
    except tk.ValidationError as err:
        errors = err.error_dict
        assert errors and all(isinstance(k, str) for k in errors), errors
        assert set(errors) <= fields, f"{action} names no field it takes: {errors}"
        assert not {"__extras", "__junk"} & set(errors)
        assert not changed(before, snapshot(tables)), f"{action} wrote before refusing: {errors}"
        return False
    except (tk.NotAuthorized, tk.ObjectNotFound):
        assert not changed(before, snapshot(tables)), f"{action} wrote before refusing"
        return False
    except Exception:
        model.Session.rollback()  # a broken transaction must not hide the next example
        raise
    finally:
        model.Session.remove()  # as CKAN does at the end of a request
    # The API sends the answer as JSON.
    json.dumps(result, allow_nan=False, default=str)
    return True


def payload(draw, base: dict[str, Any], refs: list[str], extra: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """``base`` with each parameter kept, left out or replaced by anything, plus unknown keys."""
    values = st.one_of(JSON, st.sampled_from(refs))
    data: dict[str, Any] = {}
    for key, good in base.items():
        choice = draw(st.sampled_from(("keep", "keep", "replace", "replace", "drop")))
        if choice == "keep":
            data[key] = good
        elif choice == "replace":
            data[key] = draw(extra[key] if extra and key in extra else values)
    unknown = draw(st.dictionaries(st.text(max_size=10).filter(lambda k: k not in base), JSON, max_size=2))
    data.update(unknown)
    return data


def governance_actions() -> list[str]:
    """The plugin's own actions, as it registers them."""
    return [name for name in gov_action.get_actions() if name.startswith("governance_")]


def test_the_fuzz_covers_every_governance_action():
    # A new action must be added to ACTION_PARAMETERS below, or it is not fuzzed.
    assert set(ACTION_PARAMETERS) == set(governance_actions())
    assert len(ACTION_PARAMETERS) >= 18


ACTION_PARAMETERS: dict[str, Any] = {
    # action: lambda site: every parameter it documents, each with a valid value
    "governance_access_show": lambda s: {"id": "gated-a"},
    "governance_agreement_create": lambda s: {
        "owner_org": "fuzz-org", "name": f"dua-{uuid.uuid4().hex[:8]}", "title": "T",
        "body": "B", "renewal_days": 30},
    "governance_agreement_update": lambda s: {
        "id": "fuzz-dua", "title": "Fuzz terms", "body": f"Text {uuid.uuid4().hex[:4]}",
        "material": False, "renewal_days": 365},
    "governance_agreement_show": lambda s: {"id": "fuzz-dua"},
    "governance_agreement_list": lambda s: {"owner_org": "fuzz-org"},
    "governance_agreement_accept": lambda s: {"id": "agreed", "typed_name": "Ann", "channel": "web"},
    "governance_acceptance_list": lambda s: {
        "organization": "fuzz-org", "agreement": "fuzz-dua", "version": 1, "dataset": "agreed",
        "user": "ann", "since": "2020-01-01", "until": "2999-01-01", "sort": "newest",
        "page": 1, "limit": 10},
    "governance_embargo_subscribe": lambda s: {"id": "embargoed"},
    "governance_event_list": lambda s: {
        "organization": "fuzz-org", "dataset": "gated-a", "user": "ann", "kind": "request_created",
        "since": "2020-01-01", "until": "2999-01-01", "page": 1, "limit": 10},
    "governance_request_create": lambda s: {"id": "gated-d", **REQUEST_FIELDS},
    "governance_request_update": lambda s: {"id": s.ids["returned"], **REQUEST_FIELDS},
    "governance_request_show": lambda s: {"id": s.ids["pending"]},
    "governance_request_list": lambda s: {
        "state": "pending", "organization": "fuzz-org", "dataset": "gated-a", "user": "ann",
        "older_than_days": 1, "sort": "newest", "page": 1, "limit": 10},
    "governance_request_withdraw": lambda s: {"id": s.ids["pending"], "message": "No longer needed"},
    "governance_request_decide": lambda s: {
        "id": s.ids["pending"], "ids": [s.ids["pending"]], "decision": "return",
        "message": "Which years?"},
    "governance_grant_list": lambda s: {
        "state": "active", "organization": "fuzz-org", "dataset": "gated-c", "user": "ann",
        "page": 1, "limit": 10},
    "governance_grant_revoke": lambda s: {"id": s.ids["grant"], "reason": "Left the project"},
    "governance_publication_check": lambda s: {
        "id": "fuzz-pkg", "private": False, "access_tier": "registered",
        "embargo_until": "2999-01-01"},
}
# Keys an action's ValidationError may name besides its parameters.
EXTRA_ERROR_KEYS = {"governance_request_decide": {"state"}}


def fuzz(name: str, examples: int, example) -> int:
    """Run ``example(data)`` on ``examples`` generated cases; the failure
    names ``name``. Returns how many cases ran."""
    ran = 0

    @settings(max_examples=examples, **FUZZ_SETTINGS)
    @given(st.data())
    def run(data):
        nonlocal ran
        ran += 1
        example(data)

    try:
        run()
    except BaseException as err:
        err.add_note(f"fuzzing {name}")
        raise
    return ran


# One site for all actions: building it costs more than the examples.
def test_every_governance_action_answers_bad_input_with_a_ckan_error_and_writes_nothing(site):
    tables = _tables()
    ran = 0
    for action, parameters in sorted(ACTION_PARAMETERS.items()):
        fields = set(parameters(site)) | EXTRA_ERROR_KEYS.get(action, set())

        def example(data, action=action, parameters=parameters, fields=fields):
            caller = data.draw(st.sampled_from(CALLERS), label="caller")
            sent = data.draw(st.composite(lambda draw: payload(
                draw, parameters(site), site.refs()))(), label="data_dict")
            if call(site, tables, action, caller, _jsonable(sent), fields):
                site.refresh()

        ran += fuzz(action, API_EXAMPLES, example)
    assert ran >= API_EXAMPLES * len(ACTION_PARAMETERS)


# package_create / update / patch with the governance fields ----------------------------

def _package_values(site: Site) -> dict[str, st.SearchStrategy[Any]]:
    soon = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).date().isoformat()
    anything = st.one_of(JSON, st.sampled_from(site.refs()))
    return {
        "access_tier": st.one_of(st.sampled_from(["open", "registered", "agreement", "controlled"]), anything),
        "embargo_until": st.one_of(st.sampled_from([soon, "", None]), _far_dates(), anything),
        "embargo_reason": st.one_of(st.text(max_size=30), _nul_text(), anything),
        "agreement": st.one_of(st.sampled_from(["fuzz-dua", "", None]), anything),
        "data_use": st.one_of(st.lists(st.sampled_from(WORDS[37:45]), max_size=3), anything),
        "grant_days": st.one_of(st.integers(-2, 36_502), anything),
        "governance_confirm": st.one_of(st.booleans(), anything),
        "governance": anything,
        "governance_warnings": anything,
    }


def _package_base(site: Site, action: str) -> dict[str, Any]:
    if action == "package_create":
        return {"name": f"fz-{uuid.uuid4().hex[:10]}", "owner_org": site.org,
                "notes": "Created by the fuzz.", "license_id": "cc-by"}
    if action == "package_update":
        return {"id": "fuzz-pkg", "name": "fuzz-pkg", "owner_org": site.org,
                "notes": "A dataset to fuzz.", "license_id": "cc-by",
                "resources": [{"url": "https://files.example.org/fuzz.csv"}]}
    return {"id": "fuzz-pkg"}


def test_dataset_actions_answer_bad_governance_fields_with_a_ckan_error_and_write_nothing(
        site, ckan_config, monkeypatch):
    tables = _tables()
    strategies = _package_values(site)
    ran = 0
    for action in ("package_create", "package_update", "package_patch"):
        for mode in ("warn", "confirm"):
            monkeypatch.setitem(ckan_config, "ckanext.governance.publication.mode", mode)
            ran += fuzz(f"{action} ({mode})", PACKAGE_EXAMPLES // 2,
                        lambda data, action=action: _package_example(
                            site, tables, strategies, action, data))
    assert ran >= PACKAGE_EXAMPLES * 3


def _package_example(site, tables, strategies, action, data):
    caller = data.draw(st.sampled_from(("sysadmin", "admin", "editor", "user", "anonymous")),
                       label="caller")
    chosen = data.draw(st.lists(st.sampled_from(PACKAGE_FIELDS), min_size=1, max_size=4,
                                unique=True), label="fields")
    sent = _package_base(site, action)
    for key in chosen:
        sent[key] = data.draw(strategies[key], label=key)
    unknown = data.draw(st.dictionaries(
        st.text(max_size=8).map(lambda k: "governance_" + k).filter(
            lambda k: k not in PACKAGE_FIELDS), JSON, max_size=1), label="unknown")
    sent.update(unknown)
    # CKAN's own fields are valid: its answers to bad core fields are its own.
    fields = set(PACKAGE_FIELDS) | set(unknown)
    call(site, tables, action, caller, _jsonable(sent), fields)


# Every governance form, over HTTP ---------------------------------------------------

FORM_TEXT = st.one_of(st.text(max_size=40), _nul_text(), _far_dates(), st.sampled_from(WORDS))
FORM_VALUE = st.one_of(FORM_TEXT, st.lists(FORM_TEXT, min_size=2, max_size=3))

# route: (user, lambda site: (path with {id}, path id, valid form))
FORMS: dict[str, Any] = {
    "governance_agreements.agreement_new": ("admin", lambda s: (
        "/organization/{id}/agreements/new", "fuzz-org",
        {"name": f"dua-{uuid.uuid4().hex[:8]}", "title": "T", "body": "B", "renewal_days": "30",
         "save": "save"})),
    "governance_agreements.agreement_edit": ("admin", lambda s: (
        "/agreement/{id}/edit", "fuzz-dua",
        {"title": "Fuzz terms", "body": f"Text {uuid.uuid4().hex[:4]}", "renewal_days": "365",
         "material": "false", "save": "save"})),
    "governance_publication.cancel": ("admin", lambda s: (
        "/dataset/{id}/governance/publication/cancel", "fuzz-pkg", {"codes": ["irreversible"]})),
    "governance_requests.request_new": ("user", lambda s: (
        "/dataset/{id}/request", "gated-d", {k: str(v).lower() for k, v in REQUEST_FIELDS.items()})),
    "governance_requests.request_edit": ("user", lambda s: (
        "/request/{id}/edit", s.ids["returned"], {k: str(v).lower() for k, v in REQUEST_FIELDS.items()})),
    "governance_requests.request_decide": ("admin", lambda s: (
        "/request/{id}/decide", s.ids["pending"], {"decision": "return", "message": "Which years?"})),
    "governance_requests.request_withdraw": ("user", lambda s: (
        "/request/{id}/withdraw", s.ids["pending"], {"message": "No longer needed"})),
    "governance_requests.grant_revoke": ("admin", lambda s: (
        "/grant/{id}/revoke", s.ids["grant"], {"reason": "Left the project", "next": "/dashboard/access"})),
    "governance_requests.review_queue": ("admin", lambda s: (
        "/organization/{id}/requests?state=pending&older_than_days=1", "fuzz-org",
        {"ids": [s.ids["pending"]], "decision": "return", "message": "Which years?"})),
    "governance_embargo.embargo_subscribe": ("other", lambda s: (
        "/dataset/{id}/governance/subscribe", "embargoed", {})),
    "governance_agreements.dataset_agreement": ("other", lambda s: (
        "/dataset/{id}/agreement", "agreed", {"accept": "yes", "typed_name": "Bob", "next": "/dataset/"})),
    # The dataset form, whose governance fields the publication interstitial reads first.
    "dataset.edit": ("admin", lambda s: (
        "/dataset/edit/{id}", "fuzz-pkg",
        {"name": "fuzz-pkg", "title": "Fuzz", "notes": "A dataset to fuzz.", "license_id": "cc-by",
         "owner_org": s.org, "private": "False", "access_tier": "open", "embargo_until": "",
         "embargo_reason": "", "agreement": "", "data_use": "", "grant_days": "",
         "save": "save"})),
}
GOVERNANCE_FORM_FIELDS = {"access_tier", "embargo_until", "embargo_reason", "agreement",
                          "data_use", "grant_days", "governance_confirm", "private"}


def test_the_fuzz_covers_every_governance_form(app):
    """Every POST route of the governance blueprints is in FORMS."""
    posted = {rule.endpoint for rule in app.flask_app.url_map.iter_rules()
              if "POST" in (rule.methods or ()) and rule.endpoint.split(".")[0].startswith("governance")
              and rule.endpoint.split(".")[0] not in ("governance_csrf",)}
    assert posted <= set(FORMS), posted - set(FORMS)


def test_every_governance_form_never_answers_a_server_error(site, app):
    clients = {}
    ran = 0
    for endpoint, (role, build) in sorted(FORMS.items()):
        if role not in clients:
            clients[role] = logged_in(app, site.users[role])
        client, token = clients[role]
        ran += fuzz(endpoint, FORM_EXAMPLES, lambda data, endpoint=endpoint, build=build,
                    client=client, token=token: _form_example(site, endpoint, build, client, token, data))
    assert ran >= FORM_EXAMPLES * len(FORMS)


def _form_example(site, endpoint, build, client, token, data):
    path, ref, form = build(site)
    # (CKAN's own dataset.edit route answers a bad id itself.)
    if endpoint != "dataset.edit" and data.draw(st.integers(0, 9), label="fuzz the path") == 0:
        ref = data.draw(st.one_of(FORM_TEXT, st.sampled_from(site.refs())).filter(bool), label="id")
    sent: dict[str, Any] = {}
    for key, good in form.items():
        if endpoint == "dataset.edit" and key not in GOVERNANCE_FORM_FIELDS:
            sent[key] = good  # CKAN's own fields stay valid
            continue
        choice = data.draw(st.sampled_from(("keep", "replace", "replace", "drop")), label=key)
        if choice == "keep":
            sent[key] = good
        elif choice == "replace":
            sent[key] = data.draw(FORM_VALUE, label=key)
    sent.update(data.draw(st.dictionaries(st.text(min_size=1, max_size=8), FORM_VALUE, max_size=1),
                          label="unknown"))
    sent["_csrf_token"] = token
    url = path.format(id=urllib.parse.quote(ref, safe=""))
    response = client.post(url, data=sent, base_url=tk.config["ckan.site_url"],
                           follow_redirects=True)
    assert response.status_code < 500, (endpoint, url, sent, response.status_code)
    assert not response.request.path.startswith("/user/login")  # still logged in
    site.refresh()
