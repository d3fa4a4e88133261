"""Reading a conversation and queuing its escalations: the enqueue half of ``LiveAgentQueue``.

An escalation (``ENQUEUE_SCRIPT``) queues the conversation in its language's priority queue with its sealed
health facts (``handoff.health_facts``); a crisis spooled while Redis was down is replayed exactly once
(``REPLAY_SCRIPT``), keeping its place.
"""

from typing import Any, Optional, Union

from redis.commands.core import AsyncScript

from handoff.conversation_lock import ConversationLock, PatientMessage
from handoff.durable_writes import PATIENT, run_durably
from handoff.health_facts import CRISIS_CATEGORY, CRISIS_EVIDENCE, REASON, SKILL, HealthFacts
from handoff.models import (
    Conversation,
    ConversationState,
    CrisisFlag,
    EnqueueResult,
    Priority,
    Skill,
    TranscriptEntry,
)
from handoff.redis_values import decoded, text_of
from handoff.transcripts import MOVED, ConversationTranscripts, now_ms

PRIORITY_SCORE_STRIDE = 10**13
"""Queue score = priority rank * stride + enqueue time in ms: priority first, then FIFO (``handoff.scripts``)."""
REPLAY_MARKER_TTL_MS = 30 * 24 * 3600 * 1000
"""How long a replayed spool entry's marker is kept: far longer than any entry stays in a spool."""


