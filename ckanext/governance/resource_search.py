"""resource_search without oracles.

CKAN's resource_search filters and sorts on any column of a resource. A term
on a field that redaction hides (``url``, ``hash``, ``cache_url``,
``mimetype_inner``, extras ...) answers "one or none" about a gated resource's
value, and sorting on one places a resource of the caller's own before or
after a gated one: both give the value away, a guess or a bisection step at a
time. Here the hidden values of a dataset exist only for callers who may have
its data: elsewhere such a term never matches and such a sort sees NULL.

Queries on visible fields only go to CKAN (and other plugins) unchanged, and
their results are redacted. The others run here, in SQL. Where the caller
holds nothing (no membership, collaboration, grant or acceptance: ``access.
related_sql``), the query itself tells readable datasets apart (``access.
open_to_outsider_sql``, the decision's SQL twin); the few datasets where they
hold something are decided by ``access.gates`` in one bulk call. Counting and
paging stay in the database: nothing loads every match.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import ckan.lib.dictization.model_dictize as model_dictize
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.logic.schema import default_resource_search_schema
from ckan.model.misc import escape_sql_like_special_characters
from ckan.types import Action, Context, DataDict

from . import access, redaction
from .model import DatasetPolicy


@dataclasses.dataclass
class _Request:
    terms: list[tuple[str, Any]]  # (field, clause) in the caller's order
    hidden_terms: bool  # a term reads a field redaction hides
    order_by: str | None  # a column of the resource table, or None
    hidden_order: bool
    offset: int | None
    limit: int | None


def search(up: Action, context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The chained resource_search (see its docstring in logic/action.py)."""
    viewer = access.viewer_for(context)
    if viewer.sysadmin:
        return up(context, data_dict)
    tk.check_access("resource_search", context, data_dict)
    # CKAN's own checks of offset, limit and order_by, with its own errors.
    data, errors = tk.navl_validate(dict(data_dict), default_resource_search_schema(), context)
    if errors:
        raise tk.ValidationError(errors)
    request = _parse(data)
    if request is None:
        # Not a query CKAN accepts: let it raise its own error (it does before
        # running anything), and never answer one ourselves.
        up(context, data_dict)
        raise tk.ValidationError({"query": [tk._("Not a query resource_search can run")]})
    if not (request.hidden_terms or request.hidden_order):
        result = up(context, data_dict)
        gates = access.gates(context, {_package_id(r) for r in result.get("results") or []}, viewer)
        unreadable = {pid for pid in map(_package_id, result.get("results") or [])
                      if pid and (pid not in gates or not gates[pid].can_access)}
        result["results"] = _shaped(result.get("results") or [], unreadable)
        return result
    return _search_hidden(context, viewer, request)


def _parse(data_dict: DataDict) -> _Request | None:
    """The (schema-validated) request as SQL clauses; None when CKAN itself
    refuses the query.

    Values CKAN would send to the database unchecked (a size that is no
    integer, a date that is none, a sort on a method) are refused here,
    naming the field.
    """
    query = data_dict.get("query")
    if query is None:
        return None
    if isinstance(query, str):
        query = [query]
    if not isinstance(query, (list, tuple)) or not all(isinstance(t, str) for t in query):
        raise tk.ValidationError({"query": [tk._("Must be a string or a list of strings")]})
    if any(":" not in t for t in query):
        return None
    columns = model.Resource.get_columns()
    fields = dict(t.split(":", 1) for t in query)  # a repeated field: the last one counts
    if any(f not in columns for f in fields):
        return None
    terms = [(f, _clause(f, v)) for f, v in fields.items()]
    order_by = data_dict.get("order_by")
    hidden_order = False
    if order_by is not None:
        if not hasattr(model.Resource, order_by):
            order_by = None  # CKAN ignores what is no attribute of a resource
        elif order_by not in redaction.VISIBLE_RESOURCE_FIELDS:
            hidden_order = True
            if order_by not in model.resource_table.c:
                # A method or an extra's proxy: nothing that can be sorted on.
                raise tk.ValidationError({"order_by": [tk._("Cannot sort on this field")]})
    return _Request(
        terms=terms,
        hidden_terms=any(f not in redaction.VISIBLE_RESOURCE_FIELDS for f in fields),
        order_by=order_by,
        hidden_order=hidden_order,
        offset=data_dict.get("offset"),
        limit=data_dict.get("limit"),
    )


