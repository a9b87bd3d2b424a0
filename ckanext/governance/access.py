"""CKAN adapter of the access decision: gather facts in bulk, ask ``policy``.

Every enforcement point calls this module; this module asks ``policy.decide``
and nothing else decides (``redaction`` shapes what goes out by its gates). The facts for a whole page of datasets are loaded
with a fixed number of queries (policies, the viewer's memberships and
collaborations), never one query per dataset.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import flask
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import ckan.model as model
from ckan.types import Context

from . import clock, config, policy
from .model import DatasetPolicy


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is asking."""

    user_id: str | None
    name: str | None
    sysadmin: bool

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Viewer(None, None, False)


def utcnow() -> dt.datetime:
    """The application's clock (see ``clock``)."""
    return clock.now()


def viewer_for(context: Context) -> Viewer:
    """The user a CKAN action context speaks for; anonymous when unknown.

    Only the identified user counts: ``ignore_auth`` (set by CKAN's internal
    calls such as indexing) grants nothing here.
    """
    user_obj = context.get("auth_user_obj")
    user: model.User | None = None
    if isinstance(user_obj, model.User):
        user = user_obj
    else:
        name = context.get("user")
        if name:
            user = model.User.get(name)
    if user is None or user.state != "active":
        return ANONYMOUS
    return Viewer(user.id, user.name, bool(user.sysadmin))


def load_policies(package_ids: Iterable[str]) -> dict[str, policy.DatasetPolicy]:
    """Stored policies of these datasets (one query); missing rows get the default tier."""
    ids = list(dict.fromkeys(i for i in package_ids if i))
    found: dict[str, policy.DatasetPolicy] = {}
    if ids:
        rows = model.Session.execute(
            sa.select(
                DatasetPolicy.package_id,
                DatasetPolicy.access_tier,
                DatasetPolicy.embargo_until,
            ).where(DatasetPolicy.package_id.in_(ids))
        ).all()
        for package_id, tier, embargo_until in rows:
            found[package_id] = policy.DatasetPolicy(tier=tier, embargo_until=embargo_until)
    default = policy.DatasetPolicy(tier=config.default_tier())
    return {i: found.get(i, default) for i in ids}


@dataclasses.dataclass(frozen=True)
class _Facts:
    owner_org: str | None
    creator_user_id: str | None
    terms: policy.DatasetPolicy
    embargo_reason: str | None
    capacity: str | None  # the viewer's, in the owning organisation
    collaborator: bool
    agreement_name: str | None
    accepted: bool  # the viewer holds a valid acceptance of the required version
    data_use: list[str] | None = None
    grant_days: int | None = None
    grants: tuple[policy.Grant, ...] = ()  # the viewer's grants of this dataset
    request_pending: bool = False  # the viewer has a request waiting for review


_FACTS_CALL = sa.text("SELECT * FROM governance_dataset_facts(:user_id, :ids, :now)")


def facts_query() -> sa.TextClause:
    """The statement inside ``governance_dataset_facts``, read from the
    database, with its parameters as bind names (``:user_id``, ``:ids``,
    ``:now``): for EXPLAIN in the benchmarks, which then explain exactly the
    query the decision runs."""
    source = model.Session.execute(sa.text(
        "SELECT prosrc FROM pg_proc WHERE proname = 'governance_dataset_facts'")).scalar_one()
    query = source.split("RETURN QUERY", 1)[1].rsplit(";", 1)[0]
    return sa.text(query.replace("p_user_id", ":user_id").replace("p_ids", ":ids")
                   .replace("p_now", "CAST(:now AS timestamptz)"))


