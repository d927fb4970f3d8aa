"""The OpenAPI document: every request body typed, with an example that its route accepts.

The examples are written for the demo site (``examples/harbour-physio.toml``)
at the suite's fixed clock (2026-11-23), so a client can try each one as it
stands against ``slotwise demo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from slotwise.domain.access import Scope
from slotwise.domain.actors import Actor
from slotwise.services import keys
from slotwise.services.sites import apply_site
from slotwise.sitefile import load_site_file

DEMO = Path(__file__).resolve().parents[2] / "examples" / "harbour-physio.toml"
APPLIER = Actor.system("tests")
SITE = "harbour-physio"
# What comes later needs what came before left standing: the whole document last
# (it retires what it does not name), cancelling after moving.
LAST = ("/cancel", "PUT /api/v1/admin/sites/{site}")


@pytest.fixture
async def key(clock) -> str:
    await apply_site(load_site_file(DEMO), actor=APPLIER, now=clock())
    created = await keys.create_key(SITE, name="Examples", scopes=list(Scope), expires_at=None,
                                    actor=APPLIER, now=clock())
    return created.secret


async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return resolved(doc, doc["components"]["schemas"][ref.rsplit("/", 1)[1]]) if ref else schema


def bodies(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, schema) of every JSON request body, in the order the examples can run.

    (The CSV imports take ``text/csv``: their sheets are documented in docs/csv.md.)
    """
    found = [(method.upper(), path, resolved(doc, content["schema"]))
             for path, item in doc["paths"].items() for method, operation in item.items()
             if isinstance(operation, dict) and "requestBody" in operation
             for media, content in operation["requestBody"]["content"].items() if media == "application/json"]
    return sorted(found, key=lambda b: [part in f"{b[0]} {b[1]}" for part in LAST])


async def test_no_request_body_is_a_generic_object_and_each_has_an_example(client):
    doc = await document(client)
    found = bodies(doc)

    assert len(found) >= 13  # public, manage, admin bookings, time off, catalog, the whole site
    for method, path, schema in found:
        where = f"{method} {path}"
        assert schema.get("type") == "object", where
        assert schema.get("properties"), f"{where}: a generic object"
        assert schema.get("additionalProperties") is False, f"{where}: unknown fields must be refused"
        assert schema.get("examples"), f"{where}: no example"
        for name, example in ((n, e) for e in schema["examples"] for n in e):
            assert name in schema["properties"], f"{where}: the example's {name} is not in the schema"


async def test_every_example_is_accepted_by_its_route_and_an_unknown_field_is_refused(client, key):
    doc = await document(client)
    headers = {"Authorization": f"Bearer {key}"}
    # A booking with Ben (who works on Wednesdays, where the move examples go), for the
    # routes on one booking.
    booked = await client.post(f"/api/v1/sites/{SITE}/bookings", json={
        "service": "follow-up", "start": "2026-11-30T15:00:00+01:00", "resource": "ben",
        "customer": {"name": "Ex Ample", "email": "ex@example.com"}})
    assert booked.status_code == 201, booked.text
    # A webhook endpoint, for the routes on one endpoint (its URL is not resolved before a send).
    hook = await client.post(f"/api/v1/admin/sites/{SITE}/webhooks", headers=headers, json={
        "url": "https://hooks.example.com/slotwise", "events": ["booking.created"]})
    assert hook.status_code == 201, hook.text
    pinned = {"site": SITE, "token": booked.json()["manage_url"].rsplit("/", 1)[1],
              "booking_id": "bkg_" + booked.json()["id"].replace("-", ""), "resource": "anna",
              "service": "follow-up", "webhook": hook.json()["id"],
              "event": "confirmed", "channel": "email", "locale": "de"}  # the template examples are emails

    answered = []
    for method, path, schema in bodies(doc):
        url = path.format(**pinned)
        example = schema["examples"][0]
        refused = await client.request(method, url, json={**example, "no_such_field": 1}, headers=headers)
        assert refused.status_code == 422, (method, path, refused.text)
        assert "no_such_field" in [e["name"] for e in refused.json()["errors"]], (method, path, refused.text)

        response = await client.request(method, url, json=example, headers=headers)
        assert 200 <= response.status_code < 300, (method, path, example, response.text)
        answered.append(f"{method} {path}")
    assert "POST /api/v1/admin/sites/{site}/bookings" in answered