def _clause(field: str, value: str) -> Any:
    """What CKAN matches a term against: a prefix of ``hash``, a substring of a
    text column or of an extra's JSON, an equal value otherwise (any case)."""
    resource = model.Resource
    column = model.resource_table.c.get(field)
    if field == "hash":
        return resource.hash.ilike(escape_sql_like_special_characters(value) + "%")
    if field in model.Resource.get_extra_columns() or column is None:
        # Extras are one JSON text: the pair, then the next one or the end.
        text = sa.type_coerce(resource.extras, sa.UnicodeText)
        like = escape_sql_like_special_characters(value)
        return sa.or_(text.ilike(f'%"{field}": "%{like}%",%'),
                      text.ilike(f'%"{field}": "%{like}%"}}'))
    if isinstance(column.type, sa.UnicodeText):
        return column.ilike("%" + escape_sql_like_special_characters(value) + "%")
    if isinstance(column.type, sa.Integer):
        try:
            return column == int(value)
        except ValueError:
            raise tk.ValidationError({"query": [tk._("{} must be an integer").format(field)]})
    if isinstance(column.type, sa.DateTime):
        try:
            return column == dt.datetime.fromisoformat(value)
        except ValueError:
            raise tk.ValidationError({"query": [tk._("{} must be an ISO 8601 date").format(field)]})
    return column == value


def _search_hidden(context: Context, viewer: access.Viewer, request: _Request) -> dict[str, Any]:
    """A query that reads hidden fields, restricted to what the caller may read."""
    resource = model.Resource
    now = access.utcnow()
    # Where the caller holds nothing, the decision is the same for all such
    # callers and is made in the query; elsewhere ``gates`` makes it.
    outsider = access.open_to_outsider_sql(not viewer.anonymous, now=now)
    related = access.related_sql(viewer)

    def matching(stmt: Any, *more: Any) -> Any:
        return (
            stmt.select_from(resource)
            .join(model.Package, model.Package.id == resource.package_id)
            .outerjoin(DatasetPolicy, DatasetPolicy.package_id == resource.package_id)
            .where(model.Package.state == "active", model.Package.private.is_(False),
                   resource.state == "active", *(c for _f, c in request.terms), *more)
        )

    # One pass over the matches, counted by who decides: the query (key NULL:
    # readable; '': not readable) or ``gates`` (key: the dataset's id).
    whens = [(outsider, sa.null())]
    if related is not None:
        whens.append((related, resource.package_id))
    key = sa.case(*whens, else_=sa.literal("")).label("pid")
    inner = matching(sa.select(key)).subquery()
    counts = dict(model.Session.execute(
        sa.select(inner.c.pid, sa.func.count()).group_by(inner.c.pid)).all())
    candidates = [pid for pid in counts if pid]
    allowed: list[str] = []
    if candidates:
        gates = access.gates(context, candidates, viewer)
        allowed = [pid for pid in candidates if pid in gates and gates[pid].can_access]
    readable = outsider if not allowed else sa.or_(
        outsider,
        resource.package_id == sa.any_(
            sa.bindparam("governance_allowed", allowed, type_=postgresql.ARRAY(sa.UnicodeText))),
    )

    restrict: list[Any] = []
    if request.hidden_terms:
        # No hidden value exists where the data may not be read: no match there.
        restrict.append(readable)
        count = counts.get(None, 0) + sum(counts[pid] for pid in allowed)
    else:
        count = sum(counts.values())
    stmt = matching(sa.select(resource, readable.label("readable")), *restrict)
    if request.order_by is not None:
        column = model.resource_table.c[request.order_by]
        if request.hidden_order:
            # Unreadable values sort as NULL (last); the id keeps pages stable.
            sort = sa.type_coerce(column, sa.UnicodeText) if request.order_by == "extras" else column
            stmt = stmt.order_by(sa.case((readable, sort), else_=sa.null()), resource.id)
        else:
            stmt = stmt.order_by(column)
    stmt = stmt.offset(request.offset).limit(request.limit)
    # Past the last match there is nothing to fetch (and no scan to repeat).
    rows = model.Session.execute(stmt).all() if count > (request.offset or 0) else []
    results: list[Any] = [res for res, _ok in rows]
    unreadable = {res.package_id for res, ok in rows if not ok}
    if not context.get("search_query", False):
        results = model_dictize.resource_list_dictize(results, context)
    return {"count": count, "results": _shaped(results, unreadable)}


def _package_id(result: Any) -> str | None:
    if isinstance(result, dict):
        return result.get("package_id")
    return getattr(result, "package_id", None)


def _shaped(results: list[Any], unreadable: set[str]) -> list[Any]:
    """Results with the hidden fields of unreadable datasets' resources removed.

    Dicts are redacted in place; ``Resource`` objects (the ``search_query``
    context of ``ckan.lib.search``) are replaced by copies outside the
    session, so nothing redacted is ever written back.
    """
    shaped: list[Any] = []
    for result in results:
        pid = _package_id(result)
        if isinstance(result, dict):
            if pid is None or pid in unreadable:
                redaction.redact_resource(result)
            shaped.append(result)
        elif isinstance(result, model.Resource):
            shaped.append(_redacted_copy(result) if pid is None or pid in unreadable else result)
        # Anything else cannot be told apart: left out (deny by default).
    return shaped


def _redacted_copy(res: model.Resource) -> model.Resource:
    visible = {c: getattr(res, c) for c in model.Resource.get_columns(extra_columns=False)
               if c in redaction.VISIBLE_RESOURCE_FIELDS}
    copy = model.Resource(package_id=res.package_id, **visible)
    copy.id, copy.position, copy.state = res.id, res.position, res.state
    return copy
