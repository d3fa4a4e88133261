"""Agent presence, and what happens when an agent is absent (invariant 11: no conversation waits on an
absent person).

The console page sends a heartbeat every 10 s while it is open (``POST /api/presence``); an agent's
presence starts with its first heartbeat and is a score (the time of the last one) in one sorted set.
The reaper, a background task of every console process, returns a conversation to the head of its queue
when its agent is absent from it:

* the agent's last heartbeat is older than ``AGENT_PRESENCE_TIMEOUT_SECONDS`` (or it signed out): every
  conversation it holds, audited as ``requeued_agent_silent``; the agent is then offline until its
  console beats again;
* the agent claimed the conversation and wrote nothing to the patient within
  ``AGENT_ANSWER_TIMEOUT_SECONDS`` (the deadline is set by the claim): audited as ``requeued_unanswered``.

Either way it is one Lua script per conversation (``REQUEUE_SCRIPT``), which does nothing if the agent
no longer has it (or answered in time), so reapers in several processes never double up and an agent's
reply that lands at the same moment either keeps the conversation or is refused, never both. The patient
keeps the same episode and is told, in their language, that they are back in line (the ``agent_left``
notice, through the push socket); the next agent reads the whole episode.
"""

import asyncio
import logging
import time
from enum import Enum
from typing import Awaitable, Callable, Sequence

from redis.asyncio import Redis

from handoff.audit import AuditLog
from handoff.console_changes import CONSOLE_CHANGED_FUNCTION
from handoff.keys import KeySpace
from handoff.queue import LiveAgentQueue, PatientNotice, now_ms
from handoff.redis_values import text_of
from handoff.settings import AgentAccess

logger = logging.getLogger(__name__)

REAP_INTERVAL_SECONDS = 5.0
REAPER = "presence-reaper"
AGENT_LEFT_NOTICE = "agent_left"
"""The patient notice (``languages/*.yml``) sent when a conversation goes back to the queue."""

ReapRound = Callable[[], Awaitable[object]]


class PresenceStatus(str, Enum):
    AVAILABLE = "available"
    """Its console beats and it takes new conversations (auto-assignment gives it some)."""
    AWAY = "away"
    """Its console beats; it keeps its conversations but gets no new ones."""
    OFFLINE = "offline"
    """No heartbeat within the timeout: what it held went back to the queue."""


HEARTBEAT_SCRIPT = CONSOLE_CHANGED_FUNCTION + """
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if not before or tonumber(before) <= tonumber(ARGV[3]) then console_changed('presence') end
"""
"""A heartbeat (``ARGV[2]``, ms); one that brings the agent back (no beat since the cutoff ``ARGV[3]``) tells the
consoles (``handoff.console_changes``)."""

STATUS_SCRIPT = CONSOLE_CHANGED_FUNCTION + """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
console_changed('presence')
"""

OFFLINE_SCRIPT = CONSOLE_CHANGED_FUNCTION + """
redis.call('ZADD', KEYS[1], 0, ARGV[1])
console_changed('presence')
"""


