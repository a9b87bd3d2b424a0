"""Access requests for ``controlled`` datasets and their review.

A request moves ``pending → approved | rejected | returned``, ``returned →
pending`` (the requester edits and resubmits), and ``pending | returned →
withdrawn`` (by the requester); nothing else. The owning organisation's
reviewers (``reviewer_capacity`` and above) and sysadmins decide, never on
their own requests. Approval creates a grant (``grants``).

Every change is one transaction with its history row, its ledger event and its
notifications; the actions commit.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, capacities, clock, config, duo, grants, ledger, notifications, parse, policy
from .model import AccessRequest, DatasetPolicy, Grant, RequestChange

PENDING = "pending"


APPROVED = "approved"


REJECTED = "rejected"


RETURNED = "returned"


WITHDRAWN = "withdrawn"


STATES = (PENDING, APPROVED, REJECTED, RETURNED, WITHDRAWN)


OPEN_STATES = (PENDING, RETURNED)


DECISIONS = {"approve": APPROVED, "reject": REJECTED, "return": RETURNED}


TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({APPROVED, REJECTED, RETURNED, WITHDRAWN}),
    RETURNED: frozenset({PENDING, WITHDRAWN}),
}


_EVENT_OF = {
    APPROVED: ledger.REQUEST_APPROVED, REJECTED: ledger.REQUEST_REJECTED,
    RETURNED: ledger.REQUEST_RETURNED, WITHDRAWN: ledger.REQUEST_WITHDRAWN,
}


# What a requester sends (governance_request_create and _update).
FIELDS = ("intended_use", "institution", "project_title", "ethics_reference",
          "commercial", "duration_days")


TEXT_MAX = 10_000


FIELD_MAX = 500


DURATION_MAX = 3650


def clean_fields(data: dict[str, Any], data_use: list[str] | None) -> dict[str, Any]:
    """The request's fields, validated against the dataset's data use conditions;
    a ValidationError names every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    use = data.get("intended_use")
    minimum = config.request_min_use_length()
    if not isinstance(use, str) or len(use.strip()) < minimum:
        errors["intended_use"] = [tk._(
            "Describe the intended use of the data in at least {n} characters").format(n=minimum)]
    elif len(use) > TEXT_MAX:
        errors["intended_use"] = [tk._("At most {n} characters").format(n=TEXT_MAX)]
    else:
        _text(errors, out, "intended_use", use)
    for key in ("institution", "project_title", "ethics_reference"):
        value = data.get(key)
        if value is None or value == "":
            out[key] = None
        elif not isinstance(value, str) or len(value) > FIELD_MAX:
            errors[key] = [tk._("Must be text of at most {n} characters").format(n=FIELD_MAX)]
        else:
            _text(errors, out, key, value)
    if duo.needs_ethics(data_use) and not out.get("ethics_reference") and "ethics_reference" not in errors:
        errors["ethics_reference"] = [tk._(
            "This dataset's data use conditions require ethics (IRB/ERB) approval: give its reference")]
    try:
        out["commercial"] = parse.parse_boolean(data.get("commercial"))
    except tk.Invalid:
        errors["commercial"] = [tk._("Say whether the use is commercial (true or false)")]
    if out.get("commercial") and duo.non_commercial(data_use):
        errors["commercial"] = [tk._(
            "This dataset's data use conditions allow non-commercial use only")]
    try:
        out["duration_days"] = parse.optional_days(data.get("duration_days"), 1, DURATION_MAX)
    except tk.Invalid as err:
        errors["duration_days"] = [str(err.error)]
    if errors:
        raise tk.ValidationError(errors)
    return out


def _text(errors: dict[str, list[str]], out: dict[str, Any], key: str, value: str) -> None:
    try:
        out[key] = parse.parse_text(value).strip() or None
    except tk.Invalid as err:
        errors[key] = [str(err.error)]


