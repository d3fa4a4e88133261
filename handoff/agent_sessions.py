"""Console sessions and sign-in throttling, for the agents of the directory (``handoff.agents``).

A session is a bearer token; Redis holds only its SHA-256. Removing an agent from the directory, or changing
its password hash, ends every session it holds at once (each session is bound to a fingerprint of the hash).
"""

import hashlib
import hmac
import logging
import math
import secrets
import time
from typing import Optional

from redis.asyncio import Redis

from handoff.agents import DEFAULT_ACCESS, Agent, AgentDirectory
from handoff.keys import KeySpace
from handoff.settings import AgentAccess

logger = logging.getLogger(__name__)


SESSION_SCRIPT = """
local fields = redis.call('HMGET', KEYS[1], 'agent', 'fingerprint', 'expires_at_ms')
if not fields[1] then return false end
local remaining = tonumber(fields[3]) - tonumber(ARGV[1])
if remaining <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), remaining))
return {fields[1], fields[2]}
"""
"""Reads a session and renews its idle time in one step, never past its absolute end."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentSessions:
    """Bearer tokens for the console; Redis holds only each token's SHA-256.

    A session ends after ``session_idle_seconds`` without an authenticated request,
    ``session_max_seconds`` after sign-in in any case, and at once when its agent leaves
    the directory or gets a new password hash.
    """

    def __init__(
        self, redis: Redis, keys: KeySpace, directory: AgentDirectory, access: AgentAccess = DEFAULT_ACCESS
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.directory = directory
        self.access = access
        self._read = redis.register_script(SESSION_SCRIPT)

    async def open(self, agent: Agent) -> str:
        token = secrets.token_urlsafe(32)
        digest = token_digest(token)
        expires_at_ms = int(time.time() * 1000) + self.access.session_max_seconds * 1000
        idle_ms = min(self.access.session_idle_seconds, self.access.session_max_seconds) * 1000
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._key(digest),
                mapping={
                    "agent": agent.agent_id,
                    "fingerprint": agent.credential_fingerprint,
                    "expires_at_ms": expires_at_ms,
                },
            )
            pipe.pexpire(self._key(digest), idle_ms)
            pipe.sadd(self.keys.agent_sessions(agent.agent_id), digest)
            pipe.expire(self.keys.agent_sessions(agent.agent_id), self.access.session_max_seconds)
            await pipe.execute()
        return token

    async def agent_for(self, token: str) -> Optional[Agent]:
        """The agent a live session belongs to, renewing its idle time; None if it ended or was revoked."""
        for agent_id in self.directory.take_revoked():
            await self.end_all(agent_id)
        found = await self._read(
            keys=[self._key(token_digest(token))],
            args=[int(time.time() * 1000), self.access.session_idle_seconds * 1000],
        )
        if not found:
            return None
        agent_id, fingerprint = (value.decode() for value in found)
        agent = self.directory.get(agent_id)
        if agent is None or not hmac.compare_digest(agent.credential_fingerprint, fingerprint):
            await self.end_all(agent_id)
            return None
        return agent

    async def end(self, token: str) -> None:
        await self.redis.delete(self._key(token_digest(token)))

    async def end_all(self, agent_id: str) -> int:
        """Ends every session of ``agent_id``; returns how many were still open."""
        digests = await self.redis.smembers(self.keys.agent_sessions(agent_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            for digest in digests:
                pipe.delete(self._key(digest.decode()))
            pipe.delete(self.keys.agent_sessions(agent_id))
            results = await pipe.execute()
        ended = sum(results[:-1])
        if ended:
            logger.info("agents.sessions_revoked count=%d", ended)
        return int(ended)

    def _key(self, digest: str) -> str:
        return self.keys.agent_session(digest)


class LoginThrottle:
    """Counts failed sign-ins per agent id and per client address in fixed windows (Redis, shared by processes).

    Only digests of the id and address are stored. Past a limit, sign-in is refused without
    checking the password until the window ends.
    """

    def __init__(self, redis: Redis, keys: KeySpace, access: AgentAccess = DEFAULT_ACCESS) -> None:
        self.redis = redis
        self.keys = keys
        self.access = access

    async def retry_after(self, agent_id: str, address: str) -> int:
        """Seconds until a sign-in for ``agent_id`` from ``address`` may be tried again; 0 if it may now."""
        limited = [
            (key, limit)
            for key, limit in self._counters(agent_id, address)
            if int(await self.redis.get(key) or 0) >= limit
        ]
        waits = [await self.redis.pttl(key) for key, _ in limited]
        return max((math.ceil(max(wait, 1000) / 1000) for wait in waits), default=0)

    async def failed(self, agent_id: str, address: str) -> bool:
        """Counts a failed sign-in; True when it reaches a limit (the throttle trips)."""
        counters = self._counters(agent_id, address)
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, _ in counters:
                pipe.set(key, 0, ex=self.access.login_window_seconds, nx=True)
                pipe.incr(key)
            counts = (await pipe.execute())[1::2]
        return any(int(count) >= limit for count, (_, limit) in zip(counts, counters, strict=True))

    async def succeeded(self, agent_id: str) -> None:
        """A correct password clears the agent's count; the address keeps its own."""
        await self.redis.delete(self._agent_key(agent_id))

    def _agent_key(self, agent_id: str) -> str:
        return self.keys.login_failures("agent", token_digest(agent_id))

    def _counters(self, agent_id: str, address: str) -> list[tuple[str, int]]:
        """Each counter a sign-in attempt touches, with its limit."""
        return [
            (self._agent_key(agent_id), self.access.login_failures_per_agent),
            (self.keys.login_failures("address", token_digest(address)), self.access.login_failures_per_address),
        ]
