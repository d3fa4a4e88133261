"""The console's sign-in rules over HTTP, on a real Redis: throttling, idle logoff, the training rule.

The console runs in this process (aiohttp's test server) so that each test can give it
limits of its own; the running stack's console is exercised by the e2e tests.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agent_sessions import LoginThrottle
from handoff.console import create_console_app
from handoff.models import ConversationState
from handoff.settings import AgentAccess
from tests.conftest import AGENT_PASSWORDS

Console = Callable[[AgentAccess], Awaitable[TestClient]]


@pytest_asyncio.fixture
async def console(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, agents_file: Path
) -> AsyncIterator[Console]:
    """Starts a console with the given sign-in settings on this test's key space."""
    clients: list[TestClient] = []

    async def start(access: AgentAccess) -> TestClient:
        app = create_console_app(
            LiveAgentQueue(redis, key_ring, keys),
            AgentSessions(redis, keys, AgentDirectory.from_file(agents_file), access),
            AuditLog(redis, keys, key_ring),
            LoginThrottle(redis, keys, access),
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def sign_in(client: TestClient, agent_id: str, password: str) -> tuple[int, dict[str, object], str]:
    """Status, JSON body and ``Retry-After`` of one sign-in."""
    response = await client.post("/api/login", json={"agent_id": agent_id, "password": password})
    return response.status, await response.json(), response.headers.get("Retry-After", "")


async def audit_trail(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> list[tuple[str, str, str]]:
    entries = await AuditLog(redis, keys, key_ring).entries()
    return [(entry.actor, entry.action, entry.conversation) for entry in entries]


async def test_sign_in_is_throttled_per_agent_id_and_every_refusal_is_audited(
    console: Console, redis: Redis, keys: KeySpace, key_ring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await console(AgentAccess(login_failures_per_agent=3, login_window_seconds=60))
    for attempt in range(3):
        assert (await sign_in(client, "amy", f"wrong-guess-{attempt}"))[0] == 401
    status, body, retry_after = await sign_in(client, "amy", AGENT_PASSWORDS["amy"])
    assert status == 429, "past the limit even the right password is not checked"
    assert "too many failed sign-ins" in str(body["error"])
    assert 0 < int(retry_after) <= 60
    assert (await sign_in(client, "luis", AGENT_PASSWORDS["luis"]))[0] == 200, "other agents still sign in"

    trail = await audit_trail(redis, keys, key_ring)
    [incident] = [entry for entry in trail if entry[1] == "incident_login_flood"]
    assert trail.index(incident) == 3, "the third failure trips the throttle: one incident (handoff.incidents)"
    trail.remove(incident)
    assert trail == [("amy", "login_failed", "-")] * 3 + [("amy", "login_throttled", "-"), ("luis", "login", "-")]
    everything = repr(await redis.keys(f"{{{keys.namespace}}}*")) + caplog.text + repr(trail)
    assert "wrong-guess" not in everything and AGENT_PASSWORDS["amy"] not in everything


async def test_sign_in_is_throttled_per_client_address(console: Console) -> None:
    client = await console(AgentAccess(login_failures_per_agent=3, login_failures_per_address=4))
    for index in range(4):
        assert (await sign_in(client, f"guess-{index}", "password-guess"))[0] == 401
    status, _, retry_after = await sign_in(client, "amy", AGENT_PASSWORDS["amy"])
    assert status == 429 and int(retry_after) > 0


async def test_a_correct_password_clears_the_agents_failures(console: Console) -> None:
    client = await console(AgentAccess(login_failures_per_agent=2))
    for _ in range(3):
        assert (await sign_in(client, "amy", "one-wrong-guess"))[0] == 401
        assert (await sign_in(client, "amy", AGENT_PASSWORDS["amy"]))[0] == 200


async def test_an_idle_console_session_is_signed_out(console: Console) -> None:
    client = await console(AgentAccess(session_idle_seconds=1))
    _, body, _ = await sign_in(client, "amy", AGENT_PASSWORDS["amy"])
    headers = {"Authorization": f"Bearer {body['token']}"}
    for _ in range(3):
        await asyncio.sleep(0.6)
        assert (await client.get("/api/mine", headers=headers)).status == 200
    await asyncio.sleep(1.3)
    response = await client.get("/api/mine", headers=headers)
    assert response.status == 401 and "expired" in (await response.json())["error"]


async def test_an_agent_with_lapsed_training_signs_in_but_cannot_claim_or_read(
    console: Console, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.enqueue_escalation("p-training", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    client = await console(AgentAccess())
    status, body, _ = await sign_in(client, "tess", AGENT_PASSWORDS["tess"])
    assert status == 200
    profile = body["agent"]
    assert isinstance(profile, dict) and "expired" in profile["training_problem"]
    headers = {"Authorization": f"Bearer {body['token']}"}

    for method, path in (
        ("POST", "/api/conversations/p-training/claim"),
        ("GET", "/api/conversations/p-training/transcript"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status == 403, path
        assert "HIPAA training" in (await response.json())["error"]
    conversation = await queue.conversation("p-training")
    assert conversation is not None and conversation.state == ConversationState.QUEUED

    trail = await audit_trail(redis, keys, key_ring)
    assert trail[1:] == [("tess", "forbidden_training_expired", "p-training")] * 2

    _, amy, _ = await sign_in(client, "amy", AGENT_PASSWORDS["amy"])
    assert isinstance(amy["agent"], dict) and amy["agent"]["training_problem"] is None
    claimed = await client.post(
        "/api/conversations/p-training/claim", headers={"Authorization": f"Bearer {amy['token']}"}
    )
    assert claimed.status == 200
