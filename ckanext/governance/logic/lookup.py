"""What the actions share: the object a call names, the caller, a page of rows.

Each raises CKAN's errors (``ObjectNotFound``, ``NotAuthorized``,
``ValidationError`` on the field) so every action answers bad references the
same way.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from .. import access


def dataset(context: Context, data_dict: DataDict, auth: str) -> model.Package:
    """The dataset ``data_dict["id"]`` names (404 when absent or deleted),
    once the caller passes ``auth`` for it."""
    pkg = model.Package.get(tk.get_or_bust(data_dict, "id"))
    if pkg is None or pkg.state == "deleted":
        raise tk.ObjectNotFound(tk._("Dataset not found"))
    tk.check_access(auth, context, {"id": pkg.id})
    return pkg


def caller(context: Context) -> model.User:
    user = model.User.get(access.viewer_for(context).user_id or "")
    if user is None:
        raise tk.NotAuthorized(tk._("Log in first"))
    return user


PAGE_MAX = 1000


def page(data_dict: DataDict, query: sa.Select[Any], counting: sa.Select[Any] | None = None
          ) -> tuple[dict[str, Any], Any]:
    """One page of a list action's (validated) ``page``/``limit``: the
    ``{"count", "page", "limit"}`` of the answer, and the page's rows.
    ``counting`` counts the matches when a cheaper query than the page's can."""
    limit = min(int(data_dict.get("limit", 100)), PAGE_MAX)
    page = int(data_dict.get("page", 1))
    if counting is None:
        counting = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    count = model.Session.execute(counting).scalar_one()
    rows = model.Session.execute(query.limit(limit).offset((page - 1) * limit))
    return {"count": count, "page": page, "limit": limit}, rows


def renamed(data_dict: DataDict, keys: dict[str, str]) -> dict[str, str]:
    """``{field: filter key}``: the given fields' values (ids: the schema's
    converters resolved each name or id) under their filter keys."""
    return {key: data_dict[field] for field, key in keys.items() if data_dict.get(field)}


def check_period(filters: dict[str, Any]) -> None:
    if filters.get("since") and filters.get("until") and filters["since"] >= filters["until"]:
        raise tk.ValidationError({"until": [tk._("Must be later than since")]})


def named_filters(data_dict: DataDict) -> dict[str, Any]:
    return renamed(data_dict, {"organization": "organization_id",
                                "dataset": "package_id", "user": "user_id"})
