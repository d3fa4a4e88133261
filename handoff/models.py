"""Values the handoff library passes around."""

import json
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Optional, TypeVar


class ConversationState(str, Enum):
    BOT = "BOT"
    QUEUED = "QUEUED"
    WITH_AGENT = "WITH_AGENT"
    CLOSED = "CLOSED"


class Priority(str, Enum):
    """Queue priority; a lower rank is served first."""

    CRISIS = "crisis"
    URGENT = "urgent"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Skill(str, Enum):
    GENERAL = "general"
    BILLING = "billing"
    PHARMACY = "pharmacy"
    NURSE = "nurse"
    BEHAVIORAL_HEALTH = "behavioral-health"


CRISIS_SKILLS = {
    "suicide_self_harm": Skill.BEHAVIORAL_HEALTH,
    "violence_abuse": Skill.BEHAVIORAL_HEALTH,
    "overdose_poisoning": Skill.NURSE,
    "medical_emergency": Skill.NURSE,
}


def crisis_skill(category: str) -> Skill:
    """The queue skill that serves a crisis category."""
    return CRISIS_SKILLS.get(category, Skill.BEHAVIORAL_HEALTH)


@dataclass(frozen=True)
class CrisisFlag:
    """A crisis found in a patient's message: what kind, and the words that showed it."""

    category: str
    evidence: str


class CloseOutcome(str, Enum):
    """How an agent ends a conversation: hand it back to the bot, or close it."""

    BACK_TO_BOT = "bot"
    CLOSED = "closed"


class CrisisDisposition(str, Enum):
    """What became of a crisis, recorded when its episode is closed (required then)."""

    PHONE_FOLLOW_UP_DONE = "phone_follow_up_done"
    EMERGENCY_SERVICES_CONTACTED = "emergency_services_contacted"
    RESOURCES_GIVEN_PATIENT_SAFE = "resources_given_patient_safe"
    NO_RESPONSE_CALLBACK_SCHEDULED = "no_response_callback_scheduled"
    NOT_A_CRISIS = "not_a_crisis"


class TranscriptRole(str, Enum):
    PATIENT = "patient"
    BOT = "bot"
    AGENT = "agent"
    NOTE = "note"
    """An internal note from one member of staff to the others: in the transcript the console reads, never in the
    patient's outbox."""


EnumMember = TypeVar("EnumMember", bound=Enum)


def _member(kind: type[EnumMember], value: Any, default: EnumMember) -> EnumMember:
    """A malformed value must never cancel a handoff: it falls back to the default."""
    try:
        return kind(value)
    except ValueError:
        return default


@dataclass(frozen=True)
class HandoffRequest:
    """What a custom action asks for when it hands a conversation to a person."""

    skill: Skill
    priority: Priority
    reason: str
    language: Optional[str] = None

    MARKER = "handoff_request"

    @classmethod
    def from_marker(cls, payload: Any) -> Optional["HandoffRequest"]:
        """Reads the marker out of a bot's custom message; None if it is not one."""
        if not isinstance(payload, dict) or not isinstance(payload.get(cls.MARKER), dict):
            return None
        body = payload[cls.MARKER]
        language = body.get("language")
        return cls(
            skill=_member(Skill, body.get("skill"), Skill.GENERAL),
            priority=_member(Priority, body.get("priority"), Priority.NORMAL),
            reason=str(body.get("reason", "unspecified"))[:64],
            language=language if isinstance(language, str) and language.isalpha() else None,
        )

    def to_marker(self) -> dict[str, Any]:
        return {
            self.MARKER: {
                "skill": self.skill.value,
                "priority": self.priority.value,
                "reason": self.reason,
                "language": self.language,
            }
        }


@dataclass(frozen=True)
class EnqueueResult:
    """Where an escalation stands after enqueueing; position counts from 1."""

    state: ConversationState
    language: str
    priority: Priority
    reason: str
    position: int
    episode: int = 0

    def to_patient_message(self, reply_after: Optional[str] = None) -> dict[str, Any]:
        """The custom message the patient's client receives on handoff.

        Outside coverage hours the status is ``after_hours`` and ``reply_after``
        says when a person will reply or call back.
        """
        after_hours = {"reply_after": reply_after} if reply_after else {}
        return {
            "handoff": {
                **after_hours,
                "status": "after_hours" if reply_after else self.state.value.lower(),
                "queue": self.language,
                "priority": self.priority.value,
                "reason": self.reason,
                "position": self.position,
            }
        }


