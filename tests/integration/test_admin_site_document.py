"""The whole site as one document through the admin API: read as JSON or a site file, applied back."""

from __future__ import annotations

from pathlib import Path

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.persistence.tables import Site
from slotwise.services import keys
from slotwise.services.sites import apply_site
from slotwise.sitefile import load_site_file, parse_site

APPLIER = Actor.system("tests")
DEMO = Path(__file__).resolve().parents[2] / "examples" / "harbour-physio.toml"
DOCUMENT = "/api/v1/admin/sites/harbour-physio/"


@pytest.fixture(autouse=True)
async def site(clock) -> None:
    await apply_site(load_site_file(DEMO), actor=APPLIER, now=clock())


@pytest.fixture
async def owner(clock) -> dict[str, str]:
    created = await keys.create_key("harbour-physio", name="Sync", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return {"Authorization": f"Bearer {created.secret}"}


async def version() -> int:
    return (await Site.select(Site.config_version).first())["config_version"]


async def test_the_site_file_read_back_is_the_site_file_applied(client, owner, tmp_path, slotwise):
    exported = await client.get(DOCUMENT, headers={**owner, "Accept": "application/toml"})

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/toml")
    assert parse_site(exported.text, source="export.toml") == load_site_file(DEMO)
    (tmp_path / "export.toml").write_text(exported.text)
    again = slotwise("apply", str(tmp_path / "export.toml"))
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout


async def test_a_document_sent_back_unchanged_changes_nothing_and_keeps_its_etag(client, owner):
    read = await client.get(DOCUMENT, headers=owner)
    before = await version()

    put = await client.put(DOCUMENT, json=read.json(), headers={**owner, "If-Match": read.headers["etag"]})

    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False and put.json()["etag"] == read.headers["etag"]
    assert await version() == before


async def test_a_changed_document_applies_like_a_site_file_and_a_stale_etag_is_412(client, owner):
    read = await client.get(DOCUMENT, headers=owner)
    document = read.json()
    document["services"][0]["name"] = "Erstbefund (neu)"

    changed = await client.put(DOCUMENT, json=document, headers={**owner, "If-Match": read.headers["etag"]})
    stale = await client.put(DOCUMENT, json=document, headers={**owner, "If-Match": read.headers["etag"]})

    assert changed.status_code == 200, changed.text
    assert changed.json()["updated"] == [f"service {document['services'][0]['slug']}"]
    assert stale.status_code == 412
    services = (await client.get("/api/v1/sites/harbour-physio/services")).json()["services"]
    assert services[0]["name"] == "Erstbefund (neu)"


async def test_a_toml_document_with_mistakes_is_refused_with_the_site_files_messages(client, owner):
    exported = (await client.get(DOCUMENT, headers={**owner, "Accept": "application/toml"})).text

    broken = await client.put(DOCUMENT, content=exported.replace('timezone = "Europe/Berlin"',
                                                                 'timezone = "Europe/Berln"', 1),
                              headers={**owner, "Content-Type": "application/toml"})
    other = await client.put(DOCUMENT, content=exported.replace('slug = "harbour-physio"', 'slug = "elsewhere"'),
                             headers={**owner, "Content-Type": "application/toml"})
    garbage = await client.put(DOCUMENT, content="[site\nname=", headers={**owner, "Content-Type": "application/toml"})

    assert broken.status_code == 422 and broken.json()["errors"][0]["name"] == "site.timezone"
    assert "Europe/Berlin" in broken.json()["errors"][0]["detail"]  # did you mean
    assert other.status_code == 422 and other.json()["errors"][0]["name"] == "site.slug"
    assert garbage.status_code == 422


async def test_reading_needs_catalog_read_and_applying_catalog_write(client, clock):
    reader = await keys.create_key("harbour-physio", name="Reader", scopes=[Scope.CATALOG_READ],
                                   expires_at=None, actor=APPLIER, now=clock())
    headers = {"Authorization": f"Bearer {reader.secret}"}
    read = await client.get(DOCUMENT, headers=headers)
    put = await client.put(DOCUMENT, json=read.json(), headers=headers)

    assert (read.status_code, put.status_code) == (200, 403)


async def test_a_site_without_prices_or_hours_of_its_own_round_trips_as_json_too(client, clock):
    squash = DEMO.with_name("squash-24-7.toml")
    await apply_site(load_site_file(squash), actor=APPLIER, now=clock())
    key = await keys.create_key("night-owl-squash", name="Sync", scopes=list(Scope), expires_at=None,
                                actor=APPLIER, now=clock())
    headers = {"Authorization": f"Bearer {key.secret}"}
    read = await client.get("/api/v1/admin/sites/night-owl-squash/", headers=headers)

    put = await client.put("/api/v1/admin/sites/night-owl-squash/", json=read.json(), headers=headers)

    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False
