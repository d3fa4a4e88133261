"""A crisis in a language no agent can take now (Portuguese: never staffed in the test coverage file,
and no Portuguese agent) waits at the head of the Portuguese queue and of the English queue, flagged
with the patient's language; the patient gets the resources in Portuguese at once; one claim takes both."""


import aiohttp
import pytest
from redis.asyncio import Redis

from handoff import KeySpace, LiveAgentQueue
from languages import LanguageCatalog
from stack.services import Stack
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts

pytestmark = pytest.mark.usefixtures("empty_english_queue")

PORTUGUESE_CRISIS = "Olá, eu preciso de ajuda, I want to kill myself, por favor"
"""Portuguese by the language resolver; the English patterns, screened on every message, flag it."""
PORTUGUESE_REQUEST = "Olá, preciso falar com alguém sobre a minha receita, por favor"
CATALOG = LanguageCatalog.load()


async def in_queue(redis: Redis, stack: Stack, language: str, conversation_id: str) -> bool:
    return await redis.zscore(KeySpace(stack.config.namespace).queue(language), conversation_id) is not None


async def test_portuguese_crisis_is_at_the_head_of_the_english_queue_and_one_claim_takes_both(
    stack: Stack, http: aiohttp.ClientSession, amy: AgentClient, redis: Redis
) -> None:
    patient = Patient(http, stack)
    replies = await patient.say(PORTUGUESE_CRISIS)
    assert texts(replies)[:2] == [CATALOG.notice("pt", "crisis_resources"), CATALOG.notice("pt", "crisis_connecting")]
    handoff = handoff_of(replies)
    assert handoff is not None
    assert (handoff["status"], handoff["queue"], handoff["priority"], handoff["position"]) == (
        "queued", "pt", "crisis", 1
    )

    status, queue = await amy.call("GET", "/api/queue")
    assert status == 200
    head = queue["waiting"][0]
    assert (head["conversation_id"], head["position"], head["language"], head["fallback_language"]) == (
        patient.sender, 1, "pt", "en"
    )
    assert (head["priority"], head["phone_follow_up"], head["reply_after_ms"]) == ("crisis", True, None)
    assert await in_queue(redis, stack, "pt", patient.sender) and await in_queue(redis, stack, "en", patient.sender)

    status, claimed = await amy.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status == 200 and claimed["conversation"]["agent_id"] == "amy"
    assert not await in_queue(redis, stack, "pt", patient.sender)
    assert not await in_queue(redis, stack, "en", patient.sender)
    _, after = await amy.call("GET", "/api/queue")
    assert patient.sender not in [waiting["conversation_id"] for waiting in after["waiting"]]
    status, again = await amy.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status == 409, again


async def test_an_after_hours_portuguese_conversation_in_crisis_is_not_held_for_callback(
    stack: Stack, http: aiohttp.ClientSession, stack_queue: LiveAgentQueue
) -> None:
    patient = Patient(http, stack)
    captured = handoff_of(await patient.say(PORTUGUESE_REQUEST))
    assert captured is not None and captured["status"] == "after_hours"

    replies = await patient.say(PORTUGUESE_CRISIS)
    assert texts(replies)[0] == CATALOG.notice("pt", "crisis_resources")
    handoff = handoff_of(replies)
    assert handoff is not None and (handoff["status"], handoff["priority"]) == ("queued", "crisis")
    conversation = await stack_queue.conversation(patient.sender)
    assert conversation is not None
    assert (conversation.reply_after_ms, conversation.fallback_language) == (None, "en")

    later = texts(await patient.say("Ainda estou aqui, por favor me ajude"))
    assert later == [CATALOG.notice("pt", "queued", position=1)], "told of their place in line, not of office hours"
