"""Rasa's Redis tracker store with every tracker sealed by the handoff key ring, and expiring.

Tracker events hold what patients wrote, so they are ePHI at rest. The sealed
envelope binds its purpose and the conversation id (``tracker_context``), and key
rotation (``python -m handoff.keys rotate``) works as for transcripts.
A tracker expires ``PHI_RETENTION_DAYS`` after its last save (Rasa's ``record_exp``,
set here from that one setting: endpoints.yml sets no ``record_exp`` of its own).
With a ``redis+sentinel`` ``REDIS_URL`` it works on the primary Sentinel names (``handoff.redis_connection``).

Reading a tracker builds each of its events from its type name. Rasa finds the class by walking every subclass of
``Event`` (with ``inspect.isabstract``) once per event: on a conversation of some length that was 40-50 % of a
bot turn's CPU (``make profile``). ``EventClasses`` finds each class once, as Rasa would, and keeps it.
"""

import json
from typing import Any, Optional

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.tracker_incidents import TrackerIncidents
from handoff import HandoffSettings
from handoff.crypto import EnvelopeError
from handoff.redis_connection import SentinelAddress, sync_redis
from handoff.retention import TRACKER_KEY_PREFIX, tracker_context
from handoff.settings import SettingsError


class EventClasses:
    """Event classes by type name, each found once with Rasa's own ``Event.resolve_by_type``."""

    def __init__(self) -> None:
        self._classes: dict[str, Optional[type[Event]]] = {}

    def event(self, parameters: dict[str, Any]) -> Optional[Event]:
        """The event of serialised ``parameters``, as ``Event.from_parameters`` makes it; None for a type that
        Rasa reads as none (``topic``). An unknown type raises ``ValueError``, as in Rasa."""
        name = parameters.get("event")
        if name is None:
            return None
        if name not in self._classes:
            self._classes[name] = Event.resolve_by_type(name)
        event_class = self._classes[name]
        return event_class._from_parameters(parameters) if event_class is not None else None


class EncryptedRedisTrackerStore(RedisTrackerStore):
    def __init__(self, domain: Domain, **kwargs: Any) -> None:
        if kwargs.get("record_exp") is not None:
            raise SettingsError("trackers live PHI_RETENTION_DAYS: remove record_exp from endpoints.yml")
        settings = HandoffSettings.from_env()
        super().__init__(domain, **dict(kwargs, record_exp=settings.retention.ms // 1000))
        if self.key_prefix != TRACKER_KEY_PREFIX:
            raise SettingsError(f"the tracker store's key_prefix must make {TRACKER_KEY_PREFIX!r} "
                                "(key_prefix: tracker), which the retention purge scans")
        if SentinelAddress.parse(settings.redis_url) is not None:
            self.red = sync_redis(settings.redis_url, decode_responses=True)
        self.key_ring = settings.key_ring()
        self.incidents = TrackerIncidents(settings)
        self.event_classes = EventClasses()

    def serialise_tracker(self, tracker: DialogueStateTracker) -> str:
        serialised = super().serialise_tracker(tracker)
        return self.key_ring.seal(serialised.encode(), tracker_context(tracker.sender_id))

    def deserialise_tracker(self, sender_id: str, serialised_tracker: Any) -> DialogueStateTracker:
        try:
            opened = self.key_ring.open(str(serialised_tracker), tracker_context(sender_id)).decode()
        except EnvelopeError:
            self.incidents.undecryptable(sender_id)
            raise
        parameters = json.loads(opened)
        events = [self.event_classes.event(event) for event in parameters.get("events", []) if "event" in event]
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(parameters.get("name"), [event for event in events if event]))
        return tracker
