"""What a conversation's sealed records are bound to, so that none can be moved, reordered or replayed.

Someone with write access to Redis but no data key can still move envelopes around. Each envelope's
associated data (``handoff.crypto.associated_data``) therefore names its purpose, its conversation and
its place, and an envelope read anywhere else fails to open (``MisplacedRecord``):

transcript entry
    ``("transcript", conversation, position)``: the position is the entry's index in the transcript
    list, checked by the script that appends it (it refuses when the list is no longer as long as when
    the entry was sealed, and the entry is sealed again for the new end). An entry swapped, removed from
    the middle, inserted or duplicated sits at a position it was not sealed for. The position is counted
    over the conversation's whole life, across episodes, so it names the entry without the episode.
outbox message
    ``("outbox", conversation, episode, sequence)``: the sequence is the transcript position of the same
    message, stored beside it in clear (``sequence``); a reader takes the sequences strictly increasing,
    so a message copied or replayed into the outbox (delivered twice) is refused.
episode record
    ``("episode-record", conversation, position)`` in the list of closed episodes.
crisis evidence and the other health facts
    ``("conversation-field", field, conversation)`` (``handoff.health_facts``).

Only what an attacker cannot undo without a key is caught: removing the newest entries of a list (its
tail) leaves a shorter list that still opens: the audit log's checkpoints (``handoff.audit``) anchor
history outside Redis. Data sealed before these bindings (bound to the conversation id alone) does not
open, and the retention purge reports it as unreadable and leaves it: start from an empty Redis namespace.
"""

import json
from typing import Any

from handoff.crypto import EnvelopeError, KeyRing, associated_data
from handoff.models import TranscriptEntry

TRANSCRIPT_PURPOSE = "transcript"
OUTBOX_PURPOSE = "outbox"
EPISODE_RECORD_PURPOSE = "episode-record"


def transcript_context(conversation_id: str, position: int) -> str:
    return associated_data(TRANSCRIPT_PURPOSE, conversation_id, position)


def outbox_context(conversation_id: str, episode: int, sequence: int) -> str:
    return associated_data(OUTBOX_PURPOSE, conversation_id, episode, sequence)


def episode_record_context(conversation_id: str, position: int) -> str:
    return associated_data(EPISODE_RECORD_PURPOSE, conversation_id, position)


class MisplacedRecord(EnvelopeError):
    """A sealed record does not open where it was read: moved, reordered, removed, inserted or replayed."""


class ConversationSeals:
    """Seals and opens a conversation's transcript entries, outbox messages and episode records."""

    def __init__(self, key_ring: KeyRing) -> None:
        self.key_ring = key_ring

    def transcript_entry(self, conversation_id: str, position: int, entry: TranscriptEntry) -> str:
        return self.key_ring.seal(entry.to_bytes(), transcript_context(conversation_id, position))

    def open_transcript_entry(self, conversation_id: str, position: int, envelope: str) -> TranscriptEntry:
        context = transcript_context(conversation_id, position)
        return TranscriptEntry.from_bytes(self._open(envelope, context, f"transcript entry {position}"))

    def outbox_message(self, conversation_id: str, episode: int, sequence: int, entry: TranscriptEntry) -> str:
        return self.key_ring.seal(entry.to_bytes(), outbox_context(conversation_id, episode, sequence))

    def open_outbox_message(
        self, conversation_id: str, episode: int, sequence: int, after_sequence: int, envelope: str
    ) -> TranscriptEntry:
        """The message; ``MisplacedRecord`` when it is not the next one after ``after_sequence``'s."""
        if sequence <= after_sequence:
            raise MisplacedRecord(f"outbox message {sequence} comes after {after_sequence}: replayed or reordered")
        context = outbox_context(conversation_id, episode, sequence)
        return TranscriptEntry.from_bytes(self._open(envelope, context, f"outbox message {sequence}"))

    def episode_record(self, conversation_id: str, position: int, record: dict[str, Any]) -> str:
        context = episode_record_context(conversation_id, position)
        return self.key_ring.seal(json.dumps(record).encode(), context)

    def open_episode_record(self, conversation_id: str, position: int, envelope: str) -> dict[str, Any]:
        context = episode_record_context(conversation_id, position)
        opened: dict[str, Any] = json.loads(self._open(envelope, context, f"episode record {position}"))
        return opened

    def _open(self, envelope: str, context: str, what: str) -> bytes:
        try:
            return self.key_ring.open(envelope, context)
        except EnvelopeError as error:
            raise MisplacedRecord(f"{what} does not open at its place ({error}): moved, reordered, removed, "
                                  "inserted or replayed, or sealed by a retired key") from error