async def test_a_body_over_a_megabyte_is_a_413_problem(client, key):
    response = await client.post(f"/api/v1/sites/{SITE}/bookings", content=b'{"service": "' + b"x" * 1_100_000
                                 + b'"}', headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/body-too-large")


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/bookings", {"service": 5, "start": "soon", "customer": "Erika", "zz": 1},
     {("service", "string-expected"), ("start", "instant-expected"), ("customer", "object-expected"),
      ("zz", "field-unknown")}),
    ("/bookings", {"service": "follow-up", "start": "2026-11-30T15:00:00",
                   "customer": {"name": "E", "email": "e@example.com", "fax": "1"}, "answers": {"notes": [1]}},
     {("start", "offset-missing"), ("customer.fax", "field-unknown"), ("answers.notes", "value-invalid")}),
    ("/holds", {"start": "2026-11-30T15:00:00+01:00"}, {("service", "required")}),
])
async def test_every_problem_of_a_typed_body_is_reported_at_once_with_its_path_and_code(
        client, key, path, body, expected):
    response = await client.post(f"/api/v1/sites/{SITE}{path}", json=body)

    assert response.status_code == 422, response.text
    assert {(e["name"], e["code"]) for e in response.json()["errors"]} == expected


async def test_a_missing_or_malformed_body_is_named_not_a_crash(client, key):
    empty = await client.post(f"/api/v1/sites/{SITE}/bookings", headers={"content-type": "application/json"})
    broken = await client.post(f"/api/v1/sites/{SITE}/bookings", content=b'{"service": ',
                               headers={"content-type": "application/json"})
    listed = await client.post(f"/api/v1/sites/{SITE}/bookings", json=[1])
    admin = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    table = await client.post(f"/api/v1/admin/sites/{SITE}/resources", content=b'{"key": ', headers=admin)
    not_a_table = await client.post(f"/api/v1/admin/sites/{SITE}/resources", content=b'"mia"', headers=admin)

    assert (empty.status_code, empty.json()["errors"]) == (422, [
        {"name": "body", "code": "required", "detail": "is required"}])
    assert (broken.status_code, broken.json()["type"]) == (400, "https://slotwise.dev/problems/malformed-body")
    assert (listed.status_code, listed.json()["errors"][0]["code"]) == (422, "object-expected")
    assert (table.status_code, table.json()["type"]) == (400, "https://slotwise.dev/problems/malformed-body")
    assert (not_a_table.status_code, not_a_table.json()["errors"][0]["code"]) == (422, "object-expected")


async def test_no_json_answer_of_the_api_is_a_generic_object_and_each_has_an_example(client):
    doc = await document(client)

    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, answer in operation.get("responses", {}).items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if path.startswith("/api/") and status.startswith("2") and schema is not None:
                    where = f"{method} {path} {status}"
                    schema = resolved(doc, schema)
                    assert schema.get("properties"), where
                    assert schema.get("examples"), f"{where}: no example"
                    for example in schema["examples"]:
                        assert set(schema.get("required", [])) <= set(example) <= set(schema["properties"]), where


async def test_a_body_the_document_calls_optional_may_be_left_out(client, key):
    doc = await document(client)
    booked = await client.post(f"/api/v1/sites/{SITE}/bookings", json={
        "service": "follow-up", "start": "2026-11-30T15:00:00+01:00",
        "customer": {"name": "Ex Ample", "email": "ex@example.com"}})
    pinned = {"site": SITE, "token": booked.json()["manage_url"].rsplit("/", 1)[1],
              "booking_id": "bkg_" + booked.json()["id"].replace("-", "")}
    optional = [(method.upper(), path) for path, item in doc["paths"].items() for method, operation in item.items()
                if isinstance(operation, dict) and operation.get("requestBody", {}).get("required") is False]

    assert len(optional) == 2  # the two cancels
    for method, path in optional:
        response = await client.request(method, path.format(**pinned), headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, (method, path, response.text)
