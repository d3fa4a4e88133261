"""Crisis response when the NLU model, not the connector's screen, recognised a crisis.

Defence in depth: the patient channel screens every message before Rasa sees
it, so this runs only when the screen missed what the model caught. The screen
runs again here to name the category and evidence when it can.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import LANGUAGE_SLOT, hand_off
from handoff.models import Priority, crisis_skill
from screening import CrisisScreen

UNSPECIFIED_CATEGORY = "unspecified"


class ActionCrisisResponse(Action):
    def __init__(self) -> None:
        self.screen = CrisisScreen()

    def name(self) -> str:
        return "action_crisis_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        finding = self.screen.screen(text, tracker.get_slot(LANGUAGE_SLOT) or "und")
        category = finding.category.value if finding else UNSPECIFIED_CATEGORY
        return hand_off(
            dispatcher,
            tracker,
            crisis_skill(category),
            Priority.CRISIS,
            f"crisis_{category}",
            announcement="utter_crisis_resources",
        )
