"""A waiting patient hears their place in line and the estimated wait in their language, pushed on the patient's
socket each time the line moves (``handoff.waits``), on the running stack."""

import asyncio
import json
import uuid
from typing import Any

import aiohttp

from handoff import LiveAgentQueue, Priority, Skill
from handoff.waits import QueueStanding
from stack.services import Stack
from tests.e2e.patient_client import Patient, handoff_of
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG

DEADLINE_SECONDS = 20


async def next_standing(push: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = json.loads((await asyncio.wait_for(push.receive(), timeout=DEADLINE_SECONDS)).data)
    assert "queue" in message, message
    return message


async def test_the_waiting_patient_hears_the_line_move_in_their_language(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    ahead = f"ahead-{uuid.uuid4().hex[:8]}"
    await stack_queue.enqueue_escalation(ahead, "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("es", "request_human")))
    assert handoff is not None and handoff["queue"] == "es"

    params = {"sender": patient.conversation_id, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        first = await next_standing(push)
        position, minutes = first["queue"]["position"], first["queue"]["estimated_wait_minutes"]
        assert position >= 2, "the conversation enqueued before waits ahead"
        assert first["text"] == QueueStanding(position, minutes).notice(CATALOG, "es") and "fila" in first["text"]
        await stack_queue.claim(ahead, "luis", ["es"])
        moved = await next_standing(push)
    assert moved["queue"]["position"] == position - 1, "the line moved by one"
    assert moved["queue"]["estimated_wait_minutes"] is not None, "the claim just recorded a wait in this queue"
    assert moved["text"] == QueueStanding(**moved["queue"]).notice(CATALOG, "es")
    assert await stack_queue.redis.llen(stack_queue.keys.recent_waits("es")) >= 1
