"""Handing a conversation to a person, shared by every action that does it.

Actions do not touch Redis: they tell the patient a person is coming, emit a
handoff marker (a custom message the patient channel turns into a queued
escalation) and pause the Rasa conversation until an agent hands it back.
"""

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import FORM_SLOTS, REQUESTED_SLOT
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
    """Announces the handoff, emits the marker for the connector and pauses the bot.

    A form in progress (say, identity verification interrupted by a crisis or a
    request for a person) ends here, with what was typed into it, so the bot
    does not pick up a half-filled form when an agent hands the conversation back.
    """
    dispatcher.utter_message(response=announcement)
    request = HandoffRequest(skill, priority, reason, tracker.get_slot(LANGUAGE_SLOT))
    dispatcher.utter_message(json_message=request.to_marker())
    form_ended: list[EventType] = []
    if tracker.active_loop.get("name"):
        form_ended = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), *(SlotSet(slot, None) for slot in FORM_SLOTS)]
    return [*form_ended, ConversationPaused()]
