"""Handovers against a real Redis, through the console API: transfer to another queue or skill with a note, a
supervisor's take-over and reassignment, internal notes the patient never sees, escalation to phone; bad input
and the wrong person change nothing, and a handover racing another change happens once.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.console.api import ASSIGNER_KEY, CRISIS_ALERTS_KEY
from handoff.errors import NotAssignedAgent
from handoff.handovers import Handovers, Target
from handoff.models import ConversationState, CrisisDisposition, CrisisFlag
from tests.console_clients import sign_in, write_staff

PASSWORD = "Handover-walk-password-1"
STAFF = [
    ("amy", "agent", ["en"], ["general"]),
    ("nina", "nurse", ["en"], ["nurse", "behavioral-health"]),
    ("luis", "agent", ["es"], ["general"]),
    ("sue", "supervisor", ["en"], ["general"]),
]
NOTE = "Anxious about her A1C result; she has already waited a week."


@pytest.fixture
def staff_file(tmp_path: Path) -> Path:
    return write_staff(tmp_path / "agents.yml", [
        {"id": agent_id, "role": role, "languages": languages, "skills": skills}
        for agent_id, role, languages, skills in STAFF], PASSWORD)


@pytest.fixture
def client(staff_console: TestClient) -> TestClient:
    return staff_console


async def signed_in(client: TestClient, agent_id: str) -> dict[str, str]:
    """A session of ``agent_id`` whose console beats."""
    headers = await sign_in(client, agent_id, PASSWORD)
    assert (await client.post("/api/presence", headers=headers)).status == 200
    return headers


async def call(client: TestClient, method: str, path: str, headers: dict[str, str],
               body: Any = None) -> tuple[int, dict[str, Any]]:
    response = await client.request(method, path, headers=headers, json=body)
    return response.status, await response.json()


async def test_a_transfer_with_a_note_reaches_the_nurse_and_never_the_patient(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy, nina, luis = [await signed_in(client, agent_id) for agent_id in ("amy", "nina", "luis")]
    assigner = client.server.app[ASSIGNER_KEY]
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.record("p1", TranscriptRole.PATIENT, "what did my lab results say?")
    await queue.enqueue_escalation("older-nurse", "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
    assert await assigner.assign_waiting(audit) == ["p1", "older-nurse"]
    base = "/api/conversations/p1"
    assert (await call(client, "POST", f"{base}/messages", amy, {"text": "Let me find a nurse."}))[0] == 201
    assert (await call(client, "POST", f"{base}/notes", amy, {"text": "Diabetic; asked twice."}))[0] == 201

    before = await queue.conversation("p1")
    for body in ({"skill": "dentist"}, {"language": "xx"}, {"language": 7}, {}, {"skill": "nurse", "note": "x" * 2001},
                 {"skill": "nurse", "note": 5}, {"agent_id": "nobody"}, {"agent_id": "ada"}, []):
        status, answer = await call(client, "POST", "/api/conversations/p1/transfer", amy, body)
        assert status == 400 and "error" in answer, (body, answer)
    assert (await call(client, "POST", "/api/conversations/p1/transfer", luis, {"skill": "nurse"}))[0] == 403
    assert (await call(client, "POST", "/api/conversations/p1/transfer", {}, {"skill": "nurse"}))[0] == 401
    assert await queue.conversation("p1") == before, "refusals changed nothing"

    status, answer = await call(client, "POST", "/api/conversations/p1/transfer", amy, {"skill": "nurse", "note": NOTE})
    assert status == 200, answer
    moved = await queue.conversation("p1")
    assert moved is not None and (moved.state, moved.agent_id, moved.skill) == (
        ConversationState.QUEUED, None, Skill.NURSE)
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p1", "amy", "still here")
    await queue.enqueue_escalation("newer-nurse", "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
    assert [c.conversation_id for c in await queue.waiting(["en"], ["nurse"])] == ["p1", "newer-nurse"], (
        "a transferred patient waits at the head of the new queue")
    assert await assigner.assign_waiting(audit) == ["p1", "newer-nurse"]
    assert (await queue.conversation("p1")).agent_id == "nina"  # type: ignore[union-attr]

    status, page = await call(client, "GET", "/api/conversations/p1/transcript", nina)
    assert status == 200
    notes = [(entry["author"], entry["text"]) for entry in page["entries"] if entry["role"] == "note"]
    assert notes == [("amy", "Diabetic; asked twice."), ("amy", NOTE)], "the nurse reads every note, in order"
    pushed = [message.entry for message in await queue.agent_messages("p1", moved.episode)]
    assert [(entry.role, entry.text) for entry in pushed] == [(TranscriptRole.AGENT, "Let me find a nurse.")], (
        "the patient's push socket carries the agent's words, never a note")
    assert all("A1C" not in entry.text and "Diabetic" not in entry.text for entry in pushed)
    trail = [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()
             if e.action in ("transfer_to_queue", "add_note", "auto_assigned")]
    assert ("amy", "transfer_to_queue", "p1", "en/nurse") in trail and ("amy", "add_note", "p1", "127.0.0.1") in trail
    assert (await call(client, "POST", "/api/conversations/p1/notes", luis, {"text": "not mine"}))[0] == 403
    assert (await call(client, "POST", "/api/conversations/p1/notes", nina, {"text": "  "}))[0] == 400


async def test_a_transfer_to_another_language_keeps_the_patients_own(
    queue: LiveAgentQueue, audit: AuditLog
) -> None:
    handovers = Handovers(queue)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"])
    await handovers.transfer_to_queue("p1", "amy", "es", Skill.GENERAL, "",
                                      audit.prepare("amy", "transfer_to_queue", "p1", "es/general"))
    moved = await queue.conversation("p1")
    assert moved is not None and (moved.language, moved.patient_language, moved.state) == ("es", "en", "QUEUED")
    await queue.claim("p1", "luis", ["es"])
    await handovers.transfer_to_queue("p1", "luis", "en", Skill.BILLING, "",
                                      audit.prepare("luis", "transfer_to_queue", "p1", "en/billing"))
    back = await queue.conversation("p1")
    assert back is not None and (back.language, back.patient_language, back.skill) == ("en", None, Skill.BILLING)
    assert await queue.transcript("p1") == [], "no note, no entry"


async def test_a_supervisor_takes_over_and_reassigns_and_sees_the_callbacks(
    client: TestClient, queue: LiveAgentQueue, audit: AuditLog
) -> None:
    amy, nina, _, sue = [await signed_in(client, agent_id) for agent_id in ("amy", "nina", "luis", "sue")]
    crisis = CrisisFlag("medical_emergency", "my chest hurts and my arm is numb")
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.CRISIS, "crisis_medical_emergency", crisis)
    assert (await call(client, "POST", "/api/conversations/p1/claim", nina))[0] == 200
    assert (await call(client, "POST", "/api/conversations/p1/acknowledge-crisis", nina))[0] == 200

    before = await queue.conversation("p1")
    for body in ({"number": "123", "best_time": "now"}, {"number": "call me", "best_time": "now"},
                 {"number": "+1 555 123 4567 890 1234", "best_time": "now"}, {"number": "+1 555 123 4567"},
                 {"number": "+1 555 123 4567", "best_time": "x" * 101}, {"number": 5551234567, "best_time": "now"}):
        status, answer = await call(client, "POST", "/api/conversations/p1/phone-callback", nina, body)
        assert status == 400 and "error" in answer, body
    phone = {"number": "+1 (555) 123-4567", "best_time": "today before 6 pm", "note": "cardiology follow-up"}
    assert (await call(client, "POST", "/api/conversations/p1/phone-callback", amy, phone))[0] == 403
    assert await queue.conversation("p1") == before
    assert (await call(client, "GET", "/api/callbacks", sue))[1] == {"callbacks": []}
    assert (await call(client, "POST", "/api/conversations/p1/phone-callback", nina, phone))[0] == 201
    status, listed = await call(client, "GET", "/api/callbacks", sue)
    [callback] = listed["callbacks"]
    assert (callback["conversation_id"], callback["number"], callback["best_time"], callback["requested_by"]) == (
        "p1", "+1 (555) 123-4567", "today before 6 pm", "nina")
    assert (await call(client, "GET", "/api/callbacks", nina))[0] == 403
    raw = await queue.redis.hgetall(queue.keys.conversation("p1"))
    assert not any(b"555" in value for value in raw.values()), "the number is sealed at rest"

    assert (await call(client, "POST", "/api/conversations/p1/take-over", amy))[0] == 403
    status, taken = await call(client, "POST", "/api/conversations/p1/take-over", sue, {"note": "I have this one"})
    assert status == 200 and taken["conversation"]["agent_id"] == "sue"
    assert (await call(client, "POST", "/api/conversations/p1/messages", nina, {"text": "hello?"}))[0] == 403
    assert (await call(client, "GET", "/api/alerts", sue))[0] == 200
    assert await client.server.app[CRISIS_ALERTS_KEY].unacknowledged(["p1"]) == {"p1"}, (
        "an acknowledged crisis waits again for the one who took it over")
    before = await queue.conversation("p1")
    for unqualified, reason in (("luis", "not in the agent's languages"), ("amy", "a skill the agent does not have")):
        status, refused = await call(client, "POST", "/api/conversations/p1/reassign", sue, {"agent_id": unqualified})
        assert status == 409 and reason in refused["error"] and "nothing was done" in refused["error"], (
            "the supervisor may reassign, but not to someone without the language (Luis) or the nurse skill (Amy)")
    assert await queue.conversation("p1") == before
    await client.post("/api/presence", headers=amy, json={"status": "away"})
    assert (await call(client, "POST", "/api/conversations/p1/reassign", sue, {"agent_id": "amy"}))[0] == 409
    assert (await call(client, "POST", "/api/conversations/p1/reassign", sue, {"agent_id": 3}))[0] == 400
    status, back = await call(client, "POST", "/api/conversations/p1/reassign", sue,
                              {"agent_id": "nina", "note": "back to you, call her"})
    assert status == 200 and back["conversation"]["agent_id"] == "nina"
    assert [c["conversation_id"] for c in (await call(client, "GET", "/api/mine", nina))[1]["conversations"]] == ["p1"]
    assert (await call(client, "GET", "/api/mine", sue))[1]["conversations"] == []
    status, page = await call(client, "GET", "/api/conversations/p1/transcript", nina)
    assert [(e["author"], e["text"]) for e in page["entries"] if e["role"] == "note"] == [
        ("sue", "I have this one"), ("sue", "back to you, call her")]
    await queue.close("p1", "nina", CloseOutcome.CLOSED, CrisisDisposition.PHONE_FOLLOW_UP_DONE)
    callbacks = (await call(client, "GET", "/api/callbacks", sue))[1]["callbacks"]
    assert len(callbacks) == 1, "the callback outlives the chat"
    assert (await call(client, "POST", "/api/callbacks/p1/done", sue))[0] == 200
    assert (await call(client, "POST", "/api/callbacks/p1/done", sue))[0] == 409
    assert (await call(client, "GET", "/api/callbacks", sue))[1] == {"callbacks": []}
    trail = [(e.actor, e.action, e.source) for e in await audit.entries()
             if e.action in ("take_over", "reassign", "escalate_to_phone", "callback_done", "list_callbacks")]
    assert trail == [("sue", "list_callbacks", "127.0.0.1"), ("nina", "escalate_to_phone", "127.0.0.1"),
                     ("sue", "list_callbacks", "127.0.0.1"), ("sue", "take_over", "sue"), ("sue", "reassign", "nina"),
                     ("sue", "list_callbacks", "127.0.0.1"), ("sue", "callback_done", "127.0.0.1"),
                     ("sue", "list_callbacks", "127.0.0.1")]


async def test_a_take_over_racing_the_agents_transfer_happens_once(
    queue: LiveAgentQueue, audit: AuditLog, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    here, there = Handovers(queue), Handovers(LiveAgentQueue(other_process, key_ring, keys))
    conversations = [f"race-{index}" for index in range(10)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(conversation_id, "amy", ["en"])
    sue = Target("sue", ("en",), None)

    async def transfer(conversation_id: str) -> bool:
        try:
            await here.transfer_to_queue(conversation_id, "amy", "en", Skill.BILLING, "billing dispute",
                                         audit.prepare("amy", "transfer_to_queue", conversation_id, "en/billing"))
        except NotAssignedAgent:
            return False
        return True

    async def take_over(conversation_id: str) -> bool:
        try:
            await there.reassign(conversation_id, "amy", sue, "sue", "",
                                 audit.prepare("sue", "take_over", conversation_id, "sue"))
        except NotAssignedAgent:
            return False
        return True

    outcomes = await asyncio.gather(*(transfer(c) for c in conversations), *(take_over(c) for c in conversations))
    transferred, taken = outcomes[:10], outcomes[10:]
    assert all(a != b for a, b in zip(transferred, taken, strict=True)), "exactly one of the two, each time"
    waiting = {c.conversation_id for c in await queue.waiting(["en"])}
    held = {c.conversation_id for c in await queue.assigned_to("sue")}
    assert waiting == {c for c, won in zip(conversations, transferred, strict=True) if won}
    assert held == {c for c, won in zip(conversations, taken, strict=True) if won}
    assert await queue.assigned_to("amy") == []
    records = [e.action for e in await audit.entries()]
    assert sorted(records) == sorted(["transfer_to_queue"] * sum(transferred) + ["take_over"] * sum(taken))
    notes = [len([e for e in await queue.transcript(c) if e.role == TranscriptRole.NOTE]) for c in conversations]
    assert notes == [1 if won else 0 for won in transferred], "a refused transfer leaves no note"