class AgentPresence:
    def __init__(
        self, redis: Redis, keys: KeySpace, queue: LiveAgentQueue, timeout_seconds: int, notice: PatientNotice
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.queue = queue
        self.timeout_seconds = timeout_seconds
        self.notice = notice
        self._heartbeat = redis.register_script(HEARTBEAT_SCRIPT)
        self._set_status = redis.register_script(STATUS_SCRIPT)
        self._offline = redis.register_script(OFFLINE_SCRIPT)

    async def heartbeat(self, agent_id: str) -> None:
        await self._heartbeat(keys=[self.keys.agent_presence(), self.keys.console_changes()],
                              args=[agent_id, int(time.time() * 1000), self._cutoff_ms()])

    async def set_status(self, agent_id: str, status: "PresenceStatus") -> None:
        """The agent says whether it takes new conversations (``available``) or not (``away``); either way it
        keeps those it has while its console beats."""
        await self._set_status(keys=[self.keys.agent_status(), self.keys.console_changes()],
                               args=[agent_id, status.value])

    async def status_of(self, agent_ids: Sequence[str]) -> dict[str, "PresenceStatus"]:
        """Each agent's presence: offline unless its console beats, else the status it chose (available unless
        it said away)."""
        if not agent_ids:
            return {}
        beating = set(await self.present(agent_ids))
        chosen = await self.redis.hmget(self.keys.agent_status(), list(agent_ids))
        return {
            agent_id: PresenceStatus(text_of(status)) if agent_id in beating and status else
            PresenceStatus.AVAILABLE if agent_id in beating else PresenceStatus.OFFLINE
            for agent_id, status in zip(agent_ids, chosen, strict=True)
        }

    async def offline(self, agent_id: str) -> None:
        """The agent signed out: it is gone at once, and the reaper hands back what it held."""
        await self._offline(keys=[self.keys.agent_presence(), self.keys.console_changes()], args=[agent_id])

    async def silent_agents(self) -> list[str]:
        return [text_of(member) for member in await self.redis.zrangebyscore(
            self.keys.agent_presence(), "-inf", self._cutoff_ms())]

    async def present(self, agent_ids: Sequence[str]) -> list[str]:
        """Those of ``agent_ids`` whose console beat within the timeout, in the order given."""
        beating = {text_of(member) for member in await self.redis.zrangebyscore(
            self.keys.agent_presence(), f"({self._cutoff_ms()}", "+inf")}
        return [agent_id for agent_id in agent_ids if agent_id in beating]

    async def reap(self, audit: AuditLog) -> list[str]:
        """Returns the conversations of silent agents to the head of their queues; lists those it moved."""
        requeued = []
        for agent_id in await self.silent_agents():
            for conversation in await self.queue.assigned_to(agent_id):
                record = audit.prepare(REAPER, "requeued_agent_silent", conversation.conversation_id, agent_id)
                if await self.queue.requeue(conversation.conversation_id, agent_id, self.notice, record):
                    requeued.append(conversation.conversation_id)
                    logger.warning("presence.requeued agent=%s (silent %s s)", agent_id, self.timeout_seconds)
            await self.redis.zrem(self.keys.agent_presence(), agent_id)
        return requeued

    async def reap_unanswered(self, audit: AuditLog) -> list[str]:
        """Returns conversations whose agent let its time to answer run out to the head of their queues."""
        now = now_ms()
        requeued = []
        for member in await self.redis.zrangebyscore(self.keys.unanswered_assignments(), "-inf", now):
            conversation_id = text_of(member)
            conversation = await self.queue.conversation(conversation_id)
            agent_id = (conversation.agent_id if conversation else None) or ""
            record = audit.prepare(REAPER, "requeued_unanswered", conversation_id, agent_id)
            if await self.queue.requeue(conversation_id, agent_id, self.notice, record, unanswered_by_ms=now):
                requeued.append(conversation_id)
                logger.warning("presence.requeued_unanswered agent=%s", agent_id)
        return requeued

    def _cutoff_ms(self) -> int:
        return int((time.time() - self.timeout_seconds) * 1000)


def reap_interval(access: AgentAccess) -> float:
    """How often the reaper looks: every 5 s, or twice within the shortest time it enforces."""
    shortest = min(access.presence_timeout_seconds, access.answer_timeout_seconds, access.crisis_ack_timeout_seconds)
    return min(REAP_INTERVAL_SECONDS, shortest / 2)


async def reap_periodically(rounds: Sequence[ReapRound], interval_seconds: float = REAP_INTERVAL_SECONDS) -> None:
    """The console's background reaper; a failed round is retried at the next."""
    while True:
        await asyncio.sleep(interval_seconds)
        for reap_round in rounds:
            try:
                await reap_round()
            except Exception:
                logger.exception("presence.reap_failed (retrying)")
