"""Patient sessions: the credential that makes a conversation reachable, and the limits on patients.

Invariant 9: a conversation is reachable only with the credential the server
issued for it. On first contact the server mints a random conversation id and a
token::

    <issued at, s>.<nonce>.<HMAC of "conversation id.issued at.nonce" under the key ring>

The token is self-verifying, so a message can be tied to its conversation even
while Redis is unreachable (a crisis is then spooled under the right
conversation, never under one a stranger named). What must be revocable lives
in Redis: the session record (the nonce, the time of last use, an ``ended``
mark), kept for the token's absolute lifetime. An idle or ended session opens
nothing though its token still carries a valid MAC; the absolute lifetime is in
the token itself.

Limits are fixed one-minute windows (an ``INCR`` and an expiry in one
transaction) and leases for push sockets (a sorted set of socket ids scored by
lease expiry, taken in one Lua script, so a process that dies frees its sockets
when their leases run out).
"""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Optional

from redis.asyncio import Redis

from handoff.crypto import KeyRing, associated_data
from handoff.keys import KeySpace
from handoff.redis_values import decoded, text_of
from handoff.settings import PatientAccess

TOKEN_PURPOSE = "patient-session"  # noqa: S105 (a MAC purpose)
ADDRESS_PURPOSE = "client-address"
PORTAL_PURPOSE = "patient-session-portal"
PORTAL_FIELD = "portal"
PUSH_PURPOSE = "patient-push"
CONVERSATION_ID_PREFIX = "p-"
WINDOW_SECONDS = 60
PUSH_LEASE_SECONDS = 45
"""A push socket renews its lease at least every 15 s while it is open."""

HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

MESSAGES = "messages"
NEW_CONVERSATIONS = "new-conversations"

ADMIT_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local record = redis.call('HMGET', KEYS[1], 'nonce', 'last_seen', 'ended', 'portal')
local now, last_seen = tonumber(ARGV[2]), tonumber(record[2])
if record[1] ~= ARGV[1] or record[3] or not last_seen or now - last_seen > tonumber(ARGV[3]) then return {'ended'} end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[2])
local count = 0
if ARGV[4] == '1' then
  count = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return {'ok', record[4] or '', count}
