"""Publication warnings: before a dataset becomes more reachable, say what
becomes exposed and what stays behind.

A change makes a dataset more reachable when it goes from private to public,
to a more open tier, or loses or shortens its embargo (creating a public
dataset counts too). ``check`` lists what is worth a second look: linked
datasets that stay private, more restricted or embargoed (CKAN relationships in
both directions, the fields named in ``link_fields``, resource URLs into this
site), a missing agreement, licence or description, personal data in the
metadata, and that publication cannot be undone. Closing a dataset that
public datasets link to warns too (``linked_from_public``).

The checker never tells a publisher more than they may see: a linked dataset
they cannot read is reported without its id, title or URL. Links are looked
up in bulk (a fixed number of queries however many there are) and never
followed further than one step, so cycles and self-links end at once.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import access, capacities, config, policy
from .model import DatasetPolicy

HIGH, MEDIUM, LOW, INFO = "high", "medium", "low", "info"

# Tiers from most to least reachable.
_OPENNESS = {policy.OPEN: 0, policy.REGISTERED: 1, policy.AGREEMENT: 2, policy.CONTROLLED: 3}

# Built-in personal data patterns (``publication.personal_data_patterns`` names
# them; any other entry there is a regular expression of its own). Each runs
# in time linear in the text: a match can only start where a run of its
# characters starts (the look-behinds), and every repeat is bounded or ends at
# a character it cannot cross, so no start position rescans the text.
BUILT_IN_PATTERNS = {
    "email": (r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@"
              r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z])"),
    "phone": r"(?<![\w/.-])\+?\d{1,3}[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?![\w/-])",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "nino": r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b",
    "iban": r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b",
}


@dataclasses.dataclass(frozen=True)
class State:
    """What decides how reachable a dataset's data is."""

    private: bool
    tier: str
    embargo_until: dt.datetime | None

    def embargoed(self, now: dt.datetime) -> bool:
        return self.embargo_until is not None and self.embargo_until > now


def more_reachable(before: State, after: State, now: dt.datetime) -> bool:
    if before.private and not after.private:
        return True
    if after.private:
        return False  # members only, before and after
    if _OPENNESS.get(after.tier, 9) < _OPENNESS.get(before.tier, 9):
        return True
    if before.embargoed(now):
        return after.embargo_until is None or after.embargo_until < before.embargo_until  # type: ignore[operator]
    return False


def less_reachable(before: State, after: State, now: dt.datetime) -> bool:
    if before.private:
        return False
    if after.private:
        return True
    if _OPENNESS.get(after.tier, 9) > _OPENNESS.get(before.tier, 9):
        return True
    return after.embargoed(now) and (
        not before.embargoed(now) or after.embargo_until > before.embargo_until)  # type: ignore[operator]


def current_state(pkg: model.Package | None) -> State | None:
    if pkg is None:
        return None
    row = model.Session.get(DatasetPolicy, pkg.id)
    return State(bool(pkg.private), row.access_tier if row else config.default_tier(),
                 row.embargo_until if row else None)


def proposed_state(before: State | None, data: dict[str, Any], fields: dict[str, Any]) -> State:
    """The state a create/update would leave: ``data`` is the package dict sent,
    ``fields`` our fields as ``_take_fields`` validated them."""
    private = data.get("private", before.private if before else False)
    if isinstance(private, str):
        private = is_true(private)
    tier = fields.get("access_tier", before.tier if before else config.default_tier())
    until = fields["embargo_until"] if "embargo_until" in fields else (
        before.embargo_until if before else None)
    return State(bool(private), tier, until)


