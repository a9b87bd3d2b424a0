"""ckanext-harvest's CKAN harvester against real sites served over HTTP.

(a) A plain CKAN site (``harvest ckan_harvester``, no governance) harvesting a governed
one as an anonymous client gets every dataset's metadata and no gated URL.
(b) A governed site harvesting a plain one keeps its publishers' terms on every
re-harvest, and records no change; harvesting a governed one brings the origin's terms.

Each harvest goes through ckanext-harvest's Redis queues: the job is put on the gather
queue (harvest_job_create), and the messages are taken off the gather and fetch queues
and handed to the callbacks that ``ckan harvester gather-consumer`` and
``fetch-consumer`` run; harvest_jobs_run then marks the job finished.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.common import config
from ckan.tests import factories
from ckan.tests.helpers import call_action

import remote_site

TIERS, secret = remote_site.TIERS, remote_site.secret


@pytest.fixture
def harvest_db(with_plugins, reset_db, migrate_plugin):
    """clean_db for a site with ckanext-harvest: loading it leaves a transaction open
    (a query of the group table), which would hold the tables' drop; end it first."""
    import ckan.plugins as p
    from ckanext.harvest import queue

    model.Session.remove()
    reset_db()
    for plugin in ("activity", "governance", "harvest"):
        if p.plugin_loaded(plugin):
            migrate_plugin(plugin)
    queue.purge_queues()


def harvest(app, owner_org: str, url: str, name: str = "remote", source_config: dict | None = None
            ) -> dict:
    """Create (once) a CKAN harvest source for ``url``, run one job of it through the
    queues; the job as harvest_job_show gives it, once finished."""
    from ckanext.harvest import queue

    admin = {"user": call_action("get_site_user", {"ignore_auth": True})["name"]}
    try:
        source = call_action("harvest_source_show", dict(admin), id=name)
    except tk.ObjectNotFound:
        source = call_action("harvest_source_create", dict(admin), name=name, url=url,
                             source_type="ckan", owner_org=owner_org, frequency="MANUAL",
                             config=json.dumps(source_config or {}))
    with app.flask_app.test_request_context():
        job = call_action("harvest_job_create", dict(admin), source_id=source["id"])
        gather = queue.get_gather_consumer()
        method, channel, body = gather.basic_get(queue.get_gather_queue_name())
        assert json.loads(body) == {"harvest_job_id": job["id"]}
        queue.gather_callback(gather, method, None, body)
        fetch = queue.get_fetch_consumer()
        while True:
            method, channel, body = fetch.basic_get(queue.get_fetch_queue_name())
            if body is None:
                break
            queue.fetch_callback(fetch, method, None, body)
        call_action("harvest_jobs_run", dict(admin), source_id=source["id"])
    done = call_action("harvest_job_show", dict(admin), id=job["id"])
    assert done["status"] == "Finished", done
    return done


def harvested(**fq) -> dict[str, dict]:
    """This site's datasets (the harvest sources, datasets too, left out), by name."""
    found = call_action("package_search", {"ignore_auth": True}, q="*:*", fq="dataset_type:dataset",
                        rows=100, include_private=True)["results"]
    return {d["name"]: d for d in found}


@pytest.fixture(scope="class")
def governed(tmp_path_factory):
    """A governed site with a dataset of each tier (remote_site.seed_tiers), one per
    class: a class may change its origin's datasets."""
    with remote_site.serve(tmp_path_factory.mktemp("governed"), config) as site:
        yield remote_site.seed_tiers(site)


def import_errors(job: dict) -> list[str]:
    from ckanext.harvest.model import HarvestObjectError

    rows = model.Session.query(HarvestObjectError).join(HarvestObjectError.object).filter_by(
        harvest_job_id=job["id"])
    return [e.message for e in rows]


