"""Per-client rate limits: writes and manage routes answer 429 past the limit; reads do not."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.sitefiles import parse_test_site

APPLIER = Actor.system("tests")

LIMIT = 3


@pytest.fixture
async def limited_client(clock, schema, settings, database):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    app = create_app(replace(settings, rate_limit_per_minute=LIMIT), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver.local") as http:
        yield http


async def test_holds_past_the_limit_answer_429_problem_details(limited_client):
    body = {"service": "quick", "start": "2026-11-24T09:00:00+01:00"}
    statuses = [(await limited_client.post("/api/v1/sites/test-physio/holds", json=body)).status_code
                for _ in range(LIMIT + 1)]

    assert statuses[:LIMIT] == [201, 409, 409]
    assert statuses[LIMIT] == 429
    last = await limited_client.post("/api/v1/sites/test-physio/holds", json=body)
    assert last.headers["content-type"].startswith("application/problem+json")
    assert last.json()["status"] == 429


async def test_reading_availability_is_not_limited(limited_client):
    params = {"service": "quick", "start": "2026-11-24", "end": "2026-11-24"}
    for _ in range(LIMIT * 3):
        response = await limited_client.get("/api/v1/sites/test-physio/availability", params=params)
        assert response.status_code == 200


async def test_forged_forwarded_for_headers_share_the_peers_quota(schema, clock, settings, database):
    limited = create_app(replace(settings, rate_limit_per_minute=3), database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://testserver.local") as http:
        statuses = [(await http.get(f"/api/v1/manage/{'x' * 43}",
                                    headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(5)]

    assert statuses == [404, 404, 404, 429, 429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_quota(schema, clock, settings, database):
    proxied = create_app(replace(settings, rate_limit_per_minute=3, trusted_proxies=("127.0.0.1/32",)),
                         database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxied), base_url="http://testserver.local") as http:
        others = [(await http.get(f"/api/v1/manage/{'x' * 43}",
                                  headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(5)]
        same = [(await http.get(f"/api/v1/manage/{'x' * 43}",
                                headers={"X-Forwarded-For": "198.51.100.200"})).status_code for _ in range(4)]

    assert others == [404] * 5
    assert same == [404, 404, 404, 429]


def test_a_served_process_does_not_take_the_client_from_a_forged_header(server_environment):
    # uvicorn believes X-Forwarded-For from loopback unless told not to; the server must not.
    from tests.support.servers import ServerProcess

    with ServerProcess({**server_environment, "SLOTWISE_RATE_LIMIT": "3"}) as server:
        statuses = [httpx.get(f"{server.url}/api/v1/manage/{'x' * 43}",
                              headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(5)]

    assert statuses == [404, 404, 404, 429, 429]