def _check_transition(req: AccessRequest, to: str) -> None:
    if to not in TRANSITIONS.get(req.state, frozenset()):
        raise tk.ValidationError({"state": [tk._(
            "A request that is {state} cannot become {to}").format(state=req.state, to=to)]})


def _change(req: AccessRequest, to: str, actor_id: str | None, message: str | None,
            now: dt.datetime) -> None:
    model.Session.add(RequestChange(request_id=req.id, actor_id=actor_id, from_state=req.state,
                                    to_state=to, message=message, created=now))
    req.state = to
    req.modified = now


def create(user: model.User, pkg: model.Package, data: dict[str, Any]) -> AccessRequest:
    """A new pending request (and its flags, event and reviewer notices)."""
    row = model.Session.get(DatasetPolicy, pkg.id)
    tier = row.access_tier if row is not None else config.default_tier()
    if tier != policy.CONTROLLED:
        raise tk.ValidationError({"id": [tk._("This dataset takes no access requests: "
                                              "its data is not under controlled access")]})
    if not pkg.owner_org:
        raise tk.ValidationError({"id": [tk._("This dataset has no organisation to review requests")]})
    data_use = row.data_use if row is not None else None
    fields = clean_fields(data, data_use)
    now = access.utcnow()
    if _open_request(user.id, pkg.id) is not None:
        raise tk.ValidationError({"id": [tk._("You already have an open request for this dataset")]})
    renews = grants.active_grant(user.id, pkg.id, now)
    req = AccessRequest(
        package_id=pkg.id, user_id=user.id, organization_id=pkg.owner_org, state=PENDING,
        renewal_of=renews.id if renews is not None else None,
        prescreen=duo.prescreen(fields, data_use, grants.grant_days_of(row), now),
        created=now, modified=now, **fields,
    )
    model.Session.add(req)
    try:
        with model.Session.begin_nested():
            model.Session.flush()
    except IntegrityError as err:
        model.Session.rollback()
        if "governance_request_one_open_idx" not in str(err.orig):
            raise
        # Another request of this user for this dataset was saved meanwhile.
        raise tk.ValidationError({"id": [tk._("You already have an open request for this dataset")]})
    model.Session.add(RequestChange(request_id=req.id, actor_id=user.id, from_state=None,
                                    to_state=PENDING, created=now))
    ledger.record(ledger.REQUEST_CREATED, actor_id=user.id, package_id=pkg.id,
                  organization_id=pkg.owner_org,
                  detail={"request_id": req.id, "renewal_of": req.renewal_of,
                          "flags": [f["code"] for f in req.prescreen]})
    _tell_reviewers(req, pkg, user, resubmitted=False)
    return req


def resubmit(user: model.User, req: AccessRequest, data: dict[str, Any]) -> AccessRequest:
    """The requester's edit of a returned request: back to pending."""
    if req.user_id != user.id:
        raise tk.NotAuthorized(tk._("Only the requester may edit a request"))
    _check_transition(req, PENDING)
    row = model.Session.get(DatasetPolicy, req.package_id)
    data_use = row.data_use if row is not None else None
    current = {k: getattr(req, k) for k in ("intended_use", "institution", "project_title",
                                            "ethics_reference", "commercial", "duration_days")}
    fields = clean_fields({**current, **{k: v for k, v in data.items() if k in current}}, data_use)
    now = access.utcnow()
    for key, value in fields.items():
        setattr(req, key, value)
    req.prescreen = duo.prescreen(fields, data_use, grants.grant_days_of(row), now)
    _change(req, PENDING, user.id, None, now)
    pkg = model.Package.get(req.package_id)
    ledger.record(ledger.REQUEST_RESUBMITTED, actor_id=user.id, package_id=req.package_id,
                  organization_id=req.organization_id,
                  detail={"request_id": req.id, "flags": [f["code"] for f in req.prescreen]})
    _tell_reviewers(req, pkg, user, resubmitted=True)
    return req


