"""Crisis language, in every state: resources in the first reply, front of the queue, agent alert."""

import re

import aiohttp
import pytest

from handoff import LiveAgentQueue
from stack.services import Stack
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message

pytestmark = pytest.mark.usefixtures("empty_english_queue")


def first_two_sentences(text: str) -> str:
    return " ".join(re.split(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])", text)[:2])


async def test_crisis_at_the_first_message(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say("I don't want to be here anymore")
    first = texts(replies)[0]
    assert "988" in first_two_sentences(first) and "911" in first_two_sentences(first)
    handoff = handoff_of(replies)
    assert handoff is not None
    assert (handoff["priority"], handoff["position"], handoff["reason"]) == ("crisis", 1, "crisis_suicide_self_harm")
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None and conversation.phone_follow_up
    assert await stack_queue.crisis_evidence(patient.sender) == "don't want to be here anymore"


async def test_spanish_crisis_gets_spanish_resources(stack: Stack, http: aiohttp.ClientSession) -> None:
    patient = Patient(http, stack)
    await patient.say(training_message("es", "greet"))
    replies = await patient.say("me tomé todas las pastillas del frasco")
    first = texts(replies)[0]
    assert "988 y marque 2" in first and "AYUDA" in first and "911" in first
    handoff = handoff_of(replies)
    assert handoff is not None
    assert (handoff["queue"], handoff["priority"], handoff["reason"]) == ("es", "crisis", "crisis_overdose_poisoning")


async def test_crisis_mid_flow_after_the_bot_asked_to_rephrase(stack: Stack, http: aiohttp.ClientSession) -> None:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "out_of_scope"))) is None
    replies = await patient.say("chest pain and my left arm is numb")
    assert "911" in texts(replies)[0]
    handoff = handoff_of(replies)
    assert handoff is not None and handoff["reason"] == "crisis_medical_emergency"


async def test_crisis_while_queued_moves_to_the_front(stack: Stack, http: aiohttp.ClientSession) -> None:
    ahead = Patient(http, stack)
    patient = Patient(http, stack)
    assert handoff_of(await ahead.say(training_message("en", "request_human"))) is not None
    queued = handoff_of(await patient.say(training_message("en", "request_human")))
    assert queued is not None and queued["position"] == 2 and queued["priority"] == "normal"
    replies = await patient.say("honestly what's the point anymore, I have pills saved up")
    assert "988" in texts(replies)[0]
    raised = handoff_of(replies)
    assert raised is not None
    assert (raised["status"], raised["priority"], raised["position"]) == ("queued", "crisis", 1)


async def test_crisis_while_with_an_agent_alerts_the_console(
    stack: Stack, http: aiohttp.ClientSession, amy: AgentClient
) -> None:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    status, _ = await amy.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status == 200
    _, before = await amy.call("GET", "/api/alerts")
    replies = await patient.say("he hits me every night and I'm scared to go home")
    assert "911" in texts(replies)[0]
    _, after = await amy.call("GET", "/api/alerts")
    new = [alert for alert in after["alerts"] if alert not in before["alerts"]]
    assert [(a["conversation"], a["category"]) for a in new] == [(patient.sender, "violence_abuse")]
    _, transcript = await amy.call("GET", f"/api/conversations/{patient.sender}/transcript")
    assert transcript["conversation"]["phone_follow_up"] is True
    assert transcript["conversation"]["crisis_evidence"]


async def test_hard_negative_is_answered_by_the_bot(stack: Stack, http: aiohttp.ClientSession) -> None:
    patient = Patient(http, stack)
    replies = await patient.say("what time do you open, this wait is killing me")
    handoff = handoff_of(replies)
    assert handoff is None or handoff["priority"] != "crisis"
    assert not any("988" in text for text in texts(replies))
