"""The load run's content, and the times that fall due during the run.

    python benchmarks/load/seed.py INI PLAN seed     the users, organisations, datasets
    python benchmarks/load/seed.py INI PLAN arm TAG T SHIFT
                                                 datasets whose embargo and grant end at
                                                 T + SHIFT + n seconds, and PLAN-TAG

Every data-bearing value of every dataset carries a token naming its dataset,
``GOVSECRET_<dataset>_<n>``: resource URLs, an uploaded file's name and
content, DataStore rows. The load generator knows from PLAN who may read each
dataset's data at each moment and scans every answer for the tokens.

Organisation ``load-s`` holds the sentinels, which no user of the run belongs
to and which nobody changes: three datasets of each tier, a private one, one
embargoed for ten years, and 200 more of mixed tiers for search. Organisation
``load-a`` holds what the run acts on: datasets under an agreement that
researchers accept, controlled datasets they request and its reviewers decide,
grants held by four researchers that expire during the run, embargoes that end
during the run, and datasets whose tier and embargo its publishers change.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import pathlib
import sys

from ckan.cli import load_config
from ckan.config.middleware import make_app

TIERS = ("open", "registered", "agreement", "controlled")
RESEARCHERS = [f"res-{i:02d}" for i in range(1, 13)]
REVIEWERS = ["rev-1", "rev-2"]
PUBLISHERS = ["pub-1", "pub-2"]
# Seconds after the load starts at which each embargo and grant ends.
EMBARGO_ENDS = [20, 35, 50, 65, 80, 95]
GRANT_ENDS = [25, 45, 70, 90]
FILL = 200


def token(name: str, n: object) -> str:
    return f"GOVSECRET_{name}_{n}"


def far_future() -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3650)).isoformat()


def make_dataset(act, plan, name, org, klass, tier, *, table=False, upload=False, links=1, **terms):
    from werkzeug.datastructures import FileStorage

    if tier == "agreement":
        terms["agreement"] = f"{org['name']}-dua"
    pkg = act("package_create", name=name, title=name.replace("-", " "), owner_org=org["id"],
              access_tier=tier, notes=f"Load run dataset ({klass}).",
              resources=[{"name": f"file {k}", "url": f"https://data.example.org/{token(name, k)}.csv"}
                         for k in range(links)], **terms)
    entry = {"class": klass, "tier": tier, "id": pkg["id"],
             "resources": [r["id"] for r in pkg["resources"]], "table": None}
    if upload:
        content = f"n,value\n1,{token(name, 'file')}\n".encode()
        res = act("resource_create", package_id=pkg["id"], name="upload",
                  upload=FileStorage(io.BytesIO(content), filename=f"{token(name, 'fname')}.csv"))
        entry["resources"].append(res["id"])
    if table:
        res = act("datastore_create", force=True,
                  resource={"package_id": pkg["id"], "name": "table"},
                  fields=[{"id": "n", "type": "int"}, {"id": "value", "type": "text"}],
                  records=[{"n": k, "value": token(name, f"row{k}")} for k in range(20)])
        entry["table"] = res["resource_id"]
        entry["resources"].append(res["resource_id"])
    plan["datasets"][name] = entry


def seed(flask_app, plan_path: pathlib.Path) -> None:
    import ckan.plugins.toolkit as tk

    plan: dict = {"datasets": {}, "users": {}}
    with flask_app.test_request_context():
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]

        def act(action, user=site, /, **kw):
            return tk.get_action(action)({"user": user, "ignore_auth": user == site}, kw)

        for name in RESEARCHERS + REVIEWERS + PUBLISHERS:
            act("user_create", name=name, email=f"{name}@example.org", password="load-password-1")
            role = ("researcher" if name in RESEARCHERS else
                    "reviewer" if name in REVIEWERS else "publisher")
            key = act("api_token_create", name, user=name, name="load")["token"]
            plan["users"][name] = {"role": role, "token": key}
        org_a = act("organization_create", name="load-a", title="Load lab")
        org_s = act("organization_create", name="load-s", title="Load sentinels")
        for name in REVIEWERS:
            act("organization_member_create", id=org_a["id"], username=name, role="admin")
        for name in PUBLISHERS:
            act("organization_member_create", id=org_a["id"], username=name, role="editor")
        for org in (org_a, org_s):
            act("governance_agreement_create", owner_org=org["id"], name=f"{org['name']}-dua",
                title=f"{org['title']} agreement", body="Use the data for research only.")

        def dataset(*args, **kw):
            make_dataset(act, plan, *args, **kw)

        far = far_future()
        for tier in TIERS:
            for i in (1, 2, 3):
                dataset(f"sent-{tier}-{i}", org_s, tier, tier, table=True, upload=True, links=2)
        dataset("sent-private-1", org_s, "private", "open", table=True, upload=True, links=2, private=True)
        dataset("sent-embargo-1", org_s, "far-embargo", "open", table=True, upload=True, links=2,
                embargo_until=far, embargo_reason="Ten years")
        for i in range(FILL):
            tier = TIERS[i % 4]
            dataset(f"fill-{i:04d}", org_s, tier, tier)
        for i in range(1, 7):
            dataset(f"accept-{i}", org_a, "accept", "agreement", table=i <= 2)
        for i in range(1, 9):
            dataset(f"req-{i}", org_a, "request", "controlled", table=i <= 2)
        for i in range(1, 5):
            dataset(f"churn-{i}", org_a, "churn", "registered")
    plan_path.write_text(json.dumps(plan, indent=1))


def known_plan(plan_path: pathlib.Path) -> dict:
    """The seed's plan and what the runs before armed, which is over by now
    (embargoes lifted, grants expired): known to the scanner, not timed."""
    plan = json.loads(plan_path.read_text())
    plan["past_ends"] = {}
    for earlier in sorted(plan_path.parent.glob(f"{plan_path.stem}-*{plan_path.suffix}")):
        before = json.loads(earlier.read_text())
        for name, end in before["ends"].items():
            plan["datasets"].setdefault(name, before["datasets"][name])
            plan["past_ends"][name] = end
    return plan


def arm(flask_app, plan_path: pathlib.Path, tag: str, start: float, shift: float) -> None:
    """Embargoes and grants of load-a that end during the run: six datasets
    embargoed until, and four grants (each a request approved by a reviewer)
    that end at, the run's start plus EMBARGO_ENDS and GRANT_ENDS seconds,
    plus ``shift``. Their names carry ``tag``; the plan for the run is written
    to PLAN with ``-<tag>`` before its suffix."""
    import sqlalchemy as sa

    import ckan.model as model
    import ckan.plugins.toolkit as tk

    plan = known_plan(plan_path)
    plan["ends"], plan["start"] = {}, start
    with flask_app.test_request_context():
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]

        def act(action, user=site, /, **kw):
            return tk.get_action(action)({"user": user, "ignore_auth": user == site}, kw)

        org = act("organization_show", id="load-a")
        for i, offset in enumerate(EMBARGO_ENDS, start=1):
            name = f"emb-{tag}-{i}"
            at = dt.datetime.fromtimestamp(start + shift + offset, dt.timezone.utc)
            make_dataset(act, plan, name, org, "embargo", "open", table=i <= 2,
                         embargo_until=at.isoformat(), embargo_reason="Until the paper is out")
            plan["ends"][name] = start + shift + offset
        for i, (offset, researcher) in enumerate(zip(GRANT_ENDS, RESEARCHERS), start=1):
            name = f"grant-{tag}-{i}"
            make_dataset(act, plan, name, org, "grant", "controlled", table=True)
            req = act("governance_request_create", researcher, id=name, commercial=False,
                      intended_use="A study that runs through the load benchmark, with its own grant that ends during the run.")
            act("governance_request_decide", "rev-1", id=req["id"], decision="approve")
            plan["datasets"][name]["holder"] = researcher
            at = dt.datetime.fromtimestamp(start + shift + offset, dt.timezone.utc)
            # A grant made long ago that ends now: its start and end moved, nothing else.
            # (Started now, a server whose clock is 5 minutes slow would rightly not
            # have it started yet: the runs check ends, so the start is a day back.)
            model.Session.execute(sa.text(
                "UPDATE governance_grant SET starts = :since, expires = :at WHERE package_id = :pkg"),
                {"since": at - dt.timedelta(days=1), "at": at, "pkg": plan["datasets"][name]["id"]})
            model.Session.commit()
            plan["ends"][name] = start + shift + offset
    plan_path.with_name(f"{plan_path.stem}-{tag}{plan_path.suffix}").write_text(json.dumps(plan, indent=1))


def main(argv: list[str]) -> None:
    app = make_app(load_config(argv[1]))
    flask_app = app._wsgi_app
    if argv[3] == "seed":
        seed(flask_app, pathlib.Path(argv[2]))
    else:
        arm(flask_app, pathlib.Path(argv[2]), argv[4], float(argv[5]), float(argv[6]))


if __name__ == "__main__":
    main(sys.argv)
