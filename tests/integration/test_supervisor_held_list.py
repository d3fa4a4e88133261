"""The supervisor's list of the conversations agents hold, against a real Redis through the console API: what it
shows (and never: message text, the patient's name), whom each may go to, that it is the supervisor's alone and
audited, that the event socket tells the supervisor when it changes, take-over and reassignment from it, and two
supervisors reassigning one conversation at once leaving one consistent owner.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.console import events
from handoff.models import CrisisFlag
from tests.console_clients import console_app, next_event, sign_in, token_of, write_staff
from tests.integration.test_handovers import PASSWORD, call, signed_in

STAFF = [
    ("amy", "agent", ["en"], ["general"]),
    ("nina", "nurse", ["en"], ["nurse", "behavioral-health"]),
    ("ned", "nurse", ["en"], ["nurse", "behavioral-health"]),
    ("luis", "agent", ["es"], ["general"]),
    ("sue", "supervisor", ["en"], ["general"]),
    ("sol", "supervisor", ["en", "es"], ["general"]),
]
PATIENT_NAME = "Maria Delgado"
SECRET = "my name is Maria Delgado and I took all my pills"


@pytest.fixture
def staff_file(tmp_path: Path) -> Path:
    return write_staff(tmp_path / "agents.yml", [
        {"id": agent_id, "role": role, "languages": languages, "skills": skills}
        for agent_id, role, languages, skills in STAFF], PASSWORD)


@pytest.fixture
def client(staff_console: TestClient) -> TestClient:
    return staff_console


def held_by(listing: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """agent -> conversation -> row."""
    return {agent["agent_id"]: {row["conversation_id"]: row for row in agent["conversations"]}
            for agent in listing["agents"]}


async def test_unanswered_messages_count_from_the_escalation_even_when_all_came_in_one_millisecond(
    client: TestClient, queue: LiveAgentQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's answer and the escalation in the same millisecond (a fast turn): what came before the
    escalation is told by its place in the transcript, not by its time."""
    monkeypatch.setattr("handoff.transcripts.now_ms", lambda: 1_800_000_000_000)
    monkeypatch.setattr("handoff.escalations.now_ms", lambda: 1_800_000_000_000)
    amy, sue = await signed_in(client, "amy"), await signed_in(client, "sue")
    await queue.record("p1", TranscriptRole.PATIENT, "what are your hours?")
    await queue.record("p1", TranscriptRole.BOT, "We open at 8.")
    await queue.record("p1", TranscriptRole.PATIENT, "I need a person")
    await queue.record("p1", TranscriptRole.BOT, "Connecting you.")
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.record("p1", TranscriptRole.BOT, "You are number 1 in line.")
    await queue.record("p1", TranscriptRole.PATIENT, "hello?")
    await queue.record("p1", TranscriptRole.PATIENT, "anyone?")
    assert (await call(client, "POST", "/api/conversations/p1/claim", amy))[0] == 200
    status, listing = await call(client, "GET", "/api/supervision/held", sue)
    assert status == 200
    assert held_by(listing)["amy"]["p1"]["unanswered_patient_messages"] == 2, "the two written while queued"