def is_true(value: Any) -> bool:
    """A boolean as CKAN's boolean_validator reads it (what CKAN will store)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "t", "y", "1")


# The check -------------------------------------------------------------------------


def warning(code: str, severity: str, message: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message,
            "item": item or {"type": "dataset", "id": None, "title": None, "url": None}}


def check(user_id: str | None, pkg_id: str | None, data: dict[str, Any],
          before: State | None, after: State, agreement: Any = ...) -> dict[str, Any]:
    """Warnings for moving a dataset from ``before`` (None: it is being
    created) to ``after`` with metadata ``data`` (a package dict), for the
    publisher ``user_id``. A change that neither opens nor closes costs nothing."""
    now = access.utcnow()
    start = before or State(True, after.tier, after.embargo_until)
    opening = more_reachable(start, after, now)
    closing = before is not None and less_reachable(before, after, now)
    warnings: list[dict[str, Any]] = []
    if opening:
        warnings += _linked(user_id, pkg_id, data, after, now)
        warnings += _terms(pkg_id, data, after, agreement)
        warnings += personal_data(data)
        warnings.append(warning("irreversible", INFO, tk._(
            "Once the data is out, copies cannot be recalled: anyone who downloaded it keeps it.")))
    if closing and pkg_id:
        warnings += linked_from_public(pkg_id)
    return {"warnings": warnings, "more_reachable": opening}


def _terms(pkg_id: str | None, data: dict[str, Any], after: State, agreement: Any) -> list[dict[str, Any]]:
    found = []
    if agreement is ...:
        row = model.Session.get(DatasetPolicy, pkg_id) if pkg_id else None
        agreement = row.agreement_id if row else None
    if not agreement and (after.tier == policy.AGREEMENT or (
            after.tier == policy.CONTROLLED and config.controlled_requires_agreement())):
        found.append(warning("agreement_missing", HIGH, tk._(
            "The tier asks users to accept a data use agreement, but none is attached: "
            "nobody outside the organisation will get the data.")))
    if not data.get("license_id") or data.get("license_id") in ("notspecified", "other"):
        found.append(warning("license_missing", LOW, tk._(
            "No licence says what users may do with the data.")))
    if len((data.get("notes") or "").strip()) < 20:
        found.append(warning("description_missing", LOW, tk._(
            "The dataset has no description worth the name: users cannot tell what the data is.")))
    return found


# Links ------------------------------------------------------------------------------


def _site_prefix() -> str:
    return (tk.config.get("ckan.site_url") or "").rstrip("/")


def dataset_ref_of_url(url: str) -> str | None:
    """The dataset id or name a URL into this site names, or None."""
    prefix = _site_prefix()
    if not prefix or not isinstance(url, str):
        return None
    site, target = urlsplit(prefix), urlsplit(url.strip())
    if (target.scheme, target.netloc) != (site.scheme, site.netloc):
        return None
    path = target.path
    if site.path and not path.startswith(site.path + "/"):
        return None
    parts = [p for p in path[len(site.path):].split("/") if p]
    if len(parts) >= 2 and parts[0] == "dataset":
        return unquote(parts[1])
    return None


def _link_refs(pkg_id: str | None, data: dict[str, Any]) -> dict[str, set[str]]:
    """Reference (id, name) → how it is linked ("relationship", a field name, "resource URL")."""
    refs: dict[str, set[str]] = {}

    def add(ref: Any, via: str) -> None:
        if isinstance(ref, str) and ref.strip():
            value = ref.strip()
            refs.setdefault(dataset_ref_of_url(value) or value, set()).add(via)

    if pkg_id:
        rows = model.Session.execute(
            sa.select(model.PackageRelationship.subject_package_id,
                      model.PackageRelationship.object_package_id)
            .where(model.PackageRelationship.state == "active",
                   sa.or_(model.PackageRelationship.subject_package_id == pkg_id,
                          model.PackageRelationship.object_package_id == pkg_id))
        ).all()
        for subject, obj in rows:
            add(obj if subject == pkg_id else subject, "relationship")
    extras = {e.get("key"): e.get("value") for e in data.get("extras") or [] if isinstance(e, dict)}
    for field in config.link_fields():
        value = data.get(field, extras.get(field))
        values = value if isinstance(value, list) else re.split(r"[\s,]+", value) if isinstance(value, str) else []
        for v in values:
            add(v, field)
    for res in data.get("resources") or []:
        if isinstance(res, dict) and dataset_ref_of_url(res.get("url") or ""):
            add(res["url"], "resource URL")
    return refs


def _visible(user: model.User | None, rows: list[Any]) -> set[str]:
    """Ids of the datasets among ``rows`` the user may see (one query or two)."""
    if user is not None and user.sysadmin:
        return {r.id for r in rows}
    seen = {r.id for r in rows if not r.private}
    private = [r for r in rows if r.private]
    if not private or user is None:
        return seen
    member_of = capacities.member_org_ids(user)
    collaborating = set(model.Session.execute(
        sa.select(model.PackageMember.package_id).where(
            model.PackageMember.user_id == user.id,
            model.PackageMember.package_id.in_([r.id for r in private]))
    ).scalars())
    return seen | {r.id for r in private if r.owner_org in member_of or r.id in collaborating}


def _item(row: Any, visible: bool) -> dict[str, Any]:
    if not visible:
        return {"type": "dataset", "id": None, "title": None, "url": None}
    return {"type": "dataset", "id": row.id, "title": row.title or row.name,
            "url": tk.url_for("dataset.read", id=row.name)}


def _linked(user_id: str | None, pkg_id: str | None, data: dict[str, Any], after: State,
            now: dt.datetime) -> list[dict[str, Any]]:
    refs = _link_refs(pkg_id, data)
    if not refs:
        return []
    user = model.User.get(user_id) if user_id else None
    rows = model.Session.execute(
        sa.select(model.Package.id, model.Package.name, model.Package.title,
                  model.Package.private, model.Package.owner_org)
        .where(sa.or_(model.Package.id.in_(refs), model.Package.name.in_(refs)),
               model.Package.state == "active")
    ).all()
    own = {r.id for r in rows if r.id == pkg_id} | ({r.name for r in rows if r.id == pkg_id})
    rows = [r for r in rows if r.id != pkg_id]  # a self-link links nothing
    policies = access.load_policies([r.id for r in rows])
    visible = _visible(user, rows)
    found: list[dict[str, Any]] = []
    named = set(own) | ({data["name"]} if isinstance(data.get("name"), str) else set())
    for row in sorted(rows, key=lambda r: r.name):
        if row.id not in visible:
            continue  # told below exactly as a link to no dataset at all
        named |= {row.id, row.name}
        via = ", ".join(sorted(refs.get(row.id, set()) | refs.get(row.name, set())))
        pol = policies[row.id]
        name = row.title or row.name
        if row.private and not after.private:
            found.append(warning("linked_dataset_private", HIGH, tk._(
                "Linked through {via}: {name} is private and stays private.").format(
                    via=via, name=name), _item(row, True)))
        elif _OPENNESS.get(pol.tier, 9) > _OPENNESS.get(after.tier, 9):
            found.append(warning("linked_dataset_more_restricted", MEDIUM, tk._(
                "Linked through {via}: the data of {name} stays under stricter terms ({tier}).").format(
                    via=via, name=name, tier=pol.tier), _item(row, True)))
        if isinstance(pol.embargo_until, dt.datetime) and pol.embargo_until > now:
            found.append(warning("linked_dataset_embargoed", MEDIUM, tk._(
                "Linked through {via}: the data of {name} is under embargo.").format(
                    via=via, name=name), _item(row, True)))
    # A reference to a dataset the user may not see gets the answer a
    # reference to none gets: whether it exists, is private or embargoed is
    # not theirs to learn. (Values with a scheme or a path are links elsewhere.)
    for ref in sorted(r for r in refs if r not in named and "/" not in r and ":" not in r):
        found.append(warning("linked_dataset_unavailable", HIGH, tk._(
            "Linked through {via}: \"{ref}\" names no dataset you can see; "
            "people who follow the link will not find it.").format(
                via=", ".join(sorted(refs[ref])), ref=ref), _item(None, False)))
    return found


def linked_from_public(pkg_id: str) -> list[dict[str, Any]]:
    """Public datasets that link to this one (relationships, link fields,
    resource URLs), in three queries."""
    pkg = model.Package.get(pkg_id)
    if pkg is None:
        return []
    names = {pkg.id, pkg.name}
    linking: set[str] = set()
    rel = model.PackageRelationship
    for subject, obj in model.Session.execute(
        sa.select(rel.subject_package_id, rel.object_package_id).where(
            rel.state == "active", sa.or_(rel.subject_package_id == pkg.id, rel.object_package_id == pkg.id))
    ).all():
        linking.add(obj if subject == pkg.id else subject)
    fields = config.link_fields()
    if fields:
        # Extras live in the package's JSONB column (CKAN 2.11+); top-level
        # fields of a scheming schema are stored there too.
        extras = model.Package.__table__.c.extras
        for package_id, values in model.Session.execute(
            sa.select(model.Package.id, extras).where(
                model.Package.state == "active",
                sa.or_(*(extras[f].astext.contains(n) for f in fields for n in names)))
        ).all():
            for value in ((values or {}).get(f) for f in fields):
                if any(dataset_ref_of_url(v) in names or v in names
                       for v in re.split(r"[\s,\"\[\]]+", value or "") if v):
                    linking.add(package_id)
    prefix = _site_prefix()
    if prefix:
        for package_id, url in model.Session.execute(
            sa.select(model.Resource.package_id, model.Resource.url).where(
                model.Resource.state == "active",
                sa.or_(*(model.Resource.url.startswith(f"{prefix}/dataset/{n}") for n in names)))
        ).all():
            if dataset_ref_of_url(url) in names:
                linking.add(package_id)
    linking.discard(pkg.id)
    if not linking:
        return []
    rows = model.Session.execute(
        sa.select(model.Package.id, model.Package.name, model.Package.title)
        .where(model.Package.id.in_(linking), model.Package.state == "active",
               model.Package.private.is_(False))
        .order_by(model.Package.name)
    ).all()
    return [warning("linked_from_public", MEDIUM, tk._(
        "The public dataset {name} links to this one: its users will find a dataset they can no longer use.")
        .format(name=r.title or r.name), _item(r, True)) for r in rows]


# Personal data -------------------------------------------------------------------------


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = []
    for entry in config.personal_data_patterns():
        found.append((entry if entry in BUILT_IN_PATTERNS else "pattern",
                      re.compile(BUILT_IN_PATTERNS.get(entry, entry))))
    return found


def _texts(data: dict[str, Any]) -> Iterable[tuple[str, str]]:
    skip = set(config.contact_fields())
    for key in ("title", "notes"):
        if isinstance(data.get(key), str) and key not in skip:
            yield key, data[key]
    for tag in data.get("tags") or []:
        name = tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str):
            yield "tags", name
    for extra in data.get("extras") or []:
        if isinstance(extra, dict) and extra.get("key") not in skip and isinstance(extra.get("value"), str):
            yield f"extra {extra.get('key')}", extra["value"]


def _mask(text: str) -> str:
    return text[:2] + "…" if len(text) > 3 else "…"


# An operator's own pattern may backtrack; it reads this much of each field.
OWN_PATTERN_SCAN = 10_000


def personal_data(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One warning per field and kind of pattern that matched; matches masked."""
    found: list[dict[str, Any]] = []
    patterns = _patterns()
    for where, text in _texts(data):
        for kind, pattern in patterns:
            match = pattern.search(text if kind != "pattern" else text[:OWN_PATTERN_SCAN])
            if match:
                found.append(warning("personal_data_suspected", HIGH, tk._(
                    "The {field} looks like it holds personal data ({kind}: \"{sample}\"). "
                    "Published metadata is public to everyone.").format(
                        field=where, kind=kind, sample=_mask(match.group(0)))))
    return found