"""
"""A message presents a token whose MAC matched for nonce ``ARGV[1]``: the session (``KEYS[1]``) must hold that nonce,
not be ended and not have been idle longer than ``ARGV[3]`` s at ``ARGV[2]``; then it is renewed and, when ``ARGV[4]``
is 1, the message counted in its limit window (``KEYS[2]``, expiring in ``ARGV[5]`` s). Answers ``missing`` (no
session record: the token was minted while Redis was unreachable), ``ended``, or ``ok`` with the sealed portal
patient id (or empty) and the count."""

ACQUIRE_PUSH_SCRIPT = """
local sockets, socket, now, expires, limit = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', sockets, '-inf', now)
if not redis.call('ZSCORE', sockets, socket) and redis.call('ZCARD', sockets) >= limit then return 0 end
redis.call('ZADD', sockets, expires, socket)
redis.call('PEXPIRE', sockets, tonumber(ARGV[5]))
return 1
"""


class PatientAccessError(Exception):
    """A patient request is refused; ``status`` is the HTTP status to answer with."""

    status = 400
    retry_after: Optional[int] = None


class Unauthorized(PatientAccessError):
    status = 401


class RateLimited(PatientAccessError):
    status = 429

    def __init__(self, message: str, retry_after: int = WINDOW_SECONDS) -> None:
        super().__init__(message)
        self.retry_after = retry_after



def _window_left() -> int:
    """Seconds until the current limit window ends."""
    return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS


def portal_context(conversation_id: str) -> str:
    """What the portal patient id a session was opened with is bound to."""
    return associated_data(PORTAL_PURPOSE, conversation_id)

@dataclass(frozen=True)
class PatientCredential:
    """What a client keeps: the conversation id and the token every later request presents."""

    conversation_id: str
    token: str
    expires_at_ms: int
    idle_seconds: int

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "token": self.token,
            "expires_at_ms": self.expires_at_ms,
            "idle_timeout_seconds": self.idle_seconds,
        }


@dataclass(frozen=True)
class _TokenParts:
    issued_at: int
    nonce: str


class PatientSessions:
    """Mints and checks patient credentials and applies the per-patient limits."""

    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing, access: PatientAccess) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring
        self.access = access
        self._acquire_push = redis.register_script(ACQUIRE_PUSH_SCRIPT)
        self._admit = redis.register_script(ADMIT_SCRIPT)

    def mint(self) -> PatientCredential:
        """A new conversation id and its token; nothing is stored (see :meth:`open`)."""
        conversation_id = CONVERSATION_ID_PREFIX + secrets.token_urlsafe(18)
        issued_at = int(time.time())
        nonce = secrets.token_urlsafe(18)
        mac = self.key_ring.mac(TOKEN_PURPOSE, f"{conversation_id}.{issued_at}.{nonce}")
        return PatientCredential(
            conversation_id,
            f"{issued_at}.{nonce}.{mac}",
            (issued_at + self.access.session_max_seconds) * 1000,
            self.access.session_idle_seconds,
        )

    async def open(self, client_address: str, portal_patient_id: Optional[str] = None) -> PatientCredential:
        """Starts a new session, within the client address's limit of new conversations a minute.

        ``portal_patient_id``: the patient signed in to the portal (identity hash
        already checked); kept sealed with the session, so every message of it is verified.
        """
        if await self._count(NEW_CONVERSATIONS, self._address_digest(client_address)) > \
                self.access.new_conversations_per_minute:
            raise RateLimited("too many new conversations from this address; try again in a minute", _window_left())
        credential = self.mint()
        parts = self._parts(credential.token)
        assert parts is not None
        await self._store(credential.conversation_id, parts)
        if portal_patient_id is not None:
            sealed = self.key_ring.seal(portal_patient_id.encode(), portal_context(credential.conversation_id))
            await self.redis.hset(self.keys.patient_session(credential.conversation_id), PORTAL_FIELD, sealed)
        return credential

    def token_matches(self, conversation_id: str, token: str) -> bool:
        """True when ``token`` was minted for ``conversation_id`` and its absolute lifetime has not run out.

        Needs no Redis: this is what ties a crisis to its conversation during an outage.
        """
        parts = self._parts(token)
        if parts is None or time.time() >= parts.issued_at + self.access.session_max_seconds:
            return False
        return self.key_ring.verify_mac(TOKEN_PURPOSE, f"{conversation_id}.{parts.issued_at}.{parts.nonce}",
                                        token.rsplit(".", 1)[1])

    async def authenticate(self, conversation_id: str, token: str, count_message: bool = False) -> Optional[str]:
        """Accepts the token of a live session and renews its idle lifetime; else raises ``Unauthorized``.

        Returns the portal patient id the session was opened with, if any. ``count_message``: the message counts
        in the per-minute limit (``RateLimited`` over it), in the same round trip.

        A valid token without a session record was minted while Redis was
        unreachable (a crisis then): its session starts now.
        """
        if not self.token_matches(conversation_id, token):
            raise Unauthorized("missing, wrong or expired conversation token; start a new conversation")
        parts = self._parts(token)
        assert parts is not None
        window = int(time.time()) // WINDOW_SECONDS
        outcome, *admitted = await self._admit(
            keys=[self.keys.patient_session(conversation_id), self.keys.rate(MESSAGES, conversation_id, window)],
            args=[parts.nonce, time.time(), self.access.session_idle_seconds, int(count_message), WINDOW_SECONDS * 2],
        )
        if text_of(outcome) == "missing":
            await self._store(conversation_id, parts)
            if count_message:
                await self.count_message(conversation_id)
            return None
        if text_of(outcome) != "ok":
            raise Unauthorized("this conversation's session has ended; start a new conversation")
        portal, count = text_of(admitted[0]), int(admitted[1])
        if count > self.access.messages_per_minute:
            raise self._over_message_limit()
        return self.key_ring.open(portal, portal_context(conversation_id)).decode() if portal else None

    async def keep_alive(self, conversation_id: str) -> bool:
        """Renews the idle lifetime (a message, or a push socket still open); False once the session ended."""
        key = self.keys.patient_session(conversation_id)
        return await self._renew(key, decoded(await self.redis.hgetall(key)))

    async def _renew(self, key: str, record: dict[str, str]) -> bool:
        now = time.time()
        if not record or "ended" in record or now - float(record["last_seen"]) > self.access.session_idle_seconds:
            return False
        await self.redis.hset(key, "last_seen", now)
        return True

    async def end(self, conversation_id: str) -> None:
        """Ends the session for good: its token opens nothing any more."""
        await self.redis.hset(self.keys.patient_session(conversation_id), "ended", "1")

    async def _store(self, conversation_id: str, parts: _TokenParts) -> None:
        """The session record lives as long as the token's absolute lifetime; idleness is checked on use."""
        key = self.keys.patient_session(conversation_id)
        remaining = max(1, parts.issued_at + self.access.session_max_seconds - int(time.time()))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "nonce", parts.nonce)
            pipe.hsetnx(key, "issued_at", parts.issued_at)
            pipe.hsetnx(key, "last_seen", time.time())
            pipe.expire(key, remaining)
            await pipe.execute()

    async def known(self, conversation_id: str) -> bool:
        """True when anything of the conversation exists: a session, a state, a transcript."""
        return bool(
            await self.redis.exists(
                self.keys.patient_session(conversation_id),
                self.keys.conversation(conversation_id),
                self.keys.transcript(conversation_id),
            )
        )

    async def count_message(self, conversation_id: str) -> None:
        """Counts one message of the conversation; raises ``RateLimited`` over the per-minute limit."""
        if await self._count(MESSAGES, conversation_id) > self.access.messages_per_minute:
            raise self._over_message_limit()

    @staticmethod
    def _over_message_limit() -> RateLimited:
        return RateLimited("too many messages in this conversation; wait a minute and send again", _window_left())

    def push_token(self, conversation_id: str, episode: int) -> str:
        """The push socket's credential for one episode: worthless once the episode is closed."""
        return self.key_ring.mac(PUSH_PURPOSE, f"{conversation_id}.{episode}")

    def push_token_matches(self, conversation_id: str, episode: int, token: str) -> bool:
        return self.key_ring.verify_mac(PUSH_PURPOSE, f"{conversation_id}.{episode}", token)

    async def acquire_push_socket(self, conversation_id: str, socket_id: str) -> bool:
        """Takes or renews a push-socket lease; False when the conversation has its maximum open."""
        now_ms = int(time.time() * 1000)
        lease_ms = PUSH_LEASE_SECONDS * 1000
        taken = await self._acquire_push(
            keys=[self.keys.push_sockets(conversation_id)],
            args=[socket_id, now_ms, now_ms + lease_ms, self.access.push_sockets_per_conversation, lease_ms],
        )
        return bool(taken)

    async def release_push_socket(self, conversation_id: str, socket_id: str) -> None:
        await self.redis.zrem(self.keys.push_sockets(conversation_id), socket_id)

    async def _count(self, limit_name: str, subject: str) -> int:
        """Counts one in the subject's limit window; returns the window's count."""
        window = int(time.time()) // WINDOW_SECONDS
        key = self.keys.rate(limit_name, subject, window)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
        return int(count)

    def _address_digest(self, client_address: str) -> str:
        """Client addresses are personal data: counters are keyed by a MAC, never the address."""
        return self.key_ring.mac(ADDRESS_PURPOSE, client_address)[:32]

    @staticmethod
    def _parts(token: str) -> Optional[_TokenParts]:
        pieces = token.split(".") if isinstance(token, str) and len(token) <= 200 and token.isascii() else []
        if len(pieces) != 3 or not pieces[0].isdigit() or not pieces[1] or not pieces[2]:
            return None
        return _TokenParts(int(pieces[0]), pieces[1])


def identity_hash(secret: str, patient_id: str) -> str:
    """``HMAC-SHA256(secret, patient id)`` in hex: what a portal's server computes for its chat widget."""
    return hmac.new(secret.encode(), patient_id.encode(), hashlib.sha256).hexdigest()


def identity_hash_matches(secret: str, patient_id: str, claimed: str) -> bool:
    if not secret or not HEX_SHA256.fullmatch(claimed):
        return False
    return hmac.compare_digest(identity_hash(secret, patient_id), claimed.lower())


def platform_signature_matches(secret: str, body: bytes, header: str) -> bool:
    """Checks ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`` (Meta's webhook rule)."""
    claimed = header.removeprefix("sha256=")
    if not secret or not header.startswith("sha256=") or not HEX_SHA256.fullmatch(claimed):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, claimed.lower())
