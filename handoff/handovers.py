"""Handovers between people: transfer to another queue or skill, or to a named agent, with a note; a supervisor's
reassignment and take-over; internal notes; escalation to phone (a callback task supervisors see).

Each change is one script of ``handoff.handover_scripts``, audited in the same step. A note is a transcript entry
of role ``note`` (sealed for its place like every entry): the console shows it with the conversation, and it
never reaches the patient, whose push socket reads only the episode's outbox. Who may do what is the console's
check (``handoff.permissions``: ``transfer``, ``reassign``, ``add_note``, ``escalate_to_phone``,
``view_callbacks``); these methods check only that the person acted for still has the conversation, so a
handover racing another change happens once or not at all.
"""

import json
from dataclasses import dataclass
from typing import Any, Optional

from handoff.errors import ConversationNotFound, raise_for
from handoff.escalations import PRIORITY_SCORE_STRIDE
from handoff.handover_scripts import (
    CALLBACK_DONE_SCRIPT,
    NOTE_SCRIPT,
    PHONE_CALLBACK_SCRIPT,
    REASSIGN_SCRIPT,
    TRANSFER_TO_QUEUE_SCRIPT,
)
from handoff.health_facts import CALLBACK, SKILL
from handoff.models import Conversation, Skill, TranscriptEntry, TranscriptRole
from handoff.queue import AuditFields, LiveAgentQueue, audit_args
from handoff.redis_values import decoded, text_of
from handoff.settings import AgentAccess
from handoff.transcripts import MOVED, now_ms


@dataclass(frozen=True)
class Target:
    """The person a conversation is handed to: who, the languages they speak, the skills they may take (None: any,
    a supervisor) and, when it applies, their capacity."""

    agent_id: str
    languages: tuple[str, ...]
    skills: Optional[list[str]]
    capacity: Optional[int] = None


@dataclass(frozen=True)
class PhoneCallback:
    """A callback the patient is owed: what a supervisor needs to call (the number is PHI: the list is audited)."""

    conversation_id: str
    number: str
    best_time: str
    note: str
    requested_by: str
    requested_at_ms: int
    language: Optional[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "number": self.number,
            "best_time": self.best_time,
            "note": self.note,
            "requested_by": self.requested_by,
            "requested_at_ms": self.requested_at_ms,
            "language": self.language,
        }


DEFAULT_ACCESS = AgentAccess()