class TestAPlainSiteHarvestingAGovernedOne:
    pytestmark = [
        pytest.mark.ckan_config("ckan.plugins", "harvest ckan_harvester"),
        pytest.mark.usefixtures("harvest_db", "clean_index"),
    ]


    def test_gets_every_datasets_metadata_and_no_gated_url(self, app, governed):
        org = factories.Organization()
        job = harvest(app, org["id"], governed["site"].url)
        assert job["stats"].get("added") == len(TIERS) and not import_errors(job)
        by_name = harvested()
        assert sorted(by_name) == sorted(f"remote-{t}" for t in TIERS)
        for tier in TIERS:
            d = by_name[f"remote-{tier}"]
            assert d["title"] == f"Remote {tier}" and d["notes"] == f"The {tier} one."
            assert [r["name"] for r in d["resources"]] == ["Data"]  # what the data is
        text = json.dumps(list(by_name.values()))
        assert secret("remote-open") in text
        for tier in ("registered", "agreement", "controlled"):
            assert secret(f"remote-{tier}") not in text, tier  # never where it is


def _events(**filters) -> list[dict]:
    """The ledger's events, as a sysadmin reads them (it shows none to a caller who is nobody)."""
    site = call_action("get_site_user", {"ignore_auth": True})["name"]
    return call_action("governance_event_list", {"user": site}, limit=1000, **filters)["results"]


