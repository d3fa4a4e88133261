"""Agent presence, and what happens when an agent goes silent (invariant 11: no conversation waits on an
absent person).

The console page sends a heartbeat every 10 s while it is open (``POST /api/presence``); an agent's
presence starts with its first heartbeat and is a score (the time of the last one) in one sorted set.
The reaper, a background task of every console process, finds agents whose last heartbeat is older than
``AGENT_PRESENCE_TIMEOUT_SECONDS`` and returns each conversation they hold to the head of its queue
(one Lua script per conversation, which does nothing if the agent no longer has it, so reapers in
several processes never double up), audited as ``requeued_agent_silent``. The agent is then offline
until its console beats again. The patient keeps the same episode: the push socket stays open and the
next agent reads the whole episode.
"""

import asyncio
import logging
import time

from redis.asyncio import Redis

from handoff.audit import AuditLog
from handoff.keys import KeySpace
from handoff.queue import LiveAgentQueue

logger = logging.getLogger(__name__)

REAP_INTERVAL_SECONDS = 5.0
REAPER = "presence-reaper"


class AgentPresence:
    def __init__(self, redis: Redis, keys: KeySpace, queue: LiveAgentQueue, timeout_seconds: int) -> None:
        self.redis = redis
        self.keys = keys
        self.queue = queue
        self.timeout_seconds = timeout_seconds

    async def heartbeat(self, agent_id: str) -> None:
        await self.redis.zadd(self.keys.agent_presence(), {agent_id: int(time.time() * 1000)})

    async def offline(self, agent_id: str) -> None:
        """The agent signed out: it is gone at once, and the reaper hands back what it held."""
        await self.redis.zadd(self.keys.agent_presence(), {agent_id: 0})

    async def silent_agents(self) -> list[str]:
        cutoff = int((time.time() - self.timeout_seconds) * 1000)
        members = await self.redis.zrangebyscore(self.keys.agent_presence(), "-inf", cutoff)
        return [member.decode() if isinstance(member, bytes) else str(member) for member in members]

    async def reap(self, audit: AuditLog) -> list[str]:
        """Returns the conversations of silent agents to the head of their queues; lists those it moved."""
        requeued = []
        for agent_id in await self.silent_agents():
            for conversation in await self.queue.assigned_to(agent_id):
                record = audit.prepare(REAPER, "requeued_agent_silent", conversation.conversation_id, agent_id)
                if await self.queue.requeue(conversation.conversation_id, agent_id, record):
                    requeued.append(conversation.conversation_id)
                    logger.warning("presence.requeued agent=%s (silent %s s)", agent_id, self.timeout_seconds)
            await self.redis.zrem(self.keys.agent_presence(), agent_id)
        return requeued


async def reap_periodically(presence: AgentPresence, audit: AuditLog,
                            interval_seconds: float = REAP_INTERVAL_SECONDS) -> None:
    """The console's background reaper; a failed round is retried at the next."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await presence.reap(audit)
        except Exception:
            logger.exception("presence.reap_failed (retrying)")
