"""Health facts in a conversation's Redis hash: sealed, each bound to its conversation and its field.

Someone who can read Redis (a replica, a backup, a dump) but has no data key learns from a conversation
hash who waits in which queue and since when, never why. These fields are sealed (AES-GCM under
``HANDOFF_DATA_KEYS``; the associated data names the field and the conversation, so a value moved to
another conversation or another field does not open, and reading it raises ``EnvelopeError``):

``reason``
    why the patient wrote (``billing_question``, ``crisis_suicide_self_harm``).
``skill``
    the queue skill: ``behavioral-health``, ``pharmacy`` or ``nurse`` say as much as a reason.
``callback``
    a phone callback the patient is owed (escalation to phone): number, best time and note, as JSON.
``crisis_category``, ``crisis_evidence``
    the kind of crisis and the patient's words that showed it. The crisis alerts stream carries the
    same sealed category (an alert itself says that a crisis came while an agent had the conversation,
    as priority ``crisis`` does for a queued one).

Every other field is in clear because Redis itself must compare, order or route on it, and it says
nothing about the patient's health:

``state``
    the scripts of the state machine branch on it.
``queue``, ``language``, ``fallback_queue``, ``fallback_language``
    which language queue the conversation waits in (the queue's key names the language anyway).
``priority``, ``priority_rank``
    the queue order is computed in Redis (a queue score is rank * stride + enqueue time, so the sorted
    set shows the priority anyway). ``crisis`` says that a crisis waits, not what kind; the presence of a
    sealed ``crisis_category`` says the same while it is open.
``skill_tag``
    claiming checks the agent's skills in the same script as the claim: an HMAC of the conversation id
    and the skill under the data key, different in every conversation, meaningless without the key.
``phone_follow_up``
    the instruction to call the patient back, set with every crisis (the console's "CALL BY PHONE") and every
    escalation to phone.
``head_of_queue``
    the conversation was sent back to its queue or transferred: it waits before everyone of its priority.
``agent``, ``closed_by``, ``callback_requested_by``
    staff ids.
``enqueued_at``, ``updated_at``, ``claimed_at``, ``requeued_at``, ``reply_after``, ``verified_at``,
``callback_requested_at``
    times: queue order, waits, coverage hours, and the age that retention counts from.
``episode``, ``transcript_from``
    counters: which outbox and which part of the transcript belong to the current episode.
``resume_pending``
    Rasa resumes the conversation after an agent hands it back.
``verified_via``
    how the patient proved who they are (``form``, ``portal``), never what they typed.
"""

import logging
from typing import Optional

from handoff.crypto import EnvelopeError, KeyRing, associated_data
from handoff.log_privacy import pseudonym

logger = logging.getLogger(__name__)

FIELD_PURPOSE = "conversation-field"
SKILL_TAG_PURPOSE = "conversation-skill"

REASON = "reason"
SKILL = "skill"
CRISIS_CATEGORY = "crisis_category"
CRISIS_EVIDENCE = "crisis_evidence"
CALLBACK = "callback"
OPENED_WITH_THE_CONVERSATION = (REASON, SKILL, CRISIS_CATEGORY)
"""Opened whenever the conversation is read; the evidence (the patient's words) only when asked for."""


class HealthFacts:
    """Seals and opens the health facts of conversation hashes with the data key ring."""

    def __init__(self, key_ring: KeyRing) -> None:
        self.key_ring = key_ring

    def seal(self, conversation_id: str, field: str, value: str) -> str:
        return self.key_ring.seal(value.encode(), field_context(conversation_id, field))

    def open(self, conversation_id: str, field: str, envelope: str) -> str:
        """The field's value; ``EnvelopeError`` when it was sealed for another conversation or field."""
        return self.key_ring.open(envelope, field_context(conversation_id, field)).decode()

    def opened(self, conversation_id: str, fields: dict[str, str]) -> dict[str, str]:
        """The hash's fields with the reason, skill and crisis category opened."""
        return {
            name: self.open(conversation_id, name, value) if name in OPENED_WITH_THE_CONVERSATION else value
            for name, value in fields.items()
        }

    def alert_category(self, alert: dict[str, str]) -> Optional[str]:
        """A crisis alert's category; None when it does not open: the alert still reaches its agent."""
        try:
            return self.open(alert["conversation"], CRISIS_CATEGORY, alert["category"])
        except (EnvelopeError, KeyError):
            logger.error("health_facts.alert_category_unreadable conversation=%s",
                         pseudonym(self.key_ring, alert.get("conversation", "")))
            return None

    def skill_tag(self, conversation_id: str, skill: str) -> str:
        """What the hash keeps for the claim script to compare (``skill_tag``)."""
        return self.key_ring.mac(SKILL_TAG_PURPOSE, _tagged(conversation_id, skill))

    def skill_tags(self, conversation_id: str, skills: list[str]) -> list[str]:
        """The tags an agent with ``skills`` may claim, under every key of the ring (a rotation locks nobody out)."""
        per_skill = (self.key_ring.macs(SKILL_TAG_PURPOSE, _tagged(conversation_id, skill)) for skill in skills)
        return [tag for tags in per_skill for tag in tags]


def _tagged(conversation_id: str, skill: str) -> str:
    return f"{conversation_id}\x00{skill}"


def field_context(conversation_id: str, field: str) -> str:
    """What a health fact is bound to: its field and its conversation."""
    return associated_data(FIELD_PURPOSE, field, conversation_id)
