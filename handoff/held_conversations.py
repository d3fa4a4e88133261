"""The conversations agents hold, as the supervisor's view lists them: minimum necessary, no message text and no
patient name; only what a supervisor needs to see who is overloaded or stuck and to take over or reassign.

Each conversation shows its log pseudonym as its short form (``handoff.log_privacy``: what incidents and logs
name it by), its queue language, skill and priority, whether it has an open crisis, when its agent got it, when
its agent last wrote to the patient, and how many patient messages wait for a person's answer: those after the
last agent message of the episode, or, before any, those since the bot last answered before the escalation.

The list changes only when its ``holdings`` do (who holds what since when, each transcript's length), which
the console's event socket compares every round without opening a transcript.
"""

from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

from handoff.models import Conversation, TranscriptRole
from handoff.queue import LiveAgentQueue
from handoff.redis_values import text_of

Holding = tuple[str, str, Optional[str], int]
"""(agent, conversation, claimed at, transcript length)."""


@dataclass(frozen=True)
class HeldConversation:
    conversation_id: str
    short_id: str
    agent_id: str
    language: Optional[str]
    skill: Optional[str]
    priority: Optional[str]
    crisis: bool
    claimed_at_ms: Optional[int]
    last_agent_message_at_ms: Optional[int]
    unanswered_patient_messages: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def held_conversation(queue: LiveAgentQueue, conversation: Conversation) -> HeldConversation:
    """The list's row of a conversation with an agent."""
    assert conversation.agent_id is not None
    last_agent_message, unanswered = None, 0
    escalated_at = conversation.escalated_at_entry or 0
    entries = await queue.transcript(conversation.conversation_id, conversation.transcript_from)
    for position, entry in enumerate(entries, start=conversation.transcript_from):
        if entry.role == TranscriptRole.AGENT:
            last_agent_message, unanswered = entry.at_ms, 0
        elif entry.role == TranscriptRole.BOT and position < escalated_at:
            unanswered = 0
        elif entry.role == TranscriptRole.PATIENT:
            unanswered += 1
    return HeldConversation(
        conversation.conversation_id, queue.pseudonym(conversation.conversation_id), conversation.agent_id,
        conversation.language, conversation.skill.value if conversation.skill else None,
        conversation.priority.value if conversation.priority else None, conversation.crisis_category is not None,
        conversation.claimed_at_ms, last_agent_message, unanswered,
    )


async def holdings(queue: LiveAgentQueue, agent_ids: Sequence[str]) -> list[Holding]:
    """What each agent holds now, in one pipeline per agent: no health fact or transcript is opened."""
    held: list[Holding] = []
    for agent_id in agent_ids:
        members = sorted(text_of(member) for member in
                         await queue.redis.smembers(queue.keys.agent_conversations(agent_id)))
        if not members:
            continue
        async with queue.redis.pipeline(transaction=False) as pipe:
            for conversation_id in members:
                pipe.hmget(queue.keys.conversation(conversation_id), ["agent", "claimed_at"])
                pipe.llen(queue.keys.transcript(conversation_id))
            answers = await pipe.execute()
        for index, conversation_id in enumerate(members):
            (agent, claimed_at), length = answers[2 * index], answers[2 * index + 1]
            if agent is not None and text_of(agent) == agent_id:
                held.append((agent_id, conversation_id, text_of(claimed_at) if claimed_at else None, int(length)))
    return held
