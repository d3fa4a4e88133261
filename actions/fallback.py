"""The two-exchange rule: the bot asks once, then a person takes over."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from handoff.models import Priority, Skill

UNPLACED_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
"""Intents that mean the bot could not place what the patient wants."""
MAX_UNPLACED_EXCHANGES = 2


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
    """Asks the patient to rephrase once; the second unplaced exchange goes to a person.

    Also serves as the core fallback, so a message no rule fits is counted too
    and never loops.
    """

    def name(self) -> str:
        return "action_two_exchange_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if consecutive_unplaced_exchanges(tracker) >= MAX_UNPLACED_EXCHANGES:
            return hand_off(dispatcher, tracker, Skill.GENERAL, Priority.NORMAL, "unplaced_two_exchanges")
        dispatcher.utter_message(response="utter_rephrase")
        return []
