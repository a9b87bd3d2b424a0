"""The terms as catalogues read them: ckanext-dcat profiles for DCAT, schema.org and Croissant.

ckanext-dcat builds its graphs from ``package_show`` and ``package_search``,
which ``redaction`` has already shaped for the caller: a gated resource comes
with no URL of any kind. These profiles run after ckanext-dcat's own (the
plugin appends them to the configured profile lists, ``register_profiles``)
and say in each vocabulary what the package dict says in ``access_tier``,
``embargo_until``, ``agreement``, ``data_use`` and the ``governance`` block:

- ``dct:accessRights``: a concept of the EU access-right authority table.
  ``open`` is PUBLIC; ``registered``, ``agreement`` and ``controlled`` are
  RESTRICTED; a private dataset, an embargoed one (nobody outside the
  organisation has the data until the date) and an unknown tier are
  NON_PUBLIC. A publisher's own value (the ``access_rights`` field of a DCAT
  schema) is never made more open: the more restrictive of the two concepts is
  published. A publisher's free-text or other statement stays in the graph as
  ``dct:rights`` of the dataset, since DCAT-AP allows one access right.
- ``dct:available`` on the dataset and each distribution: the embargo's end,
  "the date the resource became or will become available" (DCMI). DCAT-AP 3
  and HealthDCAT-AP define no embargo property; DataCite's ``Available`` date
  is the same idea.
- a distribution the caller may not have gets the dataset page as its
  ``dcat:accessURL`` (where the next step is; DCAT-AP requires one) and no
  ``dcat:downloadURL``.
- ``data_use``: each DUO term as ``dpv:hasPurpose`` with its DUO IRI, the
  property HealthDCAT-AP gives for the purposes data may be used for, which
  the catalogue of a health data access body reads.
- the attached agreement's public page as ``dct:rights`` (a
  ``dct:RightsStatement``) of the dataset and of distributions without one;
  in schema.org and Croissant as ``usageInfo``, beside ``isAccessibleForFree``
  (true only when anyone may download the data now) and ``conditionsOfAccess``
  (the tier and the next step in words).

A dict without the ``governance`` block (ckanext-dcat's ``produce`` command
on a file) was not decided here: nothing is added to it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ckanext.dcat.profiles.base import RDFProfile
from rdflib import RDF, RDFS, XSD, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import SKOS
from werkzeug.routing import BuildError

import ckan.plugins.toolkit as tk

from . import clock, duo, labels, parse, policy

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DPV = Namespace("https://w3id.org/dpv#")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
PUBLIC, RESTRICTED, NON_PUBLIC = (ACCESS_RIGHT[c] for c in ("PUBLIC", "RESTRICTED", "NON_PUBLIC"))
# From the most open to the most restrictive.
_RANK = (PUBLIC, RESTRICTED, NON_PUBLIC)

SCHEMA_HTTP = Namespace("http://schema.org/")   # ckanext-dcat's schema.org profile
SCHEMA_HTTPS = Namespace("https://schema.org/")  # its Croissant profile


def access_right(dataset_dict: dict[str, Any]) -> URIRef:
    """The authority-table concept for the dataset's terms (not the caller's)."""
    block = dataset_dict.get("governance") or {}
    if dataset_dict.get("private") or block.get("embargoed"):
        return NON_PUBLIC
    tier = block.get("tier")
    if tier == policy.OPEN:
        return PUBLIC
    if tier in policy.TIERS:
        return RESTRICTED
    return NON_PUBLIC


def open_now(dataset_dict: dict[str, Any]) -> bool:
    """Anyone may download the data now, without an account."""
    return access_right(dataset_dict) == PUBLIC


def conditions(dataset_dict: dict[str, Any]) -> str:
    """The terms and the next step, in words, for schema.org's conditionsOfAccess."""
    block = dataset_dict.get("governance") or {}
    page = dataset_page(dataset_dict)
    if dataset_dict.get("private"):
        return tk._("Private: only the publishing organisation can see this dataset.")
    if block.get("embargoed"):
        until = _embargo_end(dataset_dict)
        if until is None:
            return tk._("Embargoed: the data is not available yet.")
        return tk._("Embargoed: the data becomes available on {date}.").format(
            date=labels.date_words(clock.iso(until)))
    texts = {
        policy.OPEN: tk._("Open: anyone can download the data."),
        policy.REGISTERED: tk._("Registered users: log in on {page} to download the data."),
        policy.AGREEMENT: tk._(
            "Data use agreement: log in and accept the data use agreement on {page} "
            "to download the data."),
        policy.CONTROLLED: tk._(
            "Approved access request: log in and request access on {page}; the publishing "
            "organisation reviews each request, and approved users can download the data."),
    }
    return texts.get(block.get("tier") or "", tk._("The data is not available.")).format(page=page)


def dataset_page(dataset_dict: dict[str, Any]) -> str:
    kind = dataset_dict.get("type") or "dataset"
    ident = dataset_dict.get("name") or dataset_dict.get("id")
    try:
        return tk.url_for(f"{kind}.read", id=ident, _external=True)
    except BuildError:  # a type with no read page of its own
        return tk.url_for("dataset.read", id=ident, _external=True)


