"""Answers PHI requests (refill status, upcoming appointments, test results ready) for a verified patient.

Runs after the verification form, or straight away when the patient is already
verified. Unverified (the form ended after failures), it hands off to the queue
for what the patient wanted; verified too long ago (``VERIFICATION_LAPSE_SECONDS``),
it clears the verification and runs the form again. Test results: only whether
they are ready, and a nurse goes through them; never a value.
"""

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from actions.handoff import LANGUAGE_SLOT, hand_off
from actions.identity import IDENTITY_FORM, PATIENT_ID_SLOT, PENDING_REQUEST_SLOT, VERIFIED_SLOT
from actions.verification import (
    PHI_SKILLS,
    SKILL_ANNOUNCEMENTS,
    UNVERIFIED_REASON,
    ServicesMixin,
    is_fresh,
    pending_skill,
    verification_cleared,
)
from handoff.models import Priority, Skill
from patients import CareRecords, RefillStatus, format_date, format_time

MAX_APPOINTMENTS_LISTED = 3
REFILL_RESPONSES = {
    RefillStatus.READY: "utter_refill_ready",
    RefillStatus.IN_PROGRESS: "utter_refill_in_progress",
    RefillStatus.AWAITING_APPROVAL: "utter_refill_awaiting_approval",
    RefillStatus.TOO_SOON: "utter_refill_too_soon",
}


class ActionAnswerPhiRequest(ServicesMixin, Action):
    def name(self) -> str:
        return "action_answer_phi_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        request = tracker.get_slot(PENDING_REQUEST_SLOT) or tracker.get_intent_of_latest_message() or ""
        done: list[EventType] = [SlotSet(PENDING_REQUEST_SLOT, None)]
        skill = pending_skill(tracker)
        if tracker.get_slot(VERIFIED_SLOT) is not True:
            announcement = "utter_handoff_unverified"
            return done + hand_off(dispatcher, tracker, skill, Priority.NORMAL, UNVERIFIED_REASON, announcement)
        if not is_fresh(tracker, self.services.clock(), self.services.settings.lapse_seconds):
            dispatcher.utter_message(response="utter_identity_lapsed")
            return [*verification_cleared(), SlotSet(PENDING_REQUEST_SLOT, request), FollowupAction(IDENTITY_FORM)]
        patient_id = tracker.get_slot(PATIENT_ID_SLOT)
        if request not in PHI_SKILLS or not isinstance(patient_id, str):
            return done + hand_off(
                dispatcher, tracker, skill, Priority.NORMAL, request or "phi_request",
                SKILL_ANNOUNCEMENTS.get(skill, "utter_handoff"),
            )
        language = tracker.get_slot(LANGUAGE_SLOT) or "en"
        care = self.services.care
        try:
            if request == "refill_status":
                await self.refills(dispatcher, care, patient_id, language)
            elif request == "appointment_details":
                await self.appointments(dispatcher, care, patient_id, language)
            else:
                ready = await care.results_ready(patient_id)
                announcement = "utter_test_results_ready" if ready else "utter_test_results_not_ready"
                return done + hand_off(dispatcher, tracker, Skill.NURSE, Priority.NORMAL, request, announcement)
        except RedisError:
            return done + hand_off(
                dispatcher, tracker, skill, Priority.NORMAL, "records_unavailable", "utter_records_unavailable"
            )
        return done

    @staticmethod
    async def refills(dispatcher: CollectingDispatcher, care: CareRecords, patient_id: str, language: str) -> None:
        refills = await care.refills(patient_id)
        if not refills:
            dispatcher.utter_message(response="utter_refills_none")
            return
        for refill in refills:
            dispatcher.utter_message(
                response=REFILL_RESPONSES[refill.status],
                medication=refill.medication,
                pharmacy=refill.pharmacy,
                date=format_date(refill.ready_on, language) if refill.ready_on else "",
            )
        dispatcher.utter_message(response="utter_refill_follow_up")

    @staticmethod
    async def appointments(
        dispatcher: CollectingDispatcher, care: CareRecords, patient_id: str, language: str
    ) -> None:
        upcoming = sorted(
            (a for a in await care.appointments(patient_id) if a.starts_at >= datetime.now()),
            key=lambda appointment: appointment.starts_at,
        )
        if not upcoming:
            dispatcher.utter_message(response="utter_appointments_none")
            return
        for appointment in upcoming[:MAX_APPOINTMENTS_LISTED]:
            dispatcher.utter_message(
                response="utter_appointment",
                date=format_date(appointment.starts_at.date(), language),
                time=format_time(appointment.starts_at.hour, appointment.starts_at.minute, language),
                clinician=appointment.clinician,
                location=appointment.location,
            )
        dispatcher.utter_message(response="utter_appointment_follow_up")
