"""Redis Sentinel failover mid-conversation (issue 13): a primary, a replica and three sentinels; every process
connects with a ``redis+sentinel://`` URL. The primary is killed with SIGKILL while one patient waits in line,
one talks with an agent and one with the bot; a crisis written before the sentinels promote the replica is
spooled and replayed to the head of the queue on the new primary, and every conversation carries on there.
Its own Redis servers and stack, so killing the primary harms no other test."""

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Optional

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel

from handoff import KeyRing, KeySpace, LiveAgentQueue, Priority
from handoff.redis_connection import async_redis
from languages import LanguageCatalog
from stack.redis_server import RedisServer, SentinelRedis
from stack.services import Stack, free_port
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.training_messages import training_message

CATALOG = LanguageCatalog.load()
DOWN_AFTER_MS = 5000
"""How long the sentinels wait before they call the primary down: the crisis below is written well inside it."""
FAILOVER_DEADLINE_SECONDS = 90
REPLAY_DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def sentinel_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelRedis]:
    topology = SentinelRedis(tmp_path_factory.mktemp("sentinel-redis"), free_port, down_after_ms=DOWN_AFTER_MS)
    topology.start()
    yield topology
    topology.stop()


@pytest.fixture(scope="module")
def failover_stack(sentinel_redis: SentinelRedis, stack_on: Callable[[str], Stack]) -> Stack:
    return stack_on(sentinel_redis.url)


@pytest_asyncio.fixture
async def failover_queue(sentinel_redis: SentinelRedis, failover_stack: Stack) -> AsyncIterator[LiveAgentQueue]:
    client = async_redis(sentinel_redis.url)
    yield LiveAgentQueue(client, KeyRing.from_spec(failover_stack.config.data_keys),
                         KeySpace(failover_stack.config.namespace))
    await client.close()


async def replicated(primary: RedisServer, replica: RedisServer) -> None:
    """Until the replica has every write the primary acknowledged (the system does not ``WAIT`` yet: README)."""
    async with Redis(port=primary.port) as source, Redis(port=replica.port) as copy:
        while True:
            offset = (await source.info("replication"))["master_repl_offset"]
            if (await copy.info("replication"))["master_repl_offset"] >= offset:
                return
            await asyncio.sleep(0.05)


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

    await replicated(sentinel_redis.primary, sentinel_redis.replica)
    assert sentinel_redis.primary.process is not None
    sentinel_redis.primary.process.send_signal(signal.SIGKILL)
    sentinel_redis.primary.process.wait()

    crisis = await with_bot.say("I took all my pills")
    assert texts(crisis) == [CATALOG.notice("en", "crisis_resources"), CATALOG.notice("en", "crisis_unrecorded")]
    assert stack.crisis_spool.read_bytes().count(b"\n") == 1

    killed = time.monotonic()
    while await primary_port(sentinel_redis) != sentinel_redis.replica.port:
        assert time.monotonic() - killed < FAILOVER_DEADLINE_SECONDS, "the sentinels promoted no replica"
        await asyncio.sleep(0.5)
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
