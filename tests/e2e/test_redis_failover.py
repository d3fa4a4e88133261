"""Redis Sentinel failover mid-conversation (issue 13): a primary, two replicas and three sentinels; every process
connects with a ``redis+sentinel://`` URL and waits for one replica to hold each write that leads to a promise
(``HANDOFF_REPLICA_ACKS=1``). While no replica acknowledges, nothing is promised: a crisis is told the truth,
spooled and replayed once, any other message gets 503 and is stored once when sent again. The primary is killed
with SIGKILL, right after the last acknowledged writes, while one patient waits in line, one talks with an agent
and one with the bot; a crisis written before the sentinels promote a replica is spooled and replayed to the head
of the queue on the new primary, every conversation carries on there, and nothing acknowledged is lost.
Its own Redis servers and stack, so killing the primary harms no other test."""

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Optional

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel

from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority, TranscriptRole
from handoff.redis_connection import async_redis
from languages import LanguageCatalog
from stack.redis_server import SentinelRedis
from stack.services import Stack, free_port
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message

CATALOG = LanguageCatalog.load()
DOWN_AFTER_MS = 5000
"""How long the sentinels wait before they call the primary down: the crisis below is written well inside it."""
FAILOVER_DEADLINE_SECONDS = 90
REPLAY_DEADLINE_SECONDS = 30
REPLICA_ACKS = {"HANDOFF_REPLICA_ACKS": "1", "HANDOFF_REPLICA_ACK_TIMEOUT_MS": "300"}


@pytest.fixture(scope="module")
def sentinel_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelRedis]:
    topology = SentinelRedis(tmp_path_factory.mktemp("sentinel-redis"), free_port, down_after_ms=DOWN_AFTER_MS,
                             replicas=2)
    topology.start()
    yield topology
    topology.stop()


@pytest.fixture(scope="module")
def failover_stack(sentinel_redis: SentinelRedis, stack_on: Callable[..., Stack]) -> Stack:
    return stack_on(sentinel_redis.url, **REPLICA_ACKS)


@pytest_asyncio.fixture
async def failover_queue(sentinel_redis: SentinelRedis, failover_stack: Stack) -> AsyncIterator[LiveAgentQueue]:
    client = async_redis(sentinel_redis.url)
    yield LiveAgentQueue(client, KeyRing.from_spec(failover_stack.config.data_keys),
                         KeySpace(failover_stack.config.namespace))
    await client.close()


@contextmanager
def replicas_stopped(topology: SentinelRedis) -> Iterator[None]:
    """Every replica frozen (SIGSTOP): still connected, acknowledging nothing, until the block ends."""
    for replica in topology.replicas:
        assert replica.process is not None
        replica.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for replica in topology.replicas:
            assert replica.process is not None
            replica.process.send_signal(signal.SIGCONT)


async def primary_port(topology: SentinelRedis) -> Optional[int]:
    """The port of the primary the sentinels name, ``None`` while they hold it down and elect none."""
    watchers = Sentinel([("127.0.0.1", server.port) for server in topology.sentinels])
    try:
        _, port = await watchers.discover_master(topology.service)
    except MasterNotFoundError:
        return None
    return int(port)


async def pushed(push: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((await asyncio.wait_for(push.receive(), timeout=30)).data)
    return message


async def test_while_no_replica_acknowledges_nothing_is_promised_and_what_is_sent_again_is_stored_once(
    failover_stack: Stack,
    sentinel_redis: SentinelRedis,
    failover_queue: LiveAgentQueue,
    http: aiohttp.ClientSession,
) -> None:
    stack = failover_stack
    waiting, in_crisis = Patient(http, stack), Patient(http, stack)
    assert handoff_of(await waiting.say(training_message("en", "request_human"))) is not None, "replicas healthy"
    assert texts(await in_crisis.say(training_message("en", "greet")))
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])

    with replicas_stopped(sentinel_redis):
        for _ in range(2):
            status, refused = await waiting.post("is anyone there?", message_id="waiting-message-0001")
            assert status == 503 and waiting.last_headers.get("Retry-After") == "5", refused
        crisis = await in_crisis.say("I took all my pills")
        assert texts(crisis) == [CATALOG.notice("en", "crisis_resources"), CATALOG.notice("en", "crisis_unrecorded")]
        assert stack.crisis_spool.read_bytes().count(b"\n") == 1, "spooled"
        await asyncio.sleep(1.5)
        assert stack.crisis_spool.read_bytes().count(b"\n") >= 1, "the replay waits for a replica to hold it"

    status, replies = await waiting.post("is anyone there?", message_id="waiting-message-0001")
    assert status == 200 and texts(replies) == [CATALOG.notice("en", "queued", position=2)], "behind the crisis"
    replayed = time.monotonic()
    while stack.crisis_spool.read_bytes():
        assert time.monotonic() - replayed < REPLAY_DEADLINE_SECONDS, "the spooled crisis was not replayed"
        await asyncio.sleep(0.5)
    english = [c.conversation_id for c in await failover_queue.waiting(["en"])]
    assert english == [in_crisis.conversation_id, waiting.conversation_id]
    for patient, said in ((waiting, [training_message("en", "request_human"), "is anyone there?"]),
                          (in_crisis, [training_message("en", "greet"), "I took all my pills"])):
        status, _ = await amy.call("POST", f"/api/conversations/{patient.conversation_id}/claim")
        assert status == 200
        status, transcript = await amy.call("GET", f"/api/conversations/{patient.conversation_id}/transcript")
        assert status == 200
        assert [e["text"] for e in transcript["entries"] if e["role"] == "patient"] == said, "each message once"
        status, _ = await amy.call("POST", f"/api/conversations/{patient.conversation_id}/close",
                                   {"outcome": "closed", "crisis_disposition": "resources_given_patient_safe"})
        assert status == 200
    unrecorded = [e for e in transcript["entries"] if e["text"] == CATALOG.notice("en", "crisis_unrecorded")]
    assert len(unrecorded) == 1, "what the patient was told, once"


