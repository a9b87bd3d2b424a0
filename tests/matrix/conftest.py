"""The world the authorisation matrix runs in, built once per test module.

One organisation; one dataset per tier, each with gated resources whose URL,
uploaded file name, file content, DataStore rows, resource extra and view
config all carry secret strings unique to that dataset; one user per kind.
Later issues add kinds of user (accepted, granted, expired ...) and dataset
states (embargoed ...) by extending ``USER_KINDS``/``DATASETS`` and
``expected_access``, not by writing a new harness.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from io import BytesIO
from typing import Any

import pytest

import ckan.model as model
import ckan.plugins as p
from ckan.tests import factories
from ckan.tests.helpers import CKANTestApp, _get_test_app, call_action
from ckan.tests.pytest_ckan.fixtures import FakeFileStorage

TIERS = ("open", "registered", "agreement", "controlled")
# Embargo states: none, still running, and ended (data open on the tier's terms).
EMBARGO_STATES = ("none", "embargoed", "lifted")
DATASET_KEYS = tuple(
    tier if state == "none" else f"{tier}-{state}" for tier in TIERS for state in EMBARGO_STATES
) + ("controlled-noagreement",)  # controlled access without an agreement attached
CONTROLLED_KEYS = tuple(k for k in DATASET_KEYS if k.startswith("controlled"))

# Kinds of user, each with how they relate to the matrix organisation.
USER_KINDS = (
    "anonymous",
    "logged_in",
    "other_org_admin",
    "member",
    "editor",
    "admin",
    "collaborator",
    "sysadmin",
    # Acceptances of the world's agreement: v1 material, v2 material, v3 minor.
    "accepted",  # accepted v3, the current version
    "accepted_old_minor",  # accepted v2: only a minor change came after
    "accepted_old_material",  # accepted v1: a material change came after
    "accepted_expired",  # accepted v3 longer ago than the renewal period
    # Access requests for every controlled dataset (``other_org_admin`` is
    # the reviewer of another organisation).
    "request_pending",
    "request_rejected",
    "request_returned",
    "request_withdrawn",
    "granted",  # approved, and accepted the current agreement version
    "granted_not_accepted",  # approved, never accepted the agreement
    "grant_expired",  # approved, the grant's end has passed
    "grant_revoked",  # approved, then revoked
)
EXEMPT = {"member", "editor", "admin", "collaborator", "sysadmin"}
ACCEPTED = {"accepted", "accepted_old_minor", "granted"}
GRANTED = {"granted", "granted_not_accepted"}


def expected_access(key: str, kind: str) -> bool:
    """The oracle, written from the README's tier table ("Access tiers"), independently of policy.py."""
    tier, _, state = key.partition("-")
    if kind in EXEMPT:
        return True
    if state == "embargoed":
        return False
    if tier == "open":
        return True
    if tier == "agreement":
        return kind in ACCEPTED
    if tier == "registered":
        return kind != "anonymous"
    if tier == "controlled":
        # A grant, and the acceptance too where an agreement is attached.
        return kind in GRANTED and (state == "noagreement" or kind in ACCEPTED)
    return False


@dataclasses.dataclass
class Dataset:
    key: str
    id: str
    name: str
    link: dict[str, Any]  # resource with an external URL (+ a view and DataStore rows)
    upload: dict[str, Any]  # uploaded file
    view_id: str
    secrets: dict[str, str]
    activity_ids: list[str] = dataclasses.field(default_factory=list)

    def all_secrets(self) -> list[str]:
        return list(self.secrets.values())


@dataclasses.dataclass
class World:
    org: dict[str, Any]
    datasets: dict[str, Dataset]
    tokens: dict[str, str | None]  # user kind -> API token (None: anonymous)
    users: dict[str, dict[str, Any]]
    app: CKANTestApp


def _secret(label: str) -> str:
    return f"zz{label}{secrets.token_hex(6)}"


def _build_dataset(key: str, org: dict, publisher: dict, collaborator: dict) -> Dataset:
    tier, _, state = key.partition("-")
    s = {
        "link": _secret(f"{key}link"),
        "file": _secret(f"{key}file"),
        "content": _secret(f"{key}content"),
        "rows": _secret(f"{key}rows"),
        "extra": _secret(f"{key}extra"),
        "view": _secret(f"{key}view"),
    }
    ctx = {"user": publisher["name"]}
    embargo = {}
    if state in ("embargoed", "lifted"):
        embargo = {"embargo_until": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat(),
                   "embargo_reason": "Until the paper is out"}
    if tier in ("agreement", "controlled") and state != "noagreement":
        embargo["agreement"] = "matrix-dua"
    pkg = call_action(
        "package_create", dict(ctx),
        name=f"matrix-{key}", title=f"Matrix {key} dataset", owner_org=org["id"],
        notes=f"A {tier} dataset of the authorisation matrix.", access_tier=tier, **embargo,
    )
    link = call_action(
        "resource_create", dict(ctx),
        package_id=pkg["id"], name="Measurements", format="CSV",
        url=f"https://files.example.org/{s['link']}/measurements.csv",
        alt_source=f"https://mirror.example.org/{s['extra']}.csv",
    )
    stream = BytesIO(f"station,value\nA,{s['content']}\n".encode())
    upload = call_action(
        "resource_create", dict(ctx),
        package_id=pkg["id"], name="Upload", format="CSV",
        url=f"{s['file']}.csv", upload=FakeFileStorage(stream, f"{s['file']}.csv"),
    )
    call_action(
        "datastore_create", dict(ctx),
        resource_id=link["id"], force=True,
        fields=[{"id": "station", "type": "text"}, {"id": "value", "type": "text"}],
        records=[{"station": "A", "value": s["rows"]}],
    )
    view = call_action(
        "resource_view_create", dict(ctx),
        resource_id=link["id"], view_type="webpage_view", title="Web page",
        page_url=f"https://viewer.example.org/{s['view']}",
    )
    call_action(
        "package_collaborator_create", {"ignore_auth": True, "user": publisher["name"]},
        id=pkg["id"], user_id=collaborator["id"], capacity="editor",
    )
    # A second version, so the activity stream has a diff to show.
    call_action("package_patch", dict(ctx), id=pkg["id"], notes=f"Updated {key} dataset.")
    if state == "lifted":
        # The embargo ended an hour ago (no API sets a past date) and the lift
        # command finished the transition, as cron would have.
        from ckanext.governance import embargo as lifecycle
        from ckanext.governance.model import DatasetPolicy

        row = model.Session.get(DatasetPolicy, pkg["id"])
        row.embargo_until = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        model.Session.commit()
        assert pkg["id"] in lifecycle.lift_due()
    from ckanext.activity.model import Activity

    activity_ids = [
        a.id for a in model.Session.query(Activity)
        .filter(Activity.object_id == pkg["id"])
        .order_by(Activity.timestamp)
    ]
    return Dataset(key, pkg["id"], pkg["name"], link, upload, view["id"], s, activity_ids)


