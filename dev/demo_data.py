"""Create the demo site's content once: users, an organisation, one dataset per tier.

Run by dev/demo.sh as ``python dev/demo_data.py .data/demo.ini``. Running it
again creates nothing new; it only reprints the accounts and, if the search
index lost the datasets (for example after deleting .data/), rebuilds it.
"""
from __future__ import annotations

import datetime as dt
import io
import sys
from typing import Any

from werkzeug.datastructures import FileStorage

PASSWORD_SUFFIX = "-demo-2026"

# name, full name, role in the organisation (None: not a member)
USERS = [
    ("demo-admin", "Ada Admin (sysadmin)", None),
    ("demo-publisher", "Pat Publisher", "editor"),
    ("demo-reviewer", "Rey Reviewer", "admin"),
    ("demo-researcher", "Ravi Researcher", None),
]

ORG = {
    "name": "hydrology-lab",
    "title": "Hydrology Lab",
    "description": "River, rain and groundwater observations from the northern basin.",
}

DUA_V1 = """You may use the survey answers for research only.

* Do not try to identify any household.
* Do not share the data with anyone who has not accepted this agreement.
"""
DUA_V2 = DUA_V1 + """* Cite the Hydrology Lab household survey in any publication.
"""

FLOWS_CSV = (
    "date,station,discharge_m3s\n"
    "2025-03-01,N-01,12.4\n2025-03-01,N-02,8.1\n"
    "2025-03-02,N-01,13.0\n2025-03-02,N-02,7.9\n"
)

def dataset(name: str, title: str, tier: str, notes: str, tags: list[str],
            resources: list[dict[str, Any]], license_id: str = "cc-by", **terms: Any) -> dict[str, Any]:
    """A demo dataset: its tier, any further terms (embargo, agreement, data use)."""
    return {"name": name, "title": title, "access_tier": tier, "notes": notes,
            "license_id": license_id, "tags": [{"name": t} for t in tags],
            "resources": resources, **terms}


def link(name: str, fmt: str, url: str) -> dict[str, Any]:
    return {"name": name, "format": fmt, "url": url}


def upload(name: str, fmt: str, filename: str, text: str) -> dict[str, Any]:
    return {"name": name, "format": fmt, "upload": (filename, text)}


DATASETS: list[dict[str, Any]] = [
    dataset("river-flows", "River flow measurements", "open",
            "Daily discharge at the basin's gauging stations, 2025.", ["hydrology", "water"],
            [upload("Daily flows 2025", "CSV", "flows-2025.csv", FLOWS_CSV),
             link("Station list", "JSON", "https://data.example.org/stations.json")]),
    dataset("rainfall-2025", "Rainfall 2025", "registered",
            "Hourly precipitation totals from forty stations.", ["water", "weather"],
            [link("Hourly totals", "CSV", "https://data.example.org/rain-2025.csv")]),
    dataset("household-water-survey", "Household water use survey", "agreement",
            "Interviews with 1,200 households on water use. Contains personal data.",
            ["survey", "water"],
            [link("Survey responses", "CSV", "https://data.example.org/survey-responses.csv")],
            license_id="other-closed"),
    dataset("lake-temperatures", "Lake temperature profiles", "registered",
            "Temperature at 1 m depth steps in twelve lakes, 2026 season.", ["lakes", "water"],
            [link("Profiles 2026", "CSV", "https://data.example.org/lake-profiles.csv")],
            embargo_until="2027-09-01", embargo_reason="Until the survey report is published"),
    dataset("snow-depth-live", "Snow depth (opens in a few minutes)", "open",
            "Its embargo ends five minutes after `make demo` starts: watch it open.", ["snow"],
            [upload("Snow depth", "CSV", "snow-depth.csv",
                    "date,station,depth_cm\n2026-11-01,S-01,12\n")]),
    dataset("well-owner-registry", "Groundwater well owners", "controlled",
            "Names and addresses of private well owners, for approved research only.",
            ["groundwater"],
            [upload("Registry extract", "CSV", "well-owners.csv",
                    "well_id,owner,postcode\nW-001,A. Example,NB1 2AA\n")],
            license_id="other-closed", data_use=["HMB", "IRB", "NCU", "PUB"], grant_days=180),
]


def main(ini: str) -> None:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(ini))
    flask_app = app.apps["flask_app"]._wsgi_app if hasattr(app, "apps") else app._wsgi_app
    with flask_app.test_request_context():
        created = populate()
    print_accounts(created)