@dataclass(frozen=True)
class Conversation:
    conversation_id: str
    state: ConversationState
    language: Optional[str] = None
    """The language of its queue, which its agent must speak."""
    skill: Optional[Skill] = None
    priority: Optional[Priority] = None
    reason: Optional[str] = None
    enqueued_at_ms: Optional[int] = None
    agent_id: Optional[str] = None
    claimed_at_ms: Optional[int] = None
    """When its agent got it (a claim, auto-assignment, transfer or reassignment to them)."""
    requeued_at_ms: Optional[int] = None
    """When it was last sent back to the head of a queue (its agent left, or it was transferred)."""
    crisis_category: Optional[str] = None
    phone_follow_up: bool = False
    reply_after_ms: Optional[int] = None
    """Set when the patient wrote outside coverage hours: a person replies or calls back after this."""
    fallback_language: Optional[str] = None
    """Also waiting in this language's queue: a crisis that no agent of its own language can take now."""
    episode: int = 0
    """Counts escalations: an episode runs from enqueue to close; push tokens and outboxes belong to one."""
    transcript_from: int = 0
    """First transcript entry of the current episode (everything since the last close)."""
    verified_via: Optional[str] = None
    """How the patient proved who they are in this episode (``form``, ``portal``); never what they typed."""
    verified_at_ms: Optional[int] = None
    patient_language: Optional[str] = None
    """The language the patient writes in, when it is not ``language``: they asked for a person who speaks
    another (a language-concordant request)."""
    escalated_at_entry: Optional[int] = None
    """The transcript's length when the episode was escalated: the entries before it came before the escalation."""
    resume_pending: bool = False
    """An agent handed it back to the bot, which has not taken it up yet."""
    survey_waiting: bool = False
    """The patient was asked to rate the episode that closed and has not answered."""

    @property
    def spoken_language(self) -> Optional[str]:
        """The language the patient writes in."""
        return self.patient_language or self.language

    @property
    def held_in_requested_language(self) -> bool:
        """Queued for, or with, a person of the language the patient asked for: the conversation stays in that
        language's queue whatever language the patient writes in."""
        return self.patient_language is not None and self.state in (
            ConversationState.QUEUED, ConversationState.WITH_AGENT
        )

    @classmethod
    def from_hash(cls, conversation_id: str, fields: dict[str, str]) -> "Conversation":
        return cls(
            conversation_id=conversation_id,
            state=ConversationState(fields.get("state", ConversationState.BOT.value)),
            language=fields.get("language"),
            skill=Skill(fields["skill"]) if "skill" in fields else None,
            priority=Priority(fields["priority"]) if "priority" in fields else None,
            reason=fields.get("reason"),
            enqueued_at_ms=int(fields["enqueued_at"]) if "enqueued_at" in fields else None,
            agent_id=fields.get("agent"),
            claimed_at_ms=int(fields["claimed_at"]) if "claimed_at" in fields else None,
            requeued_at_ms=int(fields["requeued_at"]) if "requeued_at" in fields else None,
            crisis_category=fields.get("crisis_category"),
            phone_follow_up=fields.get("phone_follow_up") == "1",
            reply_after_ms=int(fields["reply_after"]) if "reply_after" in fields else None,
            fallback_language=fields.get("fallback_language"),
            episode=int(fields.get("episode", 0)),
            transcript_from=int(fields.get("transcript_from", 0)),
            verified_via=fields.get("verified_via"),
            verified_at_ms=int(fields["verified_at"]) if "verified_at" in fields else None,
            patient_language=fields.get("patient_language"),
            escalated_at_entry=int(fields["escalated_at_entry"]) if "escalated_at_entry" in fields else None,
            resume_pending="resume_pending" in fields,
            survey_waiting="survey_episode" in fields,
        )

    def to_json(self) -> dict[str, Any]:
        """Every field, an enum as its value (read field by field: ``asdict``'s deep copy cost a console round with
        a hundred new conversations 6 ms)."""
        return {
            field.name: value.value if isinstance(value := getattr(self, field.name), Enum) else value
            for field in fields(self)
        }


@dataclass(frozen=True)
class TranscriptEntry:
    role: TranscriptRole
    text: str
    at_ms: int
    author: Optional[str] = None
    """The member of staff who wrote a note."""

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json()).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "TranscriptEntry":
        data = json.loads(raw)
        return cls(TranscriptRole(data["role"]), data["text"], int(data["at_ms"]), data.get("author"))

    def to_json(self) -> dict[str, Any]:
        author = {"author": self.author} if self.author else {}
        return {"role": self.role.value, "text": self.text, "at_ms": self.at_ms, **author}
