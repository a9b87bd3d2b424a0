"""Data use conditions: GA4GH Data Use Ontology (DUO) codes.

The term list (``data/duo.json``: codes, ids, IRIs, labels, definitions) is
taken from DUO's release 2021-02-23 (CC BY 4.0). A dataset's ``data_use`` is a
list of codes: exactly one permission (``NRES``, ``GRU``, ``HMB``, ``DS``,
``POA``) and any modifiers. Some take a parameter after a colon: ``DS`` a
disease identifier (``DS:MONDO:0005148``), ``MOR`` and ``TS`` a date
(``MOR:2027-01-31``), ``GS`` a region (``GS:EU``).

Errors are ``ValueError`` with a message in the user's language (CKAN's
i18n); the action layer turns them into ``ValidationError``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from importlib import resources
from typing import Any

import ckan.plugins.toolkit as tk

PERMISSION = "permission"

# Codes that restrict who may use the data, and what the request form asks.
NEEDS_ETHICS = frozenset({"IRB"})
NON_COMMERCIAL = frozenset({"NCU", "NPU", "NPUNCU"})

_DISEASE = re.compile(r"^[A-Za-z][A-Za-z0-9.]*[:_][A-Za-z0-9]+$")
_REGION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,99}$")


@dataclasses.dataclass(frozen=True)
class Term:
    code: str
    id: str
    iri: str
    label: str
    definition: str
    kind: str
    parameter: str | None  # "disease", "date", "region" or None


@dataclasses.dataclass(frozen=True)
class Condition:
    """One entry of a dataset's ``data_use``: a term and its parameter."""

    term: Term
    value: str | None = None

    @property
    def code(self) -> str:
        return f"{self.term.code}:{self.value}" if self.value else self.term.code

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "term": self.term.code, "value": self.value,
                "label": self.term.label, "iri": self.term.iri, "kind": self.term.kind,
                "definition": self.term.definition}


@functools.lru_cache(maxsize=1)
def terms() -> dict[str, Term]:
    data = json.loads(resources.files(__package__).joinpath("data/duo.json").read_text("utf-8"))
    return {t["code"]: Term(**t) for t in data["terms"]}


def parse_one(text: str) -> Condition:
    """``"DS:MONDO:0005148"`` → Condition; ValueError with a readable message."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(tk._("an empty code"))
    code, _, value = text.strip().partition(":")
    code, value = code.strip().upper(), value.strip()
    term = terms().get(code)
    if term is None:
        raise ValueError(tk._("{code} is not a DUO code").format(code=repr(text.strip())))
    if term.parameter is None:
        if value:
            raise ValueError(tk._("{code} takes no value").format(code=code))
        return Condition(term)
    if not value:
        raise ValueError(_needs(code, term.parameter))
    if term.parameter == "date":
        try:
            value = dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(tk._("{code} needs a date as YYYY-MM-DD").format(code=code)) from None
    elif term.parameter == "disease" and not _DISEASE.match(value):
        raise ValueError(_needs(code, "disease"))
    elif term.parameter == "region" and not _REGION.match(value):
        raise ValueError(_needs(code, "region"))
    return Condition(term, value)


def _needs(code: str, parameter: str) -> str:
    """What a code that takes a value is missing, in the user's language."""
    messages = {
        "disease": tk._("{code} needs a disease identifier, e.g. {example}"),
        "date": tk._("{code} needs a date, e.g. {example}"),
        "region": tk._("{code} needs a region name or code, e.g. {example}"),
    }
    examples = {"disease": "MONDO:0005148", "date": "2027-01-31", "region": "EU"}
    return messages[parameter].format(code=code, example=examples[parameter])


def parse(codes: Any) -> list[Condition]:
    """A dataset's ``data_use``: a list of codes (or a comma-separated string,
    as a form sends it). Empty means no conditions. ValueError on bad input."""
    if codes is None or codes == "":
        return []
    if isinstance(codes, str):
        codes = [c for c in re.split(r"[,\s]+", codes) if c]
    if not isinstance(codes, (list, tuple)):
        raise ValueError(tk._("must be a list of DUO codes"))
    conditions: list[Condition] = []
    seen: set[str] = set()
    for text in codes:
        if not isinstance(text, str):
            raise ValueError(tk._("must be a list of DUO codes"))
        condition = parse_one(text)
        if condition.code not in seen:
            seen.add(condition.code)
            conditions.append(condition)
    if not conditions:
        return []
    permissions = [c for c in conditions if c.term.kind == PERMISSION]
    if len(permissions) != 1:
        raise ValueError(tk._("needs exactly one permission: NRES, GRU, HMB, DS or POA"))
    # The permission first, then the modifiers in the order given.
    return permissions + [c for c in conditions if c.term.kind != PERMISSION]


def codes_of(conditions: list[Condition]) -> list[str]:
    return [c.code for c in conditions]


def needs_ethics(codes: list[str] | None) -> bool:
    return any(c.split(":", 1)[0] in NEEDS_ETHICS for c in codes or [])


def non_commercial(codes: list[str] | None) -> bool:
    return any(c.split(":", 1)[0] in NON_COMMERCIAL for c in codes or [])


def parse_stored(codes: Any) -> list[Condition]:
    """The stored codes that still parse, for machine-readable output (one that
    no longer parses is left out rather than published with a guessed meaning)."""
    result = []
    for text in codes if isinstance(codes, (list, tuple)) else []:
        try:
            result.append(parse_one(text))
        except ValueError:
            continue
    return result


def describe(codes: list[str] | None) -> list[dict[str, Any]]:
    """Stored codes with their labels and IRIs, for pages and exports.
    (Stored codes were validated; one that no longer parses is shown as is.)"""
    result = []
    for text in codes or []:
        try:
            result.append(parse_one(text).as_dict())
        except ValueError:
            result.append({"code": text, "term": text, "value": None, "label": text,
                           "iri": None, "kind": None, "definition": ""})
    return result


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
    for condition in parse(data_use or []):
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