class Escalations(ConversationTranscripts):
    """Conversations on ``redis``, and their escalations into the queues; ``LiveAgentQueue`` is one."""

    facts: HealthFacts
    _enqueue: AsyncScript
    _replay: AsyncScript
    _lock_and_read: AsyncScript

    async def conversation(self, conversation_id: str) -> Optional[Conversation]:
        """The conversation with its health facts opened; ``EnvelopeError`` if one was moved or altered."""
        fields = await self.redis.hgetall(self.keys.conversation(conversation_id))
        return self.opened_conversation(conversation_id, fields) if fields else None

    def opened_conversation(self, conversation_id: str, fields: Union[dict[Any, Any], list[Any]]) -> Conversation:
        """The conversation of its hash as read (``HGETALL``; a script answers it as a flat list of fields and
        values), its health facts opened; ``EnvelopeError`` if one was moved or altered."""
        if isinstance(fields, list):
            fields = dict(zip(fields[::2], fields[1::2], strict=True))
        return Conversation.from_hash(conversation_id, self.facts.opened(conversation_id, decoded(fields)))

    async def conversations(self, conversation_ids: list[str]) -> list[Optional[Conversation]]:
        """The conversations (None for one not found), read in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for conversation_id in conversation_ids:
                pipe.hgetall(self.keys.conversation(conversation_id))
            rows = await pipe.execute()
        return [self.opened_conversation(conversation_id, fields) if fields else None
                for conversation_id, fields in zip(conversation_ids, rows, strict=True)]

    def locked_conversation(self, conversation_id: str, seconds: float,
                            patient_message: Optional[PatientMessage] = None) -> ConversationLock:
        """The conversation's lock (``handoff.conversation_lock``), held at most ``seconds`` and waited for as long;
        taken, it holds the conversation as it was then. ``patient_message``: the message routed under it, recorded
        with ``lock.record_patient_message`` (in the script that takes the lock when it can)."""
        return ConversationLock(self, self._lock_and_read, conversation_id, seconds, patient_message)

    async def state_of(self, conversation_id: str) -> ConversationState:
        """The conversation's state; a conversation never escalated is with the bot."""
        conversation = await self.conversation(conversation_id)
        return conversation.state if conversation else ConversationState.BOT

    async def enqueue_escalation(
        self,
        conversation_id: str,
        language: str,
        skill: Skill,
        priority: Priority,
        reason: str,
        crisis: Optional[CrisisFlag] = None,
        fallback_language: Optional[str] = None,
        patient_language: Optional[str] = None,
    ) -> EnqueueResult:
        """Queues the conversation; idempotent, and a higher priority re-ranks a queued one.

        A crisis flags the conversation for phone follow-up with its category and
        (sealed) evidence, and lifts any after-hours hold; if an agent already has
        the conversation, a crisis alert goes to the console instead of a queue.
        ``fallback_language``: the conversation also waits, at the same place, in
        that language's queue (a crisis no agent of its own language can take now);
        a claim from either queue takes it out of both. ``patient_language``: the language the
        patient writes in, when the queue's ``language`` is another one they asked for (kept for
        this episode as the conversation's ``patient_language``).
        """
        keys, args = self._escalation(
            conversation_id, language, skill, priority, reason, crisis, fallback_language, now_ms(), patient_language
        )
        state, position, fields = await run_durably(self.redis, self._enqueue, [*keys, self.keys.console_changes()],
                                                    args, self.replica_acks)
        conversation = self.opened_conversation(conversation_id, fields)
        assert conversation.priority is not None
        return EnqueueResult(
            state=ConversationState(text_of(state)),
            language=conversation.language or language,
            priority=conversation.priority,
            reason=conversation.reason or reason,
            position=int(position),
            episode=conversation.episode,
        )

    async def replay_escalation(
        self,
        once_id: str,
        conversation_id: str,
        language: str,
        crisis: CrisisFlag,
        skill: Skill,
        reason: str,
        transcript: list[TranscriptEntry],
        at_ms: int,
        fallback_language: Optional[str] = None,
        message_id: str = "",
    ) -> bool:
        """Stores a crisis escalation recorded elsewhere (the spool) exactly once.

        One script appends ``transcript``, enqueues the crisis as of ``at_ms`` (so it
        keeps its place: crisis priority, then first come) and sets a marker for
        ``once_id``; False when that marker was already set, and nothing changed. When the patient's message
        (``message_id``, ``transcript[0]``) was stored already (the gate stored it, then a write failed), only
        the last entry (the notice only the spool knows of) is appended. Returns once the replicas
        ``replica_acks`` asks for hold it (``handoff.durable_writes``).
        """
        keys, args = self._escalation(
            conversation_id, language, skill, Priority.CRISIS, reason, crisis, fallback_language, at_ms
        )
        stored_mark = self.keys.message_stored(conversation_id, PATIENT)
        keys += [self.keys.spool_replayed(once_id), stored_mark, self.keys.console_changes()]

        async def replay(position: int) -> Optional[str]:
            stored_before = bool(message_id) and await self.redis.lpos(stored_mark, f"{message_id} ") is not None
            entries = [self.seals.transcript_entry(conversation_id, position + offset, entry)
                       for offset, entry in enumerate(transcript[-1:] if stored_before else transcript)]
            state, _ = await run_durably(
                self.redis, self._replay, keys,
                [*args, REPLAY_MARKER_TTL_MS, position, message_id, int(stored_before), *entries], self.replica_acks,
            )
            return None if text_of(state) == MOVED else text_of(state)

        return await self.appending(self.keys.transcript(conversation_id), replay) != "REPLAYED"

    async def replayed(self, once_id: str) -> Optional[tuple[ConversationState, int]]:
        """What the replay of ``once_id`` did: the state it left the conversation in and its episode; None when it
        was not replayed (or by a version that kept no outcome)."""
        marker = await self.redis.get(self.keys.spool_replayed(once_id))
        state, _, episode = text_of(marker).partition(":") if marker is not None else ("", "", "")
        if not episode.isdigit() or state not in ConversationState.__members__:
            return None
        return ConversationState(state), int(episode)

    def _escalation(
        self,
        conversation_id: str,
        language: str,
        skill: Skill,
        priority: Priority,
        reason: str,
        crisis: Optional[CrisisFlag],
        fallback_language: Optional[str],
        at_ms: int,
        patient_language: Optional[str] = None,
    ) -> tuple[list[str], list[object]]:
        """Keys and arguments of the enqueue script, but for its last key (the console changes stream); the health
        facts sealed."""
        keys = [
            self.keys.conversation(conversation_id),
            self.keys.queue(language),
            self.keys.crisis_alerts(),
            self.keys.queue(fallback_language or language),
            self.keys.transcript(conversation_id),
            self.keys.episodes(conversation_id),
            self.keys.crisis_unacknowledged(),
            self.keys.crisis_escalated(),
            self.keys.enqueue_clock(),
        ]
        seal = self.facts.seal
        args: list[object] = [
            conversation_id,
            language,
            seal(conversation_id, SKILL, skill.value),
            priority.value,
            priority.rank,
            seal(conversation_id, REASON, reason),
            at_ms,
            PRIORITY_SCORE_STRIDE,
            seal(conversation_id, CRISIS_CATEGORY, crisis.category) if crisis else "",
            seal(conversation_id, CRISIS_EVIDENCE, crisis.evidence) if crisis else "",
            fallback_language or "",
            patient_language or "",
            self.facts.skill_tag(conversation_id, skill.value),
        ]
        return keys, args
