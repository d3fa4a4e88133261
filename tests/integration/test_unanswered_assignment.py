"""An agent who claims a patient and never writes loses the patient to the head of the queue (invariant 11),
against a real Redis: the patient is told in their language, the next agent reads the whole episode, the
old agent can no longer reply, and races with a reply or with a second console's reaper change it once.
"""

import asyncio

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.errors import NotAssignedAgent
from handoff.models import ConversationState
from handoff.presence import AgentPresence, PresenceStatus
from handoff.queue import now_ms
from tests.reaping import agent_left, until_done

RACES = 20


def presence_on(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> AgentPresence:
    return AgentPresence(redis, keys, LiveAgentQueue(redis, key_ring, keys), 3600, agent_left)


async def test_an_agent_who_never_answers_loses_the_patient_to_the_head_of_the_queue(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    presence = presence_on(redis, key_ring, keys)
    await queue.enqueue_escalation("waiting", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("silent", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.record("silent", TranscriptRole.PATIENT, "necesito hablar con alguien sobre mi factura")
    await queue.enqueue_escalation("answered", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("silent", "luis", ["es"], answer_within_seconds=1)
    await queue.claim("answered", "luis", ["es"], answer_within_seconds=1)
    await queue.send_agent_message("answered", "luis", "Hola, soy Luis.")
    assert await presence.reap_unanswered(audit) == [], "nobody is due before the deadline"

    assert await until_done(lambda: presence.reap_unanswered(audit)) == ["silent"]
    silent = await queue.conversation("silent")
    assert silent is not None
    assert (silent.state, silent.agent_id, silent.episode) == (ConversationState.QUEUED, None, 1)
    assert [c.conversation_id for c in await queue.waiting(["es"])] == ["silent", "waiting"], "the head, not the tail"
    answered = await queue.conversation("answered")
    assert answered is not None and answered.agent_id == "luis", "an agent who wrote keeps the patient"
    assert [c.conversation_id for c in await queue.assigned_to("luis")] == ["answered"]
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("silent", "luis", "perdón, aquí estoy")

    told = await queue.agent_messages("silent", 1)
    assert [(m.entry.role, m.entry.text) for m in told] == [(TranscriptRole.BOT, agent_left("es"))]
    assert "no está disponible" in told[0].entry.text, "in the patient's language"
    actions = [(e.actor, e.action, e.conversation, e.source) for e in await audit.entries()]
    assert actions == [("presence-reaper", "requeued_unanswered", "silent", "luis")]

    await queue.claim("silent", "ana", ["es"])
    episode = [entry.text for entry in await queue.transcript("silent")]
    assert episode == ["necesito hablar con alguien sobre mi factura", agent_left("es")], "the whole episode"
    await queue.send_agent_message("silent", "ana", "Hola, soy Ana; ya leí todo.")
    assert await presence.reap_unanswered(audit) == []


async def test_a_reply_that_lands_with_the_reaper_either_keeps_the_patient_or_loses_it_never_both(
    queue: LiveAgentQueue, audit: AuditLog, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    reaper_queue = LiveAgentQueue(other_process, key_ring, keys)
    conversations = [f"race-{index}" for index in range(RACES)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(conversation_id, "amy", ["en"], answer_within_seconds=0)

    async def reply(conversation_id: str) -> bool:
        try:
            await queue.send_agent_message(conversation_id, "amy", "Hi, this is Amy.")
        except NotAssignedAgent:
            return False
        return True

    async def reap(conversation_id: str) -> bool:
        """What the other console's reaper does for one due conversation."""
        record = audit.prepare("presence-reaper", "requeued_unanswered", conversation_id, "amy")
        return await reaper_queue.requeue(conversation_id, "amy", agent_left, record, unanswered_by_ms=now_ms())

    async def race(index: int, conversation_id: str) -> tuple[bool, bool]:
        """The reply and the reaper set off together, each first to go half of the time."""
        if index % 2:
            replied, requeued = await asyncio.gather(reply(conversation_id), reap(conversation_id))
        else:
            requeued, replied = await asyncio.gather(reap(conversation_id), reply(conversation_id))
        return replied, requeued

    outcomes = await asyncio.gather(*(race(index, c) for index, c in enumerate(conversations)))
    for conversation_id, (replied, requeued) in zip(conversations, outcomes, strict=True):
        assert replied != requeued, f"{conversation_id}: exactly one of the reply and the reaper wins"
        conversation = await queue.conversation(conversation_id)
        assert conversation is not None
        outbox = [m.entry.role for m in await queue.agent_messages(conversation_id, 1)]
        if replied:
            assert (conversation.state, conversation.agent_id) == (ConversationState.WITH_AGENT, "amy")
            assert outbox == [TranscriptRole.AGENT]
        else:
            assert (conversation.state, conversation.agent_id) == (ConversationState.QUEUED, None)
            assert outbox == [TranscriptRole.BOT], "the reply was refused and nothing of it reached the patient"
    records = sorted(e.conversation for e in await audit.entries() if e.action == "requeued_unanswered")
    assert records == sorted(c for c, (_, requeued) in zip(conversations, outcomes, strict=True) if requeued)


async def test_two_console_processes_reaping_at_once_change_each_conversation_once(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, other_process: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    conversations = [f"due-{index}" for index in range(RACES)]
    for conversation_id in conversations:
        await queue.enqueue_escalation(conversation_id, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(conversation_id, "amy", ["en"], answer_within_seconds=0)

    first, second = await asyncio.gather(
        presence_on(redis, key_ring, keys).reap_unanswered(audit),
        presence_on(other_process, key_ring, keys).reap_unanswered(audit),
    )
    assert sorted(first + second) == sorted(conversations), "each conversation moved by exactly one of them"
    records = [e.conversation for e in await audit.entries() if e.action == "requeued_unanswered"]
    assert sorted(records) == sorted(conversations)
    for conversation_id in conversations:
        assert len(await queue.agent_messages(conversation_id, 1)) == 1, "the patient is told once"
    assert len(await queue.waiting(["en"])) == RACES


async def test_a_closed_conversation_is_not_reaped_and_leaves_no_deadline_behind(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    presence = presence_on(redis, key_ring, keys)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("p1", "amy", ["en"], answer_within_seconds=0)
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await presence.reap_unanswered(audit) == []
    again = await queue.conversation("p1")
    assert again is not None and (again.state, again.episode) == (ConversationState.QUEUED, 2)
    assert await redis.zcard(keys.unanswered_assignments()) == 0
    assert await queue.agent_messages("p1", 2) == [], "a patient waiting in line was never told an agent left"


async def test_an_agent_who_let_a_patient_go_unanswered_is_set_away_one_who_went_silent_is_not(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    presence = presence_on(redis, key_ring, keys)
    for agent_id in ("luis", "ana"):
        await presence.heartbeat(agent_id)
    await queue.enqueue_escalation("unanswered", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("answered", "es", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("unanswered", "luis", ["es"], answer_within_seconds=1)
    await queue.claim("answered", "ana", ["es"], answer_within_seconds=1)
    await queue.send_agent_message("answered", "ana", "Hola, soy Ana.")
    assert await until_done(lambda: presence.reap_unanswered(audit)) == ["unanswered"]
    assert await presence.status_of(["luis", "ana"]) == {"luis": PresenceStatus.AWAY, "ana": PresenceStatus.AVAILABLE}

    record = audit.prepare("presence-reaper", "requeued", "answered", "ana")
    assert await queue.requeue("answered", "ana", agent_left, record)
    assert await presence.status_of(["ana"]) == {"ana": PresenceStatus.AVAILABLE}, "silence is not unanswered"
    await presence.set_status("luis", PresenceStatus.AVAILABLE)
    assert await presence.status_of(["luis"]) == {"luis": PresenceStatus.AVAILABLE}, "until the agent says so"