async def test_conversations_carry_on_after_the_primary_is_killed_and_a_crisis_in_the_gap_is_not_lost(
    failover_stack: Stack,
    sentinel_redis: SentinelRedis,
    failover_queue: LiveAgentQueue,
    http: aiohttp.ClientSession,
) -> None:
    stack = failover_stack
    waiting, talking, with_bot = Patient(http, stack), Patient(http, stack), Patient(http, stack)
    assert handoff_of(await waiting.say(training_message("en", "request_human"))) is not None
    talking_handoff = handoff_of(await talking.say(training_message("en", "request_human")))
    assert talking_handoff is not None
    assert texts(await with_bot.say(training_message("en", "greet")))
    amy = AgentClient(http, stack)
    await amy.login("amy", AGENT_PASSWORDS["amy"])
    status, _ = await amy.call("POST", f"/api/conversations/{talking.conversation_id}/claim")
    assert status == 200
    push_params = {"sender": talking.conversation_id, "token": talking_handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=push_params) as push:
        status, _ = await amy.call(
            "POST", f"/api/conversations/{talking.conversation_id}/messages", {"text": "Hi, Amy here."}
        )
        assert status == 201
        before = await pushed(push)
    assert before["text"] == "Hi, Amy here."

    # acknowledged writes waited for a replica: no waiting for it to catch up before the primary dies
    status, _ = await waiting.post("I am still waiting", message_id="waiting-before-kill")
    assert status == 200
    assert sentinel_redis.primary.process is not None
    sentinel_redis.primary.process.send_signal(signal.SIGKILL)
    sentinel_redis.primary.process.wait()

    crisis = await with_bot.say("I took all my pills")
    assert texts(crisis) == [CATALOG.notice("en", "crisis_resources"), CATALOG.notice("en", "crisis_unrecorded")]
    assert stack.crisis_spool.read_bytes().count(b"\n") == 1

    killed = time.monotonic()
    replicas = {replica.port: replica for replica in sentinel_redis.replicas}
    while (promoted_port := await primary_port(sentinel_redis)) not in replicas:
        assert time.monotonic() - killed < FAILOVER_DEADLINE_SECONDS, "the sentinels promoted no replica"
        await asyncio.sleep(0.5)
    async with Redis(port=promoted_port) as promoted:  # the sentinels point the other replica at it
        while int((await promoted.info("replication")).get("connected_slaves", 0)) < 1:
            assert time.monotonic() - killed < FAILOVER_DEADLINE_SECONDS, "no replica follows the new primary"
            await asyncio.sleep(0.2)
    patient_said = [entry.text for entry in await failover_queue.transcript(waiting.conversation_id)
                    if entry.role == TranscriptRole.PATIENT]
    assert patient_said == [training_message("en", "request_human"), "I am still waiting"], "nothing acknowledged lost"
    english: list[str] = []
    promoted = time.monotonic()
    while time.monotonic() - promoted < REPLAY_DEADLINE_SECONDS:
        english = [c.conversation_id for c in await failover_queue.waiting(["en"])]
        if with_bot.conversation_id in english:
            break
        await asyncio.sleep(0.5)
    assert english == [with_bot.conversation_id, waiting.conversation_id], "the crisis first, nobody lost"
    raw_queue = await failover_queue.redis.zrange(failover_queue.keys.queue("en"), 0, -1)
    assert len(raw_queue) == 2, "no duplicates"
    replayed = await failover_queue.conversation(with_bot.conversation_id)
    assert replayed is not None and (replayed.priority, replayed.phone_follow_up) == (Priority.CRISIS, True)
    assert not stack.crisis_spool.read_bytes(), "the spool is compacted once replayed"

    # the waiting patient is still in line, now behind the crisis
    assert texts(await waiting.say("are you still there?")) == [CATALOG.notice("en", "queued", position=2)]
    # the conversation with the agent goes on: the patient reconnects its push socket where it left off
    assert await talking.say("my appointment is on friday") == []
    async with http.ws_connect(stack.patient_push_url, params={**push_params, "after": before["id"]}) as push:
        status, _ = await amy.call(
            "POST", f"/api/conversations/{talking.conversation_id}/messages", {"text": "Friday at 3 pm works."}
        )
        assert status == 201
        assert (await pushed(push))["text"] == "Friday at 3 pm works.", "the next message, nothing repeated"
    status, transcript = await amy.call("GET", f"/api/conversations/{talking.conversation_id}/transcript")
    assert status == 200
    assert [e["text"] for e in transcript["entries"] if e["role"] in ("patient", "agent")] == [
        training_message("en", "request_human"), "Hi, Amy here.", "my appointment is on friday",
        "Friday at 3 pm works.",
    ]
    # the crisis is claimed from the new primary with what the patient wrote, once
    status, _ = await amy.call("POST", f"/api/conversations/{with_bot.conversation_id}/claim")
    assert status == 200
    status, transcript = await amy.call("GET", f"/api/conversations/{with_bot.conversation_id}/transcript")
    assert status == 200
    assert [e["text"] for e in transcript["entries"] if e["role"] == "patient"] == [
        training_message("en", "greet"), "I took all my pills",
    ]
    # and a new conversation with the bot works on the new primary (tracker and lock stores through Sentinel)
    newcomer = Patient(http, stack)
    assert any("Monday to Friday" in text for text in texts(await newcomer.say(training_message("en", "ask_hours"))))
