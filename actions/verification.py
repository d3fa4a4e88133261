"""Identity verification before PHI: the form's validation, lapses, and a patient who declines.

The form (``identity_form`` in the domain) asks for full name, date of birth and
member ID; each is filled from the text of the patient's answer, never from an
entity. Each answer is checked for form only (a date of birth must be a date);
once all three are in, they are checked together against the patient directory
and the patient hears only "verified" or the same generic failure, never which
part was wrong. What they typed is cleared straight after the check.

After ``VerificationSettings.max_failures`` failures in the conversation, or
a failure that leaves the member ID throttled (``patients.throttle``), the form
ends unverified and ``action_answer_phi_request`` hands off to a person; the
patient hears the same generic failure either way.
"""

from datetime import date
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions.handoff import LANGUAGE_SLOT, hand_off
from actions.identity import (
    DATE_OF_BIRTH_SLOT,
    FAILURES_SLOT,
    FORM_SLOTS,
    IDENTITY_FORM,
    MEMBER_ID_SLOT,
    NAME_SLOT,
    PATIENT_ID_SLOT,
    PENDING_REQUEST_SLOT,
    REQUESTED_SLOT,
    VERIFIED_AT_SLOT,
    VERIFIED_SLOT,
    VERIFIED_VIA_SLOT,
    VIA_FORM,
    verified_marker,
)
from actions.services import IdentityServices, services_from_env
from handoff.models import Priority, Skill
from patients import normalize_member_id, parse_date_of_birth, plausible_member_id
from patients.names import MAX_NAME_CHARS

PHI_SKILLS = {
    "refill_status": Skill.PHARMACY,
    "appointment_details": Skill.GENERAL,
    "ask_test_results": Skill.NURSE,
}
"""PHI requests the bot answers once the patient is verified -> the queue that answers them otherwise."""
SKILL_ANNOUNCEMENTS = {
    Skill.PHARMACY: "utter_handoff_pharmacy",
    Skill.NURSE: "utter_handoff_nurse",
}
UNVERIFIED_REASON = "identity_not_verified"
DECLINED_REASON = "identity_declined"


class ServicesMixin:
    """Actions are built by the action server with no arguments; tests pass their own services."""

    def __init__(self, services: Optional[IdentityServices] = None) -> None:
        self._services = services

    @property
    def services(self) -> IdentityServices:
        if self._services is None:
            self._services = services_from_env()
        return self._services


def pending_skill(tracker: Tracker) -> Skill:
    """The queue for what the patient wanted: the pending PHI request, else the latest intent."""
    request = tracker.get_slot(PENDING_REQUEST_SLOT) or tracker.get_intent_of_latest_message()
    return PHI_SKILLS.get(request or "", Skill.GENERAL)


def is_fresh(tracker: Tracker, now: float, lapse_seconds: int) -> bool:
    """Verified, and not longer ago than the lapse (a missing or malformed time counts as lapsed)."""
    if tracker.get_slot(VERIFIED_SLOT) is not True:
        return False
    verified_at = tracker.get_slot(VERIFIED_AT_SLOT)
    if not isinstance(verified_at, (int, float)) or isinstance(verified_at, bool):
        return False
    return 0 <= now - float(verified_at) <= lapse_seconds


def verification_cleared() -> list[EventType]:
    return [
        SlotSet(VERIFIED_SLOT, False),
        SlotSet(VERIFIED_VIA_SLOT, None),
        SlotSet(VERIFIED_AT_SLOT, None),
        SlotSet(PATIENT_ID_SLOT, None),
    ]


class ValidateIdentityForm(ServicesMixin, FormValidationAction):
    def name(self) -> str:
        return f"validate_{IDENTITY_FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not tracker.active_loop.get("name"):
            return self.activation(dispatcher, tracker)
        return await super().run(dispatcher, tracker, domain)

    def activation(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Remembers what the patient asked for, starts from empty fields, and says why it asks."""
        if is_fresh(tracker, self.services.clock(), self.services.settings.lapse_seconds):
            return [SlotSet(REQUESTED_SLOT, None)]
        intent = tracker.get_intent_of_latest_message()
        pending = tracker.get_slot(PENDING_REQUEST_SLOT) if intent not in PHI_SKILLS else intent
        dispatcher.utter_message(response="utter_identity_intro")
        return [SlotSet(PENDING_REQUEST_SLOT, pending), *(SlotSet(slot, None) for slot in FORM_SLOTS)]

    async def validate_identity_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        name = " ".join(str(value or "").split())
        if not any(c.isalpha() for c in name) or len(name) > MAX_NAME_CHARS:
            dispatcher.utter_message(response="utter_identity_name_unreadable")
            return {NAME_SLOT: None}
        return {NAME_SLOT: name}

    async def validate_identity_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        born = parse_date_of_birth(str(value or "")[:MAX_NAME_CHARS], tracker.get_slot(LANGUAGE_SLOT) or "en")
        if born is None:
            dispatcher.utter_message(response="utter_identity_dob_unreadable")
            return {DATE_OF_BIRTH_SLOT: None}
        return {DATE_OF_BIRTH_SLOT: born.isoformat()}

    async def validate_identity_member_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        member_id = normalize_member_id(str(value or ""))
        if not plausible_member_id(member_id):
            dispatcher.utter_message(response="utter_identity_member_id_unreadable")
            return {MEMBER_ID_SLOT: None}
        name, born = tracker.get_slot(NAME_SLOT), tracker.get_slot(DATE_OF_BIRTH_SLOT)
        if not name or not born:
            return {MEMBER_ID_SLOT: member_id}
        return await self.check(dispatcher, tracker, name, date.fromisoformat(born), member_id)

    async def check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, name: str, born: date, member_id: str
    ) -> dict[str, Any]:
        """All three together against the directory; the answer says nothing about which part failed."""
        cleared: dict[str, Any] = dict.fromkeys(FORM_SLOTS)
        try:
            verification = await self.services.verifier.check(name, born, member_id)
        except RedisError:
            dispatcher.utter_message(response="utter_identity_check_unavailable")
            return {**cleared, REQUESTED_SLOT: None}
        record = verification.record
        if record is not None:
            dispatcher.utter_message(response="utter_identity_verified")
            dispatcher.utter_message(json_message=verified_marker(VIA_FORM))
            return {
                **cleared,
                VERIFIED_SLOT: True,
                VERIFIED_VIA_SLOT: VIA_FORM,
                VERIFIED_AT_SLOT: self.services.clock(),
                PATIENT_ID_SLOT: record.patient_id,
                FAILURES_SLOT: 0.0,
                REQUESTED_SLOT: None,
            }
        failures = int(tracker.get_slot(FAILURES_SLOT) or 0) + 1
        dispatcher.utter_message(response="utter_identity_not_verified")
        ended = failures >= self.services.settings.max_failures or verification.throttled
        return {**cleared, FAILURES_SLOT: float(failures), **({REQUESTED_SLOT: None} if ended else {})}


class ActionVerificationDeclined(Action):
    """A patient who will not verify gets a person for what they wanted, never a dead end."""

    def name(self) -> str:
        return "action_verification_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        skill = pending_skill(tracker)
        announcement = SKILL_ANNOUNCEMENTS.get(skill, "utter_handoff")
        events = hand_off(dispatcher, tracker, skill, Priority.NORMAL, DECLINED_REASON, announcement)
        return [SlotSet(PENDING_REQUEST_SLOT, None), *events]
