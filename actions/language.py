"""Explicit language switches ("¿hablas español?", "in English please")."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher


class ActionSwitchLanguage(Action):
    """Confirms the switch in the new language.

    The patient channel has already set the ``language`` slot from the message
    before Rasa saw it, so the response is chosen in the new language.
    """

    def name(self) -> str:
        return "action_switch_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_language_switched")
        return []
