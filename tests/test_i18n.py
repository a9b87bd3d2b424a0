"""Translations: the catalogue holds every marked string, German and Spanish translate
all of it, and every governance page and e-mail renders in each language with none of
our English left, dates in the language's own words.

What counts as "ours left in English": a fragment of three or more words of one of our
messages (between its placeholders) found in the page's visible text, for a message
whose translation differs from it. Every GET route of our blueprints is visited or
named here as not a page; a new one fails until it is.
"""
from __future__ import annotations

import datetime as dt
import html as html_lib
import pathlib
import re
import subprocess
import sys

import pytest
from babel import dates as babel_dates
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import ckan.plugins.toolkit as tk
from ckan.tests import factories
from ckan.tests.helpers import call_action

from people import api_headers

ROOT = pathlib.Path(__file__).resolve().parents[1]
I18N = ROOT / "ckanext" / "governance" / "i18n"
DOMAIN = "ckanext-governance"
LOCALES = ("de", "es")
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s|%s")


def catalogue(locale: str | None = None):
    if locale is None:
        return read_po((I18N / f"{DOMAIN}.pot").open())
    return read_po((I18N / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open(), locale=locale)


def forms(message) -> list[str]:
    value = message.id if message.string is None else message.string
    return list(value) if isinstance(value, (tuple, list)) else [value]


def test_the_catalogue_holds_every_marked_string(tmp_path):
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "pybabel"), "-q", "extract",
         "-F", "dev/i18n/babel.cfg", "-k", "_", "-k", "ungettext:1,2", "--omit-header",
         "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True)
    extracted = {m.id for m in read_po(fresh.open()) if m.id}
    committed = {m.id for m in catalogue() if m.id}
    assert extracted - committed == set(), "run make i18n"
    assert committed - extracted == set(), "run make i18n"
    # The presets' labels are looked up in it too.
    presets = (ROOT / "ckanext" / "governance" / "scheming" / "presets.yaml").read_text()
    assert set(re.findall(r"label: (.+)", presets)) <= committed


@pytest.mark.parametrize("locale", LOCALES)
def test_each_translation_is_complete_keeps_placeholders_and_is_compiled(locale):
    po = catalogue(locale)
    ids = {m.id for m in catalogue() if m.id}
    assert ids == {m.id for m in po if m.id}
    for message in po:
        if not message.id:
            continue
        strings = forms(message)
        assert all(strings) and "fuzzy" not in message.flags, message.id
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        assert set(PLACEHOLDER.findall(" ".join(strings))) == set(
            PLACEHOLDER.findall(" ".join(source))), message.id
    mo = read_mo((I18N / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb"))
    def table(cat):
        def key(v):
            return tuple(v) if isinstance(v, (list, tuple)) else v
        return {key(m.id): key(m.string) for m in cat if m.id}
    assert table(mo) == table(po), "run make i18n"


# Page checks -----------------------------------------------------------------

def _fragments() -> list[tuple[str, set[str]]]:
    """(English fragment of three or more words, the message's translations)."""
    found = []
    translated = {locale: {m.id: forms(m) for m in catalogue(locale) if m.id} for locale in LOCALES}
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in ids:
            for fragment in PLACEHOLDER.split(text):
                fragment = " ".join(fragment.split()).strip(" .,:;\"'()")
                if len(fragment.split()) >= 3:
                    found.append((fragment, {s for loc in LOCALES for s in translated[loc][message.id]}))
    return found


FRAGMENTS = _fragments()


def visible_text(page: str) -> str:
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    # Attribute values people read: placeholders, titles, labels.
    shown = " ".join(re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', page))
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page) + " " + shown).split())


def english_left(text: str) -> list[str]:
    return sorted({f for f, translations in FRAGMENTS
                   if f in text and not any(f in t for t in translations)})


def ours_translated(text: str, locale: str) -> int:
    """How many of our translations (their text before any placeholder, eight
    characters or more, differing from the English) the text holds."""
    found = 0
    for m in catalogue(locale):
        if not m.id:
            continue
        english = m.id if isinstance(m.id, tuple) else (m.id,)
        for s in forms(m):
            head = PLACEHOLDER.split(s)[0].strip()
            if len(head) >= 8 and head not in english and head in text:
                found += 1
    return found