def _accept_versions(users: dict, publisher: dict, via: str) -> None:
    """Each accepting kind of user accepts the version its name says."""
    from ckanext.governance.model import Acceptance

    def accept(kind: str) -> None:
        call_action("governance_agreement_accept", {"user": users[kind]["name"]}, id=via)

    def revise(material: bool, body: str) -> None:
        call_action("governance_agreement_update", {"user": publisher["name"]},
                    id="matrix-dua", body=body, material=material)

    accept("accepted_old_material")  # v1
    revise(True, "Version two: a material change.")
    accept("accepted_old_minor")  # v2
    revise(False, "Version two, with a typo fixed.")
    accept("accepted")  # v3
    accept("granted")
    accept("accepted_expired")
    expired = model.Session.query(Acceptance).filter_by(user_id=users["accepted_expired"]["id"]).one()
    expired.created = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    model.Session.commit()


def _request_access(users: dict, reviewer: dict, datasets: dict) -> None:
    """Each requesting kind of user asks for every controlled dataset, and the
    organisation's admin (a reviewer) takes the decision its name says."""
    from ckanext.governance.model import Grant

    def ask(kind: str, key: str) -> str:
        return call_action(
            "governance_request_create", {"user": users[kind]["name"]}, id=datasets[key].id,
            intended_use="Matrix research on the measurements, for the authorisation tests.",
            commercial=False)["id"]

    def decide(request_id: str, decision: str) -> None:
        call_action("governance_request_decide", {"user": reviewer["name"]}, id=request_id,
                    decision=decision, message=f"Matrix says {decision}")

    for key in CONTROLLED_KEYS:
        ask("request_pending", key)
        decide(ask("request_rejected", key), "reject")
        decide(ask("request_returned", key), "return")
        call_action("governance_request_withdraw", {"user": users["request_withdrawn"]["name"]},
                    id=ask("request_withdrawn", key))
        for kind in ("granted", "granted_not_accepted", "grant_expired", "grant_revoked"):
            decide(ask(kind, key), "approve")
    for grant in model.Session.query(Grant).filter_by(user_id=users["grant_expired"]["id"]):
        grant.expires = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    model.Session.commit()
    for grant in model.Session.query(Grant).filter_by(user_id=users["grant_revoked"]["id"]).all():
        call_action("governance_grant_revoke", {"user": reviewer["name"]}, id=grant.id,
                    reason="Matrix revocation")


@pytest.fixture(scope="module")
def world(empty_site) -> World:
    try:
        empty_site()

        sysadmin = factories.Sysadmin()
        publisher = factories.User(name="matrix-publisher")
        org = factories.Organization(
            name="matrix-org",
            users=[{"name": publisher["name"], "capacity": "editor"}],
        )
        users: dict[str, dict[str, Any]] = {"sysadmin": sysadmin}
        for kind in USER_KINDS:
            if kind not in ("anonymous", "sysadmin"):
                users[kind] = factories.User(name=f"matrix-{kind.replace('_', '-')}")
        for kind in ("member", "editor", "admin"):
            call_action(
                "organization_member_create", {"user": sysadmin["name"]},
                id=org["id"], username=users[kind]["name"], role=kind,
            )
        factories.Organization(
            name="other-org", users=[{"name": users["other_org_admin"]["name"], "capacity": "admin"}]
        )

        call_action("governance_agreement_create", {"user": publisher["name"]},
                    owner_org=org["id"], name="matrix-dua", title="Matrix DUA",
                    body="Version one.", renewal_days=365)
        datasets = {
            key: _build_dataset(key, org, publisher, users["collaborator"])
            for key in DATASET_KEYS
        }
        _accept_versions(users, publisher, datasets["agreement"].id)
        _request_access(users, users["admin"], datasets)
        tokens: dict[str, str | None] = {"anonymous": None}
        for kind, user in users.items():
            tokens[kind] = call_action(
                "api_token_create", {"user": user["name"]}, user=user["name"], name="matrix"
            )["token"]
        app = _get_test_app()
        yield World(org, datasets, tokens, users, app)
    finally:
        p.unload_all()


@pytest.fixture(autouse=True)
def load_plugins(world):
    """The world keeps the plugins loaded for the whole module: reloading
    them for each of the matrix's hundreds of cells would only cost time."""