class Handovers:
    def __init__(self, queue: LiveAgentQueue, access: AgentAccess = DEFAULT_ACCESS) -> None:
        self.queue = queue
        self.access = access
        redis = queue.redis
        self._transfer = redis.register_script(TRANSFER_TO_QUEUE_SCRIPT)
        self._reassign = redis.register_script(REASSIGN_SCRIPT)
        self._note = redis.register_script(NOTE_SCRIPT)
        self._callback = redis.register_script(PHONE_CALLBACK_SCRIPT)
        self._callback_done = redis.register_script(CALLBACK_DONE_SCRIPT)

    async def transfer_to_queue(self, conversation_id: str, agent_id: str, language: str, skill: Skill, note: str,
                                audit: AuditFields) -> Conversation:
        """From the agent to the head of ``language``'s queue for ``skill``, with a note for the next person."""
        conversation = await self._held(conversation_id)
        facts, keys = self.queue.facts, self.queue.keys

        async def transfer(position: int) -> Optional[str]:
            outcome = text_of(await self._transfer(
                keys=[keys.conversation(conversation_id), keys.transcript(conversation_id), keys.queue(language),
                      keys.unanswered_assignments(), keys.crisis_unacknowledged(), keys.agent_conversations(agent_id),
                      keys.audit_log(), keys.console_changes()],
                args=[conversation_id, agent_id, conversation.episode, language,
                      facts.seal(conversation_id, SKILL, skill.value), facts.skill_tag(conversation_id, skill.value),
                      PRIORITY_SCORE_STRIDE, now_ms(), self._sealed_note(conversation_id, position, agent_id, note),
                      position, *audit_args(audit)],
            ))
            return None if outcome == MOVED else outcome

        raise_for(await self.queue.appending(keys.transcript(conversation_id), transfer), conversation_id)
        return await self._held(conversation_id)

    async def reassign(self, conversation_id: str, from_agent: str, target: Target, author: str, note: str,
                       audit: AuditFields) -> Conversation:
        """From ``from_agent`` to ``target``: an agent's transfer to a named person, or a supervisor's reassignment
        or take-over (``from_agent``: the holder it read); ``author`` signs the note."""
        conversation = await self._held(conversation_id)
        keys = self.queue.keys
        tags = "*" if target.skills is None else (
            f",{','.join(self.queue.facts.skill_tags(conversation_id, target.skills))},")

        async def reassign(position: int) -> Optional[str]:
            outcome = text_of(await self._reassign(
                keys=[keys.conversation(conversation_id), keys.transcript(conversation_id),
                      keys.unanswered_assignments(), keys.crisis_unacknowledged(), keys.agent_last_assigned(),
                      keys.audit_log(), keys.agent_conversations(from_agent),
                      keys.agent_conversations(target.agent_id), keys.console_changes()],
                args=[conversation_id, from_agent, conversation.episode, target.agent_id,
                      f",{','.join(target.languages)},", tags, now_ms(),
                      now_ms() + self.access.answer_timeout_seconds * 1000,
                      "" if target.capacity is None else target.capacity,
                      self._sealed_note(conversation_id, position, author, note), position,
                      *audit_args(audit)],
            ))
            return None if outcome == MOVED else outcome

        raise_for(await self.queue.appending(keys.transcript(conversation_id), reassign), conversation_id)
        return await self._held(conversation_id)

    async def add_note(self, conversation_id: str, agent_id: str, text: str, audit: AuditFields,
                       author: Optional[str] = None) -> None:
        """An internal note on a conversation the agent has: the next person reads it, the patient never does.
        ``author``: who wrote it, when not that agent (a supervisor who handed it over); ``audit`` may be empty
        when the handover that carries the note is audited."""
        conversation = await self._held(conversation_id)
        keys = self.queue.keys

        async def note(position: int) -> Optional[str]:
            outcome = text_of(await self._note(
                keys=[keys.conversation(conversation_id), keys.transcript(conversation_id), keys.audit_log(),
                      keys.console_changes()],
                args=[agent_id, conversation.episode,
                      self._sealed_note(conversation_id, position, author or agent_id, text),
                      position, *audit_args(audit)],
            ))
            return None if outcome == MOVED else outcome

        raise_for(await self.queue.appending(keys.transcript(conversation_id), note), conversation_id)

    async def escalate_to_phone(self, conversation_id: str, agent_id: str, number: str, best_time: str, note: str,
                                audit: AuditFields) -> None:
        """Records the callback task on a conversation the agent has; supervisors see it until it is done."""
        conversation = await self._held(conversation_id)
        sealed = self.queue.facts.seal(conversation_id, CALLBACK, json.dumps(
            {"number": number, "best_time": best_time, "note": note}))
        keys = self.queue.keys
        raise_for(text_of(await self._callback(
            keys=[keys.conversation(conversation_id), keys.phone_callbacks(), keys.audit_log()],
            args=[agent_id, conversation.episode, sealed, now_ms(), agent_id, conversation_id, *audit_args(audit)],
        )), conversation_id)

    async def callback_done(self, conversation_id: str, audit: AuditFields) -> None:
        keys = self.queue.keys
        raise_for(text_of(await self._callback_done(
            keys=[keys.conversation(conversation_id), keys.phone_callbacks(), keys.audit_log()],
            args=[conversation_id, *audit_args(audit)],
        )), conversation_id)

    async def phone_callbacks(self) -> list[PhoneCallback]:
        """Open callbacks, oldest request first; one whose conversation is gone (retention) is left out."""
        callbacks = []
        for member in await self.queue.redis.zrange(self.queue.keys.phone_callbacks(), 0, -1):
            conversation_id = text_of(member)
            fields = decoded(await self.queue.redis.hgetall(self.queue.keys.conversation(conversation_id)))
            if CALLBACK not in fields:
                continue
            task = json.loads(self.queue.facts.open(conversation_id, CALLBACK, fields[CALLBACK]))
            callbacks.append(PhoneCallback(
                conversation_id, task["number"], task["best_time"], task["note"],
                fields.get("callback_requested_by", ""), int(fields.get("callback_requested_at", 0)),
                fields.get("patient_language") or fields.get("language"),
            ))
        return callbacks

    async def _held(self, conversation_id: str) -> Conversation:
        conversation = await self.queue.conversation(conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        return conversation

    def _sealed_note(self, conversation_id: str, position: int, author: str, text: str) -> str:
        """The note sealed for its transcript position; empty when there is no note."""
        if not text:
            return ""
        entry = TranscriptEntry(TranscriptRole.NOTE, text, now_ms(), author)
        return self.queue.seals.transcript_entry(conversation_id, position, entry)