async def test_the_list_shows_what_each_agent_holds_without_content_to_supervisors_only(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy, nina, _, _, sue = [await signed_in(client, agent_id) for agent_id in ("amy", "nina", "ned", "luis", "sue")]
    await queue.record("p1", TranscriptRole.PATIENT, "what are your hours?")
    await queue.record("p1", TranscriptRole.BOT, "We open at 8.")
    await queue.record("p1", TranscriptRole.PATIENT, f"I am {PATIENT_NAME}, I need a person about my bill")
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.record("p1", TranscriptRole.BOT, "You are number 1 in line.")
    await queue.record("p1", TranscriptRole.PATIENT, "hello?")
    await queue.enqueue_escalation("p2", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", SECRET))
    await queue.record("p2", TranscriptRole.PATIENT, SECRET)
    assert (await call(client, "POST", "/api/conversations/p1/claim", amy))[0] == 200
    assert (await call(client, "POST", "/api/conversations/p2/claim", nina))[0] == 200
    assert (await call(client, "POST", "/api/conversations/p2/messages", nina, {"text": "I am here. Are you safe?"}
                       ))[0] == 201
    await queue.record("p2", TranscriptRole.PATIENT, "I feel dizzy")

    status, listing = await call(client, "GET", "/api/supervision/held", sue)
    assert status == 200
    held = held_by(listing)
    assert set(held) == {"amy", "nina", "ned", "luis", "sue", "sol"}, "every agent who takes conversations"
    assert (held["ned"], held["sue"]) == ({}, {})
    p1, p2 = held["amy"]["p1"], held["nina"]["p2"]
    assert (p1["language"], p1["skill"], p1["priority"], p1["crisis"]) == ("en", "general", "normal", False)
    assert (p2["language"], p2["skill"], p2["priority"], p2["crisis"]) == ("en", "behavioral-health", "crisis", True)
    assert p1["short_id"] == queue.pseudonym("p1") and p1["short_id"] != "p1"
    assert p1["unanswered_patient_messages"] == 2, "the escalating message and the one written while queued"
    assert p1["last_agent_message_at_ms"] is None
    assert p2["unanswered_patient_messages"] == 1, "only what came after Nina's answer"
    assert p2["claimed_at_ms"] <= p2["last_agent_message_at_ms"] <= listing["now_ms"]
    assert [c["agent_id"] for c in p1["reassign_to"]] == ["sue"], "available, English, general skill, not Amy"
    assert [c["agent_id"] for c in p2["reassign_to"]] == ["ned", "sue"], (
        "Ned the other nurse, and the supervisor; Amy lacks the skill, Luis the language, Sol is offline")
    text = str(listing)
    for secret in (PATIENT_NAME, "dizzy", "pills", "overdose", "hello?", "Are you safe"):
        assert secret not in text, secret

    assert (await call(client, "GET", "/api/supervision/held", amy))[0] == 403
    assert (await call(client, "GET", "/api/supervision/held", nina))[0] == 403
    assert (await client.get("/api/supervision/held")).status == 401
    trail = [(e.actor, e.action, e.conversation) for e in await audit.entries()
             if e.action in ("view_held_conversations", "forbidden_view_supervision")]
    assert trail == [("sue", "view_held_conversations", "-"), ("amy", "forbidden_view_supervision", "-"),
                     ("nina", "forbidden_view_supervision", "-")]


async def test_the_supervisor_hears_when_holdings_change_and_acts_from_the_list(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SAFETY_ROUND_SECONDS", 3600.0)  # every change below wakes the socket
    amy, nina, _, _, sue = [await signed_in(client, agent_id) for agent_id in ("amy", "nina", "ned", "luis", "sue")]
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.URGENT, "clinical_question")
    token = await token_of(client, "sue", PASSWORD)
    async with client.ws_connect("/api/events") as socket:
        await socket.send_json({"token": token})
        await next_event(socket, "held")
        assert (await call(client, "POST", "/api/conversations/p1/claim", nina))[0] == 200
        assert await next_event(socket, "held") == {"type": "held"}, "an announcement, no content"
        await queue.record("p1", TranscriptRole.PATIENT, "is my result normal?")
        await next_event(socket, "held")
        unanswered = held_by((await call(client, "GET", "/api/supervision/held", sue))[1])["nina"]["p1"]
        assert unanswered["unanswered_patient_messages"] == 1
        assert [c["agent_id"] for c in unanswered["reassign_to"]] == ["ned", "sue"]

        before = await queue.conversation("p1")
        for refused_to in ("amy", "luis"):
            status, answer = await call(client, "POST", "/api/conversations/p1/reassign", sue, {"agent_id": refused_to})
            assert status == 409 and "cannot take it" in answer["error"], refused_to
        assert await queue.conversation("p1") == before, "a target without the language or skill changes nothing"

        status, moved = await call(client, "POST", "/api/conversations/p1/reassign", sue, {"agent_id": "ned"})
        assert status == 200 and moved["conversation"]["agent_id"] == "ned"
        await next_event(socket, "held")
        held = held_by((await call(client, "GET", "/api/supervision/held", sue))[1])
        assert (set(held["nina"]), set(held["ned"])) == (set(), {"p1"})
        assert [c["agent_id"] for c in held["ned"]["p1"]["reassign_to"]] == ["nina", "sue"]

        before = await queue.conversation("p1")
        status, stale = await call(client, "POST", "/api/conversations/p1/take-over", sue, {"from_agent_id": "nina"})
        assert status == 409
        assert stale["error"] == "conversation 'p1' is no longer with nina: nothing was done, look again"
        assert await queue.conversation("p1") == before, "a take-over of what the list showed, not of what is now"
        status, taken = await call(client, "POST", "/api/conversations/p1/take-over", sue, {"from_agent_id": "ned"})
        assert status == 200 and taken["conversation"]["agent_id"] == "sue"
        await next_event(socket, "held")
        held = held_by((await call(client, "GET", "/api/supervision/held", sue))[1])
        assert (set(held["ned"]), set(held["sue"])) == (set(), {"p1"})
        await client.post("/api/presence", headers=amy, json={"status": "away"})
        await next_event(socket, "held")
    actions = [(e.actor, e.action, e.source) for e in await audit.entries() if e.action in ("reassign", "take_over")]
    assert actions == [("sue", "reassign", "ned"), ("sue", "take_over", "sue")]


async def test_two_supervisors_reassigning_one_conversation_at_once_leave_one_owner(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog, other_process: Redis, key_ring: KeyRing,
    keys: KeySpace, staff_file: Path
) -> None:
    for agent_id in ("nina", "ned", "sue"):
        await signed_in(client, agent_id)
    conversations = [f"race-{index}" for index in range(8)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
        await queue.claim(conversation_id, "sue", ["en"])
    other_queue = LiveAgentQueue(other_process, key_ring, keys)
    async with TestClient(TestServer(console_app(other_queue, audit, other_process, keys, staff_file))) as other:
        sue, sol = await sign_in(client, "sue", PASSWORD), await sign_in(other, "sol", PASSWORD)

        async def reassign(on: TestClient, headers: dict[str, str], conversation_id: str, to: str) -> int:
            response = await on.post(f"/api/conversations/{conversation_id}/reassign", headers=headers,
                                     json={"agent_id": to, "from_agent_id": "sue", "note": f"over to {to}"})
            return response.status

        outcomes = await asyncio.gather(*(reassign(client, sue, c, "nina") for c in conversations),
                                        *(reassign(other, sol, c, "ned") for c in conversations))
    to_nina, to_ned = outcomes[:len(conversations)], outcomes[len(conversations):]
    for conversation_id, first, second in zip(conversations, to_nina, to_ned, strict=True):
        assert sorted((first, second)) == [200, 409], (conversation_id, first, second)
        owner = (await queue.conversation(conversation_id)).agent_id
        assert owner == ("nina" if first == 200 else "ned")
        notes = [e.text for e in await queue.transcript(conversation_id) if e.role == TranscriptRole.NOTE]
        assert notes == [f"over to {owner}"], "the loser's note never lands"
    nina = {c.conversation_id for c in await queue.assigned_to("nina")}
    ned = {c.conversation_id for c in await queue.assigned_to("ned")}
    assert nina | ned == set(conversations) and not nina & ned
    assert await queue.assigned_to("sue") == []
    for agent_id, mine in (("nina", nina), ("ned", ned), ("sue", set())):
        raw = await queue.redis.smembers(queue.keys.agent_conversations(agent_id))
        assert {member.decode() for member in raw} == mine, agent_id
    assert len([e for e in await audit.entries() if e.action == "reassign"]) == len(conversations)
