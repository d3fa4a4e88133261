"""Minimum necessary across episodes: an episode runs from escalation to close, against a real Redis.

Replays what an attacker or a curious agent would try: read an earlier episode's
agent messages through a later episode, close a crisis without saying what
became of it, close over a crisis that arrived after the agent last looked.
"""

import json

import pytest
from redis.asyncio import Redis

from handoff import CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.errors import MissingCrisisDisposition, NotAssignedAgent
from handoff.models import CrisisDisposition, CrisisFlag


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def start_episode(queue: LiveAgentQueue, agent: str = "amy", crisis: bool = False) -> int:
    if crisis:
        flag = CrisisFlag("suicide_self_harm", "I want to end my life")
        result = await queue.enqueue_escalation(
            "p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm", flag
        )
    else:
        result = await queue.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.claim("p1", agent, ["en"])
    return result.episode


async def test_each_escalation_is_a_new_episode_with_its_own_outbox(queue: LiveAgentQueue) -> None:
    first = await start_episode(queue)
    await queue.send_agent_message("p1", "amy", "Your test results are ready: A1C 9.1")
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    await queue.take_resume_pending("p1")
    second = await start_episode(queue)
    assert (first, second) == (1, 2)
    await queue.send_agent_message("p1", "amy", "About your bill")
    assert [m.entry.text for m in await queue.agent_messages("p1", second)] == ["About your bill"]
    assert all("A1C" not in m.entry.text for m in await queue.agent_messages("p1", second, "0"))


async def test_a_closed_episodes_outbox_expires_and_the_transcript_restarts_at_the_close(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "earlier: I was in crisis")
    await start_episode(queue)
    await queue.send_agent_message("p1", "amy", "earlier agent message")
    await queue.close("p1", "amy", CloseOutcome.CLOSED)
    assert 0 < await redis.pttl(keys.outbox("p1", 1)) <= 10 * 60 * 1000
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.transcript_from == 2
    await queue.take_resume_pending("p1")
    await queue.record("p1", TranscriptRole.PATIENT, "later: a billing question")
    await start_episode(queue)
    conversation = await queue.conversation("p1")
    assert conversation is not None
    current = await queue.transcript("p1", conversation.transcript_from)
    assert [entry.text for entry in current] == ["later: a billing question"]


async def test_a_crisis_episode_needs_its_disposition_and_closing_clears_the_flags(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await start_episode(queue, crisis=True)
    with pytest.raises(MissingCrisisDisposition):
        await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.crisis_category == "suicide_self_harm"
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT, CrisisDisposition.PHONE_FOLLOW_UP_DONE)
    conversation = await queue.conversation("p1")
    assert conversation is not None
    assert (conversation.crisis_category, conversation.phone_follow_up) == (None, False)
    assert await queue.crisis_evidence("p1") is None
    [record] = await queue.closed_episodes("p1")
    assert (record["crisis_category"], record["crisis_disposition"], record["closed_by"]) == (
        "suicide_self_harm", "phone_follow_up_done", "amy"
    )
    raw = await redis.lrange(keys.episodes("p1"), 0, -1)
    assert b"suicide" not in raw[0] and b"phone_follow_up_done" not in raw[0], "episode records are sealed"


async def test_a_crisis_that_arrives_while_closing_stops_the_close(queue: LiveAgentQueue, key_ring: KeyRing) -> None:
    """The agent read a billing conversation; a crisis arrives; a close with no disposition must not erase it."""
    await start_episode(queue)
    stale = await queue.conversation("p1")
    flag = CrisisFlag("overdose_poisoning", "I took all my pills")
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning", flag)
    assert stale is not None
    args = [
        "amy", "BOT", 1, "p1", stale.episode, "",
        key_ring.seal(json.dumps({"episode": stale.episode}).encode(), "p1"), 1000,
    ]
    keys = queue.keys
    outcome = await queue._close(
        keys=[keys.conversation("p1"), keys.agent_conversations("amy"), keys.transcript("p1"),
              keys.episodes("p1"), keys.outbox("p1", stale.episode)],
        args=args,
    )
    assert outcome == b"crisis_changed"
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.crisis_category == "overdose_poisoning"
    with pytest.raises(MissingCrisisDisposition):
        await queue.close("p1", "amy", CloseOutcome.CLOSED)


async def test_an_agent_message_is_refused_for_an_episode_that_has_ended(queue: LiveAgentQueue) -> None:
    await start_episode(queue)
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    await queue.take_resume_pending("p1")
    await queue.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p1", "amy", "late reply to the old episode")


async def test_verification_is_recorded_without_values_and_lapses_at_close(queue: LiveAgentQueue) -> None:
    await start_episode(queue)
    await queue.mark_verified("p1", "form")
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.verified_via == "form" and conversation.verified_at_ms
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.verified_via is None
