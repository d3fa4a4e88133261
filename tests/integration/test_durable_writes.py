"""Writes that lead to a promise wait for a replica (``WAIT``, ``handoff.durable_writes``), against a real primary,
replica and sentinels: with the replica stopped (SIGSTOP) nothing is promised, a message sent again is stored once,
and a spooled crisis is replayed once."""

import dataclasses
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from handoff import ConversationState, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.durable_writes import RECENT_MESSAGE_IDS, UnreplicatedWrite
from handoff.errors import NotAssignedAgent
from handoff.redis_connection import async_redis
from handoff.settings import ReplicaAcks
from handoff.spool import CrisisReplayer, CrisisSpool
from stack.redis_server import RedisServer, SentinelRedis
from stack.services import free_port
from tests.integration.test_crisis_spool import MESSAGE, crisis

ONE_REPLICA = ReplicaAcks(replicas=1, timeout_ms=200)


@pytest.fixture(scope="module")
def sentinel_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelRedis]:
    topology = SentinelRedis(tmp_path_factory.mktemp("durable-writes"), free_port)
    topology.start()
    yield topology
    topology.stop()


@pytest_asyncio.fixture
async def durable_queue(sentinel_redis: SentinelRedis, key_ring: KeyRing, keys: KeySpace
                        ) -> AsyncIterator[LiveAgentQueue]:
    client = async_redis(sentinel_redis.url)
    yield LiveAgentQueue(client, key_ring, keys, replica_acks=ONE_REPLICA)
    await client.close()


@pytest_asyncio.fixture
async def replica(sentinel_redis: SentinelRedis) -> AsyncIterator[Redis]:
    """A connection to the replica itself: what a failover would promote."""
    async with Redis(port=sentinel_redis.replicas[0].port) as client:
        yield client


@contextmanager
def stopped(server: RedisServer) -> Iterator[None]:
    """The server frozen (SIGSTOP): connected, acknowledging nothing, until the block ends."""
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


async def test_with_the_replica_healthy_every_promised_write_is_on_the_replica_when_it_returns(
    durable_queue: LiveAgentQueue, replica: Redis
) -> None:
    queue = durable_queue
    result = await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert (result.state, result.position) == (ConversationState.QUEUED, 1)
    assert await replica.zrank(queue.keys.queue("en"), "p1") == 0
    await queue.record("p1", TranscriptRole.PATIENT, "are you there?", "message-0001", durable=True)
    assert await replica.llen(queue.keys.transcript("p1")) == 1
    await queue.claim("p1", "amy", ["en"])
    await queue.send_agent_message("p1", "amy", "Hi, Amy here.", message_id="reply-0001")
    assert await replica.xlen(queue.keys.outbox("p1", result.episode)) == 1


async def test_an_escalation_no_replica_holds_is_not_promised_and_stands_once_it_does(
    durable_queue: LiveAgentQueue, sentinel_redis: SentinelRedis, replica: Redis
) -> None:
    queue = durable_queue
    with stopped(sentinel_redis.replicas[0]):
        with pytest.raises(UnreplicatedWrite):
            await queue.enqueue_escalation("p2", "en", Skill.NURSE, Priority.URGENT, "clinical_question")
        with pytest.raises(UnreplicatedWrite, match="0 of 1 replicas"):
            await queue.enqueue_escalation("p2", "en", Skill.NURSE, Priority.URGENT, "clinical_question")
    result = await queue.enqueue_escalation("p2", "en", Skill.NURSE, Priority.URGENT, "clinical_question")
    assert (result.state, result.position, result.episode) == (ConversationState.QUEUED, 1, 1), "one episode"
    assert await replica.zrange(queue.keys.queue("en"), 0, -1) == [b"p2"]


