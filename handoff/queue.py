"""The live-agent queue and the conversation state machine, kept in Redis.

``BOT -> QUEUED -> WITH_AGENT -> (BOT | CLOSED)``. Every multi-step change is one
Lua script, so any number of Rasa and console processes can share one Redis.
Transcript entries, agent messages, episode records (bound to their place, see
``handoff.sealed_records``) and the conversation's health facts (see
``handoff.health_facts``) are sealed with the key ring before they reach Redis.
A conversation that is not open expires ``retention_ms`` after its last write
(see ``handoff.scripts``).
"""

from typing import Any, Callable, Optional

from redis.asyncio import Redis

from handoff.agent_messages import OUTBOX_MAX_LENGTH, AgentMessages, AuditFields, audit_args
from handoff.console_changes import WAITING_SCRIPT
from handoff.conversation_lock import LOCK_AND_READ_SCRIPT
from handoff.crypto import KeyRing
from handoff.errors import ConversationNotFound, MissingCrisisDisposition, raise_for
from handoff.escalations import PRIORITY_SCORE_STRIDE
from handoff.health_facts import CRISIS_CATEGORY, CRISIS_EVIDENCE, SKILL, HealthFacts
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonym
from handoff.models import (
    CloseOutcome,
    Conversation,
    ConversationState,
    CrisisDisposition,
    TranscriptEntry,
    TranscriptRole,
)
from handoff.redis_values import decoded, text_of
from handoff.scripts import (
    AGENT_MESSAGE_SCRIPT,
    CLAIM_SCRIPT,
    CLOSE_SCRIPT,
    ENQUEUE_SCRIPT,
    RECORD_SCRIPT,
    REPLAY_SCRIPT,
    REQUEUE_SCRIPT,
    SET_LANGUAGE_SCRIPT,
    TAKE_RESUME_SCRIPT,
)
from handoff.sealed_records import ConversationSeals
from handoff.settings import AgentAccess, ReplicaAcks, Retention
from handoff.transcripts import MOVED, RememberedEnds, now_ms

NO_REPLICA_ACKS = ReplicaAcks()
"""Writes return once the primary has them."""
RECENT_WAITS_KEPT = 20
"""How many of a queue's newest waits its estimates are made from (``handoff.waits``)."""
OUTBOX_DRAIN_MS = 10 * 60 * 1000
"""How long a closed episode's agent messages stay for the patient's socket to drain; then they are gone."""
PatientNotice = Callable[[str], str]
"""The text that tells a patient, in their language (the argument; empty when unknown), that their agent left and
they are back in line."""


