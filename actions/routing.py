"""Routes every contact the bot does not answer to the right human queue."""

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from handoff.models import Priority, Skill


@dataclass(frozen=True)
class Route:
    skill: Skill
    priority: Priority
    announcement: str


ROUTES = {
    "request_human": Route(Skill.GENERAL, Priority.NORMAL, "utter_handoff"),
    "referral_status": Route(Skill.GENERAL, Priority.NORMAL, "utter_handoff"),
    "request_callback": Route(Skill.GENERAL, Priority.NORMAL, "utter_handoff_callback"),
    "billing_question": Route(Skill.BILLING, Priority.NORMAL, "utter_handoff_billing"),
    "ask_insurance": Route(Skill.BILLING, Priority.NORMAL, "utter_handoff_billing"),
    "prescription_change": Route(Skill.PHARMACY, Priority.NORMAL, "utter_handoff_pharmacy"),
    "clinical_question": Route(Skill.NURSE, Priority.NORMAL, "utter_handoff_nurse"),
    "express_distress": Route(Skill.GENERAL, Priority.URGENT, "utter_handoff_distress"),
}
"""Intent -> queue. PHI requests (refill status, appointments, test results) are not here: the
bot answers them once the patient is verified (``actions/phi.py``, ``actions/verification.py``)."""

DEFAULT_ROUTE = ROUTES["request_human"]


class ActionRouteToQueue(Action):
    """Hands off to the queue that serves the patient's latest intent; the reason is the intent."""

    def name(self) -> str:
        return "action_route_to_queue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = tracker.get_intent_of_latest_message() or "request_human"
        route = ROUTES.get(intent, DEFAULT_ROUTE)
        reason = "patient_request" if intent == "request_human" else intent
        return hand_off(dispatcher, tracker, route.skill, route.priority, reason, route.announcement)
