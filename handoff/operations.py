"""Operations events: what the people who run the chat line measure, recorded in Redis.

Every process (any number of Rasa servers and consoles) records into the same places, in one Lua script per
event, so every process reports the same figures:

``{ns}:operations:events``
    a stream, one entry per event: its kind, its labels and its measurement (seconds). The stream id is
    the time, so a period is one ``XRANGE``. Kept ``EVENT_RETENTION_DAYS``; the dashboard and
    ``make report`` read it.
``{ns}:operations:totals``
    counters and histogram buckets since the start, which ``/metrics`` exposes (``handoff.metrics``);
    ``{ns}:operations:names`` names each of them.

No event names a conversation or carries text: label values come from closed vocabularies
(:func:`label_value`: a lower-case code such as ``billing_question`` or ``en``, anything else is
``other``), and times are measured in the recording process from the conversation's hash. Still, a reason
or a crisis category next to a time could be matched with a conversation's ``enqueued_at``, so what Redis
keeps is sealed like the conversation's own health facts (``handoff.health_facts``): each event under the
data key ring, and the totals under field names that are MACs, named by sealed names. After a key rotation new
totals go under new MACs and the figures add up both; keep a retired key in the ring for as long as its events
are wanted in reports. Events that happen once per episode (a handoff, its first claim, its agent's first
answer) are counted once however often the hook runs: the script remembers the episode under the
conversation's log pseudonym (``{ns}:operations-once:<pseudonym>``, 40 days).
"""

import json
import re
import time
from dataclasses import dataclass, field
from typing import Optional

from redis.asyncio import Redis

from handoff.crypto import KeyRing, associated_data
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonym
from handoff.models import ConversationState, EnqueueResult
from handoff.redis_values import decoded, text_of

EVENT_RETENTION_DAYS = 400
"""More than a year, so that a year's report can be made from the stream."""
ONCE_MARKER_SECONDS = 40 * 86_400
LABEL_VALUE = re.compile(r"[a-z][a-z_-]{0,47}")
"""A code: lower-case letters, ``_`` and ``-``. A conversation id (digits, capitals, dots), a phone number or
any sentence never matches."""
OTHER = "other"
EVENT_PURPOSE = "operations-event"
TOTAL_PURPOSE = "operations-total"

BOT_TURN = "bot_turn"
CONVERSATION_STARTED = "conversation_started"
HANDOFF = "handoff"
CRISIS_ESCALATION = "crisis_escalation"
CLAIM = "claim"
FIRST_AGENT_RESPONSE = "first_agent_response"
EPISODE_CLOSED = "episode_closed"
AFTER_HOURS_CAPTURE = "after_hours_capture"
CRISIS_SCREEN_HIT = "crisis_screen_hit"
SURVEY_ANSWER = "survey_answer"
"""CSAT: post-chat survey answers (``score`` 1-5). Recorded by :meth:`OperationsEvents.survey_answered`, for the
survey the console is getting; until it records answers, the dashboard shows CSAT as not measured."""
COMPLIANCE_CHECK = "compliance_check"

HISTOGRAM_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
"""Seconds: first responses and queue waits around the 60 s target, handle times up to hours."""

RECORD_SCRIPT = """
local events, totals, names, once = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local marker, minid, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
if marker ~= '' then
  if redis.call('SADD', once, marker) == 0 then return 0 end
  redis.call('EXPIRE', once, ARGV[4])
end
local index = 5
for _ = 1, count do
  redis.call('XADD', events, 'MINID', '~', minid, '*', 'event', ARGV[index])
  index = index + 1
end
while index <= #ARGV do
  local kind, field, name, amount = ARGV[index], ARGV[index + 1], ARGV[index + 2], ARGV[index + 3]
  if kind == 'f' then redis.call('HINCRBYFLOAT', totals, field, amount)
  else redis.call('HINCRBY', totals, field, amount) end
  redis.call('HSETNX', names, field, name)
  index = index + 4
end
return 1
"""
"""Appends the (sealed) events and adds to the totals (a MAC each, named by its sealed name), all or nothing; with
a marker, only the first time that marker is set for the conversation (``ARGV[1]``, e.g. ``claim:3`` for episode 3)."""


def label_value(value: Optional[str]) -> str:
    """The value as a metric label: a code from a closed vocabulary, else ``other``."""
    return value if value is not None and LABEL_VALUE.fullmatch(value) else OTHER


