"""ckanext-scheming presets: a schema author places the governance fields in their own
form (the README's example schema), with our validators, labels and help text. The
module beside this one (test_scheming.py) runs a schema that does not place them."""
from __future__ import annotations

import datetime as dt
import re

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from people import api_headers

PRESETS = "ckanext.scheming:presets.json ckanext.governance:scheming/presets.yaml"
pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", "scheming_datasets governance"),
    pytest.mark.ckan_config("scheming.presets", PRESETS),
    pytest.mark.ckan_config("scheming.dataset_schemas",
                            "ckanext.governance:scheming/example_dataset.yaml"),
    pytest.mark.usefixtures("clean_db", "clean_index"),
]
FIELDS = ("access_tier", "agreement", "data_use", "grant_days", "embargo_until", "embargo_reason")


@pytest.fixture
def publisher():
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    call_action("governance_agreement_create", {"user": editor["name"]}, owner_org=org["id"],
                name="basin-dua", title="Basin terms", body="Cite the basin survey.")
    return editor, org


def test_a_schema_with_the_presets_renders_each_field_with_our_labels_and_its_own(app, publisher):
    editor, org = publisher
    schema = call_action("scheming_dataset_schema_show", type="dataset")
    placed = {f["field_name"]: f for f in schema["dataset_fields"]}
    assert set(FIELDS) <= set(placed)
    assert placed["access_tier"]["validators"] == "governance_ignore_absent governance_access_tier"
    html = app.get("/dataset/new", headers=api_headers(editor)).get_data(as_text=True)
    for name in FIELDS:
        assert f'name="{name}"' in html, name
    # Our labels and help, the tier choices in words, the org's agreements to pick from.
    assert '<label for="field-access-tier" class="form-label">Access</label>' in html
    assert "Who can download the data." in html
    assert re.search(r'<option value="controlled"[^>]*>Controlled access', html)
    assert re.search(r'<option value="basin-dua"[^>]*>', html)
    # A schema's own help text replaces ours.
    assert "Shown to researchers while the embargo lasts." in html
    # Fields follow the schema's order: the terms after the organisation, before the author.
    assert html.index('name="owner_org"') < html.index('name="access_tier"') < html.index('name="author"')


def test_a_schema_with_the_presets_refuses_bad_terms_field_by_field(publisher):
    editor, org = publisher
    bad = {"access_tier": "secret", "embargo_until": "next tuesday", "data_use": ["XYZ"],
           "grant_days": "-3", "agreement": "no-such-dua"}
    for field, value in bad.items():
        with pytest.raises(tk.ValidationError) as err:
            call_action("package_create", {"user": editor["name"]}, name=f"bad-{field.replace('_', '-')}",
                        owner_org=org["id"], **({"access_tier": "agreement"} if field == "agreement" else {}),
                        **{field: value})
        assert field in err.value.error_dict, (field, err.value.error_dict)
    assert call_action("package_search", q="name:bad-*")["count"] == 0  # nothing half-made


def test_a_schema_with_the_presets_stores_shows_and_displays_the_terms(app, publisher):
    editor, org = publisher
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=40)).replace(microsecond=0)
    call_action("package_create", {"user": editor["name"]}, name="basin", title="Basin",
                owner_org=org["id"], access_tier="agreement", agreement="basin-dua",
                data_use=["HMB", "IRB"], grant_days=90, embargo_until=until.isoformat(),
                embargo_reason="Until the survey report is out",
                resources=[{"url": "https://data.example.org/basin-s3cr3t.csv", "name": "Basin"}])
    shown = call_action("package_show", {"user": editor["name"]}, id="basin")
    assert (shown["access_tier"], shown["agreement"], shown["data_use"], shown["grant_days"]) == (
        "agreement", "basin-dua", ["HMB", "IRB"], 90)
    assert shown["embargo_until"] == until.isoformat().replace("+00:00", "Z")
    # Not also stored as extras: the terms live in their own table.
    assert not [e for e in shown.get("extras", []) if e["key"] in FIELDS]
    html = app.get("/dataset/basin").get_data(as_text=True)
    # ckanext-scheming's "Additional info" table, with our display snippets.
    rows = {label: " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for label, cell in re.findall(
        r'<th scope="row" class="dataset-label">([^<]+)</th>\s*<td class="dataset-details">(.*?)</td>',
        html, re.S)}
    assert rows["Access"].startswith("Data use agreement — Logged-in users can download")
    assert rows["Data use agreement"] == "basin-dua"
    assert 'href="/agreement/basin-dua">basin-dua</a></td>' in html
    assert rows["Data use conditions (DUO codes)"] == (
        "HMB — health or medical or biomedical research IRB — ethics approval required")
    assert rows["Embargo until (UTC)"].endswith(f"{until.year}, {until:%H:%M} (UTC)")
    assert rows["Grants last (days)"] == "90"
    assert "basin-s3cr3t" not in html  # anonymous, under embargo
