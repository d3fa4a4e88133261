"""The console's event socket against a real Redis: new tasks, assignments and transfers, patient messages and
crisis alerts reach the agent as they happen, with no message content; a bad token opens nothing."""

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from handoff import AuditLog, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.agents import AgentDirectory
from handoff.console.events import Seen, _changes
from handoff.models import CrisisFlag
from tests.console_clients import console_app, next_event, token_of
from tests.reaping import agent_left

DEADLINE_SECONDS = 10
SECRET = "he hits me every night"


@pytest.fixture
def client(console: TestClient) -> TestClient:
    return console


async def test_the_agent_hears_tasks_assignments_messages_and_crises_as_they_happen(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    token = await token_of(client, "amy")
    headers = {"Authorization": f"Bearer {token}"}
    async with client.ws_connect("/api/events") as socket:
        await socket.send_json({"token": token})
        assert (await next_event(socket, "queue"))["waiting"] == []
        await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        event = await next_event(socket, "queue")
        assert event["waiting"] == ["p1"] and [c["conversation_id"] for c in event["new"]] == ["p1"]

        assert (await client.post("/api/conversations/p1/claim", headers=headers)).status == 200
        assert [c["conversation_id"] for c in (await next_event(socket, "assignments"))["conversations"]] == ["p1"]
        first = await next_event(socket, "conversation_updated")
        await queue.record("p1", TranscriptRole.PATIENT, "my husband is home now")
        updated = await next_event(socket, "conversation_updated")
        assert (updated["conversation_id"], updated["entries"]) == ("p1", first["entries"] + 1)

        await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_violence_abuse",
                                       CrisisFlag("violence_abuse", SECRET))
        alert = await next_event(socket, "crisis_alert")
        assert (alert["conversation_id"], alert["category"]) == ("p1", "violence_abuse")

        moved = await client.post("/api/conversations/p1/transfer", headers=headers, json={"skill": "nurse"})
        assert moved.status == 200
        assert (await next_event(socket, "assignments"))["conversations"] == [], "transferred away"
        await client.post("/api/logout", headers=headers)
        closing = await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)
        while closing.type == aiohttp.WSMsgType.TEXT:
            assert "my husband" not in closing.data and SECRET not in closing.data
            closing = await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)
        assert socket.close_code == 1008, "the socket ends with the session"
    assert ("amy", "open_events") in [(e.actor, e.action) for e in await audit.entries()]


async def test_a_change_stored_as_the_session_ends_is_not_told(client: TestClient, queue: LiveAgentQueue) -> None:
    """The round that a change wakes checks the session beside its reads: a session ended when the change came tells
    the socket nothing more, however the two interleave."""
    for attempt in range(5):
        token = await token_of(client, "amy")
        async with client.ws_connect("/api/events") as socket:
            await socket.send_json({"token": token})
            await next_event(socket, "queue")
            await asyncio.gather(
                client.post("/api/logout", headers={"Authorization": f"Bearer {token}"}),
                queue.enqueue_escalation(f"after-logout-{attempt}", "en", Skill.GENERAL, Priority.NORMAL,
                                         "patient_request"),
            )
            await asyncio.sleep(0.1)
            await queue.enqueue_escalation(f"later-{attempt}", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
            told = []
            closing = await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)
            while closing.type == aiohttp.WSMsgType.TEXT:
                told.append(closing.data)
                closing = await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1008, "the socket ends with the session"
            assert not any(f"later-{attempt}" in event for event in told), "nothing after the session ended"


async def test_a_socket_without_a_live_token_opens_nothing(client: TestClient) -> None:
    for first in ({"token": "forged"}, {"nothing": 1}, "not json", {"token": 7}):
        async with client.ws_connect("/api/events") as socket:
            await (socket.send_json(first) if isinstance(first, dict) else socket.send_str(first))
            refused = json.loads((await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)).data)
            assert "error" in refused, first
            assert (await asyncio.wait_for(socket.receive(), DEADLINE_SECONDS)).type in (
                aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert socket.close_code == 1008


async def test_a_conversation_that_leaves_and_comes_back_between_two_rounds_is_told_again(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    """The page dropped a transferred conversation's tab at once; when it came back to the same agent before the
    next round, ids alone looked unchanged and the page never reopened it."""
    request = SimpleNamespace(app=console_app(queue, audit, redis, keys, agents_file))
    amy = AgentDirectory.from_file(agents_file).get("amy")
    assert amy is not None
    seen = Seen()
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert "queue" in [event["type"] for event in await _changes(request, amy, seen)]
    await queue.claim("p1", "amy", ["en"])
    assert "assignments" in [event["type"] for event in await _changes(request, amy, seen)]

    assert await queue.requeue("p1", "amy", agent_left)
    await asyncio.sleep(0.01)
    await queue.claim("p1", "amy", ["en"])
    told = {event["type"]: event for event in await _changes(request, amy, seen)}
    assert [c["conversation_id"] for c in told["assignments"]["conversations"]] == ["p1"], "told again"

    await queue.enqueue_escalation("p2", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await _changes(request, amy, seen)
    await queue.claim("p2", "sam", ["en"])
    assert await queue.requeue("p2", "sam", agent_left)
    told = {event["type"]: event for event in await _changes(request, amy, seen)}
    assert told["queue"]["waiting"] == ["p2"] and [c["conversation_id"] for c in told["queue"]["new"]] == ["p2"]
