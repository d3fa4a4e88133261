"""What the patient's page hears besides messages: the agent is typing.

The console sends a typing signal (``POST /api/conversations/{id}/typing``) while the agent writes; the patient's
push socket (``connectors.patient_push``) reads the conversation's signals in the same blocking read as its
outbox, and tells the patient "<agent> is typing…" in their language. A signal is no message: it is neither in
the transcript nor in the outbox, it does not answer the patient (the unanswered-assignment deadline and the
first response time stand) and it lasts seconds: a short stream per conversation (``keys.patient_signals``),
capped and expiring. One Lua script checks that the agent holds the conversation, throttles and appends, so a
signal never outlives the agent's hold on the conversation it checked.
"""

from dataclasses import dataclass

from redis.asyncio import Redis

from handoff.errors import ConversationNotFound, NotAssignedAgent
from handoff.keys import KeySpace
from handoff.redis_values import text_of
from handoff.transcripts import OUTBOX_READ_COUNT, StreamEntry

TYPING = "typing"
SIGNALS_KEPT = 20
"""Most signals a conversation's stream holds; the push socket reads them as they come."""
SIGNALS_TTL_MS = 60_000
"""A stream nobody wrote to for this long is gone."""
TYPING_INTERVAL_MS = 2_000
"""At most one typing signal per conversation this often; the console page sends one every 3 s while typing."""

TYPING_SCRIPT = """
-- KEYS: conversation, signals stream, throttle. ARGV: agent id, throttle ms, stream ttl ms, most kept.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'not_found' end
if state ~= 'WITH_AGENT' or redis.call('HGET', KEYS[1], 'agent') ~= ARGV[1] then return 'not_assigned' end
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'throttled' end
local episode = redis.call('HGET', KEYS[1], 'episode') or '0'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'kind', 'typing', 'agent', ARGV[1], 'episode', episode)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 'sent'
"""


@dataclass(frozen=True)
class PatientSignal:
    kind: str
    agent_id: str
    episode: int


class TypingThrottled(Exception):
    """A typing signal of this conversation went out less than ``TYPING_INTERVAL_MS`` ago."""


class PatientSignals:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self.redis = redis
        self.keys = keys
        self._typing = redis.register_script(TYPING_SCRIPT)

    async def typing(self, conversation_id: str, agent_id: str) -> None:
        """The agent who holds the conversation is typing; ``ConversationNotFound``, ``NotAssignedAgent``
        (another agent's, or nobody's), ``TypingThrottled``."""
        outcome = text_of(await self._typing(
            keys=[self.keys.conversation(conversation_id), self.keys.patient_signals(conversation_id),
                  self.keys.typing_throttle(conversation_id)],
            args=[agent_id, TYPING_INTERVAL_MS, SIGNALS_TTL_MS, SIGNALS_KEPT],
        ))
        if outcome == "not_found":
            raise ConversationNotFound(f"no conversation {conversation_id!r}")
        if outcome == "not_assigned":
            raise NotAssignedAgent(f"conversation {conversation_id!r} is not with this agent")
        if outcome == "throttled":
            raise TypingThrottled(f"at most one typing signal per {TYPING_INTERVAL_MS} ms")

    async def latest(self, conversation_id: str) -> str:
        """The id of the conversation's newest signal ("0-0" when none): a new socket hears only later ones."""
        newest = await self.redis.xrevrange(self.keys.patient_signals(conversation_id), count=1)
        return text_of(newest[0][0]) if newest else "0-0"

    async def wait(
        self, conversation_id: str, outbox: str, outbox_after: str, signals_after: str, block_ms: int
    ) -> tuple[str, list[PatientSignal], list[StreamEntry]]:
        """Waits up to ``block_ms`` for a message in ``outbox`` after ``outbox_after`` or a signal after
        ``signals_after``; returns the id of the last signal read, the signals, and the outbox entries read (for
        ``open_agent_messages``)."""
        signals = self.keys.patient_signals(conversation_id)
        streams = await self.redis.xread({outbox: outbox_after, signals: signals_after}, block=block_ms,
                                         count=OUTBOX_READ_COUNT)
        read: list[PatientSignal] = []
        outbox_entries: list[StreamEntry] = []
        for stream, entries in streams or []:
            if text_of(stream) != signals:
                outbox_entries.extend(entries)
                continue
            for entry_id, fields in entries:
                signals_after = text_of(entry_id)
                read.append(signal_of(fields))
        return signals_after, read, outbox_entries


def signal_of(fields: dict[bytes, bytes]) -> PatientSignal:
    episode = text_of(fields.get(b"episode", b""))
    return PatientSignal(text_of(fields.get(b"kind", b"")), text_of(fields.get(b"agent", b"")),
                         int(episode) if episode.isdigit() else -1)