class TestAGovernedSiteHarvestingAPlainOne:
    """The publishers of the harvesting site set terms on what it harvested; the origin
    knows nothing of them, and its updates (which lack the fields) change none."""
    pytestmark = [
        pytest.mark.ckan_config("ckan.plugins", "activity governance harvest ckan_harvester"),
        pytest.mark.usefixtures("harvest_db", "clean_index"),
    ]

    @pytest.fixture(scope="class")
    def plain(self, tmp_path_factory):
        from ckanapi import RemoteCKAN

        with remote_site.serve(tmp_path_factory.mktemp("plain"), config, plugins="activity") as site:
            origin = RemoteCKAN(site.url, apikey=site.sysadmin_token())
            origin.action.organization_create(name="origin-lab")
            for n in (1, 2):
                origin.action.package_create(
                    name=f"plain-{n}", title=f"Plain {n}", owner_org="origin-lab",
                    resources=[{"url": secret(f"plain-{n}"), "name": "Data", "format": "CSV"}])
            yield {"site": site, "origin": origin}

    def test_reharvests_keep_the_publishers_terms_and_record_nothing(self, app, plain):
        org = factories.Organization(name="harvesters")
        admin = factories.User()
        call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                    username=admin["name"], role="admin")
        first = harvest(app, org["id"], plain["site"].url)
        assert first["stats"].get("added") == 2 and not import_errors(first)
        by_name = harvested()
        assert {d["access_tier"] for d in by_name.values()} == {"open"}  # the site's default

        # The harvesting site's publisher sets terms on both copies.
        call_action("governance_agreement_create", {"user": admin["name"]}, owner_org=org["id"],
                    name="local-dua", title="Our terms", body="Cite us.")
        until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).replace(microsecond=0)
        call_action("package_patch", {"user": admin["name"]}, id="plain-1", access_tier="controlled",
                    agreement="local-dua", data_use=["HMB"], grant_days=30)
        call_action("package_patch", {"user": admin["name"]}, id="plain-2", access_tier="registered",
                    embargo_until=until.isoformat(), embargo_reason="Checking the copy")
        terms = {n: {k: d.get(k) for k in ("access_tier", "agreement", "data_use", "grant_days",
                                             "embargo_until", "embargo_reason")}
                 for n, d in harvested().items()}
        assert terms["plain-1"]["agreement"] == "local-dua" and terms["plain-2"]["embargo_until"]
        events = _events()
        assert events  # the publisher's changes, recorded

        # The origin changes both datasets; two more harvests bring the changes in.
        for round_ in (1, 2):
            for n in (1, 2):
                plain["origin"].action.package_patch(id=f"plain-{n}", notes=f"Round {round_}")
            job = harvest(app, org["id"], plain["site"].url)
            assert job["stats"].get("updated") == 2 and not import_errors(job), job
            now = harvested()
            assert {n: d["notes"] for n, d in now.items()} == {"plain-1": f"Round {round_}",
                                                                "plain-2": f"Round {round_}"}
            assert {n: {k: d.get(k) for k in terms[n]} for n, d in now.items()} == terms
            assert _events() == events  # no change recorded
        # Still closed: neither copy's data reaches an anonymous caller.
        for n in (1, 2):
            shown = call_action("package_show", {"user": ""}, id=f"plain-{n}")
            assert secret(f"plain-{n}") not in json.dumps(shown)

    @pytest.mark.ckan_config("ckanext.governance.publication.mode", "confirm")
    def test_harvests_are_warned_of_not_refused_where_publishers_must_confirm(self, app, plain):
        """A harvester cannot say it read the publication warnings: its imports are
        recorded as warned; a publisher's own create is still refused without it."""
        org = factories.Organization()
        job = harvest(app, org["id"], plain["site"].url)
        assert job["stats"].get("added") == 2 and not import_errors(job), import_errors(job)
        warned = _events(kind="publication_warned")
        assert {e["package_id"] for e in warned} == {model.Package.get(f"plain-{n}").id for n in (1, 2)}
        editor = factories.User()
        call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                    username=editor["name"], role="editor")
        with pytest.raises(tk.ValidationError, match="governance_confirm"):
            call_action("package_create", {"user": editor["name"], "ignore_auth": False},
                        name="own-one", owner_org=org["id"])

    def test_the_harvest_object_of_a_gated_copy_is_for_those_who_may_have_its_data(
            self, app, plain):
        """ckanext-harvest shows anyone the object a dataset was made from: the dataset as
        the origin gave it, with its resource URLs."""
        org = factories.Organization()
        editor, outsider = factories.User(), factories.User()
        call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                    username=editor["name"], role="editor")
        harvest(app, org["id"], plain["site"].url)
        call_action("package_patch", {"ignore_auth": True, "user": editor["name"]}, id="plain-1",
                    access_tier="registered")
        call_action("package_patch", {"ignore_auth": True, "user": editor["name"]}, id="plain-2",
                    embargo_until=(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=9)).isoformat(),
                    embargo_reason="Soon")
        from ckanext.harvest.model import HarvestObject

        objects = {n: model.Session.query(HarvestObject).filter_by(
            package_id=model.Package.get(n).id, current=True).one().id for n in ("plain-1", "plain-2")}
        model.Session.remove()
        for name, obj in objects.items():
            assert secret(name) in call_action("harvest_object_show", {"user": editor["name"], "ignore_auth": False},
                                               id=obj)["content"]
            # plain-1 is for registered users: anonymous callers may not have it;
            # plain-2 is embargoed: only its organisation may, until the date.
            for who in ("",) if name == "plain-1" else ("", outsider["name"]):
                for key, value in (("id", obj), ("dataset_id", name)):
                    with pytest.raises(tk.NotAuthorized):
                        call_action("harvest_object_show", {"user": who, "ignore_auth": False},
                                    **{key: value})
            for url in (f"/harvest/object/{obj}", f"/dataset/harvest_object/{name}"):
                page = app.get(url)
                assert page.status_code == 403 and secret(name) not in page.get_data(as_text=True)
        assert secret("plain-1") in call_action("harvest_object_show", {"user": outsider["name"], "ignore_auth": False},
                                                 id=objects["plain-1"])["content"]
        # A dataset nobody closed reads as before.
        call_action("package_patch", {"ignore_auth": True, "user": editor["name"]}, id="plain-2",
                    embargo_until="")
        assert secret("plain-2") in app.get(f"/harvest/object/{objects['plain-2']}").get_data(as_text=True)

        # Calls the gate cannot resolve as the action does are refused: ``attr``
        # (``id`` then matches another column, the guid here) and both keys at once.
        guid = model.Session.get(HarvestObject, objects["plain-1"]).guid
        model.Session.remove()
        for who in ("", outsider["name"], editor["name"]):
            for params in ({"id": guid, "attr": "guid"}, {"id": objects["plain-1"], "attr": "id"},
                           {"id": objects["plain-2"], "dataset_id": "plain-1"}):
                with pytest.raises(tk.NotAuthorized):
                    call_action("harvest_object_show", {"user": who, "ignore_auth": False}, **params)
        # An open copy made private, or deleted, is CKAN's rule: not for outsiders.
        call_action("package_patch", {"ignore_auth": True, "user": editor["name"]}, id="plain-2",
                    private=True)
        call_action("package_patch", {"ignore_auth": True, "user": editor["name"]}, id="plain-1",
                    access_tier="open")
        call_action("package_delete", {"ignore_auth": True, "user": editor["name"]}, id="plain-1")
        for name, obj in objects.items():
            for who in ("", outsider["name"]):
                for key, value in (("id", obj), ("dataset_id", name)):
                    with pytest.raises(tk.NotAuthorized):
                        call_action("harvest_object_show", {"user": who, "ignore_auth": False},
                                    **{key: value})
            assert app.get(f"/harvest/object/{obj}").status_code == 403
        assert secret("plain-2") in call_action("harvest_object_show", {"user": editor["name"], "ignore_auth": False},
                                                 id=objects["plain-2"])["content"]