@pytest.fixture(scope="module")
def world(empty_site):
    """Made once: the tests only read it."""
    empty_site()
    admin, publisher, researcher, reader = (factories.User() for _ in range(4))
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": publisher["name"], "capacity": "editor"}])
    ctx = {"user": publisher["name"]}
    call_action("governance_agreement_create", dict(ctx), owner_org=org["id"], name="cohort-dua",
                title="Cohort terms", body="Use it well.", renewal_days=365)
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=45)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    controlled = call_action(
        "package_create", dict(ctx), name="cohort", title="Cohort", owner_org=org["id"],
        access_tier="controlled", agreement="cohort-dua", data_use=["HMB", "IRB", "NCU"],
        resources=[{"url": "https://files.example.org/cohort.csv", "name": "Cohort"}])
    embargoed = call_action(
        "package_create", dict(ctx), name="rivers", title="Rivers", owner_org=org["id"],
        access_tier="registered", embargo_until=until.isoformat(), embargo_reason="Paper in review",
        resources=[{"url": "https://files.example.org/rivers.csv", "name": "Rivers"}])
    call_action("governance_agreement_accept", {"user": researcher["name"]}, id="cohort")
    request = call_action(
        "governance_request_create", {"user": researcher["name"]}, id="cohort",
        intended_use="A cohort study of rivers and health outcomes, carried out at a university.",
        institution="University", ethics_reference="ERB-1", commercial=False)
    call_action("governance_agreement_accept", {"user": reader["name"]}, id="cohort")
    other = call_action(
        "governance_request_create", {"user": reader["name"]}, id="cohort",
        intended_use="Another study of the cohort, for teaching methods of survival analysis.",
        institution="College", ethics_reference="ERB-2", commercial=False)
    call_action("governance_request_decide", {"user": admin["name"]}, ids=[other["id"]],
                decision="approve")
    return {"admin": admin, "publisher": publisher, "researcher": researcher, "reader": reader,
            "org": org, "controlled": controlled, "embargoed": embargoed, "until": until,
            "request": request}


# Every GET route of our blueprints: how this test visits it, or why it is no page.
NOT_PAGES = {
    "governance_agreements.organization_acceptances_csv": "CSV (its header row is data names)",
    "governance_ledger.organization_events_csv": "CSV (its header row is data names)",
}


def pages(w) -> dict[str, list[tuple[str, str | None]]]:
    """endpoint → [(path, user key or None)], plus CKAN pages our templates change."""
    org, rid = w["org"]["name"], w["request"]["id"]
    resource = w["controlled"]["resources"][0]["id"]
    return {
        "governance_agreements.agreement_edit": [("/agreement/cohort-dua/edit", "publisher")],
        "governance_agreements.agreement_new": [(f"/organization/{org}/agreements/new", "publisher")],
        "governance_agreements.agreement_read": [("/agreement/cohort-dua", None),
                                                 ("/agreement/cohort-dua/1", None)],
        "governance_agreements.dataset_agreement": [("/dataset/cohort/agreement", "publisher")],
        "governance_agreements.my_agreements": [("/dashboard/agreements", "researcher")],
        "governance_agreements.organization_agreements": [(f"/organization/{org}/agreements",
                                                           "admin")],
        "governance_publication.check_page": [("/dataset/cohort/governance/check", "publisher")],
        "governance_requests.my_access": [("/dashboard/access", "reader"),
                                          ("/dashboard/access", "researcher")],
        "governance_requests.request_edit": [(f"/request/{rid}/edit", "researcher")],
        "governance_requests.request_new": [("/dataset/rivers/request", "researcher"),
                                            ("/dataset/cohort/request", "reader")],
        "governance_requests.request_read": [(f"/request/{rid}", "admin")],
        "governance_requests.review_queue": [(f"/organization/{org}/requests", "admin")],
        # CKAN's pages with our panels, badges, facets and form fields.
        "dataset.read": [("/dataset/cohort", None), ("/dataset/rivers", "researcher")],
        "dataset.search": [("/dataset/", None)],
        "dataset.new": [(f"/dataset/new?owner_org={org}", "publisher")],
        "resource.read": [(f"/dataset/cohort/resource/{resource}", None)],
        "resource.download": [(f"/dataset/cohort/resource/{resource}/download", "researcher")],
    }


