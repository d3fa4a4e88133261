"""Every bad request gets a clear 4xx error and changes nothing in Redis."""

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.audit import AuditLog
from handoff.crisis_alerts import ESCALATOR
from handoff.keys import (
    AGENT_PRESENCE,
    AUDIT_CHECKPOINTS,
    AUDIT_INTAKE,
    AUDIT_LOG,
    AUDIT_SEAL_LOCK,
    OPERATIONS,
    OPERATIONS_ONCE,
    RELAY_LEASE,
)
from handoff.presence import REAPER
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message

HOUSEKEEPING = {AUDIT_LOG, AUDIT_CHECKPOINTS, AUDIT_INTAKE, AUDIT_SEAL_LOCK, AGENT_PRESENCE, OPERATIONS,
                OPERATIONS_ONCE, RELAY_LEASE}
"""Key kinds the stack's background tasks write on their own clock (the audit sealer and intake, heartbeats, the
operations totals): a request's effect is judged on every other key."""


async def snapshot(redis: Redis) -> dict[bytes, Any]:
    """Every key a request could write, with its serialized value."""
    keys = [key for key in sorted(await redis.keys("*")) if [*key.decode().split(":"), ""][1] not in HOUSEKEEPING]
    return {key: await redis.dump(key) for key in keys}


def unchanged(after: dict[bytes, Any], before: dict[bytes, Any]) -> bool:
    """Nothing added or altered; a key that expired meanwhile (a rate counter of an earlier test) is no change."""
    return all(key in before and before[key] == value for key, value in after.items() if value is not None)


BACKGROUND_ACTORS = {REAPER, ESCALATOR}
"""The stack console's reaper: it sends back conversations that earlier tests' agents left (absent, or unanswered
for 60 s) and escalates their unacknowledged crises (30 s), whenever their time comes, and audits each change."""