@pytest.mark.ckan_config("ckan.plugins", "activity governance harvest ckan_harvester")
@pytest.mark.usefixtures("with_plugins")
def test_every_harvest_route_action_and_auth_function_is_classified(app):
    """As tests/test_surface.py for the full site: what ckanext-harvest adds beside it is
    in surface.py's harvest tables, every entry there exists, and every gate is real."""
    import ckan.authz as authz
    import ckan.logic as logic

    from ckanext.governance import surface
    from ckanext.governance.logic import action, auth

    logic.get_action("package_show")  # the action registry fills on first use
    from ckan.lib.plugins import _package_plugins  # type name -> IDatasetForm plugin

    types = frozenset(_package_plugins) | {"dataset"}
    endpoints = {rule.endpoint for rule in app.flask_app.url_map.iter_rules()}
    actions, auths = set(logic._actions), set(authz.auth_functions_list())
    # ckanext-harvest's actions and auth functions share one registry (which holds
    # which depends on the order they are read): one table for both.
    added = {
        "endpoint": {e for e in endpoints if surface.endpoint_entry(e, types) is None},
        "action": (actions - set(surface.ACTIONS))
        | {a for a in auths if surface.auth_entry(a) is None},
    }
    tables = {"endpoint": surface.HARVEST_ENDPOINTS, "action": surface.HARVEST_ACTIONS}
    for what, table in tables.items():
        assert added[what] == set(table), what
    for what, table in tables.items():
        for name, entry in table.items():
            assert entry.kind in surface.KINDS and (entry.kind == surface.DATA) == bool(entry.gate)
            if entry.gate_kind == "via":
                entry = surface.HARVEST_ACTIONS.get(entry.gate_name) or surface.ACTIONS[entry.gate_name]
            if entry.gate_kind == "action":
                assert entry.gate_name in action.get_actions(), name
            elif entry.gate_kind == "auth":
                assert entry.gate_name in auth.get_auth_functions(), name
            elif entry.gate_kind == "editors":
                assert entry.gate_name in auths, name
            else:
                assert entry.kind != surface.DATA, name