def test_every_route_of_ours_is_visited_or_named_as_no_page(app, world):
    ours = {r.endpoint for r in app.flask_app.url_map.iter_rules()
            if r.endpoint.startswith("governance") and "GET" in r.methods}
    assert ours - set(pages(world)) - set(NOT_PAGES) == set()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_governance_page_renders_in_the_language_with_none_of_our_english(
        app, world, locale):
    checked = 0
    for endpoint, visits in pages(world).items():
        for path, who in visits:
            response = app.get(f"/{locale}{path}", headers=api_headers(who and world[who]))
            assert response.status_code in (200, 403), (endpoint, path, response.status_code)
            text = visible_text(response.get_data(as_text=True))
            assert english_left(text) == [], (locale, path)
            assert ours_translated(text, locale) >= 1, (locale, path)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("locale", LOCALES)
def test_dates_in_pages_are_in_the_languages_own_words(app, world, locale):
    page = app.get(f"/{locale}/dataset/rivers", headers=api_headers(world["researcher"]))
    words = babel_dates.format_date(world["until"].date(), "long", locale=locale)
    assert words in visible_text(page.get_data(as_text=True))
    english = f"{world['until'].day} {world['until']:%B %Y}"
    assert english not in page.get_data(as_text=True)


EMAILS = sorted({p.name.split(".")[0] for p in (
    ROOT / "ckanext" / "governance" / "templates" / "governance" / "emails").glob("*.txt")})


def _email_variables() -> dict[str, object]:
    iso = "2027-03-03T00:00:00Z"
    return {
        "recipient_name": "Ada", "dataset_title": "Cohort", "dataset_url": "http://x/dataset/c",
        "embargo_at": iso, "tier": "controlled", "from_tier": "open", "to_tier": "controlled",
        "actor_name": None, "expires": iso, "access_url": "http://x/dashboard/access",
        "days_left": 7, "reason": "Misuse", "state": "approved", "message": "More detail",
        "request_url": "http://x/request/1", "requester_name": "Ben", "resubmitted": False,
        "flags": [], "days": 7,
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", EMAILS)
def test_every_email_renders_in_the_language_with_none_of_our_english(app, locale, template):
    variables = _email_variables()
    states = ["approved", "returned", "rejected"] if template == "request_decided" else [None]
    with app.flask_app.test_request_context("/", environ_base={"CKAN_LANG": locale}):
        for state in states:
            if state:
                variables["state"] = state
            for part in ("subject.txt", "txt", "html"):
                out = tk.render(f"governance/emails/{template}.{part}", dict(variables))
                text = visible_text(out)
                assert english_left(text) == [], (template, part, state)
                if part != "subject.txt" or len(text.split()) > 2:
                    assert ours_translated(text, locale) >= 1, (template, part, state, text)
    if template.startswith("embargo"):
        assert babel_dates.format_date(dt.date(2027, 3, 3), "long", locale=locale) in out


@pytest.mark.ckan_config("ckan.locale_default", "de")
def test_a_notification_is_delivered_in_the_sites_language(app, smtp):
    from ckanext.governance import notifications

    admin, publisher = factories.User(), factories.User()
    org = factories.Organization(users=[{"name": admin["name"], "capacity": "admin"},
                                        {"name": publisher["name"], "capacity": "editor"}])
    call_action("package_create", {"user": publisher["name"]}, name="lakes", title="Lakes",
                owner_org=org["id"])
    call_action("package_patch", {"user": publisher["name"]}, id="lakes", access_tier="registered",
                governance_confirm=True)
    smtp.start()
    notifications.send_due()
    (message,) = [m for m in smtp.inbox.messages if m["To"].addresses[0].addr_spec == admin["email"]]
    assert "Zugang zu „Lakes“ geändert zu Registrierte Nutzer" in message["Subject"]
    assert "Registrierte Nutzer" in message.get_body(("plain",)).get_content()
