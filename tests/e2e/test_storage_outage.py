"""Redis killed mid-conversation: a crisis still gets the resources and the truth (never a promise of a
person), is spooled to disk and replayed to the head of its queue once Redis is back; anything else gets
503 with Retry-After and changes nothing, and a patient on SMS, who has no page to show that, is told once.
Its own Redis server and stack, so killing Redis harms no other test."""

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from connectors.gated_channel import SENDER_PURPOSE
from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority
from handoff.redis_connection import async_redis
from languages import LanguageCatalog
from stack.redis_server import RedisServer
from stack.services import Stack, free_port
from tests.conftest import AGENT_PASSWORDS, stack_config
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message
from tests.e2e.twilio_api import TwilioApi, TwilioWebhook, new_phone

REPLAY_DEADLINE_SECONDS = 5
CATALOG = LanguageCatalog.load()


@pytest.fixture(scope="module")
def outage_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("outage-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def outage_stack(
    outage_redis: RedisServer,
    key_ring_spec: str,
    agents_file: Path,
    coverage_file: Path,
    twilio_api_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    config = stack_config(
        outage_redis.url, key_ring_spec, agents_file, coverage_file, tmp_path_factory.mktemp("outage-stack"),
        twilio_api_port,
    )
    running = Stack(config).start()
    yield running
    running.stop()


@pytest_asyncio.fixture
async def outage_queue(outage_redis: RedisServer, outage_stack: Stack) -> AsyncIterator[LiveAgentQueue]:
    client = async_redis(outage_redis.url)
    key_ring = KeyRing.from_spec(outage_stack.config.data_keys)
    yield LiveAgentQueue(client, key_ring, KeySpace(outage_stack.config.namespace))
    await client.close()


def kill_redis(server: RedisServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()


async def test_a_crisis_during_a_redis_outage_is_spooled_and_replayed_to_the_head_of_the_queue(
    outage_stack: Stack, outage_redis: RedisServer, outage_queue: LiveAgentQueue, http: aiohttp.ClientSession
) -> None:
    ahead = Patient(http, outage_stack)
    patient = Patient(http, outage_stack)
    second = Patient(http, outage_stack)
    assert handoff_of(await ahead.say(training_message("en", "request_human"))) is not None
    assert texts(await patient.say(training_message("en", "greet")))

    kill_redis(outage_redis)

    replies = await patient.say("I took all my pills")
    said = texts(replies)
    assert said == [CATALOG.notice("en", "crisis_resources"), CATALOG.notice("en", "crisis_unrecorded")]
    assert "988" in said[0] and "911" in said[0] and "as soon as we can" in said[1]
    assert not any("connecting" in text.lower() for text in said), "no promise of a person: nothing is stored"
    assert handoff_of(replies) is None
    assert texts(await second.say("I don't want to be here anymore"))[1] == CATALOG.notice("en", "crisis_unrecorded")
    spooled = outage_stack.crisis_spool.read_bytes()
    assert spooled.count(b"\n") == 2 and b"pills" not in spooled and patient.sender.encode() not in spooled

    status, refused = await patient.post("what are your hours")
    assert status == 503 and "unavailable" in refused["error"]
    assert int(patient.last_headers["Retry-After"]) > 0
    assert outage_stack.crisis_spool.read_bytes() == spooled, "the refused message changed nothing"

    outage_redis.start()
    back = time.monotonic()
    english: list[str] = []
    while time.monotonic() - back < REPLAY_DEADLINE_SECONDS:
        english = [c.conversation_id for c in await outage_queue.waiting(["en"])]
        if second.sender in english:
            break
        await asyncio.sleep(0.2)
    assert english == [patient.sender, second.sender, ahead.sender], "both crises at the head, none lost"
    raw_queue = await outage_queue.redis.zrange(outage_queue.keys.queue("en"), 0, -1)
    assert len(raw_queue) == 3, "no duplicates"
    for sender in (patient.sender, second.sender):
        conversation = await outage_queue.conversation(sender)
        assert conversation is not None
        assert (conversation.priority, conversation.phone_follow_up) == (Priority.CRISIS, True)
    assert await outage_queue.crisis_evidence(patient.sender) == "took all my pills"

    later = await patient.say("are you still there?")
    assert texts(later) == [CATALOG.notice("en", "queued", position=1)]
    agent = AgentClient(http, outage_stack)
    await agent.login("amy", AGENT_PASSWORDS["amy"])
    status, _ = await agent.call("POST", f"/api/conversations/{patient.sender}/claim")
    assert status == 200
    status, transcript = await agent.call("GET", f"/api/conversations/{patient.sender}/transcript")
    assert status == 200
    assert [entry["text"] for entry in transcript["entries"] if entry["role"] == "patient"] == [
        training_message("en", "greet"),
        "I took all my pills",
        "are you still there?",
    ]
    assert CATALOG.notice("en", "crisis_unrecorded") in [entry["text"] for entry in transcript["entries"]]
    assert not outage_stack.crisis_spool.read_bytes(), "the spool is compacted once replayed"


async def test_an_sms_that_cannot_be_stored_is_answered_503_and_its_patient_told_once_in_their_language(
    outage_stack: Stack, outage_redis: RedisServer, outage_queue: LiveAgentQueue, http: aiohttp.ClientSession,
    twilio_api: TwilioApi,
) -> None:
    """Rasa's Twilio channel answers 204 whatever happened: the message was lost in silence, and Twilio, told all
    was well, never posted it again."""
    twilio = TwilioWebhook(http, outage_stack)
    phone, spanish = new_phone(), new_phone()
    await twilio.send(phone, training_message("en", "greet"))
    not_received = CATALOG.notice("en", "message_not_received")
    kill_redis(outage_redis)
    try:
        hours = twilio.params(phone, "what are your hours")
        for _ in range(2):
            assert await twilio.post(hours, twilio.signature(hours)) == 503, "Twilio may post it again"
            assert int(twilio.last_headers["Retry-After"]) > 0
        told = [message.body for message in twilio_api.to(phone)]
        assert told.count(not_received) == 1, "told once, however many times Twilio posts it"
        assert "911" in not_received
        question = twilio.params(spanish, "¿a qué hora abre mañana la clínica?")
        assert await twilio.post(question, twilio.signature(question)) == 503
        assert [message.body for message in twilio_api.to(spanish)] == [CATALOG.notice("es", "message_not_received")]
        in_crisis = new_phone()
        crisis = twilio.params(in_crisis, "I took all my pills")
        assert await twilio.post(crisis, twilio.signature(crisis)) == 204, "a crisis is spooled: nothing to post again"
        assert [message.body for message in twilio_api.to(in_crisis)] == [
            CATALOG.notice("en", "crisis_resources"), CATALOG.notice("en", "crisis_unrecorded")]
    finally:
        outage_redis.start()

    answered_before = len(twilio_api.to(phone))
    back = time.monotonic()
    status = 503
    while status == 503 and time.monotonic() - back < REPLAY_DEADLINE_SECONDS:
        status = await twilio.post(hours, twilio.signature(hours))
        await asyncio.sleep(0.2)
    assert status == 204, "posted again once Redis is back, the message is taken"
    answers = [message.body for message in twilio_api.to(phone)[answered_before:]]
    assert answers and not_received not in answers, "and answered by the bot"
    spooled = "twilio-" + outage_queue.seals.key_ring.mac(SENDER_PURPOSE, in_crisis)
    conversation = None
    while time.monotonic() - back < REPLAY_DEADLINE_SECONDS:
        conversation = await outage_queue.conversation(spooled)
        if conversation is not None:
            break
        await asyncio.sleep(0.2)
    assert conversation is not None and conversation.priority == Priority.CRISIS, "the SMS crisis reached the queue"
