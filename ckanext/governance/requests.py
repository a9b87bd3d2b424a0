"""Access requests for ``controlled`` datasets, their review, and grants.

A request moves ``pending → approved | rejected | returned``, ``returned →
pending`` (the requester edits and resubmits), and ``pending | returned →
withdrawn`` (by the requester); nothing else. The owning organisation's
reviewers (``reviewer_capacity`` and above) and sysadmins decide, never on
their own requests. Approval creates a grant that expires after the dataset's
``grant_days`` (else the site's); the policy core checks the expiry at the
instant, ``ckan governance grants expire`` records it and tells the holder.

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

from . import access, config, duo, events, notify, policy
from .logic.validators import governance_days, parse_boolean, parse_text
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
    APPROVED: events.REQUEST_APPROVED, REJECTED: events.REQUEST_REJECTED,
    RETURNED: events.REQUEST_RETURNED, WITHDRAWN: events.REQUEST_WITHDRAWN,
}

GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED = "active", "expired", "revoked"
GRANT_STATES = (GRANT_ACTIVE, GRANT_EXPIRED, GRANT_REVOKED)

# What a requester sends (governance_request_create and _update).
FIELDS = ("intended_use", "institution", "project_title", "ethics_reference",
          "commercial", "duration_days")
TEXT_MAX = 10_000
FIELD_MAX = 500
DURATION_MAX = 3650


# Who reviews ----------------------------------------------------------------------


def reviewer_capacities() -> tuple[str, ...]:
    least = config.reviewer_capacity()
    return policy.CAPACITIES[policy.CAPACITIES.index(least):]


def reviewer_org_ids(user: model.User) -> sa.Select[Any]:
    """Ids of the active organisations the user reviews requests of (a subquery)."""
    return events.admin_of(user, reviewer_capacities())


def is_reviewer(user: model.User | None, org_id: str | None) -> bool:
    if user is None or not org_id:
        return False
    if user.sysadmin:
        return True
    return model.Session.execute(
        sa.select(sa.literal(True)).where(reviewer_org_ids(user).where(
            model.Member.group_id == org_id).exists())
    ).scalar() is True


def reviewers(org_id: str) -> list[model.User]:
    return notify.organization_users(org_id, reviewer_capacities())


# Checking what a requester sends --------------------------------------------------


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
        out["commercial"] = parse_boolean(data.get("commercial"))
    except tk.Invalid:
        errors["commercial"] = [tk._("Say whether the use is commercial (true or false)")]
    if out.get("commercial") and duo.non_commercial(data_use):
        errors["commercial"] = [tk._(
            "This dataset's data use conditions allow non-commercial use only")]
    try:
        out["duration_days"] = governance_days(1, DURATION_MAX)(data.get("duration_days"))
    except tk.Invalid as err:
        errors["duration_days"] = [str(err.error)]
    if errors:
        raise tk.ValidationError(errors)
    return out


def _text(errors: dict[str, list[str]], out: dict[str, Any], key: str, value: str) -> None:
    try:
        out[key] = parse_text(value).strip() or None
    except tk.Invalid as err:
        errors[key] = [str(err.error)]


def prescreen(fields: dict[str, Any], data_use: list[str] | None,
              grant_days: int, now: dt.datetime) -> list[dict[str, str]]:
    """Flags for the reviewer where the request and the data use conditions may
    not fit. They inform the decision; they never make it."""
    flags: list[dict[str, str]] = []

    def flag(code: str, message: str) -> None:
        flags.append({"code": code, "message": message})

    use = (fields.get("intended_use") or "").lower()
    ancestry = any(w in use for w in ("ancestry", "population origin", "population structure",
                                      "genealog", "admixture"))
    for condition in duo.parse(data_use or []):
        code, value = condition.term.code, condition.value
        if code == "DS" and value and value.lower() not in use:
            flag("disease_not_named", tk._(
                "Use is limited to research on {disease}; the statement does not name it.").format(
                    disease=value))
        elif code in ("HMB", "DS") and ancestry:
            flag("ancestry_research", tk._(
                "The statement mentions ancestry or population research, which {code} does not cover.")
                .format(code=code))
        elif code == "NPOA" and ancestry:
            flag("ancestry_research", tk._(
                "The statement mentions ancestry or population research, which NPOA prohibits."))
        elif code == "TS" and value:
            limit = dt.date.fromisoformat(value)
            days = fields.get("duration_days") or grant_days
            if days and (now.date() + dt.timedelta(days=days)) > limit:
                flag("beyond_time_limit", tk._(
                    "The access asked for would last beyond the time limit of {date}.").format(date=value))
        elif code == "MOR" and value:
            flag("publication_moratorium", tk._(
                "No publication of results before {date}: make sure the requester knows.").format(date=value))
        elif code == "GS" and value:
            flag("geographic_restriction", tk._(
                "Use is limited to {region}: check the institution ({institution}).").format(
                    region=value, institution=fields.get("institution") or tk._("not given")))
        elif code in ("US", "PS", "IS"):
            flag("specific_use_only", tk._(
                "{label}: check that this requester, project and institution are the approved ones.")
                .format(label=condition.term.label))
        elif code == "COL":
            flag("collaboration_required", tk._(
                "Collaboration with the study's investigators is required."))
        elif code == "RTN":
            flag("return_data", tk._("Derived or enriched data must be returned to the resource."))
        elif code == "PUB":
            flag("publication_required", tk._("The requester must agree to publish the results."))
    if not fields.get("institution"):
        flag("no_institution", tk._("No institution given."))
    if fields.get("commercial"):
        flag("commercial_use", tk._("Commercial use is declared."))
    if fields.get("duration_days") and grant_days and fields["duration_days"] > grant_days:
        flag("longer_than_allowed", tk._(
            "{asked} days asked for; grants of this dataset last {days} days.").format(
                asked=fields["duration_days"], days=grant_days))
    return flags


def grant_days_of(row: DatasetPolicy | None) -> int:
    if row is not None and row.grant_days is not None:
        return row.grant_days
    return config.grant_days()


# Changes --------------------------------------------------------------------------


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


def active_grant(user_id: str, package_id: str, now: dt.datetime) -> Grant | None:
    return model.Session.execute(
        sa.select(Grant)
        .where(Grant.user_id == user_id, Grant.package_id == package_id,
               Grant.revoked_at.is_(None), Grant.starts <= now,
               sa.or_(Grant.expires.is_(None), Grant.expires > now))
        .order_by(Grant.expires.desc().nulls_first()).limit(1)
    ).scalar_one_or_none()


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
    renews = active_grant(user.id, pkg.id, now)
    req = AccessRequest(
        package_id=pkg.id, user_id=user.id, organization_id=pkg.owner_org, state=PENDING,
        renewal_of=renews.id if renews is not None else None,
        prescreen=prescreen(fields, data_use, grant_days_of(row), now),
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
    events.record(events.REQUEST_CREATED, actor_id=user.id, package_id=pkg.id,
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
    req.prescreen = prescreen(fields, data_use, grant_days_of(row), now)
    _change(req, PENDING, user.id, None, now)
    pkg = model.Package.get(req.package_id)
    events.record(events.REQUEST_RESUBMITTED, actor_id=user.id, package_id=req.package_id,
                  organization_id=req.organization_id,
                  detail={"request_id": req.id, "flags": [f["code"] for f in req.prescreen]})
    _tell_reviewers(req, pkg, user, resubmitted=True)
    return req


def withdraw(user: model.User, req: AccessRequest, message: str | None) -> AccessRequest:
    if req.user_id != user.id:
        raise tk.NotAuthorized(tk._("Only the requester may withdraw a request"))
    _check_transition(req, WITHDRAWN)
    _change(req, WITHDRAWN, user.id, message, access.utcnow())
    events.record(events.REQUEST_WITHDRAWN, actor_id=user.id, package_id=req.package_id,
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
        if not is_reviewer(actor, req.organization_id):
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
        grant = _grant(req, now) if to == APPROVED else None
        events.record(_EVENT_OF[to], actor_id=actor.id, package_id=req.package_id,
                      organization_id=req.organization_id,
                      detail={"request_id": req.id, "requester_id": req.user_id,
                              "message": message})
        if grant is not None:
            events.record(events.GRANT_CREATED, actor_id=actor.id, package_id=req.package_id,
                          organization_id=req.organization_id,
                          detail={"grant_id": grant.id, "request_id": req.id,
                                  "user_id": req.user_id, "expires": events.iso(grant.expires)})
        _tell_requester(req, to, message, grant)
        done.append((req, grant))
    return done


def _grant(req: AccessRequest, now: dt.datetime) -> Grant:
    days = grant_days_of(model.Session.get(DatasetPolicy, req.package_id))
    if req.duration_days and (not days or req.duration_days < days):
        days = req.duration_days
    start_from = now
    if req.renewal_of:
        prior = model.Session.get(Grant, req.renewal_of)
        if prior is not None and prior.revoked_at is None:
            if prior.expires is None:
                days = 0
            elif prior.expires > now:
                start_from = prior.expires  # renewed in time: no gap, no lost days
    grant = Grant(request_id=req.id, package_id=req.package_id, user_id=req.user_id,
                  organization_id=req.organization_id, starts=now,
                  expires=(start_from + dt.timedelta(days=days)) if days else None, created=now)
    model.Session.add(grant)
    model.Session.flush()
    return grant


def revoke(actor: model.User, grant: Grant, reason: str) -> Grant:
    """End the holder's access to the dataset: this grant and any other of
    theirs for it (a renewal's grant runs beside the one it renews), locked so
    two revocations at once make one."""
    if not is_reviewer(actor, grant.organization_id):
        raise tk.NotAuthorized(tk._("Only the dataset organisation's reviewers revoke its grants"))
    held = list(model.Session.execute(
        sa.select(Grant).where(Grant.user_id == grant.user_id, Grant.package_id == grant.package_id)
        .order_by(Grant.id).with_for_update().execution_options(populate_existing=True)
    ).scalars())
    if grant.revoked_at is not None:
        raise tk.ValidationError({"id": [tk._("This grant was already revoked")]})
    now = access.utcnow()
    for g in held:
        if g.revoked_at is None:
            g.revoked_at, g.revoked_by, g.revoke_reason = now, actor.id, reason
            events.record(events.GRANT_REVOKED, actor_id=actor.id, package_id=g.package_id,
                          organization_id=g.organization_id,
                          detail={"grant_id": g.id, "user_id": g.user_id, "reason": reason})
    _tell_holder(grant, "grant_revoked", {"reason": reason})
    return grant


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


# Expiry and reminders (cron) --------------------------------------------------------


def due_for_expiry(now: dt.datetime) -> sa.Select[Any]:
    """Grants whose end passed and was not yet recorded (the partial index)."""
    return (
        sa.select(Grant)
        .where(Grant.expires.is_not(None), Grant.revoked_at.is_(None),
               Grant.expiry_recorded.is_(None), Grant.expires <= now)
        .order_by(Grant.expires)
    )


def expire_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Record expired grants and remind holders of grants about to expire.

    Each grant is handled in its own transaction under FOR UPDATE SKIP LOCKED,
    so runs at once never record or remind twice.
    """
    now = now or access.utcnow()
    counts = {"expired": 0, "reminded": 0}
    while True:
        grant = model.Session.execute(
            due_for_expiry(now).limit(1).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if grant is None:
            break
        grant.expiry_recorded = now
        events.record(events.GRANT_EXPIRED, actor_id=None, package_id=grant.package_id,
                      organization_id=grant.organization_id,
                      detail={"grant_id": grant.id, "user_id": grant.user_id,
                              "expires": events.iso(grant.expires)})
        if not _renewed(grant):
            _tell_holder(grant, "grant_expired", {})
        model.Session.commit()
        counts["expired"] += 1
    # Smallest threshold first: a grant 5 days from its end gets the 7-day
    # reminder, not the 30-day one; each run sends a grant one reminder at most,
    # and marking it takes it out of the selection (no list of seen rows).
    for days in sorted(config.grant_reminder_days()):
        while True:
            grant = model.Session.execute(
                sa.select(Grant)
                .where(Grant.expires.is_not(None), Grant.revoked_at.is_(None),
                       Grant.expiry_recorded.is_(None), Grant.expires > now,
                       Grant.expires <= now + dt.timedelta(days=days),
                       sa.or_(Grant.reminded_days.is_(None), Grant.reminded_days > days))
                .order_by(Grant.expires, Grant.id).limit(1).with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if grant is None:
                break
            grant.reminded_days = days
            if not _renewed(grant):
                left = grant.expires - now  # type: ignore[operator]
                days_left = -(-left // dt.timedelta(days=1))  # whole days, rounded up
                _tell_holder(grant, "grant_reminder", {"days_left": days_left})
                counts["reminded"] += 1
            model.Session.commit()
    return counts


def _renewed(grant: Grant) -> bool:
    """Whether a later grant of the same data carries on after this one."""
    return model.Session.execute(
        sa.select(sa.literal(True)).where(sa.exists().where(
            Grant.user_id == grant.user_id, Grant.package_id == grant.package_id,
            Grant.id != grant.id, Grant.revoked_at.is_(None),
            sa.or_(Grant.expires.is_(None), Grant.expires > grant.expires)))
    ).scalar() is True


# Notifications ----------------------------------------------------------------------


def _dataset_vars(package_id: str) -> dict[str, str]:
    pkg = model.Package.get(package_id)
    name = pkg.name if pkg is not None else package_id
    return {"dataset_title": (pkg.title or pkg.name) if pkg is not None else package_id,
            "dataset_url": tk.url_for("dataset.read", id=name, qualified=True)}


def _tell_reviewers(req: AccessRequest, pkg: model.Package | None, requester: model.User,
                    resubmitted: bool) -> None:
    variables = {
        **_dataset_vars(req.package_id),
        "requester_name": requester.fullname or requester.name,
        "request_url": tk.url_for("governance_requests.request_read", id=req.id, qualified=True),
        "resubmitted": resubmitted,
        "flags": [f["message"] for f in req.prescreen],
    }
    for reviewer in reviewers(req.organization_id):
        if reviewer.id != requester.id:
            notify.enqueue(reviewer, "request_submitted", variables)


def _tell_requester(req: AccessRequest, state: str, message: str | None, grant: Grant | None) -> None:
    user = model.Session.get(model.User, req.user_id)
    if user is None:
        return
    notify.enqueue(user, "request_decided", {
        **_dataset_vars(req.package_id),
        "state": state,
        "message": message or "",
        "expires": events.iso(grant.expires) if grant is not None else None,
        "request_url": tk.url_for("governance_requests.request_read", id=req.id, qualified=True),
    })


def _tell_holder(grant: Grant, template: str, extra: dict[str, Any]) -> None:
    user = model.Session.get(model.User, grant.user_id)
    if user is None:
        return
    notify.enqueue(user, template, {
        **_dataset_vars(grant.package_id),
        "expires": events.iso(grant.expires),
        "access_url": tk.url_for("governance_requests.my_access", qualified=True),
        **extra,
    })


# Reading ----------------------------------------------------------------------------


def visible_requests(user: model.User | None) -> sa.ColumnElement[bool]:
    """Requesters see theirs, reviewers their organisations', sysadmins all."""
    if user is None:
        return sa.false()
    if user.sysadmin:
        return sa.true()
    return sa.or_(AccessRequest.user_id == user.id,
                  AccessRequest.organization_id.in_(reviewer_org_ids(user)))


def _request_conditions(user: model.User | None, filters: dict[str, Any]) -> list[Any]:
    org_id = filters.get("organization_id")
    # A reviewer's own queue needs no per-row visibility test (an index-only count).
    visible = (sa.true() if org_id and is_reviewer(user, org_id)
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
        "decided_at": events.iso(req.decided_at),
        "created": events.iso(req.created), "modified": events.iso(req.modified),
    }


def history(req: AccessRequest) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(RequestChange, model.User.name)
        .outerjoin(model.User, model.User.id == RequestChange.actor_id)
        .where(RequestChange.request_id == req.id).order_by(RequestChange.id)
    ).all()
    return [{"created": events.iso(c.created), "actor": name, "from_state": c.from_state,
             "to_state": c.to_state, "message": c.message} for c, name in rows]


def grant_state(grant: Grant, now: dt.datetime) -> str:
    if grant.revoked_at is not None:
        return GRANT_REVOKED
    if grant.expires is not None and grant.expires <= now:
        return GRANT_EXPIRED
    return GRANT_ACTIVE


def visible_grants(user: model.User | None) -> sa.ColumnElement[bool]:
    if user is None:
        return sa.false()
    if user.sysadmin:
        return sa.true()
    return sa.or_(Grant.user_id == user.id, Grant.organization_id.in_(reviewer_org_ids(user)))


def select_grants(user: model.User | None, filters: dict[str, Any], now: dt.datetime) -> sa.Select[Any]:
    query = (
        sa.select(Grant, model.Package.name, model.Package.title, model.User.name)
        .join(model.Package, model.Package.id == Grant.package_id)
        .join(model.User, model.User.id == Grant.user_id)
        .where(visible_grants(user))
    )
    for key, column in (("package_id", Grant.package_id),
                        ("organization_id", Grant.organization_id),
                        ("user_id", Grant.user_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    state = filters.get("state")
    if state == GRANT_REVOKED:
        query = query.where(Grant.revoked_at.is_not(None))
    elif state == GRANT_EXPIRED:
        query = query.where(Grant.revoked_at.is_(None), Grant.expires <= now)
    elif state == GRANT_ACTIVE:
        query = query.where(Grant.revoked_at.is_(None),
                            sa.or_(Grant.expires.is_(None), Grant.expires > now))
    return query.order_by(Grant.created.desc(), Grant.id)


def grant_dict(grant: Grant, dataset: str | None, title: str | None, user_name: str | None,
               now: dt.datetime) -> dict[str, Any]:
    return {
        "id": grant.id, "request_id": grant.request_id, "state": grant_state(grant, now),
        "dataset_id": grant.package_id, "dataset": dataset, "dataset_title": title,
        "user_id": grant.user_id, "user_name": user_name,
        "organization_id": grant.organization_id,
        "starts": events.iso(grant.starts), "expires": events.iso(grant.expires),
        "revoked_at": events.iso(grant.revoked_at), "revoke_reason": grant.revoke_reason,
        "created": events.iso(grant.created),
    }