def populate() -> bool:
    import ckan.lib.search as search
    import ckan.model as model
    import ckan.plugins.toolkit as tk

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]

    def act(action: str, /, **data: Any) -> dict[str, Any]:
        return tk.get_action(action)({"user": site_user, "ignore_auth": True}, data)

    created = False
    for name, fullname, _role in USERS:
        if model.User.get(name) is None:
            act("user_create", name=name, fullname=fullname, email=f"{name}@example.org",
                password=name + PASSWORD_SUFFIX)
            created = True
    admin = model.User.get("demo-admin")
    if not admin.sysadmin:
        admin.sysadmin = True
        model.repo.commit()

    if model.Group.get(ORG["name"]) is None:
        act("organization_create", **ORG)
        created = True
    for name, _fullname, role in USERS:
        if role:
            act("organization_member_create", id=ORG["name"], username=name, role=role)

    publisher = {"user": "demo-publisher"}
    for spec in DATASETS:
        if model.Package.get(spec["name"]) is not None:
            continue
        resources = spec["resources"]
        data = {k: v for k, v in spec.items() if k != "resources"}
        tk.get_action("package_create")(dict(publisher), dict(data, owner_org=ORG["name"]))
        for res in resources:
            res = dict(res, package_id=spec["name"])
            if "upload" in res:
                filename, content = res.pop("upload")
                res["upload"] = FileStorage(io.BytesIO(content.encode()), filename=filename,
                                            content_type="text/csv")
                res["url"] = filename
            tk.get_action("resource_create")(dict(publisher), res)
        created = True

    # A data use agreement with two versions, on the agreement-tier dataset.
    from ckanext.governance import agreements

    if agreements.get("hydrology-dua") is None:
        tk.get_action("governance_agreement_create")(dict(publisher), {
            "owner_org": ORG["name"], "name": "hydrology-dua",
            "title": "Hydrology Lab data use agreement", "body": DUA_V1})
        tk.get_action("governance_agreement_update")(dict(publisher), {
            "id": "hydrology-dua", "body": DUA_V2, "material": True})
    if tk.get_action("package_show")(dict(publisher), {"id": "household-water-survey"}).get("agreement") is None:
        tk.get_action("package_patch")(dict(publisher), {
            "id": "household-water-survey", "agreement": "hydrology-dua"})

    # The controlled dataset: a request from the demo researcher, waiting for
    # the demo reviewer (the organisation's admin) in the review queue.
    from ckanext.governance.model import AccessRequest

    if not tk.get_action("package_show")(dict(publisher), {"id": "well-owner-registry"}).get("data_use"):
        tk.get_action("package_patch")(dict(publisher), {  # a demo database from before
            "id": "well-owner-registry", "data_use": ["HMB", "IRB", "NCU", "PUB"], "grant_days": 180})
    researcher = model.User.get("demo-researcher")
    well = model.Package.get("well-owner-registry")
    if not model.Session.query(AccessRequest).filter_by(user_id=researcher.id,
                                                        package_id=well.id).count():
        tk.get_action("governance_request_create")({"user": "demo-researcher"}, {
            "id": "well-owner-registry", "commercial": False,
            "institution": "University of Example", "project_title": "Wells and health",
            "ethics_reference": "ERB-2026-041",
            "intended_use": "To link well locations with nitrate measurements and study "
                            "health outcomes of households drinking well water."})

    # Issue 8's example: a private dataset that links to another private one
    # and has a stray e-mail address in its description ("Check before publishing").
    for name, title, notes, extras in (
        ("field-notes-raw", "Field notes (raw)", "Unedited field notes of the 2026 well survey.", []),
        ("well-survey-2026", "Well survey 2026",
         "Nitrate in 120 private wells, spring 2026. Questions about the raw sheets: "
         "ana.lyst@hydrology-lab.example.org.",
         [{"key": "related_dataset", "value": "field-notes-raw"}]),
    ):
        if model.Package.get(name) is None:
            tk.get_action("package_create")(dict(publisher), {
                "name": name, "title": title, "notes": notes, "owner_org": ORG["name"],
                "private": True, "license_id": "cc-by", "access_tier": "registered",
                "extras": extras})
            created = True

    # Each start, the "live" embargo ends five minutes from now, so a person can
    # watch the data open (the form and API refuse past dates, not near ones).
    opens = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(minutes=5)
    tk.get_action("package_patch")(dict(publisher), {
        "id": "snow-depth-live", "embargo_until": opens.isoformat(),
        "embargo_reason": "Opens five minutes after the demo starts"})
    print(f"snow-depth-live opens at {opens:%H:%M:%S} UTC")

    # The stand-in's index lives in .data/ and may predate this code: rebuild it
    # (a handful of datasets, so it costs a second).
    search.rebuild()
    return created


def print_accounts(created: bool) -> None:
    print("Demo content", "created." if created else "already present.")
    print(f"{'user':<18} {'password':<26} role")
    for name, fullname, role in USERS:
        what = "sysadmin" if name == "demo-admin" else (
            f"{role} of {ORG['title']}" if role else "registered user, no membership")
        print(f"{name:<18} {name + PASSWORD_SUFFIX:<26} {what}")


if __name__ == "__main__":
    main(sys.argv[1])