def agreement_page(dataset_dict: dict[str, Any]) -> str | None:
    name = dataset_dict.get("agreement")
    if not name or not isinstance(name, str):
        return None
    return tk.url_for("governance_agreements.agreement_read", name=name, _external=True)


def _embargo_end(dataset_dict: dict[str, Any]) -> dt.datetime | None:
    value = dataset_dict.get("embargo_until")
    if not value:
        return None
    try:
        return parse.utc_datetime(value)
    except tk.Invalid:
        return None


class _GovernanceProfile(RDFProfile):
    """Adds to graphs only; parsing (harvesting RDF) keeps what other profiles read."""

    def parse_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> dict[str, Any]:
        return dataset_dict

    def graph_from_dataset(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        # Only dicts decided here (package_show, package_search) carry the block.
        if isinstance(dataset_dict.get("governance"), dict):
            self.add_terms(dataset_dict, dataset_ref)

    def add_terms(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        raise NotImplementedError


class GovernanceDCATProfile(_GovernanceProfile):
    """After euro_dcat_ap_* (or any DCAT profile): access rights, embargo, gated distributions."""

    def add_terms(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        g = self.g
        distributions = list(g.objects(dataset_ref, DCAT.distribution))
        self._access_rights(dataset_dict, dataset_ref)

        until = _embargo_end(dataset_dict)
        if until is not None:
            stamp = Literal(clock.iso(until), datatype=XSD.dateTime)
            for subject in [dataset_ref, *distributions]:
                g.set((subject, DCT.available, stamp))

        if not (dataset_dict.get("governance") or {}).get("can_access"):
            page = URIRef(dataset_page(dataset_dict))
            for distribution in distributions:
                g.remove((distribution, DCAT.downloadURL, None))
                g.remove((distribution, DCAT.accessURL, None))
                g.add((distribution, DCAT.accessURL, page))

        rights = agreement_page(dataset_dict)
        if rights:
            statement = URIRef(rights)
            g.add((statement, RDF.type, DCT.RightsStatement))
            g.add((dataset_ref, DCT.rights, statement))
            for distribution in distributions:
                if (distribution, DCT.rights, None) not in g:
                    g.add((distribution, DCT.rights, statement))

        for condition in duo.parse_stored(dataset_dict.get("data_use")):
            term = URIRef(condition.term.iri)
            g.add((dataset_ref, DPV.hasPurpose, term))
            g.add((term, RDF.type, DPV.Purpose))
            g.set((term, RDFS.label, Literal(condition.term.label, lang="en")))
            g.add((term, SKOS.notation, Literal(condition.code)))

    def _access_rights(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        g = self.g
        ours = access_right(dataset_dict)
        theirs = list(g.objects(dataset_ref, DCT.accessRights))
        chosen = max([ours, *(t for t in theirs if t in _RANK)], key=_RANK.index)
        for value in theirs:
            g.remove((dataset_ref, DCT.accessRights, value))
            if value not in _RANK:
                g.add((dataset_ref, DCT.rights, value))
        g.add((dataset_ref, DCT.accessRights, chosen))
        g.add((chosen, RDF.type, DCT.RightsStatement))


class _SchemaAccess(_GovernanceProfile):
    SCHEMA: Namespace = SCHEMA_HTTP

    def add_terms(self, dataset_dict: dict[str, Any], dataset_ref: Any) -> None:
        schema = self.SCHEMA
        self.g.set((dataset_ref, schema.isAccessibleForFree, Literal(open_now(dataset_dict))))
        self.g.set((dataset_ref, schema.conditionsOfAccess, Literal(conditions(dataset_dict))))
        rights = agreement_page(dataset_dict)
        if rights:
            self.g.set((dataset_ref, schema.usageInfo, URIRef(rights)))


class GovernanceSchemaOrgProfile(_SchemaAccess):
    """After ckanext-dcat's ``schemaorg`` (``structured_data`` in dataset pages)."""


class GovernanceCroissantProfile(_SchemaAccess):
    """After ckanext-dcat's ``croissant``."""

    SCHEMA = SCHEMA_HTTPS


# Which of ckanext-dcat's profile lists each profile joins, and the list's default.
PROFILE_LISTS = (
    ("ckanext.dcat.rdf.profiles", "governance_dcat", "euro_dcat_ap_3"),
    ("ckanext.dcat.structured_data.profiles", "governance_schemaorg", "schemaorg"),
    ("ckanext.dcat.croissant.profiles", "governance_croissant", "croissant"),
)


def register_profiles(config_: Any) -> None:
    """Append our profiles to ckanext-dcat's configured lists (once; an operator
    who lists them already chose their place)."""
    for key, ours, default in PROFILE_LISTS:
        configured = tk.aslist(config_.get(key) or default)
        if ours not in configured:
            configured.append(ours)
        # ckanext-dcat splits the RDF list itself and reads the others as lists.
        config_[key] = " ".join(configured) if key == "ckanext.dcat.rdf.profiles" else configured