def _dataset_facts(viewer: Viewer, package_ids: list[str]) -> dict[str, _Facts]:
    """Owner, creator, stored policy, and the viewer's membership of the owning
    organisation and collaboration, per dataset.

    One query for any number of datasets, through the package primary key and
    the member and package_member indexes. Facts come from the database, never
    from the dict being shaped (a search result or snapshot can be stale).
    """
    if not package_ids:
        return {}
    # Sysadmins are exempt anyway; anonymous users hold nothing.
    user_id = None if viewer.sysadmin else viewer.user_id
    rows = model.Session.execute(
        _FACTS_CALL, {"user_id": user_id, "ids": list(package_ids), "now": utcnow()}
    )
    default_tier = config.default_tier()
    facts: dict[str, _Facts] = {}
    for (pid, owner_org, creator, tier, embargo, reason, capacity, collaborator,
         agreement_name, required, accepted, data_use, grant_days, grant_starts,
         grant_expires, had_grant, request_pending) in rows:
        tier = tier if tier is not None else default_tier
        # The version to have accepted, as the policy core's opaque token.
        needed = f"{agreement_name}#{required}" if agreement_name and required else None
        facts[pid] = _Facts(
            owner_org,
            creator,
            policy.DatasetPolicy(
                tier=tier, embargo_until=embargo, agreement_version=needed,
                agreement_required=agreement_name is not None,
            ),
            reason,
            capacity,
            bool(collaborator),
            agreement_name,
            bool(accepted) and needed is not None,
            list(data_use) if data_use else None,
            grant_days,
            _grants(grant_starts, grant_expires, bool(had_grant)),
            bool(request_pending),
        )
    return facts


def _grants(starts: dt.datetime | None, expires: dt.datetime | None,
            had_grant: bool) -> tuple[policy.Grant, ...]:
    """The viewer's grants as the policy core needs them: the one that lasts
    longest, or, when every grant was revoked, one revoked grant (so the
    decision says the access ended rather than was never asked for)."""
    if starts is not None:
        return (policy.Grant(starts=starts, expires=expires),)
    if had_grant:
        return (policy.Grant(revoked=True),)
    return ()


@dataclasses.dataclass(frozen=True)
class Gate:
    """What one viewer may do with one dataset's data, and why."""

    package_id: str
    tier: str
    decision: policy.Decision
    policy: policy.DatasetPolicy
    embargo_reason: str | None = None
    agreement: str | None = None  # name of the attached agreement
    data_use: list[str] | None = None
    grant_days: int | None = None
    owner_org: str | None = None

    @property
    def can_access(self) -> bool:
        return self.decision.can_access

    def block(self) -> dict[str, Any]:
        """The ``governance`` block of the package dict (the API contract)."""
        d = self.decision
        return {
            "tier": self.tier,
            "embargoed": d.embargoed,
            "embargo_until": clock.iso(d.embargo_until),
            "can_access": d.can_access,
            "reason": d.reason,
            "next_step": d.next_step,
        }


def gates(
    context: Context,
    package_ids: Iterable[str | None],
    viewer: Viewer | None = None,
) -> dict[str, Gate]:
    """Decide for every dataset id given; ids of no dataset get no gate (deny).

    One query whatever the number of datasets (two when the context names its
    user without the user object).
    """
    ids = list(dict.fromkeys(i for i in package_ids if i))
    viewer = viewer or viewer_for(context)
    memo = decision_memo()
    who = (viewer.user_id, viewer.sysadmin)
    result: dict[str, Gate] = {}
    if memo is not None:
        result = {i: memo[(who, i)] for i in ids if (who, i) in memo}
        ids = [i for i in ids if i not in result]
    facts = _dataset_facts(viewer, ids)
    now = utcnow()
    exempt_capacity = config.exempt_capacity()
    for pid, f in facts.items():
        # The creator of a dataset outside any organisation may edit it, so
        # must see what they edit (a redacted copy saved back would lose URLs).
        creator = not f.owner_org and viewer.user_id is not None and f.creator_user_id == viewer.user_id
        subject = policy.Subject(
            user_id=viewer.user_id,
            sysadmin=viewer.sysadmin,
            capacity=f.capacity,
            collaborator=f.collaborator or creator,
            accepted_versions=(
                frozenset({f.terms.agreement_version})
                if f.accepted and f.terms.agreement_version else frozenset()
            ),
            grants=f.grants,
            request_pending=f.request_pending,
        )
        decision = policy.decide(subject, f.terms, now, exempt_capacity)
        result[pid] = Gate(pid, f.terms.tier, decision, f.terms, f.embargo_reason,
                           f.agreement_name, f.data_use, f.grant_days, f.owner_org)
        if memo is not None:
            memo[(who, pid)] = result[pid]
    return result


_MEMO = "governance_decisions"


def remember_decisions() -> None:
    """Let the rest of this request reuse its decisions and restored resources.

    For read-only routes that decide the same dataset several times (the
    download route: the guard, then CKAN's resource_show, its package_show and
    the view's own package_show). Kept on ``flask.g``, so it ends with the
    request; routes that change what decisions depend on never turn it on.
    """
    setattr(flask.g, _MEMO, {})


