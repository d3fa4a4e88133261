"""No health fact in clear in Redis, and none that can be moved, against a real Redis.

The attacker has read and write access to Redis and no data key: after a billing
escalation and a crisis (queued, then raised again while an agent has it, then closed),
they read every key, then move sealed facts between conversations and fields.
"""

import pytest
from redis.asyncio import Redis

from handoff import CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.crypto import EnvelopeError, generate_key_ring_spec
from handoff.errors import NotAssignedAgent
from handoff.models import CrisisDisposition, CrisisFlag
from tests.redis_contents import every_stored_value

BILLING, CRISIS = "p-7f3a", "p-9c1e"
CRISIS_WORDS = "I took all my pills"
HEALTH_FACTS = [
    b"billing_question", b"billing", b"suicide_self_harm", b"suicide", b"overdose_poisoning", b"overdose",
    b"behavioral-health", b"nurse", CRISIS_WORDS.encode(), b"my bill is wrong", b"pills",
]


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def escalate_billing_and_crisis(queue: LiveAgentQueue) -> None:
    await queue.record(BILLING, TranscriptRole.PATIENT, "my bill is wrong")
    await queue.enqueue_escalation(BILLING, "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.record(CRISIS, TranscriptRole.PATIENT, CRISIS_WORDS)
    await queue.enqueue_escalation(CRISIS, "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", CRISIS_WORDS))


async def test_an_attacker_reading_every_key_finds_no_health_fact(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await escalate_billing_and_crisis(queue)
    await queue.claim(CRISIS, "amy", ["en"])
    await queue.enqueue_escalation(CRISIS, "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", CRISIS_WORDS))
    assert [alert["category"] for alert in await queue.crisis_alerts("amy")] == ["overdose_poisoning"]
    await queue.send_agent_message(CRISIS, "amy", "I am calling you now")
    await queue.close(CRISIS, "amy", CloseOutcome.CLOSED, CrisisDisposition.PHONE_FOLLOW_UP_DONE)

    stored = await every_stored_value(redis, f"{{{keys.namespace}}}:*")
    assert stored, "the attacker reads something"
    assert [fact for fact in HEALTH_FACTS if any(fact in value for value in stored)] == []
    billing = await queue.conversation(BILLING)
    assert billing is not None and (billing.reason, billing.skill) == ("billing_question", Skill.BILLING)
    assert (await queue.closed_episodes(CRISIS))[0]["crisis_category"] == "overdose_poisoning"


async def test_a_sealed_fact_moved_to_another_conversation_or_field_does_not_open(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await escalate_billing_and_crisis(queue)
    billing, crisis = keys.conversation(BILLING), keys.conversation(CRISIS)
    billing_reason, crisis_reason = await redis.hget(billing, "reason"), await redis.hget(crisis, "reason")
    await redis.hset(billing, "reason", crisis_reason)
    await redis.hset(crisis, "reason", billing_reason)
    for conversation_id in (BILLING, CRISIS):
        with pytest.raises(EnvelopeError):
            await queue.conversation(conversation_id)
    await redis.hset(crisis, "reason", crisis_reason)
    await redis.hset(crisis, "crisis_category", crisis_reason)
    with pytest.raises(EnvelopeError):
        await queue.conversation(CRISIS)


async def test_a_transcript_entry_replayed_as_crisis_evidence_does_not_open(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await escalate_billing_and_crisis(queue)
    assert await queue.crisis_evidence(CRISIS) == CRISIS_WORDS
    entry = await redis.lindex(keys.transcript(CRISIS), 0)
    await redis.hset(keys.conversation(CRISIS), "crisis_evidence", entry)
    with pytest.raises(EnvelopeError):
        await queue.crisis_evidence(CRISIS)


async def test_a_skill_tag_copied_from_another_conversation_claims_nothing(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """A general agent must not get a behavioral-health crisis by copying a general conversation's tag."""
    await queue.enqueue_escalation("p-2b84", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await escalate_billing_and_crisis(queue)
    crisis = keys.conversation(CRISIS)
    genuine = await redis.hget(crisis, "skill_tag")
    await redis.hset(crisis, "skill_tag", await redis.hget(keys.conversation("p-2b84"), "skill_tag"))
    for skills in (["general"], ["behavioral-health"]):
        with pytest.raises(NotAssignedAgent, match="skill"):
            await queue.claim(CRISIS, "gail", ["en"], skills)
    await redis.hset(crisis, "skill_tag", genuine)
    with pytest.raises(NotAssignedAgent, match="skill"):
        await queue.claim(CRISIS, "gail", ["en"], ["general", "billing"])
    claimed = await queue.claim(CRISIS, "amy", ["en"], ["behavioral-health"])
    assert claimed.agent_id == "amy"


async def test_facts_sealed_before_a_key_rotation_still_open_and_claim(
    redis: Redis, key_ring_spec: str, keys: KeySpace
) -> None:
    before = LiveAgentQueue(redis, KeyRing.from_spec(key_ring_spec), keys)
    await escalate_billing_and_crisis(before)
    after = LiveAgentQueue(redis, KeyRing.from_spec(f"{generate_key_ring_spec('k2')},{key_ring_spec}"), keys)
    claimed = await after.claim(BILLING, "amy", ["en"], ["billing"])
    assert (claimed.reason, claimed.skill) == ("billing_question", Skill.BILLING)
    assert await after.crisis_evidence(CRISIS) == CRISIS_WORDS