class TestAGovernedSiteHarvestingAGovernedOne:
    """The copy takes the origin's terms when it is first harvested, so it is never more
    open than the origin; from then on they are the harvesting site's publishers'."""
    pytestmark = [
        pytest.mark.ckan_config("ckan.plugins", "activity governance harvest ckan_harvester"),
        pytest.mark.usefixtures("harvest_db", "clean_index"),
    ]


    def test_first_harvest_takes_the_origins_terms_then_keeps_the_publishers(self, app, governed):
        from ckanapi import RemoteCKAN

        org = factories.Organization(name="mirror")
        job = harvest(app, org["id"], governed["site"].url)
        assert job["stats"].get("added") == len(TIERS) and not import_errors(job), import_errors(job)
        by_name = harvested()
        assert {n: d["access_tier"] for n, d in by_name.items()} == {f"remote-{t}": t for t in TIERS}
        assert by_name["remote-registered"]["embargo_until"] == governed["until"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert by_name["remote-registered"]["embargo_reason"] == "Paper in review"
        controlled = by_name["remote-controlled"]
        assert (controlled["data_use"], controlled["grant_days"]) == (["HMB", "IRB"], 90)
        # The origin's agreement is not this organisation's: left off, the data stays closed.
        assert {by_name[f"remote-{t}"]["agreement"] for t in ("agreement", "controlled")} == {None}
        user = factories.User()
        for tier in ("registered", "agreement", "controlled"):
            shown = call_action("package_show", {"user": user["name"]}, id=f"remote-{tier}")
            assert shown["governance"]["can_access"] is False, tier

        # The origin opens its controlled dataset and lifts the embargo early; a
        # re-harvest brings the new description and none of the new terms.
        events = _events()
        origin = RemoteCKAN(governed["site"].url, apikey=governed["token"])
        origin.action.package_patch(id="remote-controlled", access_tier="open", notes="Now open")
        origin.action.package_patch(id="remote-registered", embargo_until="", notes="Out now")
        job = harvest(app, org["id"], governed["site"].url)
        assert job["stats"].get("updated") == 2 and not import_errors(job), import_errors(job)
        now = harvested()
        assert (now["remote-controlled"]["notes"], now["remote-registered"]["notes"]) == (
            "Now open", "Out now")
        assert now["remote-controlled"]["access_tier"] == "controlled"
        assert now["remote-registered"]["embargo_until"] == governed["until"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert _events() == events

    def test_the_origins_agreement_is_attached_when_the_organisation_holds_its_name(
            self, app, governed):
        org = factories.Organization(name="mirror")
        call_action("governance_agreement_create", {"ignore_auth": True}, owner_org=org["id"],
                    name="lab-dua", title="The lab's terms, here", body="Cite the lab.")
        job = harvest(app, org["id"], governed["site"].url)
        assert job["stats"].get("added") == len(TIERS) and not import_errors(job), import_errors(job)
        by_name = harvested()
        assert {t: by_name[f"remote-{t}"]["agreement"] for t in TIERS} == {
            "open": None, "registered": None, "agreement": "lab-dua", "controlled": "lab-dua"}


@pytest.mark.ckan_config("ckan.plugins", "governance harvest ckan_harvester")
@pytest.mark.ckan_config("ckan.harvest.not_overwrite_fields", "maintainer title")
@pytest.mark.usefixtures("with_plugins")
def test_the_term_fields_are_kept_after_the_operators_own():
    from ckanext.governance.terms import TERM_FIELDS

    assert tk.aslist(config["ckan.harvest.not_overwrite_fields"]) == ["maintainer", "title", *TERM_FIELDS]


@pytest.mark.ckan_config("ckan.plugins", "activity governance harvest ckan_harvester")
@pytest.mark.usefixtures("harvest_db", "clean_index")
def test_a_harvest_sources_config_is_for_those_who_may_update_it(app):
    """A source's config holds the harvester's settings, the origin's API key among
    them: ckanext-harvest lists every source with it to anyone, shows it with the
    source and indexes it as a field to search on."""
    key = secret("origin-api-key")
    org = factories.Organization()
    editor, member, outsider = factories.User(), factories.User(), factories.User()
    for user, role in ((editor, "editor"), (member, "member")):
        call_action("organization_member_create", {"ignore_auth": True}, id=org["id"],
                    username=user["name"], role=role)
    site = {"user": call_action("get_site_user", {"ignore_auth": True})["name"]}
    ids = {}
    for name, private in (("keyed", False), ("hidden", True)):
        ids[name] = call_action("harvest_source_create", dict(site), name=name, url=f"http://{name}.example.org/",
                    source_type="ckan", owner_org=org["id"], frequency="MANUAL", private=private,
                    config=json.dumps({"api_key": key}))["id"]
    tokens = {u["name"]: factories.APIToken(user=u["name"])["token"] for u in (editor, member, outsider)}

    def api(action: str, token: str | None, **params) -> tuple[int, str]:
        headers = {"Authorization": token} if token else {}
        resp = app.get(f"/api/3/action/{action}", query_string=params, headers=headers)
        return resp.status_code, resp.get_data(as_text=True)

    def reads(token: str | None) -> dict[str, tuple[int, str]]:
        return {
            "harvest_source_list": api("harvest_source_list", token),
            "harvest_source_show": api("harvest_source_show", token, id="keyed"),
            "package_show": api("package_show", token, id="keyed"),
            "package_search": api("package_search", token, fq="dataset_type:harvest",
                                  include_private="true"),
            "package_search fl": api("package_search", token, fq="dataset_type:harvest",
                                     fl="id,config,data_dict,validated_data_dict"),
            "package_activity_list": api("package_activity_list", token, id="keyed",
                                         include_data="true"),
            "source page": (lambda r: (r.status_code, r.get_data(as_text=True)))(
                app.get("/harvest/keyed", headers={"Authorization": token} if token else {})),
        }

    for who in (None, tokens[outsider["name"]], tokens[member["name"]]):
        for what, (status, body) in reads(who).items():
            assert status == 200 and key not in body, (who, what, body[:500])
        listed = json.loads(api("harvest_source_list", who)[1])["result"]
        # The private source: for its organisation's members only, as its package_show.
        # The private source is not for anonymous callers (ckanext-harvest lists
        # none to a signed-in user outside its "publisher" groups).
        assert ids["hidden"] not in {s["id"] for s in listed}
        if who is None:
            assert ids["keyed"] in {s["id"] for s in listed}
    # From the database (no copy in the search index to answer from), as from the index.
    import ckan.lib.search as search

    search.clear_all()
    for who in (None, tokens[member["name"]]):
        for action in ("harvest_source_show", "package_show"):
            status, body = api(action, who, id="keyed")
            assert status == 200 and key not in body, (who, action)
    # A copy the index made before the extension was installed holds the config:
    # search results leave it out all the same.
    from ckanext.governance import harvest as governance_harvest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(governance_harvest, "index_document", lambda doc: doc)
        search.rebuild()
    status, body = api("package_search", None, fq="dataset_type:harvest")
    assert status == 200 and '"keyed"' in body and key not in body
    search.rebuild()
    # Not a field to query on, for anyone: the index holds no config.
    for who in (None, tokens[editor["name"]]):
        found = json.loads(api("package_search", who, q=f"config:*{key[-8:]}*",
                               include_private="true")[1])["result"]
        assert found["count"] == 0
    # Those who may update the source read it, and its edit form holds it.
    editor_reads = reads(tokens[editor["name"]])
    for what in ("harvest_source_show", "package_show"):
        assert key in editor_reads[what][1], what
    sysadmin = factories.SysadminWithToken()
    listed = json.loads(api("harvest_source_list", sysadmin["token"])[1])["result"]
    assert {s["id"]: json.loads(s["config"]) for s in listed} == {
        i: {"api_key": key} for i in ids.values()}
    shown = json.loads(editor_reads["package_show"][1])["result"]
    assert json.loads(shown["config"]) == {"api_key": key}
    edit = app.get("/harvest/edit/keyed", headers={"Authorization": tokens[editor["name"]]})
    assert edit.status_code == 200 and key in edit.get_data(as_text=True)
