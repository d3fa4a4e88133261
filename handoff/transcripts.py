"""A conversation's transcript and its outboxes: each entry appended at the place it was sealed for, read back there.

The transcript half of ``LiveAgentQueue``. A transcript entry is sealed for its position
(``handoff.sealed_records``), so the script that appends it (``RECORD_SCRIPT``, and the agent message,
requeue and replay scripts) answers ``moved`` when another append came first, and the entry is sealed
again for the new end (``appending``). Reads refuse an entry that is not where it was sealed for.
"""

import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, TypeVar

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import LockNotOwnedError

from handoff.durable_writes import PATIENT, run_durably
from handoff.errors import HandoffError
from handoff.keys import KeySpace
from handoff.models import TranscriptEntry, TranscriptRole
from handoff.redis_values import text_of
from handoff.sealed_records import ConversationSeals, MisplacedRecord
from handoff.settings import ReplicaAcks

OUTBOX_READ_COUNT = 100
"""Most outbox entries one read takes; the rest come with the next."""
StreamEntry = tuple[bytes, dict[bytes, bytes]]
"""One stream entry as redis-py reads it: its id and its fields."""

APPEND_ATTEMPTS = 100
"""How often an append sealed for the end of a list is sealed again because another append came first."""
REMEMBERED = 10_000
"""How many transcripts (or conversations) a process keeps a guess for: the ones it wrote to last."""
Appended = TypeVar("Appended")


class RememberedEnds:
    """What this process last saw of a transcript or a conversation: the transcript's length after it appended or
    read it under the conversation's lock (``lengths``), the episode of a conversation it claimed or wrote an
    agent message in (``known_episodes``).

    A guess, never trusted: an append sealed for it is refused (``moved``, or ``not_assigned`` for another episode)
    when another process wrote since, and is then sealed again for what is read from Redis. Right, it saves that
    read: the bot's replies of a turn, the patient's message under the gate's lock and an agent's messages go in one
    round trip each.
    """

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._lengths: dict[str, int] = {}

    def guess(self, key: str) -> Optional[int]:
        return self._lengths.get(key)

    def learn(self, key: str, length: int) -> None:
        self._lengths.pop(key, None)
        self._lengths[key] = length
        if len(self._lengths) > self.size:
            del self._lengths[next(iter(self._lengths))]

    def forget(self, key: str) -> None:
        self._lengths.pop(key, None)


@dataclass(frozen=True)
class HeldLock:
    """A lock as held: its key and the token it holds."""

    key: str
    token: str


@dataclass(frozen=True)
class OutboxMessage:
    """An agent message waiting for the patient; ``message_id`` orders and resumes reads."""

    message_id: str
    entry: TranscriptEntry


def now_ms() -> int:
    return int(time.time() * 1000)


