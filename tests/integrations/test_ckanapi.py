"""ckanapi against a governed site served over HTTP: RemoteCKAN and ``ckanapi dump
datasets`` give a sysadmin the terms and the data, anonymous and plain users the terms
and no gated URL; ``ckanapi load datasets`` into a second governed site keeps the tier,
embargo, agreement and data use conditions."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from ckanapi import RemoteCKAN

from ckan.common import config
from ckan.tests import factories
from ckan.tests.helpers import call_action

import remote_site

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

CKANAPI = pathlib.Path(sys.executable).parent / "ckanapi"
# ckanapi's workers start "ckanapi" from the PATH.
ENV = dict(os.environ, PATH=f"{CKANAPI.parent}{os.pathsep}{os.environ.get('PATH', '')}")
TIERS, secret = remote_site.TIERS, remote_site.secret


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    with remote_site.serve(tmp_path_factory.mktemp("remote"), config) as site:
        yield remote_site.seed_tiers(site)


def test_a_sysadmin_reads_the_terms_and_the_data(remote):
    client = RemoteCKAN(remote["site"].url, apikey=remote["token"])
    shown = client.action.package_show(id="remote-controlled")
    assert (shown["access_tier"], shown["agreement"], shown["data_use"], shown["grant_days"]) == (
        "controlled", "lab-dua", ["HMB", "IRB"], 90)
    assert shown["resources"][0]["url"] == secret("remote-controlled")
    embargoed = client.action.package_show(id="remote-registered")
    assert embargoed["embargo_until"] == remote["until"].isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("who", ["anonymous", "plain"])
def test_anonymous_and_plain_users_get_the_terms_and_no_gated_url(remote, who):
    client = RemoteCKAN(remote["site"].url, apikey=remote["plain"] if who == "plain" else None)
    found = client.action.package_search(q="*:*", rows=100)["results"]
    assert sorted(d["access_tier"] for d in found) == sorted(TIERS)
    shown = [client.action.package_show(id=f"remote-{t}") for t in TIERS]
    text = json.dumps(found) + json.dumps(shown)
    # Open data is open; the registered dataset is embargoed, so closed to both.
    assert secret("remote-open") in text
    for tier in ("registered", "agreement", "controlled"):
        assert secret(f"remote-{tier}") not in text, tier


def ckanapi(*args: str) -> str:
    done = subprocess.run([str(CKANAPI), *args], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def dump(remote, path: pathlib.Path, token: str | None, thing: str = "datasets") -> list[dict]:
    ckanapi("dump", thing, "--all", "-r", remote["site"].url, "-O", str(path), "-q",
            *(["-a", token] if token else []))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_anonymous_dump_holds_every_dataset_and_no_gated_url(remote, tmp_path):
    rows = dump(remote, tmp_path / "anon.jsonl", None)
    assert sorted(r["name"] for r in rows) == sorted(f"remote-{t}" for t in TIERS)
    text = (tmp_path / "anon.jsonl").read_text()
    assert secret("remote-open") in text
    for tier in ("registered", "agreement", "controlled"):
        assert secret(f"remote-{tier}") not in text


def test_a_sysadmin_dump_loads_into_another_governed_site_with_its_terms(remote, tmp_path, request):
    rows = dump(remote, tmp_path / "all.jsonl", remote["token"])
    assert all(secret(r["name"]) in json.dumps(r) for r in rows)
    publisher = factories.Sysadmin()
    # As an operator moves a site: organisations first (same ids), then the agreements
    # (ours, through our API), then the datasets.
    local = ["-c", str(request.config.getoption("--ckan-ini")), "-u", publisher["name"]]
    dump(remote, tmp_path / "orgs.jsonl", remote["token"], "organizations")
    ckanapi("load", "organizations", "-I", str(tmp_path / "orgs.jsonl"), *local)
    call_action("governance_agreement_create", {"user": publisher["name"]}, owner_org="remote-lab",
                name="lab-dua", title="Lab terms", body="Cite the lab.")
    ckanapi("load", "datasets", "-I", str(tmp_path / "all.jsonl"), *local)
    for row in rows:
        here = call_action("package_show", {"user": publisher["name"]}, id=row["name"])
        for field in ("access_tier", "embargo_until", "embargo_reason", "agreement", "data_use",
                      "grant_days"):
            assert here[field] == row[field], (row["name"], field)
        assert here["resources"][0]["url"] == secret(row["name"])
    # And is gated here too.
    anonymous = call_action("package_show", {"user": ""}, id="remote-controlled")
    assert anonymous["resources"][0]["url"] == ""
