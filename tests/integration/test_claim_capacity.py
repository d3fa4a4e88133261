"""Pull-claim respects the agent's capacity: past it, a claim gets 409 with a clear error and changes nothing; a
crisis, and a supervisor's claim, are never held back by it (``handoff.console.conversations.claim``)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.models import ConversationState, CrisisFlag
from handoff.settings import AgentAccess
from tests.console_clients import console_app, sign_in


@pytest_asyncio.fixture
async def client(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
                 ) -> AsyncIterator[TestClient]:
    app = console_app(queue, audit, redis, keys, agents_file, AgentAccess(default_capacity=1, auto_assign=False))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def claim(client: TestClient, conversation_id: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    response = await client.post(f"/api/conversations/{conversation_id}/claim", headers=headers)
    return response.status, await response.json()


async def test_a_claim_past_capacity_is_refused_and_changes_nothing_but_a_crisis_and_a_supervisor_get_through(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy, sam = await sign_in(client, "amy"), await sign_in(client, "sam")
    for conversation_id in ("first", "second", "third"):
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert (await claim(client, "first", amy))[0] == 200

    before = await queue.conversation("second")
    status, refused = await claim(client, "second", amy)
    assert status == 409
    assert refused == {"error": "you are at your capacity (1 conversations at once): close, hand back or "
                                "transfer one before claiming another"}
    after = await queue.conversation("second")
    assert after == before and after is not None and after.state == ConversationState.QUEUED and after.agent_id is None
    assert [conversation.conversation_id for conversation in await queue.assigned_to("amy")] == ["first"]
    assert [(entry.actor, entry.conversation) for entry in await audit.entries() if entry.action == "claim"] == [
        ("amy", "first")]

    crisis = CrisisFlag("medical_emergency", "my chest hurts and my arm is numb")
    await queue.enqueue_escalation("crisis", "en", Skill.GENERAL, Priority.CRISIS, "crisis_medical_emergency", crisis)
    assert (await claim(client, "crisis", amy))[0] == 200, "a crisis is never held back by capacity"

    assert (await claim(client, "second", sam))[0] == 200
    assert (await claim(client, "third", sam))[0] == 200, "a supervisor is not bound by capacity"
    assert {conversation.conversation_id for conversation in await queue.assigned_to("amy")} == {"first", "crisis"}
