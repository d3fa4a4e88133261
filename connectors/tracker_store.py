"""Rasa's Redis tracker store with every tracker sealed by the handoff key ring.

Tracker events hold what patients wrote, so they are ePHI at rest. The sealed
envelope binds the conversation id, and key rotation works as for transcripts.
"""

from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from handoff import HandoffSettings


class EncryptedRedisTrackerStore(RedisTrackerStore):
    def __init__(self, domain: Domain, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        self.key_ring = HandoffSettings.from_env().key_ring()

    def serialise_tracker(self, tracker: DialogueStateTracker) -> str:
        serialised = super().serialise_tracker(tracker)
        return self.key_ring.seal(serialised.encode(), tracker.sender_id)

    def deserialise_tracker(self, sender_id: str, serialised_tracker: Any) -> DialogueStateTracker:
        opened = self.key_ring.open(str(serialised_tracker), sender_id).decode()
        return super().deserialise_tracker(sender_id, opened)
