"""What a busy portal sees, for locust (headless; started by benchmarks/load/run.py).

Environment: LOAD_PLAN (the seed's plan, with the run's start and the times that
fall due), LOAD_MODE (``shared``: only requests plain CKAN answers alike, for the
with/without comparison; ``full``: with researchers accepting agreements and
filing requests, reviewers deciding in bulk and publishers changing tiers and
embargoes), LOAD_HOSTS (``url@clock-offset-seconds`` separated by commas; each
request goes to one of them at random), LOAD_RATE (requests per second per
simulated user), LOAD_LOG (a directory: one line per request, and the leaks).

Every answer (body and Location header) is scanned for the tokens of
benchmarks/load/seed.py; a token of a dataset whose data the caller may not
have at that moment, by the clock of the server that answered, is a leak.
"""
from __future__ import annotations

import json
import os
import random
import re
import time

from locust import HttpUser, constant_throughput, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())
MODE = os.environ.get("LOAD_MODE", "full")
HOSTS = [(h.split("@")[0], float(h.split("@")[1]) if "@" in h else 0.0)
         for h in os.environ["LOAD_HOSTS"].split(",")]
RATE = float(os.environ.get("LOAD_RATE", "2"))
LOG_DIR = os.environ["LOAD_LOG"]
# A decision may lag or lead the instant by this much (request in flight).
TOLERANCE = 2.0

TOKEN = re.compile(r"GOVSECRET_([a-z0-9-]+)_([a-z0-9]+)")
DATASETS = PLAN["datasets"]
ENDS = PLAN.get("ends", {})
TIMED = sorted(ENDS)  # this run's embargoes and grants
ENDS = {**PLAN.get("past_ends", {}), **ENDS}  # and those of the runs before, all over
NAMES = sorted(DATASETS)
SENTINELS = [n for n in NAMES if n.startswith("sent-")]
WORDS = ["load", "dataset", "run", "sentinels", "lab", "fill", "open", "controlled", "agreement"]
_log = open(os.path.join(LOG_DIR, f"requests-{os.getpid()}.tsv"), "a", buffering=1)
_leaks = open(os.path.join(LOG_DIR, f"leaks-{os.getpid()}.jsonl"), "a", buffering=1)
_seen = open(os.path.join(LOG_DIR, f"seen-{os.getpid()}.jsonl"), "a", buffering=1)
_gates = open(os.path.join(LOG_DIR, f"gates-{os.getpid()}.jsonl"), "a", buffering=1)
_writes = open(os.path.join(LOG_DIR, f"writes-{os.getpid()}.jsonl"), "a", buffering=1)


def forbidden(caller: str | None, role: str, name: str, clock: float) -> bool | None:
    """Whether the caller may not have this dataset's data at ``clock`` (the
    answering server's time): True, False, or None when the run cannot know
    (data the run's own writes open, and everything a member of load-a sees)."""
    d = DATASETS.get(name)
    if d is None:
        return True
    klass = d["class"]
    if klass == "open":
        return False
    if klass in ("private", "far-embargo", "agreement", "controlled"):
        return True  # nobody of the run belongs to load-s or accepts its agreement
    if klass == "registered":
        return caller is None
    if role in ("reviewer", "publisher"):
        return None  # members of load-a
    if klass == "embargo":
        end = ENDS.get(name)
        if end is None:
            return True
        if clock < end - TOLERANCE:
            return True
        return False if clock > end + TOLERANCE else None
    if klass == "grant":
        if caller != d.get("holder"):
            return True
        end = ENDS.get(name)
        if end is None:
            return False
        if clock > end + TOLERANCE:
            return True
        return False if clock < end - TOLERANCE else None
    if klass == "churn":
        return None  # its publishers change its tier and embargo during the run
    if caller is None:
        return True  # accept, request: never open to anonymous callers
    return None  # accepted or granted by the run itself


