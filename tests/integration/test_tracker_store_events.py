"""The sealed tracker store reads every kind of event back as Rasa's own reading does, against a real Redis: the
store finds each event class once instead of once per event (``connectors.tracker_store``), and must not change
what a tracker says (its events, slots, active form, the latest message) by doing so."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FollowupAction,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.tracker_store import EncryptedRedisTrackerStore, EventClasses
from handoff.crypto import generate_key_ring_spec
from handoff.retention import tracker_context
from stack.domain import ASSEMBLED_DOMAIN
from stack.redis_server import RedisServer
from stack.services import PROJECT_DIR

PARSED = {"intent": {"name": "refill_status", "confidence": 0.93}, "entities": [], "text": "where is my refill"}


def every_kind_of_event(exported_to: Path) -> list[Event]:
    """Every kind of event Rasa has; replayed, ``StoryExported`` writes the story to ``exported_to``."""
    return [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("where is my refill", PARSED["intent"], [], PARSED, message_id="m-1",
                    input_channel="patient"),
        SlotSet("language", "es"), ActiveLoop("identity_form"), ActionExecuted("identity_form"),
        BotUttered("¿Cuál es su fecha de nacimiento?", {"buttons": None}, {"utter_action": "utter_ask_dob"}),
        ActionExecutionRejected("identity_form"), LoopInterrupted(True), ActiveLoop(None),
        FollowupAction("action_listen"), ReminderScheduled("remind", datetime(2026, 1, 1)),
        ReminderCancelled(name="remind"), ConversationPaused(), ConversationResumed(), AgentUttered("an agent"),
        StoryExported(str(exported_to)), UserUtteranceReverted(), AllSlotsReset(), Restarted(),
        ActionExecuted("action_listen"), UserUttered("hola", {"name": "greet", "confidence": 0.99}, [],
                                                     {"intent": {"name": "greet", "confidence": 0.99}, "text": "hola"}),
    ]


@pytest.fixture
def tracker_store(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> EncryptedRedisTrackerStore:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("HANDOFF_DATA_KEYS", generate_key_ring_spec())
    domain = Domain.load(str(PROJECT_DIR / ASSEMBLED_DOMAIN))
    return EncryptedRedisTrackerStore(domain, host="127.0.0.1", port=redis_server.port, key_prefix="tracker")


async def test_a_tracker_saved_and_read_back_says_what_rasa_would_read(
    tracker_store: EncryptedRedisTrackerStore, tmp_path: Path
) -> None:
    events = every_kind_of_event(tmp_path / "stories.yml")
    tracker = DialogueStateTracker.from_events("c-every-event", events, tracker_store.domain.slots)
    await tracker_store.save(tracker)
    read = await tracker_store.retrieve("c-every-event")
    assert read is not None
    sealed = tracker_store.red.get(tracker_store.key_prefix + "c-every-event")
    opened = tracker_store.key_ring.open(sealed, tracker_context("c-every-event")).decode()
    stock = RedisTrackerStore.deserialise_tracker(tracker_store, "c-every-event", opened)
    assert stock is not None
    assert list(read.events) == list(stock.events)
    assert [event.as_dict() for event in read.events] == [event.as_dict() for event in tracker.events]
    assert read.current_state() == stock.current_state()
    assert read.active_loop_name == stock.active_loop_name
    assert read.latest_message == stock.latest_message


def test_an_unknown_event_type_is_refused_as_rasa_refuses_it_and_a_topic_is_none(tmp_path: Path) -> None:
    classes = EventClasses()
    with pytest.raises(ValueError, match="Unknown event name"):
        classes.event({"event": "patient_is_verified", "timestamp": 1.0})
    assert classes.event({"event": "topic", "timestamp": 1.0}) is None
    assert classes.event({"timestamp": 1.0}) is None
    serialised = json.loads(json.dumps([event.as_dict() for event in every_kind_of_event(tmp_path / "stories.yml")]))
    assert [classes.event(event) for event in serialised] == [Event.from_parameters(e) for e in serialised]

