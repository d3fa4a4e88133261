"""On the running stack: a transcript rearranged in Redis by someone without a key is refused, never shown."""

import aiohttp
from redis.asyncio import Redis

from handoff import KeySpace
from stack.services import Stack
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message


async def test_the_console_refuses_a_reordered_transcript(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, amy: AgentClient
) -> None:
    patient = Patient(http, stack)
    assert handoff_of(await patient.say(training_message("en", "request_human"))) is not None
    await patient.say("the second thing I wrote")
    transcript = f"/api/conversations/{patient.sender}/transcript"
    assert (await amy.call("POST", f"/api/conversations/{patient.sender}/claim"))[0] == 200
    status, shown = await amy.call("GET", transcript)
    assert status == 200 and "the second thing I wrote" in [entry["text"] for entry in shown["entries"]]

    key = KeySpace(stack.config.namespace).transcript(patient.sender)
    first, second = await redis.lrange(key, 0, 1)
    await redis.lset(key, 0, second)
    await redis.lset(key, 1, first)
    status, refused = await amy.call("GET", transcript)
    assert status == 500 and "entries" not in refused
    assert refused["error"] == "stored data cannot be decrypted with the configured keys"

    await redis.lset(key, 0, first)
    await redis.lset(key, 1, second)
    assert (await amy.call("GET", transcript))[0] == 200
    closed = await amy.call("POST", f"/api/conversations/{patient.sender}/close", {"outcome": "closed"})
    assert closed[0] == 200
