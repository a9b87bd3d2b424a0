"""What a person sees on a dataset page, in a real browser."""
from __future__ import annotations

import pytest

from ckan.tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_db", "clean_index")]


def test_visitor_sees_dataset_title_description_and_resources(live_server, page, artifacts_dir):
    org = factories.Organization(title="Hydrology Lab")
    factories.Dataset(
        name="river-flows",
        title="River flow measurements",
        notes="Daily discharge of the rivers in the **northern basin**.",
        owner_org=org["id"],
        resources=[
            {"name": "Daily flows 2025", "url": "https://data.example.org/flows.csv", "format": "CSV"},
            {"name": "Station list", "url": "https://data.example.org/stations.json", "format": "JSON"},
        ],
    )

    response = page.goto(f"{live_server}/dataset/river-flows")
    assert response is not None and response.status == 200

    assert page.locator("h1").first.inner_text().strip() == "River flow measurements"
    # Markdown in the description is rendered, not shown raw.
    assert page.locator(".notes strong", has_text="northern basin").is_visible()
    resources = page.locator(".resource-item .heading")
    assert resources.count() == 2
    assert "Daily flows 2025" in resources.nth(0).inner_text()
    assert "Station list" in resources.nth(1).inner_text()
    assert page.get_by_role("link", name="Hydrology Lab").first.is_visible()

    shot = artifacts_dir / "dataset-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_search_page_finds_the_dataset_by_a_word_typed_into_the_box(live_server, page):
    factories.Dataset(name="river-flows", title="River flow measurements", notes="discharge")
    factories.Dataset(name="rainfall", title="Rainfall", notes="precipitation")

    page.goto(f"{live_server}/dataset/")
    page.fill("input[name=q]", "discharge")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dataset/?q=discharge*")

    results = page.locator(".dataset-item .dataset-heading")
    assert results.count() == 1
    assert "River flow measurements" in results.first.inner_text()
