"""The queue and state machine against a real Redis-compatible server."""

import asyncio

import pytest
from redis.asyncio import Redis

from handoff import (
    CloseOutcome,
    ConversationNotFound,
    ConversationState,
    InvalidTransition,
    KeyRing,
    KeySpace,
    LiveAgentQueue,
    NotAssignedAgent,
    Priority,
    Skill,
    TranscriptRole,
)
from handoff.models import CrisisFlag


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def test_enqueue_is_idempotent_per_conversation(queue: LiveAgentQueue) -> None:
    first = await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    again = await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert first.position == again.position == 1
    assert first.state == ConversationState.QUEUED
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["p1"]


async def test_priority_first_then_first_come_first_served(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("early", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.enqueue_escalation("late", "en", Skill.GENERAL, Priority.NORMAL, "r")
    urgent = await queue.enqueue_escalation("urgent", "en", Skill.NURSE, Priority.URGENT, "r")
    assert urgent.position == 1
    assert [c.conversation_id for c in await queue.waiting(["en"])] == ["urgent", "early", "late"]
    assert await queue.position("late") == 3


async def test_higher_priority_reranks_a_queued_conversation(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("a", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.enqueue_escalation("b", "en", Skill.GENERAL, Priority.NORMAL, "r")
    raised = await queue.enqueue_escalation("b", "en", Skill.GENERAL, Priority.CRISIS, "crisis")
    assert (raised.position, raised.priority, raised.reason) == (1, Priority.CRISIS, "crisis")
    lowered = await queue.enqueue_escalation("b", "en", Skill.GENERAL, Priority.NORMAL, "r")
    assert lowered.priority == Priority.CRISIS, "a later, lower priority never demotes a crisis"


async def test_languages_have_separate_queues(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("en-patient", "en", Skill.GENERAL, Priority.NORMAL, "r")
    spanish = await queue.enqueue_escalation("es-patient", "es", Skill.GENERAL, Priority.NORMAL, "r")
    assert spanish.position == 1 and spanish.language == "es"
    assert [c.conversation_id for c in await queue.waiting(["es"])] == ["es-patient"]
    with pytest.raises(NotAssignedAgent):
        await queue.claim("es-patient", "amy", ["en"])
    assert (await queue.state_of("es-patient")) == ConversationState.QUEUED


async def test_only_one_of_many_concurrent_claims_wins(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "r")
    outcomes = await asyncio.gather(
        *(queue.claim("p1", f"agent{i}", ["en"]) for i in range(8)), return_exceptions=True
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, InvalidTransition) for o in outcomes if isinstance(o, BaseException))
    assert winners[0].state == ConversationState.WITH_AGENT
    assert await queue.waiting(["en"]) == []


async def test_agent_messages_reach_the_outbox_and_transcript_in_order(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.record("p1", TranscriptRole.PATIENT, "my member id is W123456")
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.claim("p1", "amy", ["en"])
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p1", "someone-else", "hi")
    first = await queue.send_agent_message("p1", "amy", "Hi, this is Amy.")
    await queue.send_agent_message("p1", "amy", "How can I help?")
    outbox = await queue.agent_messages("p1", 1)
    assert [m.entry.text for m in outbox] == ["Hi, this is Amy.", "How can I help?"]
    assert [m.entry.text for m in await queue.agent_messages("p1", 1, after_id=first)] == ["How can I help?"]
    transcript = await queue.transcript("p1")
    assert [(e.role, e.text) for e in transcript] == [
        (TranscriptRole.PATIENT, "my member id is W123456"),
        (TranscriptRole.AGENT, "Hi, this is Amy."),
        (TranscriptRole.AGENT, "How can I help?"),
    ]
    raw = await redis.lrange(keys.transcript("p1"), 0, -1)
    assert not any(b"W123456" in item for item in raw), "transcripts are encrypted at rest"


async def test_close_back_to_bot_marks_the_rasa_conversation_for_resumption(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.claim("p1", "amy", ["en"])
    with pytest.raises(NotAssignedAgent):
        await queue.close("p1", "luis", CloseOutcome.BACK_TO_BOT)
    await queue.close("p1", "amy", CloseOutcome.BACK_TO_BOT)
    assert await queue.state_of("p1") == ConversationState.BOT
    assert await queue.take_resume_pending("p1") is True
    assert await queue.take_resume_pending("p1") is False
    with pytest.raises(NotAssignedAgent):
        await queue.send_agent_message("p1", "amy", "still there?")


async def test_closed_conversation_reopens_with_the_bot(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.claim("p1", "amy", ["en"])
    await queue.close("p1", "amy", CloseOutcome.CLOSED)
    assert await queue.state_of("p1") == ConversationState.CLOSED
    assert await queue.take_resume_pending("p1") is True
    assert await queue.state_of("p1") == ConversationState.BOT
    again = await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.NORMAL, "r")
    assert again.state == ConversationState.QUEUED


async def test_unknown_conversations_are_reported(queue: LiveAgentQueue) -> None:
    assert await queue.conversation("nobody") is None
    assert await queue.state_of("nobody") == ConversationState.BOT
    with pytest.raises(ConversationNotFound):
        await queue.claim("nobody", "amy", ["en"])
    with pytest.raises(ConversationNotFound):
        await queue.send_agent_message("nobody", "amy", "hi")
    with pytest.raises(ConversationNotFound):
        await queue.close("nobody", "amy", CloseOutcome.CLOSED)


async def test_crisis_flags_the_conversation_and_alerts_the_agent_who_has_it(queue: LiveAgentQueue) -> None:
    flag = CrisisFlag("suicide_self_harm", "I want to end it all")
    first = await queue.enqueue_escalation("p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis", flag)
    assert first.priority == Priority.CRISIS
    conversation = await queue.conversation("p1")
    assert conversation is not None
    assert (conversation.crisis_category, conversation.phone_follow_up) == ("suicide_self_harm", True)
    assert await queue.crisis_evidence("p1") == "I want to end it all"
    await queue.claim("p1", "amy", ["en"])
    assert await queue.crisis_alerts("amy") == []
    again = await queue.enqueue_escalation("p1", "en", Skill.GENERAL, Priority.CRISIS, "crisis", flag)
    assert again.state == ConversationState.WITH_AGENT
    alerts = await queue.crisis_alerts("amy")
    assert [(a["conversation"], a["category"]) for a in alerts] == [("p1", "suicide_self_harm")]
    assert await queue.crisis_alerts("amy", after_id=alerts[-1]["id"]) == []
    assert await queue.crisis_alerts("luis") == []


async def test_claim_needs_the_conversations_skill_unless_supervisor(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.NURSE, Priority.NORMAL, "clinical_question")
    assert await queue.waiting(["en"], ["billing"]) == []
    with pytest.raises(NotAssignedAgent, match="skill"):
        await queue.claim("p1", "billing-only", ["en"], ["billing"])
    assert [c.conversation_id for c in await queue.waiting(["en"], ["nurse"])] == ["p1"]
    claimed = await queue.claim("p1", "supervisor", ["en"], None)
    assert claimed.agent_id == "supervisor"
    assert [c.conversation_id for c in await queue.assigned_to("supervisor")] == ["p1"]
    await queue.close("p1", "supervisor", CloseOutcome.CLOSED)
    assert await queue.assigned_to("supervisor") == []


async def test_a_crisis_moves_a_queued_task_to_the_crisis_skill(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("p1", "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await queue.enqueue_escalation(
        "p1", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis", CrisisFlag("suicide_self_harm", "x")
    )
    conversation = await queue.conversation("p1")
    assert conversation is not None and conversation.skill == Skill.BEHAVIORAL_HEALTH


async def test_switching_language_while_queued_moves_the_task_keeping_its_place(queue: LiveAgentQueue) -> None:
    await queue.enqueue_escalation("early", "en", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.enqueue_escalation("spanish-later", "es", Skill.GENERAL, Priority.NORMAL, "r")
    await queue.remember_language("early", "es")
    assert [c.conversation_id for c in await queue.waiting(["en"])] == []
    assert [c.conversation_id for c in await queue.waiting(["es"])] == ["early", "spanish-later"]
    claimed = await queue.claim("early", "luis", ["es"])
    assert claimed.language == "es"


async def test_a_requested_language_keeps_the_task_in_its_queue_and_the_patients_own_language_beside_it(
    queue: LiveAgentQueue,
) -> None:
    asked = await queue.enqueue_escalation(
        "asks-zh", "zh", Skill.GENERAL, Priority.NORMAL, "language_concordant_request", patient_language="en"
    )
    assert (asked.language, asked.reason) == ("zh", "language_concordant_request")
    conversation = await queue.conversation("asks-zh")
    assert conversation is not None
    assert (conversation.language, conversation.patient_language, conversation.spoken_language) == ("zh", "en", "en")
    assert conversation.held_in_requested_language
    await queue.remember_patient_language("asks-zh", "es")
    assert [c.conversation_id for c in await queue.waiting(["zh"])] == ["asks-zh"], "writing Spanish moves nothing"
    assert await queue.waiting(["en"]) == [] and await queue.waiting(["es"]) == []
    moved = await queue.conversation("asks-zh")
    assert moved is not None and (moved.language, moved.patient_language) == ("zh", "es")


async def test_the_patients_own_language_lasts_one_episode_or_until_the_language_is_set_again(
    queue: LiveAgentQueue,
) -> None:
    await queue.enqueue_escalation("p", "ko", Skill.GENERAL, Priority.NORMAL, "language_concordant_request",
                                   patient_language="en")
    await queue.claim("p", "kim", ["ko"])
    await queue.close("p", "kim", CloseOutcome.BACK_TO_BOT)
    closed = await queue.conversation("p")
    assert closed is not None and closed.spoken_language == "en" and not closed.held_in_requested_language
    await queue.enqueue_escalation("p", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    again = await queue.conversation("p")
    assert again is not None and (again.language, again.patient_language) == ("en", None)
    await queue.enqueue_escalation("q", "ko", Skill.GENERAL, Priority.NORMAL, "language_concordant_request",
                                   patient_language="en")
    await queue.remember_language("q", "es")
    switched = await queue.conversation("q")
    assert switched is not None and (switched.language, switched.patient_language) == ("es", None)
