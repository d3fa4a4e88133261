"""An attacker with write access to Redis and no data key moves sealed values around: every move is refused.

Each test writes a conversation through the queue, then rearranges its envelopes with raw Redis
commands, as someone with a Redis connection but no key would, and reads it back.
"""

import asyncio

import pytest
from redis.asyncio import Redis

from handoff import CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.crypto import EnvelopeError
from handoff.errors import NotAssignedAgent
from handoff.models import CrisisDisposition, CrisisFlag
from handoff.sealed_records import MisplacedRecord

WORDS = ["I need help with my bill", "it says I owe 400", "my member id is 12345", "thank you"]


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def with_agent(queue: LiveAgentQueue, conversation_id: str = "p1") -> None:
    """Four patient messages, an escalation, a claim and two agent messages."""
    for text in WORDS:
        await queue.record(conversation_id, TranscriptRole.PATIENT, text)
    await queue.enqueue_escalation(conversation_id, "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.claim(conversation_id, "amy", ["en"])
    await queue.send_agent_message(conversation_id, "amy", "Let me look at your bill")
    await queue.send_agent_message(conversation_id, "amy", "You owe nothing")


async def test_the_untouched_transcript_and_outbox_read_in_order(queue: LiveAgentQueue) -> None:
    await with_agent(queue)
    texts = [*WORDS, "Let me look at your bill", "You owe nothing"]
    assert [entry.text for entry in await queue.transcript("p1")] == texts
    assert [entry.text for entry in await queue.transcript("p1", 2)] == texts[2:]
    assert [entry.text for entry in await queue.transcript("p1", -1)] == texts[-1:]
    assert [message.entry.text for message in await queue.agent_messages("p1", 1)] == texts[-2:]


async def test_two_swapped_transcript_entries_are_refused(queue: LiveAgentQueue, redis: Redis, keys: KeySpace) -> None:
    await with_agent(queue)
    transcript = keys.transcript("p1")
    first, second = await redis.lindex(transcript, 1), await redis.lindex(transcript, 2)
    await redis.lset(transcript, 1, second)
    await redis.lset(transcript, 2, first)
    with pytest.raises(MisplacedRecord, match="transcript entry 1 does not open at its place"):
        await queue.transcript("p1")
    with pytest.raises(MisplacedRecord, match="transcript entry 2"):
        await queue.transcript("p1", 2)


async def test_an_entry_deleted_from_the_middle_is_refused(queue: LiveAgentQueue, redis: Redis, keys: KeySpace) -> None:
    await with_agent(queue)
    transcript = keys.transcript("p1")
    await redis.lrem(transcript, 1, await redis.lindex(transcript, 2))
    with pytest.raises(MisplacedRecord, match="transcript entry 2"):
        await queue.transcript("p1")
    with pytest.raises(MisplacedRecord):
        await queue.transcript("p1", -1)


async def test_a_duplicated_or_inserted_entry_is_refused(queue: LiveAgentQueue, redis: Redis, keys: KeySpace) -> None:
    await with_agent(queue)
    transcript = keys.transcript("p1")
    original = await redis.lrange(transcript, 0, -1)
    await redis.rpush(transcript, original[2])
    with pytest.raises(MisplacedRecord, match="transcript entry 6"):
        await queue.transcript("p1")
    await redis.delete(transcript)
    await redis.rpush(transcript, *original[:3], original[2], *original[3:])
    with pytest.raises(MisplacedRecord, match="transcript entry 3"):
        await queue.transcript("p1")


async def test_an_entry_moved_to_another_conversation_is_refused(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await with_agent(queue, "p1")
    await with_agent(queue, "p2")
    stolen = await redis.lindex(keys.transcript("p1"), 2)
    await redis.lset(keys.transcript("p2"), 2, stolen)
    with pytest.raises(MisplacedRecord, match="transcript entry 2"):
        await queue.transcript("p2")
    assert len(await queue.transcript("p1")) == 6


async def test_a_transcript_entry_copied_into_the_outbox_is_not_delivered(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """The agent's message sits in the transcript at position 5: its transcript envelope, given the outbox
    sequence 5 and the place of a newer message, still does not open as an outbox message."""
    await with_agent(queue)
    delivered = await queue.agent_messages("p1", 1)
    entry = await redis.lindex(keys.transcript("p1"), 5)
    await redis.xadd(keys.outbox("p1", 1), {"entry": entry, "sequence": 6})
    with pytest.raises(MisplacedRecord, match="outbox message 6"):
        await queue.agent_messages("p1", 1, after_id=delivered[-1].message_id)


async def test_an_outbox_message_replayed_is_not_delivered_twice(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await with_agent(queue)
    outbox = keys.outbox("p1", 1)
    delivered = await queue.agent_messages("p1", 1)
    [(_, fields)] = await redis.xrange(outbox, min=delivered[0].message_id, max=delivered[0].message_id)
    await redis.xadd(outbox, fields)
    with pytest.raises(MisplacedRecord, match="replayed or reordered"):
        await queue.agent_messages("p1", 1, after_id=delivered[-1].message_id)
    with pytest.raises(MisplacedRecord, match="replayed or reordered"):
        await queue.agent_messages("p1", 1)
    renumbered = dict(fields, sequence=b"7")
    await redis.xadd(outbox, renumbered)
    with pytest.raises(MisplacedRecord, match="outbox message 7 does not open"):
        await queue.agent_messages("p1", 1, after_id=(await redis.xrevrange(outbox, count=2))[1][0].decode())


async def test_an_outbox_message_moved_to_another_episode_is_not_delivered(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await with_agent(queue)
    [(_, fields), *_] = await redis.xrange(keys.outbox("p1", 1))
    await redis.xadd(keys.outbox("p1", 2), fields)
    with pytest.raises(MisplacedRecord, match="outbox message 4"):
        await queue.agent_messages("p1", 2)


async def test_a_transcript_entry_replayed_as_crisis_evidence_does_not_open(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "I took all my pills")
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "I took all my pills"))
    await redis.hset(keys.conversation("p1"), "crisis_evidence", await redis.lindex(keys.transcript("p1"), 0))
    with pytest.raises(EnvelopeError):
        await queue.crisis_evidence("p1")


async def test_episode_records_swapped_or_moved_are_refused(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    for conversation_id in ("p1", "p2"):
        for _ in range(2):
            await with_agent(queue, conversation_id)
            await queue.close(conversation_id, "amy", CloseOutcome.BACK_TO_BOT)
    assert [record["episode"] for record in await queue.closed_episodes("p1")] == [1, 2]
    episodes = keys.episodes("p1")
    first, second = await redis.lrange(episodes, 0, -1)
    await redis.delete(episodes)
    await redis.rpush(episodes, second, first)
    with pytest.raises(MisplacedRecord, match="episode record 0"):
        await queue.closed_episodes("p1")
    await redis.lset(keys.episodes("p2"), 0, first)
    with pytest.raises(MisplacedRecord, match="episode record 0"):
        await queue.closed_episodes("p2")


async def test_concurrent_appends_each_get_their_own_position(queue: LiveAgentQueue, other_process: Redis,
                                                              key_ring: KeyRing, keys: KeySpace) -> None:
    """Patient messages from two processes and the agent's replies race for the end of one transcript:
    none is lost, and every entry opens at its position."""
    elsewhere = LiveAgentQueue(other_process, key_ring, keys)
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "pills"))
    await queue.claim("p1", "amy", ["en"])
    writes = [queue.record("p1", TranscriptRole.PATIENT, f"here {n}") for n in range(30)]
    writes += [elsewhere.record("p1", TranscriptRole.PATIENT, f"there {n}") for n in range(30)]
    writes += [elsewhere.send_agent_message("p1", "amy", f"agent {n}") for n in range(20)]
    await asyncio.gather(*writes)
    texts = [entry.text for entry in await queue.transcript("p1")]
    expected = {f"{side} {n}" for side in ("here", "there") for n in range(30)} | {f"agent {n}" for n in range(20)}
    assert len(texts) == 80 and set(texts) == expected
    delivered = [message.entry.text for message in await queue.agent_messages("p1", 1)]
    assert sorted(delivered) == sorted(f"agent {n}" for n in range(20))
    await queue.close("p1", "amy", CloseOutcome.CLOSED, CrisisDisposition.PHONE_FOLLOW_UP_DONE)


async def test_an_agent_message_after_another_process_wrote_goes_to_the_end_of_the_current_episode(
    queue: LiveAgentQueue, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    """The console's process claimed the conversation and so knows where the transcript ended and which episode it
    was; another process wrote since (a patient message; a close, a new escalation and claim): the message is
    stored once, at the real end, in the current episode's outbox, and everything opens at its place."""
    elsewhere = LiveAgentQueue(other_process, key_ring, keys)
    await queue.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.claim("p1", "amy", ["en"])
    await elsewhere.record("p1", TranscriptRole.PATIENT, "are you there?")
    await queue.send_agent_message("p1", "amy", "Yes, Amy here.")
    await elsewhere.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    await elsewhere.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await elsewhere.claim("p1", "amy", ["en"])
    await elsewhere.record("p1", TranscriptRole.PATIENT, "me again")
    await queue.send_agent_message("p1", "amy", "Welcome back.")
    texts = ["are you there?", "Yes, Amy here.", "me again", "Welcome back."]
    assert [entry.text for entry in await queue.transcript("p1")] == texts
    assert [message.entry.text for message in await queue.agent_messages("p1", 1)] == ["Yes, Amy here."]
    assert [message.entry.text for message in await queue.agent_messages("p1", 2)] == ["Welcome back."]
    await elsewhere.close("p1", "amy", CloseOutcome.CLOSED)
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p1", "amy", "too late")
    assert [entry.text for entry in await queue.transcript("p1")] == texts