def withdraw(user: model.User, req: AccessRequest, message: str | None) -> AccessRequest:
    if req.user_id != user.id:
        raise tk.NotAuthorized(tk._("Only the requester may withdraw a request"))
    _check_transition(req, WITHDRAWN)
    _change(req, WITHDRAWN, user.id, message, access.utcnow())
    ledger.record(ledger.REQUEST_WITHDRAWN, actor_id=user.id, package_id=req.package_id,
                  organization_id=req.organization_id, detail={"request_id": req.id})
    return req


def lock(ids: list[str]) -> dict[str, AccessRequest]:
    """The requests, locked for this transaction (in id order: no deadlocks)."""
    rows = model.Session.execute(
        sa.select(AccessRequest).where(AccessRequest.id.in_(ids))
        .order_by(AccessRequest.id).with_for_update()
        # The state another transaction just committed, not a cached one.
        .execution_options(populate_existing=True)
    ).scalars()
    return {r.id: r for r in rows}


def decide(actor: model.User, reqs: list[AccessRequest], decision: str,
           message: str | None) -> list[tuple[AccessRequest, Grant | None]]:
    """Approve, reject or return requests (already locked), all or none."""
    to = DECISIONS[decision]
    for req in reqs:
        if req.user_id == actor.id:
            raise tk.NotAuthorized(tk._("Nobody decides their own request"))
        if not capacities.is_reviewer(actor, req.organization_id):
            raise tk.NotAuthorized(tk._("Only the dataset organisation's reviewers decide its requests"))
    bad = [r.id for r in reqs if to not in TRANSITIONS.get(r.state, frozenset())]
    if bad:
        raise tk.ValidationError({"state": [tk._(
            "Only pending requests can be decided; already decided or withdrawn: {ids}").format(
                ids=", ".join(bad))]})
    now = access.utcnow()
    done = []
    for req in reqs:
        _change(req, to, actor.id, message, now)
        req.message = message
        req.decided_by = actor.id
        req.decided_at = now
        grant = grants.issue(req, now) if to == APPROVED else None
        ledger.record(_EVENT_OF[to], actor_id=actor.id, package_id=req.package_id,
                      organization_id=req.organization_id,
                      detail={"request_id": req.id, "requester_id": req.user_id,
                              "message": message})
        if grant is not None:
            ledger.record(ledger.GRANT_CREATED, actor_id=actor.id, package_id=req.package_id,
                          organization_id=req.organization_id,
                          detail={"grant_id": grant.id, "request_id": req.id,
                                  "user_id": req.user_id, "expires": clock.iso(grant.expires)})
        _tell_requester(req, to, message, grant)
        done.append((req, grant))
    return done


def follow_owner(package_id: str, owner_org: str | None) -> None:
    """A dataset moved to another organisation: its reviewers take over its
    requests and grants (the old organisation's lose them)."""
    if not owner_org:
        return
    for table in (AccessRequest, Grant):
        model.Session.execute(
            sa.update(table).where(table.package_id == package_id,
                                   table.organization_id != owner_org)
            .values(organization_id=owner_org))


def _open_request(user_id: str, package_id: str) -> AccessRequest | None:
    return model.Session.execute(
        sa.select(AccessRequest).where(AccessRequest.user_id == user_id,
                                       AccessRequest.package_id == package_id,
                                       AccessRequest.state.in_(OPEN_STATES))
    ).scalar_one_or_none()


def _tell_reviewers(req: AccessRequest, pkg: model.Package | None, requester: model.User,
                    resubmitted: bool) -> None:
    variables = {
        **notifications.dataset_variables(package_id=req.package_id),
        "requester_name": requester.fullname or requester.name,
        "request_url": tk.url_for("governance_requests.request_read", id=req.id, qualified=True),
        "resubmitted": resubmitted,
        "flags": [f["message"] for f in req.prescreen],
    }
    for reviewer in capacities.reviewers(req.organization_id):
        if reviewer.id != requester.id:
            notifications.enqueue(reviewer, "request_submitted", variables)


