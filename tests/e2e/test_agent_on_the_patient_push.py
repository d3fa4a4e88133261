"""Who the patient is talking to, on the running stack: once an agent claims the conversation the patient's push
socket names them (the display name from the directory, nothing else about them) in the patient's language, says
"<name> is typing…" while they type (``POST /api/conversations/{id}/typing``), and carries the name with their
messages."""

import asyncio
import json
from typing import Any

import aiohttp

from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG

DEADLINE_SECONDS = 20


async def next_pushed(push: aiohttp.ClientWebSocketResponse, raw: list[str]) -> dict[str, Any]:
    """The next message on the socket that is not the place in line (which comes while waiting)."""
    while True:
        message = (await asyncio.wait_for(push.receive(), timeout=DEADLINE_SECONDS)).data
        raw.append(message)
        pushed: dict[str, Any] = json.loads(message)
        if "queue" not in pushed:
            return pushed


async def test_the_patient_hears_the_agents_name_and_typing_in_their_language(
    stack: Stack, http: aiohttp.ClientSession, amy: AgentClient
) -> None:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("es", "request_human")))
    assert handoff is not None and handoff["queue"] == "es"
    luis = AgentClient(http, stack)
    await luis.login("luis", AGENT_PASSWORDS["luis"])
    conversation = f"/api/conversations/{patient.conversation_id}"
    raw: list[str] = []
    params = {"sender": patient.conversation_id, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        assert (await luis.call("POST", f"{conversation}/claim"))[0] == 200
        joined = await next_pushed(push, raw)
        assert joined["agent"] == {"name": "Luis", "joined": CATALOG.notice("es", "agent_joined", name="Luis")}
        assert joined["text"] == "Luis, de nuestro equipo, se unió al chat."

        assert (await amy.call("POST", f"{conversation}/typing"))[0] == 403, "not Amy's conversation"
        assert (await luis.call("POST", f"{conversation}/typing"))[0] == 202
        typing = await next_pushed(push, raw)
        assert (typing["typing"], typing["text"]) == ({"name": "Luis"}, "Luis está escribiendo…")

        assert (await luis.call("POST", f"{conversation}/messages", {"text": "Hola, ¿en qué le ayudo?"}))[0] == 201
        reply = await next_pushed(push, raw)
    assert (reply["from"], reply["text"], reply["agent"]["name"]) == ("agent", "Hola, ¿en qué le ayudo?", "Luis")
    everything = " ".join(raw)
    assert "luis" not in everything, "the display name only, never the agent's id"
    assert "agent_id" not in everything and "role" not in everything
