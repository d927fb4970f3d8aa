"""The real twilio SDK (async client) against a local peer speaking Twilio's Messages API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slotwise.adapters.delivery import (
    OutgoingSms,
    PermanentDeliveryError,
    RecipientOptedOut,
    TransientDeliveryError,
)
from slotwise.adapters.twilio_sms import RebasedAsyncHttpClient, TwilioTexter

from tests.support.fake_twilio import FakeTwilio
from tests.support.servers import free_port

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"
FROM = "+15005550006"
OK = "+4915112345678"
OPTED_OUT = "+15005550010"
INVALID = "+15005550001"
NOT_MOBILE = "+15005550002"
RATE_LIMITED = "+15005550020"
TOO_MANY = "+15005550021"
BROKEN = "+15005550030"
UNAVAILABLE = "+15005550031"
SLOW = "+15005550040"

FAILURES = {
    OPTED_OUT: (400, 21610),
    INVALID: (400, 21211),
    NOT_MOBILE: (400, 21614),
    RATE_LIMITED: (429, 20429),
    TOO_MANY: (429, None),
    BROKEN: (500, None),
    UNAVAILABLE: (503, 20503),
}


@pytest.fixture
async def peer() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(failures=dict(FAILURES), delays={SLOW: 2.0}) as server:
        yield server


@pytest.fixture
async def texter(peer: FakeTwilio) -> AsyncIterator[TwilioTexter]:
    async with TwilioTexter(ACCOUNT_SID, AUTH_TOKEN, api_base=peer.base_url) as sender:
        yield sender


def sms(to: str, body: str = "Booked: Haircut, Tue 24 Nov, 09:00 at Salon. Manage: https://x.test/m/abc") -> OutgoingSms:
    return OutgoingSms(to=to, from_number=FROM, body=body)


async def test_message_arrives_with_to_from_body_and_account(peer: FakeTwilio, texter: TwilioTexter) -> None:
    body = "Gebucht: Schnitt, Di. 24. Nov., 09:00 Uhr, Salon Größe. Ändern: https://x.test/m/abc?x=1&y=2"
    sid = await texter.send(sms(OK, body))

    assert sid.startswith("SM") and len(sid) == 34
    [received] = peer.messages
    assert (received.to, received.from_, received.body) == (OK, FROM, body)
    assert received.account_sid == ACCOUNT_SID
    assert received.auth_user == ACCOUNT_SID
    assert received.sid == sid


async def test_one_client_serves_many_sends_and_is_recreated_after_close(peer: FakeTwilio) -> None:
    texter = TwilioTexter(ACCOUNT_SID, AUTH_TOKEN, api_base=peer.base_url)
    sids = await asyncio.gather(*(texter.send(sms(OK, f"message {i}")) for i in range(5)))
    http = texter._http
    assert http is not None
    await texter.aclose()
    assert http.session is not None and http.session.closed

    sids.append(await texter.send(sms(OK, "after close")))
    await texter.aclose()
    assert len(set(sids)) == 6
    assert sorted(m.body for m in peer.messages) == sorted([f"message {i}" for i in range(5)] + ["after close"])


async def test_opted_out_recipient(peer: FakeTwilio, texter: TwilioTexter) -> None:
    with pytest.raises(RecipientOptedOut) as caught:
        await texter.send(sms(OPTED_OUT))
    assert caught.value.code == "21610"
    assert isinstance(caught.value, PermanentDeliveryError)
    assert peer.messages == []


@pytest.mark.parametrize(("number", "code"), [(INVALID, "21211"), (NOT_MOBILE, "21614")])
async def test_invalid_numbers_fail_permanently(texter: TwilioTexter, number: str, code: str) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await texter.send(sms(number))
    assert caught.value.code == code
    assert not isinstance(caught.value, RecipientOptedOut)


@pytest.mark.parametrize(("number", "code"), [(RATE_LIMITED, "20429"), (TOO_MANY, "429"),
                                              (BROKEN, "500"), (UNAVAILABLE, "20503")])
async def test_rate_limits_and_server_errors_are_transient(texter: TwilioTexter, number: str, code: str) -> None:
    with pytest.raises(TransientDeliveryError) as caught:
        await texter.send(sms(number))
    assert caught.value.code == code


async def test_wrong_credentials_are_permanent(peer: FakeTwilio) -> None:
    async with TwilioTexter("AC" + "f" * 32, AUTH_TOKEN, api_base=peer.base_url) as texter:
        # The peer wants the path's SID as the Basic user; make them differ.
        texter._ensure_client().auth = ("ACsomeoneelse", AUTH_TOKEN)
        with pytest.raises(PermanentDeliveryError) as caught:
            await texter.send(sms(OK))
    assert caught.value.code == "20003"


async def test_closed_port_is_transient() -> None:
    async with TwilioTexter(ACCOUNT_SID, AUTH_TOKEN, api_base=f"http://127.0.0.1:{free_port()}") as texter:
        with pytest.raises(TransientDeliveryError):
            await texter.send(sms(OK))


async def test_timeout_is_transient(peer: FakeTwilio) -> None:
    async with TwilioTexter(ACCOUNT_SID, AUTH_TOKEN, api_base=peer.base_url, timeout=0.3) as texter:
        with pytest.raises(TransientDeliveryError):
            await texter.send(sms(SLOW))


async def test_rebase_keeps_path_and_query_for_any_twilio_domain() -> None:
    http = RebasedAsyncHttpClient("http://127.0.0.1:9999/prefix/")
    try:
        assert (http.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1")
                == "http://127.0.0.1:9999/prefix/2010-04-01/Accounts/AC1/Messages.json?a=1")
        assert http.rebase("https://messaging.twilio.com/v1/Services") == "http://127.0.0.1:9999/prefix/v1/Services"
    finally:
        await http.close()
    plain = RebasedAsyncHttpClient(None)
    try:
        assert plain.rebase("https://api.twilio.com/x") == "https://api.twilio.com/x"
    finally:
        await plain.close()
    with pytest.raises(ValueError):
        RebasedAsyncHttpClient("127.0.0.1:9999")
