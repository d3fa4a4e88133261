"""Pull-claim within capacity, against a real Redis through the console API: an agent with as many conversations as
its capacity is refused the next one (409, a clear error, nothing changed), as Rocket.Chat refuses a manual take
beyond an agent's maximum simultaneous chats; a crisis is never refused for capacity; the check and the claim are
one step, so claims racing from two console processes never overfill an agent.
"""

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.models import ConversationState, CrisisFlag
from tests.console_clients import console_app, sign_in, write_staff

PASSWORD = "Capacity-walk-password-1"
CAPACITY = 2


@pytest.fixture
def staff_file(tmp_path: Path) -> Path:
    return write_staff(tmp_path / "agents.yml", [{"id": "amy", "role": "nurse", "languages": ["en"],
                                                  "skills": ["general", "behavioral-health"], "capacity": CAPACITY}],
                       PASSWORD)


@pytest.fixture
def client(staff_console: TestClient) -> TestClient:
    return staff_console


async def claim(client: TestClient, headers: dict[str, str], conversation_id: str) -> tuple[int, dict[str, str]]:
    response = await client.post(f"/api/conversations/{conversation_id}/claim", headers=headers)
    return response.status, await response.json()


async def test_a_pull_claim_beyond_capacity_is_refused_and_changes_nothing_but_a_crisis_is_taken(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy = await sign_in(client, "amy", PASSWORD)
    for conversation_id in ("p1", "p2", "p3", "p4"):
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert [(await claim(client, amy, c))[0] for c in ("p1", "p2")] == [200, 200]
    before = (await queue.conversation("p3"), await queue.position("p3"), await queue.position("p4"))
    trail_before = await audit.entries()

    status, refused = await claim(client, amy, "p3")
    assert status == 409
    assert refused["error"] == ("you already have 2 conversations, your capacity: close or hand one on before you "
                                "claim another (a crisis can always be claimed)")
    assert (await queue.conversation("p3"), await queue.position("p3"), await queue.position("p4")) == before
    assert {c.conversation_id for c in await queue.assigned_to("amy")} == {"p1", "p2"}
    assert await audit.entries() == trail_before, "a refused claim leaves no claim in the audit trail"

    crisis = CrisisFlag("suicide_self_harm", "I want to end my life tonight")
    await queue.enqueue_escalation("crisis", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS,
                                   "crisis_suicide_self_harm", crisis)
    status, taken = await claim(client, amy, "crisis")
    assert status == 200 and taken["conversation"]["agent_id"] == "amy", "a crisis is never refused for capacity"
    assert {c.conversation_id for c in await queue.assigned_to("amy")} == {"p1", "p2", "crisis"}
    assert (await claim(client, amy, "p3"))[0] == 409, "still full: the crisis made room for nothing else"
    claims = [(e.actor, e.action, e.conversation) for e in await audit.entries() if e.action == "claim"]
    assert claims == [("amy", "claim", "p1"), ("amy", "claim", "p2"), ("amy", "claim", "crisis")]


async def test_pull_claims_racing_from_two_consoles_never_overfill_an_agent(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog, redis: Redis, other_process: Redis,
    key_ring: KeyRing, keys: KeySpace, staff_file: Path
) -> None:
    conversations = [f"race-{index:02}" for index in range(12)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    other_queue = LiveAgentQueue(other_process, key_ring, keys)
    async with TestClient(TestServer(console_app(other_queue, audit, other_process, keys, staff_file))) as other:
        here, there = await sign_in(client, "amy", PASSWORD), await sign_in(other, "amy", PASSWORD)
        outcomes = await asyncio.gather(*(claim(client if index % 2 else other, here if index % 2 else there, c)
                                          for index, c in enumerate(conversations)))
    statuses = [status for status, _ in outcomes]
    assert sorted(statuses) == [200] * CAPACITY + [409] * (len(conversations) - CAPACITY)
    won = {c for c, (status, _) in zip(conversations, outcomes, strict=True) if status == 200}
    assert {c.conversation_id for c in await queue.assigned_to("amy")} == won
    waiting = await queue.waiting(["en"])
    assert {c.conversation_id for c in waiting} == set(conversations) - won
    assert all(c.state == ConversationState.QUEUED for c in waiting)
    assert len([e for e in await audit.entries() if e.action == "claim"]) == CAPACITY
