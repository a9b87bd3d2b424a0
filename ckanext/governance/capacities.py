"""Who holds which capacity in which organisation.

Every membership question of the extension is asked here: the organisations
where a user is an admin (the ledger, the CSV exports) or a reviewer (access
requests), the users to tell of something, whether a user reviews an
organisation's requests. CKAN's ``member`` table is read directly, one query
per question, so lists and pages ask once for all their rows.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model

from . import config, policy


def org_ids_where(user: model.User, capacities: tuple[str, ...] = ("admin",)) -> sa.Select[Any]:
    """Ids of the active organisations where the user holds one of
    ``capacities`` (by default: is an admin), as a subquery."""
    return (
        sa.select(model.Member.group_id)
        .join(model.Group, model.Group.id == model.Member.group_id)
        .where(
            model.Member.table_name == "user",
            model.Member.table_id == user.id,
            model.Member.state == "active",
            model.Member.capacity.in_(capacities),
            model.Group.is_organization.is_(True),
            model.Group.state == "active",
        )
    )


def users_with(org_id: str, capacities: tuple[str, ...]) -> list[model.User]:
    """Active users with one of ``capacities`` in an organisation: the usual recipients."""
    return (
        model.Session.query(model.User)
        .join(model.Member, model.Member.table_id == model.User.id)
        .filter(
            model.Member.group_id == org_id,
            model.Member.table_name == "user",
            model.Member.capacity.in_(capacities),
            model.Member.state == "active",
            model.User.state == "active",
        )
        .all()
    )


def holds(user: model.User | None, org_id: str | None, capacities: tuple[str, ...] = ("admin",)) -> bool:
    """Whether the user holds one of ``capacities`` in the active organisation
    ``org_id`` (sysadmins hold every capacity everywhere)."""
    if user is None or not org_id:
        return False
    if user.sysadmin:
        return True
    return model.Session.execute(
        sa.select(sa.literal(True)).where(org_ids_where(user, capacities).where(
            model.Member.group_id == org_id).exists())
    ).scalar() is True


def member_org_ids(user: model.User) -> set[str]:
    """Ids of the groups and organisations the user is an active member of, in any capacity."""
    return set(model.Session.execute(
        sa.select(model.Member.group_id).where(
            model.Member.table_name == "user", model.Member.table_id == user.id,
            model.Member.state == "active")
    ).scalars())


def reviewer_capacities() -> tuple[str, ...]:
    least = config.reviewer_capacity()
    return policy.CAPACITIES[policy.CAPACITIES.index(least):]


def reviewer_org_ids(user: model.User) -> sa.Select[Any]:
    """Ids of the active organisations the user reviews requests of (a subquery)."""
    return org_ids_where(user, reviewer_capacities())


def is_reviewer(user: model.User | None, org_id: str | None) -> bool:
    """Whether the user reviews the organisation's access requests."""
    return holds(user, org_id, reviewer_capacities())


def reviewers(org_id: str) -> list[model.User]:
    return users_with(org_id, reviewer_capacities())