def _tell_requester(req: AccessRequest, state: str, message: str | None, grant: Grant | None) -> None:
    user = model.Session.get(model.User, req.user_id)
    if user is None:
        return
    notifications.enqueue(user, "request_decided", {
        **notifications.dataset_variables(package_id=req.package_id),
        "state": state,
        "message": message or "",
        "expires": clock.iso(grant.expires) if grant is not None else None,
        "request_url": tk.url_for("governance_requests.request_read", id=req.id, qualified=True),
    })


def visible_requests(user: model.User | None) -> sa.ColumnElement[bool]:
    """Requesters see theirs, reviewers their organisations', sysadmins all."""
    if user is None:
        return sa.false()
    if user.sysadmin:
        return sa.true()
    return sa.or_(AccessRequest.user_id == user.id,
                  AccessRequest.organization_id.in_(capacities.reviewer_org_ids(user)))


def _request_conditions(user: model.User | None, filters: dict[str, Any]) -> list[Any]:
    org_id = filters.get("organization_id")
    # A reviewer's own queue needs no per-row visibility test (an index-only count).
    visible = (sa.true() if org_id and capacities.is_reviewer(user, org_id)
               else visible_requests(user))
    conditions = [visible]
    for key, column in (("state", AccessRequest.state),
                        ("package_id", AccessRequest.package_id),
                        ("organization_id", AccessRequest.organization_id),
                        ("user_id", AccessRequest.user_id)):
        if filters.get(key):
            conditions.append(column == filters[key])
    if filters.get("older_than_days"):
        cutoff = access.utcnow() - dt.timedelta(days=int(filters["older_than_days"]))
        conditions.append(AccessRequest.created <= cutoff)
    return conditions


def select_requests(user: model.User | None, filters: dict[str, Any],
                    newest: bool = False) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """(rows, count): the rows are (request, dataset name, dataset title,
    requester name), oldest first; the count reads the request table alone
    (the joins cannot drop rows: both keys are non-null foreign keys)."""
    conditions = _request_conditions(user, filters)
    rows = (
        sa.select(AccessRequest, model.Package.name, model.Package.title, model.User.name)
        .join(model.Package, model.Package.id == AccessRequest.package_id)
        .join(model.User, model.User.id == AccessRequest.user_id)
        .where(*conditions)
        .order_by(*((AccessRequest.created.desc(), AccessRequest.id.desc()) if newest
                    else (AccessRequest.created, AccessRequest.id)))
    )
    count = sa.select(sa.func.count()).select_from(AccessRequest).where(*conditions)
    return rows, count


def request_dict(req: AccessRequest, dataset: str | None, title: str | None,
                 user_name: str | None) -> dict[str, Any]:
    return {
        "id": req.id, "state": req.state,
        "dataset_id": req.package_id, "dataset": dataset, "dataset_title": title,
        "user_id": req.user_id, "user_name": user_name,
        "organization_id": req.organization_id,
        "intended_use": req.intended_use, "institution": req.institution,
        "project_title": req.project_title, "ethics_reference": req.ethics_reference,
        "commercial": req.commercial, "duration_days": req.duration_days,
        "renewal_of": req.renewal_of, "prescreen": list(req.prescreen or []),
        "message": req.message, "decided_by": req.decided_by,
        "decided_at": clock.iso(req.decided_at),
        "created": clock.iso(req.created), "modified": clock.iso(req.modified),
    }


def history(req: AccessRequest) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(RequestChange, model.User.name)
        .outerjoin(model.User, model.User.id == RequestChange.actor_id)
        .where(RequestChange.request_id == req.id).order_by(RequestChange.id)
    ).all()
    return [{"created": clock.iso(c.created), "actor": name, "from_state": c.from_state,
             "to_state": c.to_state, "message": c.message} for c, name in rows]


GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED = "active", "expired", "revoked"
