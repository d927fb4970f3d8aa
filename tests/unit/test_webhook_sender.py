"""The webhook sender against a real receiver on loopback: the address check at send time, and its bounds."""

from __future__ import annotations

import pytest

from slotwise.adapters.webhook_sender import EXCERPT_CHARACTERS, WebhookSender

from tests.support.webhook_receiver import Answer, WebhookReceiver

BODY = b'{"type":"webhook.test"}'


@pytest.fixture
async def receiver():
    async with WebhookReceiver() as peer:
        yield peer


async def test_a_loopback_address_is_refused_without_the_flag(receiver: WebhookReceiver) -> None:
    sender = WebhookSender(allow_private=False)
    try:
        result = await sender.send(receiver.url, {}, BODY)
    finally:
        await sender.aclose()
    assert result.outcome == "refused" and "127.0.0.1" in result.error
    assert receiver.received == []


async def test_a_name_that_resolves_to_loopback_is_refused_at_send_time(receiver: WebhookReceiver) -> None:
    # "localhost" passes no check on the URL's text alone; its resolved address is what is refused.
    sender = WebhookSender(allow_private=False)
    try:
        result = await sender.send(f"http://localhost:{receiver.port}/hooks", {}, BODY)
    finally:
        await sender.aclose()
    assert result.outcome == "refused"
    assert receiver.received == []


async def test_a_name_that_changes_its_answer_is_judged_on_the_answer_used() -> None:
    async def public_then_loopback(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # any private address among them refuses the name

    sender = WebhookSender(allow_private=False, resolver=public_then_loopback)
    try:
        result = await sender.send("http://rebinding.example/hooks", {}, BODY)
    finally:
        await sender.aclose()
    assert result.outcome == "refused" and "127.0.0.1" in result.error


async def test_with_the_flag_the_request_goes_to_the_resolved_address_with_the_urls_host(
        receiver: WebhookReceiver) -> None:
    sender = WebhookSender(allow_private=True)
    try:
        result = await sender.send(f"http://localhost:{receiver.port}/hooks", {"webhook-id": "msg_1"}, BODY)
    finally:
        await sender.aclose()
    assert (result.outcome, result.status) == ("answered", 200)
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"
    assert receiver.received[0].headers["webhook-id"] == "msg_1"
    assert receiver.received[0].body == BODY.decode()


async def test_redirects_are_not_followed(receiver: WebhookReceiver) -> None:
    receiver.answers.append(Answer(status=307, headers={"Location": "http://169.254.169.254/"}))
    sender = WebhookSender(allow_private=True)
    try:
        result = await sender.send(receiver.url, {}, BODY)
    finally:
        await sender.aclose()
    assert result.status == 307 and len(receiver.received) == 1


async def test_a_huge_answer_is_cut_off(receiver: WebhookReceiver) -> None:
    receiver.answers.append(Answer(status=500, body=b"E" * (50 * 1024 * 1024)))
    sender = WebhookSender(allow_private=True)
    try:
        result = await sender.send(receiver.url, {}, BODY)
    finally:
        await sender.aclose()
    assert result.status == 500 and result.excerpt == "E" * EXCERPT_CHARACTERS


async def test_a_receiver_that_does_not_answer_times_out(receiver: WebhookReceiver) -> None:
    receiver.answers.append(Answer(hang=True))
    sender = WebhookSender(allow_private=True, timeout=0.3)
    try:
        result = await sender.send(receiver.url, {}, BODY)
    finally:
        await sender.aclose()
    assert result.outcome == "timeout" and result.status is None


async def test_a_receiver_that_is_down_is_an_error() -> None:
    peer = await WebhookReceiver().start()
    url = peer.url
    await peer.stop()
    sender = WebhookSender(allow_private=True)
    try:
        result = await sender.send(url, {}, BODY)
    finally:
        await sender.aclose()
    assert result.outcome == "error" and result.status is None


async def test_an_address_written_as_such_is_its_own_answer_and_a_name_is_resolved() -> None:
    from slotwise.adapters.webhook_sender import resolve

    assert await resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert await resolve("::1", 80) == ["::1"]
    assert "127.0.0.1" in await resolve("localhost", 80)
