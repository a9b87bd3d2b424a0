"""``governance_access_show``: what the caller may do with a dataset's data, and why."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ... import access, access_requests, clock, grants, policy
from ...model import AccessRequest, Grant
from .. import lookup, schema

__all__ = ["governance_access_show"]


@tk.side_effect_free
@tk.validate(schema.id_only)
def governance_access_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What the caller may do with a dataset's data, and why.

    :param id: the id or name of the dataset
    :type id: string

    :returns: the ``governance`` block (``tier``, ``embargoed``,
        ``embargo_until``, ``can_access``, ``reason``, ``next_step``) plus
        ``resources``: one ``{"id", "name", "can_access", "download_url"}`` per
        resource, ``download_url`` being null when the caller may not download;
        for ``controlled`` datasets also ``request`` (the caller's open request:
        ``{"id", "state"}``, or null) and ``grant`` (the caller's grant that
        lasts longest: ``{"id", "state", "expires"}``, or null).
    :rtype: dictionary
    """
    pkg = lookup.dataset(context, data_dict, "governance_access_show")
    gate = access.gate_for(context, pkg.id)
    assert gate is not None  # the dataset exists: it has facts
    block = gate.block()
    user_id = access.viewer_for(context).user_id
    if gate.tier == policy.CONTROLLED:
        block["request"] = block["grant"] = None
        if user_id:
            block.update(_my_request_and_grant(user_id, pkg.id))
    block["resources"] = [
        {
            "id": res.id,
            "name": res.name,
            "can_access": gate.can_access,
            "download_url": (res.url if res.url_type != "upload" else tk.url_for(
                "resource.download", id=pkg.id, resource_id=res.id,
                filename=res.url.rsplit("/", 1)[-1], qualified=True,
            )) if gate.can_access else None,
        }
        for res in pkg.resources
    ]
    return block


def _my_request_and_grant(user_id: str, package_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    req = model.Session.execute(
        sa.select(AccessRequest.id, AccessRequest.state).where(
            AccessRequest.user_id == user_id, AccessRequest.package_id == package_id,
            AccessRequest.state.in_(access_requests.OPEN_STATES))
    ).first()
    if req is not None:
        found["request"] = {"id": req.id, "state": req.state}
    grant = model.Session.execute(
        sa.select(Grant).where(Grant.user_id == user_id, Grant.package_id == package_id)
        .order_by(Grant.revoked_at.is_not(None), Grant.expires.desc().nulls_first()).limit(1)
    ).scalar_one_or_none()
    if grant is not None:
        found["grant"] = {"id": grant.id, "state": grants.grant_state(grant, access.utcnow()),
                          "expires": clock.iso(grant.expires)}
    return found
