"""Handing a conversation to a person, shared by every action that does it.

Actions do not touch Redis: they tell the patient a person is coming, emit a
handoff marker (a custom message the patient channel turns into a queued
escalation) and pause the Rasa conversation until an agent hands it back.
"""

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from handoff.models import HandoffRequest, Priority, Skill

LANGUAGE_SLOT = "language"


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    skill: Skill,
    priority: Priority,
    reason: str,
    announcement: str = "utter_handoff",
) -> list[EventType]:
    """Announces the handoff, emits the marker for the connector and pauses the bot."""
    dispatcher.utter_message(response=announcement)
    request = HandoffRequest(skill, priority, reason, tracker.get_slot(LANGUAGE_SLOT))
    dispatcher.utter_message(json_message=request.to_marker())
    return [ConversationPaused()]
