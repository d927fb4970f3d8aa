"""Per-client rate limits: writes and manage routes past their budget answer 429, availability reads past
a higher one; pages answer a page in the customer's language, the JSON API problem details, both with Retry-After."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest
from slotwise.domain.actors import Actor
from slotwise.services.sites import apply_site
from slotwise.web.app import create_app

from tests.support.sitefiles import parse_test_site

APPLIER = Actor.system("tests")

LIMIT = 3
READ_LIMIT = 5


@pytest.fixture
async def limited_client(clock, schema, settings, database):
    await apply_site(parse_test_site(), actor=APPLIER, now=clock())
    app = create_app(replace(settings, rate_limit_per_minute=LIMIT, read_rate_limit_per_minute=READ_LIMIT),
                     database=database, clock=clock)
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
    assert last.json()["type"].endswith("/rate-limited")
    assert 0 < int(last.headers["retry-after"]) <= 60
    assert last.json()["retry_after"] == int(last.headers["retry-after"])


AVAILABILITY = "/api/v1/sites/test-physio/availability"
DAY = {"service": "quick", "start": "2026-11-24", "end": "2026-11-24"}


async def test_availability_reads_have_a_higher_budget_of_their_own(limited_client):
    # Spending the write budget leaves reading alone...
    for _ in range(LIMIT + 1):
        await limited_client.post("/api/v1/sites/test-physio/holds", json={"service": "quick", "start": "x"})
    statuses = [(await limited_client.get(AVAILABILITY, params=DAY)).status_code for _ in range(READ_LIMIT + 1)]

    # ...which has more requests than writes, and then stops too.
    assert statuses == [200] * READ_LIMIT + [429]
    last = await limited_client.get(AVAILABILITY, params=DAY)
    assert last.headers["content-type"].startswith("application/problem+json")
    assert int(last.headers["retry-after"]) > 0


async def test_the_booking_page_past_its_budget_is_a_readable_page_in_the_customers_language(limited_client):
    page = "/book/test-physio"
    for _ in range(READ_LIMIT):
        assert (await limited_client.get(page, params={"locale": "de"})).status_code == 200
    response = await limited_client.get(page, params={"locale": "de"})

    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert int(response.headers["retry-after"]) > 0
    assert "Zu viele Anfragen" in response.text
    assert '<html lang="de">' in response.text
    # The widget's frame may still show it: the site's origins may frame it, as they may the page.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors https://test-physio.example" in response.headers["content-security-policy"]


async def test_a_limited_htmx_request_swaps_in_the_message_instead_of_the_step(limited_client):
    for _ in range(READ_LIMIT):
        await limited_client.get("/book/test-physio")
    response = await limited_client.get("/book/test-physio", params={"service": "quick"},
                                        headers={"HX-Request": "true", "Accept-Language": "de-DE,de;q=0.9"})

    assert response.status_code == 429
    assert response.headers["hx-retarget"] == "#sw-step"
    assert response.text.lstrip().startswith(("{#", "<section")) and "<html" not in response.text
    assert "Zu viele Anfragen" in response.text


async def test_a_booking_form_past_the_write_budget_answers_a_page_in_the_forms_language(limited_client):
    form = {"service": "quick", "start": "2026-11-24T09:00:00+01:00", "locale": "de", "tz": "Europe/Berlin"}
    for _ in range(LIMIT):
        await limited_client.post("/book/test-physio/hold", data=form)
    response = await limited_client.post("/book/test-physio/hold", data=form)

    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.text and "Retry-After" in response.headers


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


async def test_a_refused_form_is_not_parsed_when_it_is_large(limited_client):
    # Past its budget a client gets no parsing of big bodies from us: the page falls back to the browser's language.
    form = {"service": "quick", "locale": "de", "padding": "x" * 20_000}
    for _ in range(LIMIT):
        await limited_client.post("/book/test-physio/hold", data=form)
    response = await limited_client.post("/book/test-physio/hold", data=form, headers={"Accept-Language": "en"})

    assert response.status_code == 429 and "Too many requests" in response.text


async def test_windows_of_clients_that_never_return_are_swept_from_memory(schema, clock, settings, database):
    app = create_app(replace(settings, rate_limit_per_minute=3), database=database, clock=clock)
    store = app.stores.get("rate_limit")
    await store.set("BudgetMiddleware::write:192.0.2.1", "{}", expires_in=1)
    await asyncio.sleep(1.1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        await http.get(f"/api/v1/manage/{'x' * 43}")

    # Litestar's MemoryStore drops an expired entry only when it is read again (or swept).
    assert "BudgetMiddleware::write:192.0.2.1" not in store._store


async def test_a_manage_page_past_the_write_budget_is_a_page_that_nobody_may_frame(limited_client):
    page = f"/manage/{'x' * 43}"
    statuses = [(await limited_client.get(page, headers={"Accept-Language": "de"})).status_code
                for _ in range(LIMIT)]
    response = await limited_client.get(page, headers={"Accept-Language": "de"})

    assert statuses == [404] * LIMIT
    assert response.status_code == 429 and "Zu viele Anfragen" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert f'href="{page}"' in response.text  # "Try again": the same page


async def test_while_redis_does_not_answer_each_process_counts_on_its_own(schema, clock, settings, database):
    # Nothing listens on port 1: every call to Redis fails at once.
    app = create_app(replace(settings, rate_limit_per_minute=3, redis_url="redis://127.0.0.1:1/0"),
                     database=database, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as http:
        statuses = [(await http.get(f"/api/v1/manage/{'x' * 43}")).status_code for _ in range(5)]

    assert statuses == [404, 404, 404, 429, 429]  # never a 500, and still limited


async def test_a_redis_that_hangs_costs_one_request_a_timeout_not_every_request(schema, clock, settings, database):
    async def silent(reader, writer):  # accepts, reads, never answers
        await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app = create_app(replace(settings, rate_limit_per_minute=3, redis_url=f"redis://127.0.0.1:{port}/0"),
                     database=database, clock=clock)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver.local") as http:
            started = time.monotonic()
            statuses = [(await http.get(f"/api/v1/manage/{'x' * 43}")).status_code for _ in range(6)]
            elapsed = time.monotonic() - started
    finally:
        server.close()

    assert statuses == [404, 404, 404, 429, 429, 429]
    assert elapsed < 4  # one 1-second timeout; waiting on Redis each time would take 6


async def _spend(urls: list[str], requests_each: int) -> list[int]:
    """``requests_each`` requests to each server at once: the statuses."""
    async with httpx.AsyncClient(timeout=30) as http:
        calls = [http.get(f"{url}/api/v1/manage/{'x' * 43}") for url in urls for _ in range(requests_each)]
        return [response.status_code for response in await asyncio.gather(*calls)]


def test_two_served_processes_sharing_redis_share_one_budget(server_environment, redis_url):
    from tests.support.servers import ServerProcess

    environment = {**server_environment, "SLOTWISE_RATE_LIMIT": "10", "SLOTWISE_REDIS_URL": redis_url}
    with ServerProcess(environment) as first, ServerProcess(environment) as second:
        statuses = asyncio.run(_spend([first.url, second.url], 15))

    # 30 requests at once, half to each process: exactly the one budget gets through.
    assert statuses.count(404) == 10
    assert statuses.count(429) == 20


def test_without_redis_each_process_counts_on_its_own(server_environment):
    from tests.support.servers import ServerProcess

    environment = {**server_environment, "SLOTWISE_RATE_LIMIT": "10"}
    with ServerProcess(environment) as first, ServerProcess(environment) as second:
        statuses = asyncio.run(_spend([first.url, second.url], 15))

    assert statuses.count(404) == 20  # memory: what SLOTWISE_REDIS_URL is for


async def test_budgets_judge_a_request_without_a_worker_thread(limited_client):
    # Both budgets' middleware sees every request. Judging it must not wait for
    # a worker thread (Litestar runs a plain check_throttle_handler in one): with
    # the loop's only worker thread held, a request that counts against no
    # budget passes, and one past its budget is refused, both at once.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    body = {"service": "quick", "start": "x"}
    for _ in range(LIMIT):
        await limited_client.post("/api/v1/sites/test-physio/holds", json=body)
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
    gate = threading.Event()
    held = loop.run_in_executor(None, gate.wait)
    try:
        ping = await asyncio.wait_for(limited_client.get("/api/v1/ping"), timeout=5)
        refused = await asyncio.wait_for(limited_client.post("/api/v1/sites/test-physio/holds", json=body), timeout=5)
    finally:
        gate.set()
        await held
        loop.set_default_executor(ThreadPoolExecutor())
    assert ping.status_code == 200
    assert refused.status_code == 429
