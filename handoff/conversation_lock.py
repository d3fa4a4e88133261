"""The lock under which one patient message of a conversation is routed, taken with what routing reads first.

Two messages of one conversation must never race, across any number of Rasa processes: the gate routes each
under the conversation's lock (``KeySpace.gate_lock``; the crisis spool's replay takes the same one). Taking it
is ``SET NX PX`` with a random token and releasing it deletes the key only if it still holds that token, as
redis-py's ``Lock`` does; ``ConversationLock`` is that lock, whose taking also reads, in the same script, the
conversation's hash and its transcript's length. The gate reads both first anyway: one round trip instead of
three. The length seeds the transcript's remembered length (``RememberedEnds``).

The patient's message goes in the transcript first, under the lock. When this process remembers the transcript's
length, the message is sealed for it and recorded by the script that takes the lock (``record_patient_message``
then has nothing left to do); when it does not, or another process wrote since (``moved``), it is recorded after,
for the length just read. Not when writes wait for replicas (``HANDOFF_REPLICA_ACKS``): the ``WAIT`` after a message
stored while the patient waits on a person must share the write's connection, so the message is recorded on its own.

The turn's last transcript entries (the bot's replies a REST answer holds until the turn ends) can go with the
release (``record_on_release``): the record script lets go of the lock once they are in, in the same round trip.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Union

from redis.asyncio.lock import Lock
from redis.commands.core import AsyncScript

from handoff.durable_writes import PATIENT
from handoff.models import Conversation, TranscriptEntry, TranscriptRole
from handoff.redis_values import text_of
from handoff.scripts import RECORD_FUNCTION
from handoff.transcripts import STORED_BEFORE, HeldLock, now_ms

if TYPE_CHECKING:
    from handoff.escalations import Escalations

LOCK_AND_READ_SCRIPT = RECORD_FUNCTION + """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local fields, length = redis.call('HGETALL', KEYS[2]), redis.call('LLEN', KEYS[3])
local recorded = ''
if #ARGV > 2 then recorded = record(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[3], ARGV[4], ARGV[5], 6) end
return {fields, length, recorded}
"""
"""Takes the lock ``KEYS[1]`` with token ``ARGV[1]`` for ``ARGV[2]`` ms; taken, answers the conversation's hash
(``KEYS[2]``, a flat list of fields and values), its transcript's length (``KEYS[3]``) before anything is recorded,
and the outcome of recording the patient's message ``ARGV[6]`` (``record``, with ``KEYS[4]``, ``KEYS[5]`` and
``ARGV[3]`` to ``ARGV[5]``; empty when none was given); held by another, nil."""


@dataclass(frozen=True)
class PatientMessage:
    """The message a turn under the lock routes: its text and the id it was sent with (empty: none)."""

    text: str
    message_id: str = ""


class ConversationLock(Lock):
    """``async with queue.locked_conversation(id, seconds) as lock``: ``lock.conversation`` is the conversation as
    it was when the lock was taken (None when it was never escalated)."""

    def __init__(self, queue: "Escalations", lock_and_read: AsyncScript, conversation_id: str,
                 seconds: float, patient_message: Optional[PatientMessage] = None) -> None:
        super().__init__(queue.redis, queue.keys.gate_lock(conversation_id), timeout=seconds,
                         blocking_timeout=seconds)
        self.queue = queue
        self.conversation_id = conversation_id
        self._fields: list[bytes] = []
        self._lock_and_read = lock_and_read
        self._last_entries: list[str] = []
        self._patient_message = patient_message
        self._patient_stored: Optional[bool] = None

    async def do_acquire(self, token: Union[str, bytes]) -> bool:
        keys = self.queue.keys
        transcript = keys.transcript(self.conversation_id)
        assert self.timeout is not None
        position = self.queue.lengths.guess(transcript)
        recording = self._recording_args(position)
        taken = await self._lock_and_read(
            keys=[self.name, keys.conversation(self.conversation_id), transcript, keys.episodes(self.conversation_id),
                  keys.message_stored(self.conversation_id, PATIENT), keys.console_changes()],
            args=[token, int(self.timeout * 1000), *recording],
        )
        if taken is None:
            return False
        self._fields, length, recorded = taken
        recorded = text_of(recorded)
        if recorded == STORED_BEFORE:
            self._patient_stored = False
            self.queue.lengths.forget(transcript)
        elif recorded == "ok" and position is not None:
            self._patient_stored = True
            self.queue.lengths.learn(transcript, position + 1)
        else:
            self.queue.lengths.learn(transcript, int(length))
        return True

    def _recording_args(self, position: Optional[int]) -> list[Union[int, str]]:
        """What the lock's script needs to record the patient's message at ``position`` (the remembered length),
        or nothing when it cannot: no message, no remembered length, or writes that wait for replicas."""
        message = self._patient_message
        if message is None or position is None or self.queue.replica_acks.replicas:
            return []
        entry = TranscriptEntry(TranscriptRole.PATIENT, message.text, now_ms())
        sealed = self.queue.seals.transcript_entry(self.conversation_id, position, entry)
        return [self.queue.retention_ms, position, message.message_id, sealed]

    async def record_patient_message(self, durable: bool) -> bool:
        """The patient's message in the transcript, if the lock's script did not record it; False when it was
        stored before (sent again with the same id). ``durable``: as ``record``'s."""
        assert self._patient_message is not None
        if self._patient_stored is not None:
            return self._patient_stored
        message = self._patient_message
        return await self.queue.record(self.conversation_id, TranscriptRole.PATIENT, message.text, message.message_id,
                                       durable)

    def record_on_release(self, bot_replies: list[str]) -> None:
        """The bot's replies go in the transcript when the lock is let go, with it: nothing may be appended after
        them while it is held."""
        self._last_entries = list(bot_replies)

    async def record_held(self) -> None:
        """The replies ``record_on_release`` holds go in the transcript now, the lock still held."""
        replies, self._last_entries = self._last_entries, []
        if replies:
            await self.queue.record_bot_replies(self.conversation_id, replies)

    async def do_release(self, expected_token: bytes) -> None:
        replies, self._last_entries = self._last_entries, []
        if not replies:
            return await super().do_release(expected_token)
        token = expected_token.decode() if isinstance(expected_token, bytes) else expected_token
        await self.queue.record_bot_replies(self.conversation_id, replies, HeldLock(self.name, token))

    @property
    def conversation(self) -> Optional[Conversation]:
        """The conversation as it was when the lock was taken (None when it was never escalated); ``EnvelopeError``
        if a sealed field of it was moved or altered. Opened here, under the lock, never while taking it: an error
        while taking it would leave the lock held until it expires."""
        return self.queue.opened_conversation(self.conversation_id, self._fields) if self._fields else None

