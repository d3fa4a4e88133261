"""Patient -> bot -> handoff -> Redis queue -> agent -> patient, against real processes."""

import asyncio
import json

import aiohttp

from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message


async def test_patient_reaches_an_agent_and_returns_to_the_bot(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient = Patient(http, stack)

    greeting = await patient.say(training_message("en", "greet"))
    assert any("virtual assistant" in text for text in texts(greeting))

    escalation = await patient.say(training_message("en", "request_human"))
    handoff = handoff_of(escalation)
    assert handoff is not None, escalation
    assert (handoff["status"], handoff["queue"], handoff["priority"], handoff["reason"]) == (
        "queued", "en", "normal", "patient_request"
    )
    assert isinstance(handoff["position"], int) and handoff["position"] >= 1
    assert any("connecting you" in text for text in texts(escalation))

    for text in ("are you still there?", "it's about my appointment on friday"):
        reply = await patient.say(text)
        assert handoff_of(reply) is None
        assert all("in line" in line for line in texts(reply)), reply
        assert len(reply) <= 1

    agent = AgentClient(http, stack)
    await agent.login("amy", AGENT_PASSWORDS["amy"])
    status, queue = await agent.call("GET", "/api/queue")
    assert status == 200
    waiting = [entry["conversation_id"] for entry in queue["waiting"]]
    assert waiting.index(patient.sender) + 1 == handoff["position"]

    status, claimed = await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status == 200 and claimed["conversation"]["state"] == "WITH_AGENT"
    status, transcript = await agent.call("GET", f"/api/conversations/{patient.sender}/transcript")
    assert status == 200
    patient_lines = [e["text"] for e in transcript["entries"] if e["role"] == "patient"]
    assert patient_lines == [
        "hello",
        "I want to talk to a person",
        "are you still there?",
        "it's about my appointment on friday",
    ]

    async with http.ws_connect(
        stack.patient_push_url, params={"sender": patient.sender, "token": handoff["push_token"]}
    ) as push:
        status, _ = await agent.call(
            "POST",
            f"/api/conversations/{patient.sender}/messages",
            {"text": "Hi, this is Amy. How can I help?"},
        )
        assert status == 201
        pushed = json.loads((await asyncio.wait_for(push.receive(), timeout=20)).data)
        assert (pushed["from"], pushed["text"]) == ("agent", "Hi, this is Amy. How can I help?")

    assert await patient.say("I need to move my appointment") == []
    status, transcript = await agent.call("GET", f"/api/conversations/{patient.sender}/transcript")
    assert [e["text"] for e in transcript["entries"]][-2:] == [
        "Hi, this is Amy. How can I help?",
        "I need to move my appointment",
    ]

    status, closed = await agent.call(
        "POST", f"/api/conversations/{patient.sender}/close", {"outcome": "bot"}
    )
    assert status == 200, closed
    after = await patient.say(training_message("en", "ask_hours"))
    assert any("Monday to Friday" in text for text in texts(after)), after