async def assert_changes_nothing(stack: Stack, redis: Redis, requests: Callable[[], Awaitable[None]]) -> None:
    """Runs ``requests`` (which check their own answers) and asserts that Redis is unchanged after them.

    Should the reaper have changed something meanwhile (its audit entries say so), Redis cannot tell whose change
    it sees, so the requests run again from a fresh snapshot, at most three times in all; a change no reaper
    entry accounts for fails at once.
    """
    audit = AuditLog(redis, KeySpace(stack.config.namespace), KeyRing.from_spec(stack.config.audit_keys))
    for _ in range(3):
        started_ms = int(time.time() * 1000) - 1
        before = await snapshot(redis)
        await requests()
        if unchanged(await snapshot(redis), before):
            return
        reaped = [entry for entry in await audit.entries(started_ms) if entry.actor in BACKGROUND_ACTORS]
        assert reaped, "a bad request changed Redis"
    raise AssertionError("Redis changed on each of three tries, each time beside the reaper's work")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"sender": "", "message": "hello"}).encode(), 400, "sender must be"),
        (json.dumps({"sender": "a b/../c", "message": "hi"}).encode(), 400, "sender must be"),
        (json.dumps({"sender": 7, "message": "hi"}).encode(), 400, "sender must be"),
        (json.dumps({"sender": "p-1"}).encode(), 400, "message is required"),
        (json.dumps({"sender": "p-1", "message": "   "}).encode(), 400, "message is required"),
        (json.dumps({"sender": "p-1", "message": 42}).encode(), 400, "message is required"),
        (json.dumps({"sender": "p-1", "message": "x" * 4097}).encode(), 413, "exceeds 4096 bytes"),
        (json.dumps({"sender": "p-1", "message": "é" * 2049}).encode(), 413, "exceeds 4096 bytes"),
        (json.dumps({"sender": "p-1", "message": "hi", "metadata": "en"}).encode(), 400, "metadata"),
        (json.dumps({"sender": "p-1", "message": "hi", "message_id": "short"}).encode(), 400, "message_id must be"),
        (json.dumps({"sender": "p-1", "message": "hi", "message_id": 12345678}).encode(), 400, "message_id must be"),
        (json.dumps({"sender": "p-1", "message": "hi", "message_id": "a b/c" * 4}).encode(), 400, "message_id must"),
        (b"x" * 20000, 413, "request body exceeds"),
    ],
)
async def test_webhook_rejects_bad_messages(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, body: bytes, status: int, error: str
) -> None:
    async def send() -> None:
        async with http.post(
            stack.patient_webhook_url, data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == status
            assert error in (await response.json())["error"]

    await assert_changes_nothing(stack, redis, send)


async def test_push_refuses_wrong_token_and_unknown_conversation(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None
    cases = [
        ({"sender": patient.sender, "token": "forged"}, "wrong push token"),
        ({"sender": patient.sender}, "wrong push token"),
        ({"sender": "bad sender!", "token": handoff["push_token"]}, "sender must be"),
        ({"sender": patient.sender, "token": handoff["push_token"], "after": "$"}, "after must be"),
    ]

    async def connect() -> None:
        for params, error in cases:
            async with http.ws_connect(stack.patient_push_url, params=params) as push:
                message = await push.receive(timeout=20)
                assert error in json.loads(message.data)["error"]
                closing = await push.receive(timeout=20)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert push.close_code == 1008

    await assert_changes_nothing(stack, redis, connect)


async def test_push_refuses_a_conversation_that_does_not_exist(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    """A genuine token for a sender that never wrote still finds no conversation."""
    ring = KeyRing.from_spec(stack.config.data_keys)
    params = {"sender": "never-wrote", "token": ring.mac("patient-push", "never-wrote.1")}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        message = await push.receive(timeout=20)
        assert json.loads(message.data)["error"] == "no conversation with a person is open for this token"
    assert await redis.exists("{hcb}:conversation:never-wrote") == 0


@pytest_asyncio.fixture
async def agent(stack: Stack, http: aiohttp.ClientSession) -> AgentClient:
    client = AgentClient(http, stack)
    await client.login("amy", AGENT_PASSWORDS["amy"])
    return client


async def test_console_requires_a_valid_token(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    anonymous = AgentClient(http, stack)
    forged = AgentClient(http, stack)
    forged.token = "forged-token"

    async def call() -> None:
        for client in (anonymous, forged):
            for method, path, body in [
                ("GET", "/api/queue", None),
                ("POST", "/api/conversations/p-1/claim", None),
                ("GET", "/api/conversations/p-1/transcript", None),
                ("POST", "/api/conversations/p-1/messages", {"text": "hi"}),
                ("POST", "/api/conversations/p-1/close", {"outcome": "bot"}),
                ("POST", "/api/logout", None),
            ]:
                status, response = await client.call(method, path, body)
                assert status == 401, (method, path)
                assert "agent token" in response["error"]

    await assert_changes_nothing(stack, redis, call)


async def test_console_login_refuses_wrong_password(stack: Stack, http: aiohttp.ClientSession) -> None:
    client = AgentClient(http, stack)
    for body in ({"agent_id": "amy", "password": "wrong"}, {"agent_id": "nobody", "password": "x"}):
        status, response = await client.call("POST", "/api/login", body)
        assert status == 401 and "wrong password" in response["error"]
    status, response = await client.call("POST", "/api/login", {"agent_id": "amy"})
    assert status == 400


async def test_console_rejects_bad_requests_and_changes_nothing(
    stack: Stack, http: aiohttp.ClientSession, agent: AgentClient, redis: Redis
) -> None:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    spanish_only = AgentClient(http, stack)
    await spanish_only.login("luis", AGENT_PASSWORDS["luis"])
    conversation = f"/api/conversations/{patient.sender}"
    cases = [
        (agent, "POST", "/api/conversations/nobody/claim", None, 404),
        (agent, "GET", "/api/conversations/nobody/transcript", None, 404),
        (agent, "POST", "/api/conversations/nobody/messages", {"text": "hi"}, 404),
        (agent, "POST", "/api/conversations/nobody/close", {"outcome": "bot"}, 404),
        (agent, "GET", f"{conversation}/transcript", None, 403),
        (agent, "POST", f"{conversation}/messages", {"text": "hi"}, 403),
        (agent, "POST", f"{conversation}/messages", {"text": ""}, 400),
        (agent, "POST", f"{conversation}/messages", {"text": "x" * 4097}, 413),
        (agent, "POST", f"{conversation}/close", {"outcome": "later"}, 400),
        (spanish_only, "POST", f"{conversation}/claim", None, 403),
    ]
    headers = {"Authorization": f"Bearer {agent.token}", "Content-Type": "application/json"}
    base = stack.console_url.rstrip("/")

    async def call() -> None:
        for client, method, path, body, status in cases:
            got, response = await client.call(method, path, body)
            assert got == status, (method, path, body, response)
            assert response["error"]
        async with http.post(f"{base}{conversation}/messages", data=b"{oops", headers=headers) as response:
            assert response.status == 400
            assert "not valid JSON" in (await response.json())["error"]
        async with http.post(f"{base}{conversation}/messages", data=b"x" * 20000, headers=headers) as response:
            assert response.status == 413

    await assert_changes_nothing(stack, redis, call)
