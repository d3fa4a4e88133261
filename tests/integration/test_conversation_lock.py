"""The gate's conversation lock and the transcript lengths a process remembers, against a real Redis.

Both save round trips on every patient message; neither may cost what they stand for: one message of a
conversation routed at a time, across processes and the crisis spool's replay, and every transcript entry at the
place it is sealed for, whatever another process appended or erased meanwhile.
"""

import asyncio
from collections import Counter

import pytest
from redis.asyncio import Redis
from redis.exceptions import LockError

from handoff import CloseOutcome, ConversationState, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.conversation_lock import PatientMessage
from handoff.crypto import EnvelopeError
from handoff.durable_writes import UnreplicatedWrite
from handoff.settings import ReplicaAcks
from tests.integration.conftest import CountingRedis


@pytest.fixture
def other_queue(other_process: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    """The same conversations as seen by another Rasa process."""
    return LiveAgentQueue(other_process, key_ring, keys)


async def texts(queue: LiveAgentQueue, conversation_id: str) -> list[str]:
    """The transcript, every entry opened at the place it was sealed for (``MisplacedRecord`` otherwise)."""
    return [entry.text for entry in await queue.transcript(conversation_id)]


async def test_the_lock_holds_the_conversation_as_it_was_when_taken(queue: LiveAgentQueue) -> None:
    async with queue.locked_conversation("p1", 5) as lock:
        assert lock.conversation is None, "never escalated"
    await queue.record("p1", TranscriptRole.PATIENT, "I need a person")
    await queue.enqueue_escalation("p1", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    async with queue.locked_conversation("p1", 5) as lock:
        assert lock.conversation == await queue.conversation("p1")
        assert lock.conversation is not None and lock.conversation.state == ConversationState.QUEUED
        assert lock.conversation.language == "es" and not lock.conversation.resume_pending
    await queue.claim("p1", "amy", ["es"])
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    async with queue.locked_conversation("p1", 5) as lock:
        assert lock.conversation is not None and lock.conversation.resume_pending


async def test_a_second_message_of_the_conversation_waits_for_the_first_in_any_process(
    queue: LiveAgentQueue, other_queue: LiveAgentQueue
) -> None:
    order: list[str] = []

    async def route(name: str, taker: LiveAgentQueue) -> None:
        async with taker.locked_conversation("p1", 5):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)
            order.append(f"{name} out")

    first = asyncio.ensure_future(route("first", queue))
    await asyncio.sleep(0.05)
    await route("second", other_queue)
    await first
    assert order == ["first in", "first out", "second in", "second out"]


async def test_the_gate_and_the_spool_replay_exclude_each_other(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    async with redis.lock(keys.gate_lock("p1"), timeout=5):
        with pytest.raises(LockError):
            async with queue.locked_conversation("p1", 0.3):
                pass
    async with queue.locked_conversation("p1", 5):
        assert not await redis.lock(keys.gate_lock("p1"), timeout=5).acquire(blocking=False)
    assert await redis.lock(keys.gate_lock("p1"), timeout=5).acquire(blocking=False), "released"


async def test_a_conversation_that_does_not_open_raises_under_the_lock_and_leaves_it_free(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    for conversation_id, reason in (("victim", "patient_request"), ("other", "billing_question")):
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, reason)
    await redis.hset(keys.conversation("victim"), "reason", await redis.hget(keys.conversation("other"), "reason"))
    with pytest.raises(EnvelopeError):
        async with queue.locked_conversation("victim", 5) as lock:
            assert lock.conversation is None, "never reached: the moved field does not open"
    assert await redis.lock(keys.gate_lock("victim"), timeout=5).acquire(blocking=False), "released at once"


async def test_an_append_after_another_process_appended_goes_at_the_end_and_opens_there(
    queue: LiveAgentQueue, other_queue: LiveAgentQueue
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "one")
    await queue.record("p1", TranscriptRole.BOT, "two")
    await other_queue.record("p1", TranscriptRole.PATIENT, "three")
    await other_queue.record("p1", TranscriptRole.BOT, "four")
    await queue.record("p1", TranscriptRole.PATIENT, "five")
    await other_queue.record("p1", TranscriptRole.BOT, "six")
    assert await texts(queue, "p1") == ["one", "two", "three", "four", "five", "six"]


async def test_an_append_after_the_transcript_was_erased_starts_it_again(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    for text in ("one", "two", "three"):
        await queue.record("p1", TranscriptRole.PATIENT, text)
    await redis.delete(keys.transcript("p1"))
    await queue.record("p1", TranscriptRole.PATIENT, "again")
    assert await texts(queue, "p1") == ["again"]


async def test_a_message_sent_again_leaves_no_wrong_length_behind(queue: LiveAgentQueue) -> None:
    assert await queue.record("p1", TranscriptRole.PATIENT, "hello", "message-0001")
    assert not await queue.record("p1", TranscriptRole.PATIENT, "hello", "message-0001")
    await queue.record("p1", TranscriptRole.BOT, "hi")
    assert await texts(queue, "p1") == ["hello", "hi"]


async def test_under_the_lock_the_message_and_the_replies_are_appended_without_reading_the_length(
    counting: CountingRedis, other_queue: LiveAgentQueue, key_ring: KeyRing, keys: KeySpace
) -> None:
    queue = LiveAgentQueue(counting, key_ring, keys)
    await other_queue.record("p1", TranscriptRole.PATIENT, "written by another process")
    counting.sent.clear()
    async with queue.locked_conversation("p1", 5):
        await queue.record("p1", TranscriptRole.PATIENT, "my bill")
        await queue.record("p1", TranscriptRole.BOT, "Here is how to pay it")
        await queue.record("p1", TranscriptRole.BOT, "Anything else?")
    assert counting.sent["LLEN"] == 0 and counting.sent["HGETALL"] == 0
    assert await texts(queue, "p1") == ["written by another process", "my bill", "Here is how to pay it",
                                        "Anything else?"]


async def test_the_patient_message_goes_in_with_the_lock_when_the_length_is_remembered(
    counting: CountingRedis, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    queue = LiveAgentQueue(counting, key_ring, keys)
    async with queue.locked_conversation("p1", 5, PatientMessage("first", "message-0001")) as lock:
        assert await texts(queue, "p1") == [], "no remembered length yet: recorded after the lock's read"
        assert await lock.record_patient_message(durable=False)
        await queue.record("p1", TranscriptRole.BOT, "hello")
    counting.sent.clear()
    async with queue.locked_conversation("p1", 5, PatientMessage("second", "message-0002")) as lock:
        assert counting.sent == Counter({"EVALSHA": 1})
        assert await texts(queue, "p1") == ["first", "hello", "second"], "recorded by the script that took the lock"
        counting.sent.clear()
        assert await lock.record_patient_message(durable=False)
        assert not counting.sent, "nothing left to do"
        await queue.record("p1", TranscriptRole.BOT, "hi again")
    assert await texts(queue, "p1") == ["first", "hello", "second", "hi again"]
    assert await redis.lock(keys.gate_lock("p1"), timeout=5).acquire(blocking=False), "released"


async def test_a_remembered_length_another_process_outdated_records_the_message_at_the_end(
    queue: LiveAgentQueue, other_queue: LiveAgentQueue
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "one")
    await other_queue.record("p1", TranscriptRole.BOT, "written by another process")
    async with queue.locked_conversation("p1", 5, PatientMessage("two")) as lock:
        assert await texts(queue, "p1") == ["one", "written by another process"], "sealed for the old end: refused"
        assert await lock.record_patient_message(durable=False)
        await queue.record("p1", TranscriptRole.BOT, "three")
    assert await texts(queue, "p1") == ["one", "written by another process", "two", "three"]


async def test_a_message_sent_again_is_not_recorded_twice_by_the_lock(queue: LiveAgentQueue) -> None:
    for attempt in range(2):
        async with queue.locked_conversation("p1", 5, PatientMessage("my refill", "message-0001")) as lock:
            assert await lock.record_patient_message(durable=False) == (attempt == 0)
    async with queue.locked_conversation("p1", 5, PatientMessage("and my bill", "message-0002")) as lock:
        assert await lock.record_patient_message(durable=False)
    assert await texts(queue, "p1") == ["my refill", "and my bill"]


async def test_a_message_that_waits_for_the_lock_is_not_recorded_before_it_is_taken(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "one")
    async with redis.lock(keys.gate_lock("p1"), timeout=5):
        with pytest.raises(LockError):
            async with queue.locked_conversation("p1", 0.3, PatientMessage("two")):
                pass
    assert await texts(queue, "p1") == ["one"]


async def test_with_replica_acks_the_message_is_recorded_on_its_own_and_waits_for_them(
    redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    """A write that waits for replicas must share the ``WAIT``'s connection: the lock's script records nothing, the
    durable record does, and with no replica to acknowledge it nothing is promised."""
    queue = LiveAgentQueue(redis, key_ring, keys, replica_acks=ReplicaAcks(replicas=1, timeout_ms=50))
    await queue.record("p1", TranscriptRole.PATIENT, "one")
    async with queue.locked_conversation("p1", 5, PatientMessage("two")) as lock:
        assert await texts(queue, "p1") == ["one"]
        with pytest.raises(UnreplicatedWrite):
            await lock.record_patient_message(durable=True)


async def test_replies_released_in_a_conversation_with_an_agent_mark_the_console_changes(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """An entry recorded with the release while an agent has the conversation wakes the consoles, and the marker
    goes to the changes stream, never to the lock's key."""
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"])
    before = await redis.xlen(keys.console_changes())
    async with queue.locked_conversation("p1", 5, PatientMessage("are you there?")) as lock:
        assert await lock.record_patient_message(durable=False)
        lock.record_on_release(["A reply recorded with the release"])
    assert await redis.xlen(keys.console_changes()) == before + 2
    assert await texts(queue, "p1") == ["are you there?", "A reply recorded with the release"]
    assert await redis.lock(keys.gate_lock("p1"), timeout=5).acquire(blocking=False), "released"
