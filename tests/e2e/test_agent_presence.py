"""The running console hands back what a departed agent held: sign out mid-chat, and the patient is queued again."""

import asyncio
import time

import aiohttp

from handoff import ConversationState, LiveAgentQueue
from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message

REAPER_DEADLINE_SECONDS = 20


async def test_an_agent_who_leaves_mid_chat_does_not_strand_the_patient(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    status, beat = await amy.call("POST", "/api/presence")
    assert status == 200 and beat["timeout_seconds"] > 0
    assert (await amy.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    assert (await amy.call("POST", "/api/logout"))[0] == 200

    deadline = time.monotonic() + REAPER_DEADLINE_SECONDS
    conversation = await stack_queue.conversation(patient.conversation_id)
    while time.monotonic() < deadline and conversation and conversation.state != ConversationState.QUEUED:
        await asyncio.sleep(0.5)
        conversation = await stack_queue.conversation(patient.conversation_id)
    assert conversation is not None and conversation.state == ConversationState.QUEUED
    assert conversation.agent_id is None
    assert any("in line" in text for text in texts(await patient.say("hello? is anyone there?")))
    waiting = [c.conversation_id for c in await stack_queue.waiting(["en"])]
    assert patient.sender in waiting
    other = AgentClient(http, stack)
    await other.login("amy", AGENT_PASSWORDS["amy"])
    assert (await other.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    await other.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"})
