"""Actions that hand a conversation to a person.

The action does not touch Redis: it tells the patient a person is coming,
emits a handoff marker (a custom message the connector turns into a queued
escalation) and pauses the Rasa conversation until an agent hands it back.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from handoff.models import HandoffRequest, Priority, Skill

LANGUAGE_SLOT = "language"
UNPLACED_INTENTS = frozenset({"nlu_fallback"})
"""Intents that mean the bot could not place what the patient wants."""
MAX_UNPLACED_EXCHANGES = 2


def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, skill: Skill, priority: Priority, reason: str
) -> list[EventType]:
    """Announces the handoff, emits the marker for the connector and pauses the bot."""
    language = tracker.get_slot(LANGUAGE_SLOT)
    dispatcher.utter_message(response="utter_handoff")
    dispatcher.utter_message(
        json_message=HandoffRequest(skill, priority, reason, language).to_marker()
    )
    return [ConversationPaused()]


class ActionHandoffToAgent(Action):
    """The patient asked for a person: hand off at once, no questions first."""

    def name(self) -> str:
        return "action_handoff_to_agent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return hand_off(dispatcher, tracker, Skill.GENERAL, Priority.NORMAL, "patient_request")


def consecutive_unplaced_exchanges(tracker: Tracker) -> int:
    """How many of the latest patient messages in a row the bot could not place."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if intent not in UNPLACED_INTENTS:
            break
        count += 1
    return count


class ActionTwoExchangeFallback(Action):
    """Asks the patient to rephrase once; the second unplaced exchange goes to a person."""

    def name(self) -> str:
        return "action_two_exchange_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if consecutive_unplaced_exchanges(tracker) >= MAX_UNPLACED_EXCHANGES:
            return hand_off(
                dispatcher, tracker, Skill.GENERAL, Priority.NORMAL, "unplaced_two_exchanges"
            )
        dispatcher.utter_message(response="utter_rephrase")
        return []
