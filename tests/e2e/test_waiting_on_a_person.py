"""No patient waits on an absent person (invariant 11), on the running stack plus a second console process
whose agents have 2 s to write to a claimed patient and 2 s to acknowledge a crisis (``impatient_console``).

An agent claims a patient and never writes: the patient goes back to the head of the line, hears so on the
push socket, and the next agent reads everything. A crisis nobody acknowledges reaches the supervisor.
"""

import asyncio
import json
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from handoff import AuditLog, ConversationState, KeyRing, KeySpace, LiveAgentQueue, Priority
from handoff.escalations import PRIORITY_SCORE_STRIDE
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message
from tests.reaping import agent_left

DEADLINE_SECONDS = 20


async def signed_in(http: aiohttp.ClientSession, stack: Stack, agent_id: str, console_url: str = "") -> AgentClient:
    agent = AgentClient(http, stack, console_url or None)
    await agent.login(agent_id, AGENT_PASSWORDS[agent_id])
    return agent


def audit_log(stack: Stack, redis: Redis) -> AuditLog:
    return AuditLog(redis, KeySpace(stack.config.namespace), KeyRing.from_spec(stack.config.audit_keys))


async def test_a_patient_claimed_and_never_answered_goes_back_to_the_head_of_the_line_and_is_told(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, stack_queue: LiveAgentQueue, impatient_console: str
) -> None:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None
    await patient.say("it's about a bill I got last week")
    amy = await signed_in(http, stack, "amy", impatient_console)
    status, claimed = await amy.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert (status, claimed["answer_within_seconds"]) == (200, 2)

    params = {"sender": patient.conversation_id, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        pushed = json.loads((await asyncio.wait_for(push.receive(), timeout=DEADLINE_SECONDS)).data)
    assert (pushed["from"], pushed["text"]) == ("bot", agent_left("en"))
    conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and (conversation.state, conversation.agent_id) == (ConversationState.QUEUED, None)
    head_of_normal = Priority.NORMAL.rank * PRIORITY_SCORE_STRIDE
    score = await redis.zscore(stack_queue.keys.queue("en"), patient.conversation_id)
    assert conversation.enqueued_at_ms is not None
    assert score == head_of_normal - PRIORITY_SCORE_STRIDE // 2 + conversation.enqueued_at_ms, (
        "back at the head of the line: before everyone who waits with its priority from the start")
    status, refused = await amy.call("POST", f"/api/conversations/{patient.sender}/messages", {"text": "sorry!"})
    assert status == 403, refused
    records = [e for e in await audit_log(stack, redis).entries()
               if e.conversation == patient.sender and e.action.startswith("requeued")]
    assert [(e.action, e.source) for e in records] == [("requeued_unanswered", "amy")], "two reapers, one change"
    assert any("in line" in text for text in texts(await patient.say("hello? anyone?")))

    sam = await signed_in(http, stack, "sam")
    assert (await sam.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    _, transcript = await sam.call("GET", f"/api/conversations/{patient.sender}/transcript")
    lines = [entry["text"] for entry in transcript["entries"]]
    assert lines.index("it's about a bill I got last week") < lines.index(pushed["text"]) < lines.index(
        "hello? anyone?"), "the next agent reads the whole episode, and what the patient was told"
    assert (await sam.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"}))[0] == 200


async def escalation_of(supervisor: AgentClient, conversation_id: str) -> dict[str, Any]:
    """The conversation's entry in the supervisor's escalations, polled until it is there."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        status, body = await supervisor.call("GET", "/api/escalations")
        assert status == 200, body
        for crisis in body["escalations"]:
            if crisis["conversation_id"] == conversation_id:
                return dict(crisis)
        await asyncio.sleep(0.5)
    raise AssertionError(f"{conversation_id} was not escalated within {DEADLINE_SECONDS} s")


async def alert_of(agent: AgentClient, conversation_id: str) -> dict[str, Any]:
    _, body = await agent.call("GET", "/api/alerts")
    [alert] = [alert for alert in body["alerts"] if alert["conversation"] == conversation_id]
    return dict(alert)


async def test_a_crisis_the_agent_does_not_acknowledge_reaches_the_supervisor(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, impatient_console: str
) -> None:
    sam = await signed_in(http, stack, "sam", impatient_console)
    assert (await sam.call("POST", "/api/presence"))[0] == 200
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    amy = await signed_in(http, stack, "amy")
    assert (await amy.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    assert "911" in texts(await patient.say("he hits me every night and I'm scared to go home"))[0]

    escalated = await escalation_of(sam, patient.conversation_id)
    assert (escalated["state"], escalated["agent_id"], escalated["crisis_category"]) == (
        "WITH_AGENT", "amy", "violence_abuse")
    assert (await alert_of(amy, patient.conversation_id))["acknowledged"] is False
    told = [(e.action, e.source) for e in await audit_log(stack, redis).entries()
            if e.conversation == patient.sender and e.action.startswith("crisis_escalated")]
    assert told == [("crisis_escalated", "sam")], "escalated once, to the supervisor at a console"

    assert (await sam.call("POST", f"/api/conversations/{patient.sender}/acknowledge-crisis"))[0] == 200
    _, listed = await sam.call("GET", "/api/escalations")
    assert patient.sender not in [crisis["conversation_id"] for crisis in listed["escalations"]]
    assert (await alert_of(amy, patient.conversation_id))["acknowledged"] is True
    status, _ = await amy.call("POST", f"/api/conversations/{patient.sender}/close",
                               {"outcome": "closed", "crisis_disposition": "phone_follow_up_done"})
    assert status == 200
