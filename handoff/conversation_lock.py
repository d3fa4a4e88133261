"""The lock under which one patient message of a conversation is routed, taken with what routing reads first.

Two messages of one conversation must never race, across any number of Rasa processes: the gate routes each
under the conversation's lock (``KeySpace.gate_lock``; the crisis spool's replay takes the same one). Taking it
is ``SET NX PX`` with a random token and releasing it deletes the key only if it still holds that token, as
redis-py's ``Lock`` does; ``ConversationLock`` is that lock, whose taking also reads, in the same script, the
conversation's hash and its transcript's length. The gate reads both first anyway: one round trip instead of
three. The length seeds the transcript's remembered length (``RememberedEnds``), so the patient's message is
appended without reading it again. The turn's last transcript entries (the bot's replies a REST answer holds until
the turn ends) can go with the release (``record_on_release``): the record script lets go of the lock once they are
in, in the same round trip.
"""

from typing import TYPE_CHECKING, Optional, Union

from redis.asyncio.lock import Lock
from redis.commands.core import AsyncScript

from handoff.models import Conversation
from handoff.transcripts import HeldLock

if TYPE_CHECKING:
    from handoff.escalations import Escalations

LOCK_AND_READ_SCRIPT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return {redis.call('HGETALL', KEYS[2]), redis.call('LLEN', KEYS[3])}
"""
"""Takes the lock ``KEYS[1]`` with token ``ARGV[1]`` for ``ARGV[2]`` ms; taken, answers the conversation's hash
(``KEYS[2]``, a flat list of fields and values) and its transcript's length (``KEYS[3]``); held by another, nil."""


class ConversationLock(Lock):
    """``async with queue.locked_conversation(id, seconds) as lock``: ``lock.conversation`` is the conversation as
    it was when the lock was taken (None when it was never escalated)."""

    def __init__(self, queue: "Escalations", lock_and_read: AsyncScript, conversation_id: str,
                 seconds: float) -> None:
        super().__init__(queue.redis, queue.keys.gate_lock(conversation_id), timeout=seconds,
                         blocking_timeout=seconds)
        self.queue = queue
        self.conversation_id = conversation_id
        self._fields: list[bytes] = []
        self._lock_and_read = lock_and_read
        self._last_entries: list[str] = []

    async def do_acquire(self, token: Union[str, bytes]) -> bool:
        keys = self.queue.keys
        transcript = keys.transcript(self.conversation_id)
        assert self.timeout is not None
        taken = await self._lock_and_read(
            keys=[self.name, keys.conversation(self.conversation_id), transcript],
            args=[token, int(self.timeout * 1000)],
        )
        if taken is None:
            return False
        self._fields, length = taken
        self.queue.lengths.learn(transcript, int(length))
        return True

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