class Caller(HttpUser):
    abstract = True
    host = HOSTS[0][0]
    wait_time = constant_throughput(RATE)
    role = "anonymous"
    name_: str | None = None

    def on_start(self) -> None:
        self.headers = {}
        if self.role != "anonymous":
            users = [u for u, v in PLAN["users"].items() if v["role"] == self.role]
            self.name_ = random.choice(users)
            self.headers = {"Authorization": PLAN["users"][self.name_]["token"]}

    def call(self, kind: str, method: str, path: str, *, expect=(200,), **kw):
        base, offset = random.choice(HOSTS)
        started = time.time()
        body, status, location, error = "", 0, "", ""
        with self.client.request(method, base + path, name=kind, headers=self.headers,
                                 allow_redirects=False, catch_response=True, timeout=60, **kw) as resp:
            status = resp.status_code or 0
            body = resp.text or ""
            location = resp.headers.get("Location", "") if resp.headers else ""
            if status >= 500 or status == 0:
                error = f"{status} {type(resp.error).__name__ if resp.error else ''}".strip()
                if body.startswith("{"):  # the API's error, by its type
                    try:
                        error = f"{status} {json.loads(body)['error']['__type']}"
                    except (ValueError, KeyError, TypeError):
                        error = f"{status} unreadable JSON"
                resp.failure(error)
            elif status not in expect and status not in (302, 403, 404, 409):
                error = f"unexpected {status}"
                resp.failure(error)
            else:
                resp.success()
        if "Traceback (most recent call last)" in body:
            error = f"{status} traceback shown"  # an error page that is not clean
        ended = time.time()
        self.last = (started, ended, offset, status)
        leaked = self.scan(kind, path, body + " " + location, started + offset, ended + offset)
        _log.write(f"{started:.3f}\t{kind}\t{(ended - started) * 1000:.1f}\t{status}\t{base}\t"
                   f"{'LEAK' if leaked else ''}\t{error}\n")
        if leaked:
            resp.failure(f"leak {leaked}")
        try:
            return status, json.loads(body) if body.startswith("{") else None
        except ValueError:
            return status, None

    def scan(self, kind, path, text, start, end):
        leaked = []
        for match in set(TOKEN.findall(text)):
            name = match[0]
            verdict = [forbidden(self.name_, self.role, name, t) for t in (start, end)]
            if all(v is True for v in verdict):
                leaked.append(f"{name}_{match[1]}")
                _leaks.write(json.dumps({"t": start, "caller": self.name_ or "anonymous",
                                         "kind": kind, "path": path, "token": match}) + "\n")
            elif all(v is False for v in verdict):
                _seen.write(json.dumps({"t": start, "caller": self.name_ or "anonymous",
                                        "class": DATASETS.get(name, {}).get("class"),
                                        "kind": kind}) + "\n")
        return ",".join(leaked)

    # Reads of every kind, of every tier -------------------------------------------------

    def some_dataset(self) -> dict:
        r = random.random()
        name = random.choice(TIMED if r < 0.15 and TIMED else SENTINELS if r < 0.6 else NAMES)
        return dict(DATASETS[name], name=name)

    @task(6)
    def show(self):
        d = self.some_dataset()
        self.call("package_show", "GET", f"/api/3/action/package_show?id={d['name']}")

    @task(4)
    def search(self):
        q = random.choice(WORDS)
        rows = random.choice((10, 10, 10, 50))
        sort = random.choice(("score desc, metadata_modified desc", "name asc", "metadata_modified desc"))
        self.call("package_search", "GET", f"/api/3/action/package_search?q={q}&rows={rows}&sort={sort}")

    @task(3)
    def dataset_page(self):
        d = self.some_dataset()
        self.call("dataset page", "GET", f"/dataset/{d['name']}")

    @task(1)
    def search_page(self):
        self.call("search page", "GET", f"/dataset/?q={random.choice(WORDS)}")

    @task(4)
    def download(self):
        d = self.some_dataset()
        rid = random.choice(d["resources"])
        self.call("download", "GET", f"/dataset/{d['id']}/resource/{rid}/download")
        if d["class"] in ("embargo", "grant") and self.role in ("anonymous", "researcher"):
            # When the gate opened or closed, by the answering server's clock.
            started, ended, offset, status = self.last
            _gates.write(json.dumps({"name": d["name"], "caller": self.name_, "start": started,
                                     "end": ended, "offset": offset, "status": status}) + "\n")

    @task(2)
    def datastore(self):
        d = random.choice([dict(v, name=k) for k, v in DATASETS.items() if v["table"]])
        self.call("datastore_search", "GET", f"/api/3/action/datastore_search?resource_id={d['table']}&limit=10")

    @task(1)
    def resource_page(self):
        d = self.some_dataset()
        self.call("resource page", "GET", f"/dataset/{d['name']}/resource/{random.choice(d['resources'])}")


class Anonymous(Caller):
    weight = 5


class Researcher(Caller):
    weight = 4
    role = "researcher"

    @task(2)
    def accept(self):
        if MODE != "full":
            return
        name = f"accept-{random.randint(1, 6)}"
        self.call("agreement_accept", "POST", "/api/3/action/governance_agreement_accept",
                  json={"id": name, "typed_name": self.name_})

    @task(2)
    def request(self):
        if MODE != "full":
            return
        name = f"req-{random.randint(1, 8)}"
        status, answer = self.call("request_create", "POST", "/api/3/action/governance_request_create",
                                   json={"id": name, "commercial": False,
                                         "intended_use": "A study of the load run, for the exactness checks made after it ends."})
        if status == 200 and answer:
            _writes.write(json.dumps({"kind": "request_create", "id": answer["result"]["id"]}) + "\n")


class Reviewer(Caller):
    weight = 1
    role = "reviewer"

    @task(6)
    def decide(self):
        if MODE != "full":
            return
        status, answer = self.call("request_list", "GET",
                                   "/api/3/action/governance_request_list?organization=load-a&state=pending")
        if status != 200 or not answer:
            return
        pending = [r["id"] for r in answer["result"]["results"]][:5]
        if pending:
            decision = random.choice(("approve", "approve", "approve", "reject", "return"))
            status, answer = self.call("request_decide", "POST", "/api/3/action/governance_request_decide",
                                       json={"ids": pending, "decision": decision, "message": "Decided under load."})
            if status == 200:
                state = {"approve": "approved", "reject": "rejected", "return": "returned"}[decision]
                _writes.write(json.dumps({"kind": "request_decide", "ids": pending, "state": state}) + "\n")


class Publisher(Caller):
    weight = 1
    role = "publisher"

    @task(6)
    def change_terms(self):
        name = f"churn-{random.randint(1, 4)}"
        if MODE != "full":
            self.call("package_patch", "POST", "/api/3/action/package_patch",
                      json={"id": name, "notes": f"Edited under load {random.random()}"})
            return
        change = random.choice((
            {"access_tier": random.choice(("registered", "agreement", "controlled", "open")),
             "agreement": "load-a-dua"},
            {"embargo_until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 365 * 86400)),
             "embargo_reason": "Under review"},
            {"embargo_until": ""},
        ))
        self.call("package_patch", "POST", "/api/3/action/package_patch", json={"id": name, **change})