class ConversationTranscripts:
    """Transcripts and outboxes on ``redis``; ``LiveAgentQueue`` is one."""

    redis: Redis
    keys: KeySpace
    seals: ConversationSeals
    retention_ms: int
    replica_acks: ReplicaAcks
    lengths: RememberedEnds
    known_episodes: RememberedEnds
    _record: AsyncScript

    async def record(
        self, conversation_id: str, role: TranscriptRole, text: str, message_id: str = "", durable: bool = False
    ) -> bool:
        """Appends one message to the conversation's encrypted transcript; False when it was stored before.

        ``message_id``: the patient message's id; a message with the id of a recent one stored is not stored again.
        ``durable``: returns only once the replicas ``replica_acks`` asks for hold it (``handoff.durable_writes``).
        """
        acks = self.replica_acks if durable else ReplicaAcks(replicas=0)
        return await self._append(conversation_id, role, [text], message_id, acks) != STORED_BEFORE

    async def record_bot_replies(self, conversation_id: str, texts: list[str], releasing: Optional[HeldLock] = None
                                 ) -> None:
        """Appends the bot's replies in one round trip. ``releasing``: the conversation's lock (its key and token),
        let go of in the same round trip once they are in; ``LockNotOwnedError`` (the replies stored) when it
        expired and another took it."""
        outcome = await self._append(conversation_id, TranscriptRole.BOT, texts, "", ReplicaAcks(replicas=0), releasing)
        if outcome == LOCK_LOST:
            raise LockNotOwnedError("the conversation's lock expired while its turn was recorded")

    async def _append(self, conversation_id: str, role: TranscriptRole, texts: list[str], message_id: str,
                      acks: ReplicaAcks, lock: Optional[HeldLock] = None) -> str:
        at_ms = now_ms()
        entries = [TranscriptEntry(role, text, at_ms) for text in texts]
        transcript = self.keys.transcript(conversation_id)
        keys = [self.keys.conversation(conversation_id), transcript, self.keys.episodes(conversation_id),
                self.keys.message_stored(conversation_id, PATIENT)] + ([lock.key] if lock else []) \
            + [self.keys.console_changes()]
        appended_at = 0

        async def append(position: int) -> Optional[str]:
            nonlocal appended_at
            appended_at = position
            sealed = [self.seals.transcript_entry(conversation_id, position + offset, entry)
                      for offset, entry in enumerate(entries)]
            outcome = text_of(await run_durably(
                self.redis,
                self._record,
                keys,
                [self.retention_ms, position, message_id, lock.token if lock else "", *sealed],
                acks,
            ))
            return None if outcome == MOVED else outcome

        outcome = await self.appending(transcript, append, self.lengths.guess(transcript))
        if outcome == STORED_BEFORE:
            self.lengths.forget(transcript)
        else:
            self.lengths.learn(transcript, appended_at + len(entries))
        return outcome

    async def transcript(self, conversation_id: str, start: int = 0) -> list[TranscriptEntry]:
        """The transcript from entry ``start`` (counted from 0; negative counts from the end) on.

        ``MisplacedRecord`` when an entry is not at the position it was sealed for.
        """
        key = self.keys.transcript(conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.llen(key)
            pipe.lrange(key, start, -1)
            length, envelopes = await pipe.execute()
        first = start if start >= 0 else max(0, int(length) + start)
        return [self.seals.open_transcript_entry(conversation_id, first + offset, text_of(envelope))
                for offset, envelope in enumerate(envelopes)]

    async def agent_messages(
        self, conversation_id: str, episode: int, after_id: str = "0", block_ms: Optional[int] = None
    ) -> list[OutboxMessage]:
        """Agent messages of one episode after ``after_id``, waiting up to ``block_ms`` for one to arrive.

        ``OutboxInterrupted`` (a ``MisplacedRecord``) when one was moved, or copied or replayed into the outbox
        (its sequence must follow the one of the message before it, ``after_id``'s included); it carries the
        messages before that one, which did open.
        """
        outbox = self.keys.outbox(conversation_id, episode)
        streams = await self.redis.xread({outbox: after_id}, block=block_ms, count=OUTBOX_READ_COUNT)
        entries = [entry for _, read in streams or [] for entry in read]
        return await self.open_agent_messages(conversation_id, episode, after_id, entries)

    async def open_agent_messages(
        self, conversation_id: str, episode: int, after_id: str, entries: list[StreamEntry]
    ) -> list[OutboxMessage]:
        """The agent messages of outbox entries already read after ``after_id`` (by a reader that waits on more
        streams than the outbox); ``OutboxInterrupted`` as for ``agent_messages``."""
        outbox = self.keys.outbox(conversation_id, episode)
        previous = await self.redis.xrange(outbox, min=after_id, max=after_id) if after_id != "0" else []
        last = _outbox_sequence(previous[0][1]) if previous else -1
        messages: list[OutboxMessage] = []
        for message_id, fields in entries:
            try:
                sequence = _outbox_sequence(fields)
                entry = self.seals.open_outbox_message(conversation_id, episode, sequence, last,
                                                       text_of(fields.get(b"entry", b"")))
            except MisplacedRecord as error:
                raise OutboxInterrupted(str(error), messages) from error
            messages.append(OutboxMessage(text_of(message_id), entry))
            last = sequence
        return messages

    async def appending(
        self, key: str, append: Callable[[int], Awaitable[Optional[Appended]]], length: Optional[int] = None
    ) -> Appended:
        """Runs ``append`` with the list's length, the position it seals for, until no other append came first
        (``append`` returns None when its script answered ``moved``). ``length``: the length the caller read
        with what else it needed, for the first attempt; every other attempt reads it again."""
        for _ in range(APPEND_ATTEMPTS):
            done = await append(int(await self.redis.llen(key)) if length is None else length)
            if done is not None:
                return done
            length = None
        raise HandoffError(f"{APPEND_ATTEMPTS} appends in a row lost their position to others; nothing was written")


class OutboxInterrupted(MisplacedRecord):
    """An outbox message that does not open at its place; ``opened`` are the messages before it."""

    def __init__(self, message: str, opened: list[OutboxMessage]) -> None:
        super().__init__(message)
        self.opened = opened


MOVED = "moved"
"""A script's answer when the list grew since the value was sealed for its end."""
STORED_BEFORE = "stored_before"
"""The record script's answer to a patient message whose id is among the recent ones stored."""
LOCK_LOST = "lock_lost"
"""The record script's answer when the lock it was to let go of no longer held the turn's token."""


def _outbox_sequence(fields: dict[bytes, bytes]) -> int:
    try:
        return int(text_of(fields[b"sequence"]))
    except (KeyError, ValueError) as error:
        raise MisplacedRecord("an outbox message without its sequence: not written by the handoff") from error
