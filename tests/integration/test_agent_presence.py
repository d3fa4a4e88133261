"""No conversation waits on an absent agent (invariant 11), against a real Redis.

What a contact center sees when a nurse's laptop dies mid-chat: the heartbeat stops, and each
conversation she held goes back to the head of its queue, where the next agent takes it.
"""

import asyncio

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.errors import NotAssignedAgent
from handoff.models import ConversationState, CrisisFlag
from handoff.presence import AgentPresence
from tests.reaping import agent_left


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def test_a_silent_agents_conversations_go_back_to_the_head_of_their_queues(
    redis: Redis, keys: KeySpace, queue: LiveAgentQueue, audit_keys: KeyRing
) -> None:
    audit = AuditLog(redis, keys, audit_keys)
    presence = AgentPresence(redis, keys, queue, 1, agent_left)
    await queue.enqueue_escalation("held", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    crisis = CrisisFlag("suicide_self_harm", "I want to end it")
    await queue.enqueue_escalation("crisis", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis", crisis)
    await queue.claim("held", "amy", ["en"])
    await queue.claim("crisis", "amy", ["en"])
    await queue.enqueue_escalation("waiting", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await presence.heartbeat("amy")
    await presence.heartbeat("luis")
    assert await presence.reap(audit) == [], "an agent that beats keeps its conversations"

    await asyncio.sleep(1.2)
    await presence.heartbeat("luis")
    assert sorted(await presence.reap(audit)) == ["crisis", "held"]
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["crisis", "held", "waiting"]
    for conversation_id in ("held", "crisis"):
        conversation = await queue.conversation(conversation_id)
        assert conversation is not None
        assert (conversation.state, conversation.agent_id) == (ConversationState.QUEUED, None)
        assert conversation.episode == 1, "the same episode: the next agent reads all of it"
    assert await queue.assigned_to("amy") == []
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("held", "amy", "sorry, I'm back")
    actions = [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()]
    assert sorted(actions) == [
        ("presence-reaper", "requeued_agent_silent", "crisis", "amy"),
        ("presence-reaper", "requeued_agent_silent", "held", "amy"),
    ]
    assert await presence.reap(audit) == [], "a second reaper (another console process) changes nothing"
    claimed = await queue.claim("crisis", "luis", ["en"])
    assert claimed.agent_id == "luis"


async def test_signing_out_hands_conversations_back_at_the_next_round(
    redis: Redis, keys: KeySpace, queue: LiveAgentQueue, audit_keys: KeyRing
) -> None:
    presence = AgentPresence(redis, keys, queue, 3600, agent_left)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"])
    await presence.heartbeat("amy")
    await presence.offline("amy")
    assert await presence.reap(AuditLog(redis, keys, audit_keys)) == ["p1"]


async def test_requeue_does_nothing_once_the_agent_closed_or_lost_the_conversation(
    queue: LiveAgentQueue,
) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert not await queue.requeue("p1", "amy", agent_left), "not claimed"
    await queue.claim("p1", "amy", ["en"])
    assert not await queue.requeue("p1", "luis", agent_left), "someone else's"
    assert await queue.requeue("p1", "amy", agent_left)
    assert not await queue.requeue("p1", "amy", agent_left), "already back in the queue"
    told = [message.entry.text for message in await queue.agent_messages("p1", 1)]
    assert told == [agent_left("en")], "the patient is told once, on the push socket"
