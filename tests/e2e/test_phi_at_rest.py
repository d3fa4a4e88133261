"""What a patient writes is nowhere in Redis in clear text: not in the tracker, not in the transcript."""

import uuid

import aiohttp
from redis.asyncio import Redis

from stack.services import Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message
from tests.redis_contents import every_stored_value


async def test_patient_and_agent_words_are_encrypted_at_rest(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis
) -> None:
    member_id = f"ZX{uuid.uuid4().int % 10**10:010d}"
    patient = Patient(http, stack)
    first = await patient.say(f"hello, my member id is {member_id}")
    if handoff_of(first) is None:
        assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    await patient.say(f"again, member id {member_id}")
    agent = AgentClient(http, stack)
    await agent.login("amy", AGENT_PASSWORDS["amy"])
    await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    status, _ = await agent.call(
        "POST", f"/api/conversations/{patient.sender}/messages", {"text": f"I see {member_id}"}
    )
    assert status == 201

    tracker_keys = await redis.keys(f"tracker:*{patient.sender}")
    assert len(tracker_keys) == 1
    assert (await redis.get(tracker_keys[0])).startswith(b"v1."), "the Rasa tracker is sealed"
    assert not [value for value in await every_stored_value(redis) if member_id.encode() in value]