@dataclass(frozen=True)
class OperationsEvent:
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    seconds: Optional[float] = None
    at_ms: int = 0

    def encoded(self) -> str:
        body: dict[str, object] = {"kind": self.kind, "labels": self.labels}
        if self.seconds is not None:
            body["seconds"] = round(self.seconds, 3)
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decoded(cls, stream_id: str, encoded: str) -> "OperationsEvent":
        body = json.loads(encoded)
        seconds = body.get("seconds")
        return cls(body["kind"], dict(body.get("labels", {})), None if seconds is None else float(seconds),
                   int(stream_id.split("-")[0]))


def total_field(kind: str, labels: dict[str, str], part: str = "") -> str:
    """``kind|name=value|...`` (labels sorted), with ``|part`` for a histogram's bucket, sum or count."""
    name = "|".join([kind, *(f"{key}={labels[key]}" for key in sorted(labels))])
    return f"{name}|{part}" if part else name


def bucket_index(seconds: float) -> int:
    """The first bucket the measurement fits in; ``len(HISTOGRAM_BUCKETS)`` for +Inf."""
    return next((index for index, bound in enumerate(HISTOGRAM_BUCKETS) if seconds <= bound),
                len(HISTOGRAM_BUCKETS))


class OperationsEvents:
    """Records and reads operations events; every label value passes :func:`label_value`."""

    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring
        self._record = redis.register_script(RECORD_SCRIPT)

    def _total(self, kind: str, name: str, amount: float) -> list[object]:
        """The script's arguments that add ``amount`` to the total ``name``: its MAC and its sealed name."""
        field = self.key_ring.mac(TOTAL_PURPOSE, name)
        return [kind, field, self.key_ring.seal(name.encode(), associated_data(TOTAL_PURPOSE, field)), amount]

    async def record(self, *events: OperationsEvent, conversation_id: str = "", once: str = "") -> bool:
        """Appends the events and counts them; False (nothing recorded) when ``once`` was already counted for
        the conversation."""
        increments: list[object] = []
        for event in events:
            increments += self._total("i", total_field(event.kind, event.labels), 1)
            if event.seconds is not None:
                bucket = f"bucket{bucket_index(event.seconds)}"
                increments += self._total("i", total_field(event.kind, event.labels, bucket), 1)
                increments += self._total("f", total_field(event.kind, event.labels, "sum"), event.seconds)
        now_ms = int(time.time() * 1000)
        minid = now_ms - EVENT_RETENTION_DAYS * 86_400_000
        sealed = [self.key_ring.seal(event.encoded().encode(), EVENT_PURPOSE) for event in events]
        recorded = await self._record(
            keys=[self.keys.operations("events"), self.keys.operations("totals"), self.keys.operations("names"),
                  self.keys.operations_once(pseudonym(self.key_ring, conversation_id) if conversation_id else "-")],
            args=[once, minid, len(events), ONCE_MARKER_SECONDS, *sealed, *increments],
        )
        return bool(recorded)

    async def conversation_started(self) -> None:
        await self.record(OperationsEvent(CONVERSATION_STARTED))

    async def bot_turn(self, language: str) -> None:
        """A patient message the bot answered."""
        await self.record(OperationsEvent(BOT_TURN, {"language": label_value(language)}))

    async def handed_off(
        self, conversation_id: str, episode: int, reason: str, queue: str, priority: str, language: str
    ) -> None:
        """A conversation reached the queue (once per episode); ``first`` says whether it is its first handoff,
        which bot containment counts."""
        labels = {"reason": label_value(reason), "queue": label_value(queue), "priority": label_value(priority),
                  "language": label_value(language), "first": "yes" if episode <= 1 else "no"}
        await self.record(OperationsEvent(HANDOFF, labels), conversation_id=conversation_id,
                          once=f"handoff:{episode}")

    async def crisis_escalated(self, conversation_id: str, episode: int, category: str, language: str) -> None:
        """A crisis went to the front of the queue, or to the agent who has the conversation (once per episode)."""
        labels = {"category": label_value(category), "language": label_value(language)}
        await self.record(OperationsEvent(CRISIS_ESCALATION, labels), conversation_id=conversation_id,
                          once=f"crisis:{episode}")

    async def escalated(self, conversation_id: str, result: EnqueueResult, reason: str, language: str,
                        crisis_category: Optional[str] = None) -> None:
        """What an enqueue did: a handoff when it queued the conversation, a crisis escalation when it was one."""
        if crisis_category:
            await self.crisis_escalated(conversation_id, result.episode, crisis_category, language)
        if result.state == ConversationState.QUEUED:
            await self.handed_off(conversation_id, result.episode, reason, result.language, result.priority.value,
                                  language)

    async def captured_after_hours(self, queue: str) -> None:
        await self.record(OperationsEvent(AFTER_HOURS_CAPTURE, {"queue": label_value(queue)}))

    async def crisis_screened(self, source: str, category: str) -> None:
        """The crisis screen fired (``source``: ``rules`` or ``classifier``)."""
        await self.record(OperationsEvent(CRISIS_SCREEN_HIT, {"source": label_value(source),
                                                              "category": label_value(category)}))

    async def claimed(self, conversation_id: str) -> None:
        """An agent claimed the conversation: its wait in the queue (the episode's first claim only)."""
        fields = await self._conversation(conversation_id)
        if "enqueued_at" not in fields:
            return
        wait = max(0.0, (int(fields.get("claimed_at", time.time() * 1000)) - int(fields["enqueued_at"])) / 1000)
        labels = {"queue": label_value(fields.get("language")), "priority": label_value(fields.get("priority"))}
        await self.record(OperationsEvent(CLAIM, labels, wait), conversation_id=conversation_id,
                          once=f"claim:{fields.get('episode', '0')}")

    async def agent_answered(self, conversation_id: str) -> None:
        """An agent wrote to the patient: the time from the claim to the episode's first answer."""
        fields = await self._conversation(conversation_id)
        if "claimed_at" not in fields:
            return
        seconds = max(0.0, (time.time() * 1000 - int(fields["claimed_at"])) / 1000)
        labels = {"queue": label_value(fields.get("language")), "priority": label_value(fields.get("priority"))}
        await self.record(OperationsEvent(FIRST_AGENT_RESPONSE, labels, seconds), conversation_id=conversation_id,
                          once=f"answer:{fields.get('episode', '0')}")

    async def episode_closed(
        self, queue: str, priority: str, outcome: str, phone_follow_up: bool, disposition: Optional[str],
        handle_seconds: Optional[float],
    ) -> None:
        """An agent ended an episode: how long they handled it, and whether it needed a phone call."""
        labels = {"queue": label_value(queue), "priority": label_value(priority), "outcome": label_value(outcome),
                  "phone_follow_up": "yes" if phone_follow_up else "no",
                  "disposition": label_value(disposition) if disposition else "none"}
        await self.record(OperationsEvent(EPISODE_CLOSED, labels, handle_seconds))

    async def survey_answered(self, score: int, queue: str) -> None:
        """CSAT: a patient's post-chat survey answer, 1 to 5."""
        if not 1 <= score <= 5:
            raise ValueError(f"a survey score is 1 to 5, not {score!r}")
        await self.record(OperationsEvent(SURVEY_ANSWER, {"score": str(score), "queue": label_value(queue)}))

    async def events(self, since_ms: int, until_ms: Optional[int] = None) -> list[OperationsEvent]:
        """Events recorded in ``[since_ms, until_ms]``, oldest first."""
        rows = await self.redis.xrange(self.keys.operations("events"), min=f"{since_ms}-0",
                                       max=f"{until_ms}-18446744073709551615" if until_ms is not None else "+")
        return [OperationsEvent.decoded(text_of(stream_id), self.key_ring.open(decoded(fields)["event"],
                                                                                EVENT_PURPOSE).decode())
                for stream_id, fields in rows]

    async def totals(self) -> dict[str, float]:
        """Every total by its name; totals made under several keys of the ring (a rotation) added up."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.operations("totals"))
            pipe.hgetall(self.keys.operations("names"))
            totals, names = await pipe.execute()
        named = decoded(names)
        summed: dict[str, float] = {}
        for total, amount in decoded(totals).items():
            name = self.key_ring.open(named[total], associated_data(TOTAL_PURPOSE, total)).decode()
            summed[name] = summed.get(name, 0.0) + float(amount)
        return summed

    async def _conversation(self, conversation_id: str) -> dict[str, str]:
        """The clear fields of the conversation's hash that the measurements need (no health fact)."""
        names = ("enqueued_at", "claimed_at", "language", "priority", "episode")
        values = await self.redis.hmget(self.keys.conversation(conversation_id), names)
        return {name: text_of(value) for name, value in zip(names, values, strict=True) if value is not None}