async def test_a_patient_message_sent_again_after_refusals_is_stored_once_and_only_promised_when_replicated(
    durable_queue: LiveAgentQueue, sentinel_redis: SentinelRedis, replica: Redis
) -> None:
    queue = durable_queue
    await queue.enqueue_escalation("p3", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    with stopped(sentinel_redis.replicas[0]):
        for _ in range(3):
            # each time from another process (connection): its WAIT must still cover the first write
            async with async_redis(sentinel_redis.url) as elsewhere:
                other_process = LiveAgentQueue(elsewhere, queue.key_ring, queue.keys, replica_acks=ONE_REPLICA)
                with pytest.raises(UnreplicatedWrite):
                    await other_process.record("p3", TranscriptRole.PATIENT, "my chest hurts when I climb stairs",
                                               "message-p3-0001", durable=True)
    await queue.record("p3", TranscriptRole.PATIENT, "my chest hurts when I climb stairs", "message-p3-0001",
                       durable=True)
    assert [entry.text for entry in await queue.transcript("p3")] == ["my chest hurts when I climb stairs"]
    assert await replica.llen(queue.keys.transcript("p3")) == 1
    await queue.record("p3", TranscriptRole.PATIENT, "my chest hurts when I climb stairs", "message-p3-0002",
                       durable=True)
    assert len(await queue.transcript("p3")) == 2, "the same words with another id are another message"


async def test_an_agent_reply_sent_again_after_a_refusal_reaches_the_patient_once(
    durable_queue: LiveAgentQueue, sentinel_redis: SentinelRedis
) -> None:
    queue = durable_queue
    episode = (await queue.enqueue_escalation("p4", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")).episode
    await queue.claim("p4", "amy", ["en"])
    with stopped(sentinel_redis.replicas[0]), pytest.raises(UnreplicatedWrite):
        await queue.send_agent_message("p4", "amy", "Your refill is ready.", message_id="reply-p4-0001")
    accepted = await queue.send_agent_message("p4", "amy", "Your refill is ready.", message_id="reply-p4-0001")
    outbox = await queue.agent_messages("p4", episode)
    assert [(message.message_id, message.entry.text) for message in outbox] == [(accepted, "Your refill is ready.")]
    assert [entry.text for entry in await queue.transcript("p4")] == ["Your refill is ready."]
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p4", "ana", "Your refill is ready.", message_id="reply-p4-0001")


async def test_a_message_sent_again_after_newer_ones_were_stored_is_still_stored_once(
    durable_queue: LiveAgentQueue,
) -> None:
    """The page sends a second message while the first is still being sent again (its answer was lost), and
    Twilio posts webhooks again in any order: the first one, arriving last, is not stored a second time."""
    queue = durable_queue
    episode = (await queue.enqueue_escalation("p6", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")).episode
    for message_id, text in (("message-p6-0001", "my card was charged twice"), ("message-p6-0002", "for March"),
                             ("message-p6-0001", "my card was charged twice")):
        await queue.record("p6", TranscriptRole.PATIENT, text, message_id, durable=True)
    assert [entry.text for entry in await queue.transcript("p6")] == ["my card was charged twice", "for March"]

    await queue.claim("p6", "amy", ["en"])
    first = await queue.send_agent_message("p6", "amy", "Let me look.", message_id="reply-p6-0001")
    await queue.send_agent_message("p6", "amy", "I see both charges.", message_id="reply-p6-0002")
    assert await queue.send_agent_message("p6", "amy", "Let me look.", message_id="reply-p6-0001") == first
    await queue.send_agent_message("p6", "amy", "One is refunded.", message_id="reply-p6-0003")
    outbox = await queue.agent_messages("p6", episode)
    assert [message.entry.text for message in outbox] == ["Let me look.", "I see both charges.", "One is refunded."]
    assert [entry.text for entry in await queue.transcript("p6")][-3:] == [message.entry.text for message in outbox]

    for index in range(RECENT_MESSAGE_IDS):
        await queue.record("p6", TranscriptRole.PATIENT, f"line {index}", f"message-p6-1{index:03d}", durable=True)
    await queue.record("p6", TranscriptRole.PATIENT, "my card was charged twice", "message-p6-0001", durable=True)
    said = [entry.text for entry in await queue.transcript("p6") if entry.role == TranscriptRole.PATIENT]
    assert said.count("my card was charged twice") == 2, "the documented bound: ids older than the recent ones"


async def test_a_spooled_crisis_stays_pending_while_no_replica_holds_it_and_is_replayed_once(
    durable_queue: LiveAgentQueue, sentinel_redis: SentinelRedis, replica: Redis, tmp_path: Path, key_ring: KeyRing,
    keys: KeySpace,
) -> None:
    queue = durable_queue
    spool = CrisisSpool(tmp_path / "crisis-spool.jsonl", key_ring, keys.namespace)
    replayer = CrisisReplayer(spool, queue)
    await queue.record("p5", TranscriptRole.PATIENT, MESSAGE, "message-p5-0001")
    spool.append(dataclasses.replace(crisis("p5"), message_id="message-p5-0001"))
    with stopped(sentinel_redis.replicas[0]):
        for _ in range(2):
            with pytest.raises(UnreplicatedWrite):
                await replayer.replay_pending()
        assert len(spool.pending()) == 1, "left in the spool"
    await replayer.replay_pending()
    assert spool.pending() == []
    waiting = await queue.conversation("p5")
    assert waiting is not None and (waiting.state, waiting.priority) == (ConversationState.QUEUED, Priority.CRISIS)
    assert [entry.text for entry in await queue.transcript("p5")] == [
        MESSAGE, "our team will contact you as soon as we can"], "the message once, then what only the spool knew"
    assert await replica.llen(queue.keys.transcript("p5")) == 2