def decision_memo() -> dict[Any, Any] | None:
    if not flask.has_app_context():
        return None
    return getattr(flask.g, _MEMO, None)


def gate_for(context: Context, package_id: str) -> Gate | None:
    """The gate of one dataset; None when there is no such dataset."""
    return gates(context, [package_id]).get(package_id)


def indexed_without_urls(pol: policy.DatasetPolicy, now: dt.datetime | None = None) -> bool:
    """True when a dataset's resource URLs must stay out of the search index.

    The index is shared by all users, so it holds gated URLs for nobody: only
    data open to anonymous users right now is indexed whole.
    """
    if pol.tier == policy.OPEN and pol.embargo_until is None:
        return False  # the common case, without a decision
    anonymous = policy.decide(policy.Subject(), pol, now or utcnow())
    return not anonymous.can_access


def open_to_outsider_sql(
    logged_in: bool, tier: Any = None, embargo_until: Any = None, now: dt.datetime | None = None
) -> Any:
    """SQL twin of ``policy.decide`` for a subject holding nothing with respect
    to a dataset (anonymous, or a logged-in user without membership, grant or
    acceptance there): true exactly where they may have its data at ``now``.

    Over ``DatasetPolicy`` outer-joined to the dataset by default (no row: the
    default tier). For filtering many rows in one query; datasets the viewer
    holds something of (``related_sql``) are decided by ``gates``. A test holds
    this equal to ``policy.decide``.
    """
    tier = DatasetPolicy.access_tier if tier is None else tier
    until = DatasetPolicy.embargo_until if embargo_until is None else embargo_until
    tiers = (policy.OPEN, policy.REGISTERED) if logged_in else (policy.OPEN,)
    return sa.and_(
        sa.func.coalesce(tier, config.default_tier()).in_(tiers),
        sa.or_(until.is_(None), until <= (now or utcnow())),
    )


# Everything ``policy.decide`` reads about a viewer, as the datasets,
# organisations and agreements it concerns: memberships of any capacity,
# collaborations, grants (even revoked ones) and acceptances (even expired).
_RELATIONS_SQL = sa.text("""
    SELECT 'org', m.group_id FROM member m
     WHERE m.table_name = 'user' AND m.table_id = :user_id AND m.state = 'active'
    UNION SELECT 'package', pm.package_id FROM package_member pm WHERE pm.user_id = :user_id
    UNION SELECT 'package', g.package_id FROM governance_grant g WHERE g.user_id = :user_id
    UNION SELECT 'agreement', a.agreement_id FROM governance_acceptance a WHERE a.user_id = :user_id
""")


def related_sql(viewer: Viewer) -> Any:
    """SQL predicate over ``model.Package`` and ``DatasetPolicy``: the datasets
    where the viewer holds anything the decision reads (a superset of those
    where they get more than ``open_to_outsider_sql``). None when there are
    none (anonymous users hold nothing). One query.
    """
    if viewer.anonymous:
        return None
    found: dict[str, list[str]] = {"org": [], "package": [], "agreement": []}
    for kind, ref in model.Session.execute(_RELATIONS_SQL, {"user_id": viewer.user_id}):
        found[kind].append(ref)

    def any_of(column: Any, ids: list[str]) -> Any:
        return column == sa.any_(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.UnicodeText)))

    # The creator of a dataset outside any organisation counts as a collaborator.
    clauses = [sa.and_(model.Package.owner_org.is_(None),
                       model.Package.creator_user_id == viewer.user_id)]
    if found["org"]:
        clauses.append(any_of(model.Package.owner_org, found["org"]))
    if found["package"]:
        clauses.append(any_of(model.Package.id, found["package"]))
    if found["agreement"]:
        clauses.append(any_of(DatasetPolicy.agreement_id, found["agreement"]))
    return sa.or_(*clauses)


def resource_gates(context: Context, resource_ids: Iterable[str | None]) -> dict[str, Gate]:
    """Gate per resource id, via its dataset (one query for all of them)."""
    ids = [i for i in resource_ids if i]
    if not ids:
        return {}
    rows = (
        model.Session.query(model.Resource.id, model.Resource.package_id)
        .filter(model.Resource.id.in_(ids))
        .all()
    )
    pkg_gates = gates(context, [p for _r, p in rows])
    return {r: pkg_gates[p] for r, p in rows if p in pkg_gates}
