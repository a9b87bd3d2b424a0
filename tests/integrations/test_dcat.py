"""ckanext-dcat beside governance: the terms in DCAT, schema.org and Croissant, parsed with rdflib.

Every serialisation of a dataset and of the catalogue is read as a graph and
asserted triple by triple, for each tier, embargo state and kind of caller:
``dct:accessRights`` from the EU authority table, ``dct:available`` for an
embargo, the dataset page as the ``dcat:accessURL`` of a distribution the
caller may not have (and no ``dcat:downloadURL``), DUO terms as
``dpv:hasPurpose``, the agreement page as ``dct:rights``.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import RDFS, XSD

from ckan.common import config
from ckan.tests import factories
from ckan.tests.helpers import call_action

from people import api_headers

# The datasets are made once for the module (``site``); each test reads them with the
# plugins below. The one test that changes them comes last.
pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "dcat structured_data croissant governance"),
]

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DPV = Namespace("https://w3id.org/dpv#")
AR = Namespace("http://publications.europa.eu/resource/authority/access-right/")
SCHEMA = Namespace("http://schema.org/")
SC = Namespace("https://schema.org/")
DUO = Namespace("http://purl.obolibrary.org/obo/")
FORMATS = {"rdf": "xml", "xml": "xml", "ttl": "turtle", "n3": "n3", "jsonld": "json-ld"}


def secret(name: str) -> str:
    return f"https://files.example.org/{name}-s3cr3t/data.csv"


@pytest.fixture(scope="module")
def site(empty_site):
    empty_site()
    publisher, member, outsider, reader = (factories.User() for _ in range(4))
    org = factories.Organization(users=[{"name": publisher["name"], "capacity": "editor"},
                                        {"name": member["name"], "capacity": "member"}])
    ctx = {"user": publisher["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org=org["id"], name="cohort-dua",
                title="Cohort terms", body="Use it well.")
    until = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=30)
    made = {}
    for name, terms in {
        "open-rivers": {"access_tier": "open"},
        "registered-rivers": {"access_tier": "registered"},
        "agreement-rivers": {"access_tier": "agreement", "agreement": "cohort-dua"},
        "controlled-cohort": {"access_tier": "controlled", "agreement": "cohort-dua",
                              "data_use": ["DS:MONDO:0005148", "NPU", "IRB"]},
        "embargoed-rivers": {"access_tier": "open", "embargo_until": until.isoformat()},
        "private-rivers": {"access_tier": "open", "private": True},
    }.items():
        made[name] = call_action(
            "package_create", dict(ctx), name=name, owner_org=org["id"], title=name, **terms,
            resources=[{"url": secret(name), "name": "Data", "format": "CSV"}])
    call_action("governance_agreement_accept", {"user": reader["name"]}, id="agreement-rivers")
    return {"publisher": publisher, "member": member, "outsider": outsider, "reader": reader,
            "until": until, "datasets": made}


def page(name: str) -> URIRef:
    return URIRef(f"{config['ckan.site_url'].rstrip('/')}/dataset/{name}")


def graph(app, url: str, user=None, fmt: str = "turtle") -> tuple[Graph, str]:
    resp = app.get(url, headers=api_headers(user))
    assert resp.status_code == 200, (url, resp.status_code)
    body = resp.get_data(as_text=True)
    return Graph().parse(data=body, format=fmt), body


def dataset_node(g: Graph, name: str):
    (node,) = {s for s, o in g.subject_objects(DCT.title) if str(o) == name
               and (s, None, DCAT.Dataset) in g}
    return node


def distribution(g: Graph, dataset):
    (node,) = g.objects(dataset, DCAT.distribution)
    return node


# (dataset, caller) → (access right, may have the data)
CASES = [
    ("open-rivers", None, "PUBLIC", True),
    ("registered-rivers", None, "RESTRICTED", False),
    ("registered-rivers", "outsider", "RESTRICTED", True),
    ("agreement-rivers", "outsider", "RESTRICTED", False),
    ("agreement-rivers", "reader", "RESTRICTED", True),
    ("controlled-cohort", "outsider", "RESTRICTED", False),
    ("controlled-cohort", "member", "RESTRICTED", True),
    ("embargoed-rivers", "outsider", "NON_PUBLIC", False),
    ("embargoed-rivers", "member", "NON_PUBLIC", True),
    ("private-rivers", "member", "NON_PUBLIC", True),
]


@pytest.mark.parametrize(("name", "who", "right", "has_data"), CASES)
def test_every_serialisation_states_the_access_right_and_gates_the_urls(
        site, app, name, who, right, has_data):
    for fmt, parser in FORMATS.items():
        g, body = graph(app, f"/dataset/{name}.{fmt}", who and site[who], parser)
        ds = dataset_node(g, name)
        assert set(g.objects(ds, DCT.accessRights)) == {AR[right]}, fmt
        dist = distribution(g, ds)
        if has_data:
            assert URIRef(secret(name)) in set(g.objects(dist, DCAT.accessURL)), fmt
        else:
            assert set(g.objects(dist, DCAT.accessURL)) == {page(name)}, fmt
            assert not set(g.objects(dist, DCAT.downloadURL)), fmt
            assert "s3cr3t" not in body, fmt


def test_an_embargo_is_published_as_the_date_the_data_becomes_available(site, app):
    until = Literal(site["until"].isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
    g, _ = graph(app, "/dataset/embargoed-rivers.ttl")
    ds = dataset_node(g, "embargoed-rivers")
    assert set(g.objects(ds, DCT.available)) == {until}
    assert set(g.objects(distribution(g, ds), DCT.available)) == {until}
    assert set(g.objects(ds, DCT.accessRights)) == {AR.NON_PUBLIC}
    open_graph, _ = graph(app, "/dataset/open-rivers.ttl")
    assert not set(open_graph.objects(dataset_node(open_graph, "open-rivers"), DCT.available))

    # A day after the date the data is public, and still says when it opened.
    with time_machine.travel(site["until"] + dt.timedelta(days=1), tick=False):
        g, body = graph(app, "/dataset/embargoed-rivers.ttl")
    ds = dataset_node(g, "embargoed-rivers")
    assert set(g.objects(ds, DCT.accessRights)) == {AR.PUBLIC}
    assert set(g.objects(ds, DCT.available)) == {until}
    assert URIRef(secret("embargoed-rivers")) in set(g.objects(distribution(g, ds), DCAT.accessURL))


def test_data_use_conditions_are_duo_purposes_and_the_agreement_is_the_rights_statement(site, app):
    g, _ = graph(app, "/dataset/controlled-cohort.ttl")
    ds = dataset_node(g, "controlled-cohort")
    purposes = set(g.objects(ds, DPV.hasPurpose))
    assert purposes == {DUO.DUO_0000007, DUO.DUO_0000045, DUO.DUO_0000021}  # DS, NPU, IRB
    assert Literal("DS:MONDO:0005148") in set(g.objects(DUO.DUO_0000007, URIRef(
        "http://www.w3.org/2004/02/skos/core#notation")))
    assert str(g.value(DUO.DUO_0000045, RDFS.label)) == "not for profit organisation use only"
    agreement = URIRef(f"{config['ckan.site_url'].rstrip('/')}/agreement/cohort-dua")
    assert agreement in set(g.objects(ds, DCT.rights))
    assert agreement in set(g.objects(distribution(g, ds), DCT.rights))
    assert (agreement, None, DCT.RightsStatement) in g
    plain, _ = graph(app, "/dataset/open-rivers.ttl")
    assert not set(plain.objects(dataset_node(plain, "open-rivers"), DPV.hasPurpose))
    assert not set(plain.objects(dataset_node(plain, "open-rivers"), DCT.rights))


@pytest.mark.parametrize("who", [None, "outsider", "member"])
def test_the_catalogue_gates_each_dataset_for_its_caller(site, app, who):
    g, body = graph(app, "/catalog.ttl", who and site[who])
    rights = {name: set(g.objects(dataset_node(g, name), DCT.accessRights))
              for name in ("open-rivers", "registered-rivers", "controlled-cohort", "embargoed-rivers")}
    assert rights == {"open-rivers": {AR.PUBLIC}, "registered-rivers": {AR.RESTRICTED},
                      "controlled-cohort": {AR.RESTRICTED}, "embargoed-rivers": {AR.NON_PUBLIC}}
    member = who == "member"
    for name, has in {"open-rivers": True, "registered-rivers": who is not None,
                      "controlled-cohort": member, "embargoed-rivers": member}.items():
        urls = set(g.objects(distribution(g, dataset_node(g, name)), DCAT.accessURL))
        assert urls == ({URIRef(secret(name))} if has else {page(name)}), (name, who)
        assert (secret(name) in body) == has


def structured_data(app, name: str, user=None) -> dict:
    html = app.get(f"/dataset/{name}", headers=api_headers(user)).get_data(as_text=True)
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    # ckanext-dcat's structured_data block (the Croissant one uses https://schema.org/).
    (found,) = [json.loads(b) for b in blocks if "http://schema.org" in b]
    return found


def schema_value(doc: dict, key: str):
    for node in doc.get("@graph", [doc]):
        for k, v in node.items():
            if k.split(":")[-1] == key:
                return v.get("@value", v) if isinstance(v, dict) else v
    raise KeyError(key)


@pytest.mark.parametrize(("name", "free", "words"), [
    ("open-rivers", True, "anyone can download"),
    ("registered-rivers", False, "log in"),
    ("agreement-rivers", False, "accept the data use agreement"),
    ("controlled-cohort", False, "request access"),
    ("embargoed-rivers", False, "becomes available on"),
])
def test_schema_org_and_croissant_say_whether_access_is_free_and_on_what_conditions(
        site, app, name, free, words):
    doc = structured_data(app, name)
    assert schema_value(doc, "isAccessibleForFree") in (free, str(free).lower())
    assert words in schema_value(doc, "conditionsOfAccess")
    croissant = app.get(f"/dataset/{name}/croissant.jsonld").get_data(as_text=True)
    g = Graph().parse(data=croissant, format="json-ld")
    (ds,) = g.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), SC.Dataset)
    assert g.value(ds, SC.isAccessibleForFree).toPython() is free
    assert words in str(g.value(ds, SC.conditionsOfAccess))
    assert "s3cr3t" not in croissant or free


# Last: it changes the module's datasets.
def test_a_publishers_access_rights_are_never_made_more_open(site, app):
    ctx = {"user": site["publisher"]["name"]}
    call_action("package_patch", dict(ctx), id="open-rivers",
                extras=[{"key": "access_rights", "value": str(AR.RESTRICTED)}])
    call_action("package_patch", dict(ctx), id="controlled-cohort",
                extras=[{"key": "access_rights", "value": str(AR.PUBLIC)}])
    call_action("package_patch", dict(ctx), id="registered-rivers",
                extras=[{"key": "access_rights", "value": "Ask the hydrology desk."}])
    g, _ = graph(app, "/catalog.ttl")
    assert set(g.objects(dataset_node(g, "open-rivers"), DCT.accessRights)) == {AR.RESTRICTED}
    assert set(g.objects(dataset_node(g, "controlled-cohort"), DCT.accessRights)) == {AR.RESTRICTED}
    registered = dataset_node(g, "registered-rivers")
    assert set(g.objects(registered, DCT.accessRights)) == {AR.RESTRICTED}
    (statement,) = g.objects(registered, DCT.rights)
    assert str(g.value(statement, RDFS.label)) == "Ask the hydrology desk."
