"""Two Rasa server processes on one Redis serve one conversation between them (issue 13, DESIGN invariant 4).

The patient's messages go alternately to each process, as a load balancer without sticky sessions sends
them; the escalation happens on one, the patient's push socket is on the other. The second server runs two
Sanic workers (``SANIC_WORKERS=2``), so three workers in all serve the conversation."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import psutil
import pytest

from stack.services import Stack, free_port
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message


@pytest.fixture(scope="module")
def second_rasa_port(stack: Stack) -> Iterator[int]:
    """A second Rasa server of the stack with two Sanic workers, on a port of its own, stopped after this module."""
    port = free_port()
    process = stack.spawn_rasa(port, workers=2)
    try:
        stack.wait_until_rasa_serves(port, process)
        server = psutil.Process(process.pid)
        workers = [child for child in server.children() if child.cmdline() == server.cmdline()]
        assert len(workers) == 2, "SANIC_WORKERS=2 forks two worker processes"
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        stack.processes.remove(process)


async def _pushed(push: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((await asyncio.wait_for(push.receive(), timeout=30)).data)
    return message


async def test_one_conversation_alternating_between_two_rasa_processes_loses_and_repeats_nothing(
    stack: Stack, second_rasa_port: int, http: aiohttp.ClientSession, amy: AgentClient, empty_english_queue: None
) -> None:
    first, second = stack.patient_webhook_url, stack.patient_webhook_url_at(second_rasa_port)
    assert first != second
    patient = Patient(http, stack)

    patient.webhook_url = first
    greeting = await patient.say(training_message("en", "greet"))
    assert any("virtual assistant" in text for text in texts(greeting))
    patient.webhook_url = second  # the second process reads the tracker the first one saved
    hours = await patient.say(training_message("en", "ask_hours"))
    assert any("Monday to Friday" in text for text in texts(hours)), hours

    patient.webhook_url = first
    escalation = await patient.say(training_message("en", "request_human"))
    handoff = handoff_of(escalation)
    assert handoff is not None and handoff["status"] == "queued", escalation

    queued_lines = ["queued line one, sent to the second process", "queued line two, sent to the first process"]
    for url, line in zip((second, first), queued_lines, strict=True):
        patient.webhook_url = url
        reply = await patient.say(line)
        assert handoff_of(reply) is None, reply  # one escalation, whichever process gets the message
        assert all("in line" in text for text in texts(reply)), reply

    status, claimed = await amy.call("POST", f"/api/conversations/{patient.conversation_id}/claim")
    assert status == 200, claimed

    async with http.ws_connect(
        stack.patient_push_url_at(second_rasa_port),
        params={"sender": patient.conversation_id, "token": handoff["push_token"]},
    ) as push:
        agent_lines = ["agent line one", "agent line two", "agent line three"]
        for line in agent_lines:
            status, _ = await amy.call("POST", f"/api/conversations/{patient.conversation_id}/messages", {"text": line})
            assert status == 201
        assert [(m["from"], m["text"]) for m in [await _pushed(push) for _ in agent_lines]] == [
            ("agent", line) for line in agent_lines
        ]

        with_agent_lines = ["with the agent, to the first process", "with the agent, to the second process"]
        for url, line in zip((first, second), with_agent_lines, strict=True):
            patient.webhook_url = url
            assert await patient.say(line) == []  # the bot stays silent on either process
        status, _ = await amy.call(
            "POST", f"/api/conversations/{patient.conversation_id}/messages", {"text": "agent line four"}
        )
        assert status == 201
        # the next message on the socket is the new one: nothing earlier was delivered twice
        fourth = await _pushed(push)
        assert (fourth["from"], fourth["text"]) == ("agent", "agent line four")

    status, transcript = await amy.call("GET", f"/api/conversations/{patient.conversation_id}/transcript")
    assert status == 200
    patient_lines = [entry["text"] for entry in transcript["entries"] if entry["role"] == "patient"]
    assert patient_lines == [
        training_message("en", "greet"),
        training_message("en", "ask_hours"),
        training_message("en", "request_human"),
        *queued_lines,
        *with_agent_lines,
    ]
    agent_entries = [entry["text"] for entry in transcript["entries"] if entry["role"] == "agent"]
    assert agent_entries == [*agent_lines, "agent line four"]