class LiveAgentQueue(AgentMessages):
    """Conversation state, per-language priority queues, transcripts and agent outboxes."""

    def __init__(
        self,
        redis: Redis,
        key_ring: KeyRing,
        keys: Optional[KeySpace] = None,
        retention_ms: int = Retention().ms,
        replica_acks: ReplicaAcks = NO_REPLICA_ACKS,
    ) -> None:
        """``replica_acks``: how many replicas hold a write that leads to a promise before it returns
        (``handoff.durable_writes``)."""
        self.redis = redis
        self.keys = keys or KeySpace()
        self.key_ring = key_ring
        self.facts = HealthFacts(key_ring)
        self.seals = ConversationSeals(key_ring)
        self.lengths = RememberedEnds()
        self.known_episodes = RememberedEnds()
        self.retention_ms = retention_ms
        self.replica_acks = replica_acks
        self._enqueue = redis.register_script(ENQUEUE_SCRIPT)
        self._replay = redis.register_script(REPLAY_SCRIPT)
        self._claim = redis.register_script(CLAIM_SCRIPT)
        self._set_language = redis.register_script(SET_LANGUAGE_SCRIPT)
        self._agent_message = redis.register_script(AGENT_MESSAGE_SCRIPT)
        self._close = redis.register_script(CLOSE_SCRIPT)
        self._take_resume = redis.register_script(TAKE_RESUME_SCRIPT)
        self._lock_and_read = redis.register_script(LOCK_AND_READ_SCRIPT)
        self._requeue = redis.register_script(REQUEUE_SCRIPT)
        self._record = redis.register_script(RECORD_SCRIPT)
        self._waiting = redis.register_script(WAITING_SCRIPT)

    def pseudonym(self, conversation_id: str) -> str:
        """How log lines name the conversation (``handoff.log_privacy``)."""
        return pseudonym(self.key_ring, conversation_id)

    async def remember_language(self, conversation_id: str, language: str) -> None:
        """Sets the conversation's language; a queued conversation moves to that language's queue."""
        await self._set_language(
            keys=[self.keys.conversation(conversation_id), self.keys.queue(language), self.keys.console_changes()],
            args=[conversation_id, language, self.retention_ms],
        )

    async def remember_patient_language(self, conversation_id: str, language: str) -> None:
        """Sets the language the patient writes in, leaving the queue's language (the one they asked for) alone."""
        await self.redis.hset(self.keys.conversation(conversation_id), "patient_language", language)

    async def capture_for_callback(self, conversation_id: str, reply_after_ms: int) -> None:
        """Marks a queued conversation as captured outside coverage hours, for reply or callback."""
        await self.redis.hset(self.keys.conversation(conversation_id), "reply_after", reply_after_ms)

    async def crisis_evidence(self, conversation_id: str) -> Optional[str]:
        sealed = await self.redis.hget(self.keys.conversation(conversation_id), CRISIS_EVIDENCE)
        return self.facts.open(conversation_id, CRISIS_EVIDENCE, text_of(sealed)) if sealed else None

    async def crisis_alerts(self, agent_id: str, after_id: str = "0") -> list[dict[str, Optional[str]]]:
        """Crisis alerts for conversations the agent is working, after ``after_id``, categories opened."""
        rows = await self.redis.xrange(self.keys.crisis_alerts(), min=f"({after_id}" if after_id != "0" else "-")
        alerts: list[dict[str, Optional[str]]] = []
        for alert_id, fields in rows:
            values = decoded(fields)
            if values.get("agent") == agent_id:
                alerts.append(dict(values, category=self.facts.alert_category(values), id=text_of(alert_id)))
        return alerts

    async def position(self, conversation_id: str) -> Optional[int]:
        """Place in line counted from 1, or None when the conversation is not queued."""
        conversation = await self.conversation(conversation_id)
        if conversation is None or conversation.state != ConversationState.QUEUED:
            return None
        assert conversation.language is not None
        rank = await self.redis.zrank(self.keys.queue(conversation.language), conversation_id)
        return None if rank is None else int(rank) + 1

    async def waiting(self, languages: list[str], skills: Optional[list[str]] = None) -> list[Conversation]:
        """Queued conversations in the given languages' queues (and skills, unless None), next to serve first.

        A crisis waiting in its own queue and in a fallback queue is listed once.
        """
        listed = [conversation_id for conversation_id, _ in await self.waiting_signatures(languages, skills)]
        return [conversation for conversation in await self.conversations(listed)
                if conversation and conversation.state == ConversationState.QUEUED]

    async def waiting_signatures(self, languages: list[str], skills: Optional[list[str]] = None
                                 ) -> list[tuple[str, Optional[int]]]:
        """(conversation, requeued at) of what ``waiting`` lists, in its order, read in one script with three
        fields of each conversation instead of all of them: what the console's event socket compares every round."""
        rows = await self._waiting(keys=[self.keys.queue(language) for language in languages],
                                   args=[self.keys.conversation("")])
        waiting: list[tuple[str, Optional[int]]] = []
        for raw_id, skill, requeued_at in rows:
            conversation_id = text_of(raw_id)
            if skills is None or (skill and self.facts.open(conversation_id, SKILL, text_of(skill)) in skills):
                waiting.append((conversation_id, int(requeued_at) if requeued_at else None))
        return waiting

    async def claim(
        self,
        conversation_id: str,
        agent_id: str,
        languages: list[str],
        skills: Optional[list[str]] = None,
        audit: Optional[AuditFields] = None,
        answer_within_seconds: int = AgentAccess.answer_timeout_seconds,
        capacity: Optional[int] = None,
        crisis_beyond_capacity: bool = False,
    ) -> Conversation:
        """Assigns a queued conversation to the agent; only one agent can win it.

        The agent must speak the conversation's language and have its skill
        (``skills=None`` means any skill, for supervisors). ``audit``: the audit
        entry (``AuditLog.prepare``) written in the same step as the claim. An agent
        that writes nothing to the patient within ``answer_within_seconds`` loses the
        conversation to the head of its queue (``handoff.presence``). With ``capacity``, an agent who already has
        that many conversations gets no more (``AtCapacity``); with ``crisis_beyond_capacity`` (a pull-claim),
        except a conversation with an open crisis, checked in the same step.
        """
        tags = "*" if skills is None else f",{','.join(self.facts.skill_tags(conversation_id, skills))},"
        claimed = await self._claim(
            keys=[
                self.keys.conversation(conversation_id),
                self.keys.agent_conversations(agent_id),
                self.keys.audit_log(),
                self.keys.unanswered_assignments(),
                self.keys.agent_last_assigned(),
                self.keys.transcript(conversation_id),
                self.keys.console_changes(),
            ],
            args=[
                conversation_id,
                agent_id,
                now_ms(),
                f",{','.join(languages)},",
                tags,
                *audit_args(audit),
                now_ms() + answer_within_seconds * 1000,
                "" if capacity is None else capacity,
                self.keys.recent_waits(),
                RECENT_WAITS_KEPT,
                "1" if crisis_beyond_capacity else "",
            ],
        )
        outcome, fields, transcript_length = claimed if isinstance(claimed, list) else (claimed, [], 0)
        raise_for(text_of(outcome), conversation_id)
        conversation = self.opened_conversation(conversation_id, fields)
        self.remember_end(conversation_id, conversation.episode, int(transcript_length))
        return conversation

    async def assigned_to(self, agent_id: str) -> list[Conversation]:
        """Conversations the agent is working, so a reloaded console can pick them up again."""
        held = await self.redis.smembers(self.keys.agent_conversations(agent_id))
        members = sorted(text_of(member) for member in held)
        return [conversation for conversation in await self.conversations(members)
                if conversation and conversation.agent_id == agent_id]

    async def close(
        self,
        conversation_id: str,
        agent_id: str,
        outcome: CloseOutcome,
        crisis_disposition: Optional[CrisisDisposition] = None,
        audit: Optional[AuditFields] = None,
        survey_offer: Optional[PatientNotice] = None,
    ) -> None:
        """Ends the agent's episode: back to the bot (Rasa resumes) or closed.

        A crisis episode needs its ``crisis_disposition``; it is kept, sealed, with
        the episode's record, and the open crisis flags are cleared. ``survey_offer``: the satisfaction survey
        offered to the patient in their language (``handoff.surveys``); never after a crisis.
        """
        episodes, transcript = self.keys.episodes(conversation_id), self.keys.transcript(conversation_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.conversation(conversation_id))
            pipe.llen(episodes)
            pipe.llen(transcript)
            hash_fields, episodes_length, transcript_length = await pipe.execute()
        fields = decoded(hash_fields)
        if not fields:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        conversation = Conversation.from_hash(conversation_id, self.facts.opened(conversation_id, fields))
        if conversation.crisis_category and crisis_disposition is None:
            raise MissingCrisisDisposition(
                f"conversation {conversation_id!r} had a crisis: record its disposition to close it"
            )
        state = ConversationState.BOT if outcome == CloseOutcome.BACK_TO_BOT else ConversationState.CLOSED
        closed_at = now_ms()
        record = {
            "episode": conversation.episode,
            "closed_by": agent_id,
            "closed_at_ms": closed_at,
            "outcome": outcome.value,
            "reason": conversation.reason,
            "crisis_category": conversation.crisis_category,
            "crisis_disposition": crisis_disposition.value if conversation.crisis_category and crisis_disposition
            else None,
        }
        language = conversation.spoken_language or ""
        offer = None if survey_offer is None or conversation.crisis_category else TranscriptEntry(
            TranscriptRole.BOT, survey_offer(language), closed_at)

        read_at: Optional[int] = int(transcript_length)

        async def append(position: int) -> Optional[str]:
            nonlocal read_at
            at = read_at if read_at is not None else int(await self.redis.llen(transcript)) if offer else 0
            read_at = None  # another attempt, after another append came first, reads the length again
            survey = [self.seals.transcript_entry(conversation_id, at, offer), at,
                      self.seals.outbox_message(conversation_id, conversation.episode, at, offer),
                      language, OUTBOX_MAX_LENGTH] if offer else ["", "", "", "", ""]
            result = text_of(await self._close(
                keys=[
                    self.keys.conversation(conversation_id),
                    self.keys.agent_conversations(agent_id),
                    transcript,
                    episodes,
                    self.keys.outbox(conversation_id, conversation.episode),
                    self.keys.audit_log(),
                    self.keys.unanswered_assignments(),
                    self.keys.crisis_unacknowledged(),
                    self.keys.crisis_escalated(),
                    self.keys.console_changes(),
                ],
                args=[
                    agent_id,
                    state.value,
                    closed_at,
                    conversation_id,
                    conversation.episode,
                    fields.get(CRISIS_CATEGORY, ""),
                    self.seals.episode_record(conversation_id, position, record),
                    min(OUTBOX_DRAIN_MS, self.retention_ms),
                    *audit_args(audit),
                    self.retention_ms,
                    position,
                    *survey,
                ],
            ))
            return None if result == MOVED else result

        raise_for(await self.appending(episodes, append, int(episodes_length)), conversation_id)

    async def closed_episodes(self, conversation_id: str) -> list[dict[str, Any]]:
        """Records of the conversation's closed episodes, oldest first."""
        sealed = await self.redis.lrange(self.keys.episodes(conversation_id), 0, -1)
        return [self.seals.open_episode_record(conversation_id, position, text_of(envelope))
                for position, envelope in enumerate(sealed)]

    async def mark_verified(self, conversation_id: str, via: str) -> None:
        """Records for the agent that the patient proved who they are, how and when (never the values typed)."""
        await self.redis.hset(
            self.keys.conversation(conversation_id), mapping={"verified_via": via, "verified_at": now_ms()}
        )

    async def requeue(
        self,
        conversation_id: str,
        agent_id: str,
        notice: PatientNotice,
        audit: Optional[AuditFields] = None,
        unanswered_by_ms: Optional[int] = None,
    ) -> bool:
        """Returns a conversation the agent has to the head of its queue and tells the patient (``notice``);
        False when the agent no longer has it, and nothing changed.

        With ``unanswered_by_ms``, only if the agent has written nothing to the patient since it claimed the
        conversation and its time to answer ran out by then.
        """
        conversation = await self.conversation(conversation_id) or Conversation(conversation_id, ConversationState.BOT)
        entry = TranscriptEntry(TranscriptRole.BOT, notice(conversation.language or ""), now_ms())
        episode, transcript = conversation.episode, self.keys.transcript(conversation_id)

        async def append(position: int) -> Optional[bool]:
            requeued = int(await self._requeue(
                keys=[self.keys.conversation(conversation_id), self.keys.agent_conversations(agent_id),
                      self.keys.audit_log(), transcript, self.keys.outbox(conversation_id, episode),
                      self.keys.unanswered_assignments(), self.keys.crisis_unacknowledged(), self.keys.agent_status(),
                      self.keys.console_changes()],
                args=[conversation_id, agent_id, PRIORITY_SCORE_STRIDE, now_ms(), *audit_args(audit),
                      episode, self.seals.transcript_entry(conversation_id, position, entry), OUTBOX_MAX_LENGTH,
                      "" if unanswered_by_ms is None else unanswered_by_ms,
                      self.seals.outbox_message(conversation_id, episode, position, entry), position],
            ))
            return None if requeued < 0 else bool(requeued)

        return await self.appending(transcript, append)

    async def take_resume_pending(self, conversation_id: str) -> bool:
        """True once after an agent handed the conversation back; a closed one reopens with the bot."""
        taken = await self._take_resume(keys=[self.keys.conversation(conversation_id)])
        return bool(taken)
