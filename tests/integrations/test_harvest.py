"""ckanext-harvest's CKAN harvester against real sites served over HTTP.

A plain CKAN site (``harvest ckan_harvester``, no governance) harvesting a governed
one as an anonymous client gets every dataset's metadata and no gated URL.

The harvests run ckanext-harvest's own stages (gather over the remote's API, fetch,
import through package_create and package_update) in this process, as its
``ckan harvester run-test`` command does, without the queues.
"""
from __future__ import annotations

import json

import pytest

import ckan.plugins.toolkit as tk
from ckan.common import config
from ckan.tests import factories
from ckan.tests.helpers import call_action

import remote_site

TIERS, secret = remote_site.TIERS, remote_site.secret


@pytest.fixture
def harvest_db(with_plugins, reset_db, migrate_db_for):
    """clean_db for a site with ckanext-harvest: loading it leaves a transaction open
    (a query of the group table), which would hold the tables' drop; end it first."""
    import ckan.model as model
    import ckan.plugins as p

    model.Session.remove()
    reset_db()
    for plugin in ("activity", "governance", "harvest"):
        if p.plugin_loaded(plugin):
            migrate_db_for(plugin)


def harvest(app, owner_org: str, url: str, name: str = "remote") -> list[dict]:
    """Create (once) a CKAN harvest source for ``url`` and run one harvest of it."""
    from ckanext.harvest import utils

    admin = factories.Sysadmin()
    try:
        source = call_action("harvest_source_show", {"user": admin["name"]}, id=name)
    except tk.ObjectNotFound:
        source = call_action("harvest_source_create", {"user": admin["name"]}, name=name, url=url,
                             source_type="ckan", owner_org=owner_org, frequency="MANUAL")
    with app.flask_app.test_request_context():
        utils.run_test_harvester(source["id"], None)
    # The datasets harvested (the source is a dataset too, of type "harvest").
    return call_action("package_search", {"ignore_auth": True}, q="*:*", fq="dataset_type:dataset",
                       rows=100, include_private=True)["results"]


class TestAPlainSiteHarvestingAGovernedOne:
    pytestmark = [
        pytest.mark.ckan_config("ckan.plugins", "harvest ckan_harvester"),
        pytest.mark.ckan_config("ckan.harvest.mq.type", "redis"),
        pytest.mark.usefixtures("harvest_db", "clean_index"),
    ]

    @pytest.fixture(scope="class")
    def governed(self, tmp_path_factory):
        with remote_site.serve(tmp_path_factory.mktemp("governed"), config) as site:
            yield remote_site.seed_tiers(site)

    def test_gets_every_datasets_metadata_and_no_gated_url(self, app, governed):
        org = factories.Organization()
        harvested = harvest(app, org["id"], governed["site"].url)
        assert sorted(d["name"] for d in harvested) == sorted(f"remote-{t}" for t in TIERS)
        by_name = {d["name"]: d for d in harvested}
        for tier in TIERS:
            d = by_name[f"remote-{tier}"]
            assert d["title"] == f"Remote {tier}" and d["notes"] == f"The {tier} one."
            assert [r["name"] for r in d["resources"]] == ["Data"]  # what the data is
        text = json.dumps(harvested)
        assert secret("remote-open") in text
        for tier in ("registered", "agreement", "controlled"):
            assert secret(f"remote-{tier}") not in text, tier  # never where it is
