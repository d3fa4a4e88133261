"""Security incidents: detected, recorded, audited, shown to supervisors (README, "Incident response").

A detector calls :meth:`IncidentLog.raise_incident` with the incident's kind and details that name no
patient (a conversation only by its log pseudonym, see ``handoff.log_privacy``). One Lua script then
either opens an incident (its record, the timeline, the supervisors' unacknowledged list and its audit
entry ``incident_<kind>``, together) or, while an incident of that kind is open, counts one more
occurrence in it: a flood of a thousand detections is one incident, not a thousand. An incident stays
open for ``INCIDENT_WINDOW_SECONDS`` or until a supervisor acknowledges it; the next detection after
that opens a new one. Opening one logs a line at ERROR (``incident.<kind>``) for the operators' alerting.
"""

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Optional

from redis.asyncio import Redis

from handoff.audit import AuditChainBroken, AuditLog, AuditVerification, AuditWriter
from handoff.keys import KeySpace
from handoff.redis_values import text_of
from handoff.scripts import AUDIT_FUNCTION
from handoff.settings import IncidentResponse

logger = logging.getLogger(__name__)

INCIDENT_ACTOR = "system"
MAX_LISTED = 200
DEFAULT_RESPONSE = IncidentResponse()


class IncidentKind(str, Enum):
    AUDIT_CHAIN_BROKEN = "audit_chain_broken"
    """``verify`` found the audit log altered, reordered, truncated or deleted."""
    LOGIN_FLOOD = "login_flood"
    """Console sign-in was throttled: repeated wrong passwords for an agent id or from one address."""
    PATIENT_CREDENTIAL_FLOOD = "patient_credential_flood"
    """More patient requests refused 401 in a minute than ``PATIENT_UNAUTHORIZED_PER_MINUTE``."""
    UNDECRYPTABLE_DATA = "undecryptable_data"
    """Sealed PHI did not open: altered, moved between records, or sealed by a key no longer in the ring."""


RAISE_INCIDENT_SCRIPT = AUDIT_FUNCTION + """
local open, records, occurrences, timeline, unacknowledged, audit_log =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, record, now, window_ms = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local current = redis.call('GET', open)
if current then
  redis.call('HINCRBY', occurrences, current, 1)
  return {0, current}
end
redis.call('SET', open, id, 'PX', window_ms)
redis.call('HSET', records, id, record)
redis.call('HSET', occurrences, id, 1)
redis.call('ZADD', timeline, now, id)
redis.call('ZADD', unacknowledged, now, id)
audit(audit_log, ARGV[5], ARGV[6], ARGV[7])
return {1, id}
"""
"""Opens an incident with its audit entry, or counts one more occurrence in the open one of its kind."""

ACKNOWLEDGE_INCIDENT_SCRIPT = AUDIT_FUNCTION + """
local records, unacknowledged, acknowledgements, open, audit_log = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, acknowledgement = ARGV[1], ARGV[2]
if redis.call('HEXISTS', records, id) == 0 then return -1 end
if redis.call('ZREM', unacknowledged, id) == 0 then return 0 end
redis.call('HSET', acknowledgements, id, acknowledgement)
if redis.call('GET', open) == id then redis.call('DEL', open) end
audit(audit_log, ARGV[3], ARGV[4], ARGV[5])
return 1
"""
"""Acknowledges an incident once, with its audit entry; the next detection of its kind opens a new one."""


class IncidentNotFound(LookupError):
    """No incident has that id."""


class IncidentAlreadyAcknowledged(ValueError):
    """The incident was acknowledged before."""


@dataclass(frozen=True)
class Incident:
    incident_id: str
    kind: str
    detected_at_ms: int
    details: dict[str, str]
    occurrences: int
    acknowledged_by: Optional[str] = None
    acknowledged_at_ms: Optional[int] = None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_by is not None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.incident_id,
            "kind": self.kind,
            "detected_at_ms": self.detected_at_ms,
            "details": self.details,
            "occurrences": self.occurrences,
            "acknowledged": self.acknowledged,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at_ms": self.acknowledged_at_ms,
        }


class IncidentLog:
    """Raises, lists and acknowledges incidents, each change with its audit entry: in the log itself where the
    process holds ``HANDOFF_AUDIT_KEYS`` (the console), through the intake where it does not (a Rasa server,
    ``handoff.audit_intake``); ``audit`` None records none (tests of the incidents alone)."""

    def __init__(
        self, redis: Redis, keys: KeySpace, pseudonym: Callable[[str], str], audit: Optional[AuditWriter],
        settings: IncidentResponse = DEFAULT_RESPONSE,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.pseudonym = pseudonym
        self.audit = audit
        self.settings = settings
        self._raise = redis.register_script(RAISE_INCIDENT_SCRIPT)
        self._acknowledge = redis.register_script(ACKNOWLEDGE_INCIDENT_SCRIPT)

    def conversation_pseudonym(self, conversation_id: str) -> str:
        """How an incident's details name a conversation: its log pseudonym (``handoff.log_privacy``), never
        the id."""
        return self.pseudonym(conversation_id)

    async def raise_incident(self, kind: IncidentKind, **details: str) -> str:
        """Opens an incident of ``kind`` or adds an occurrence to the open one; returns its id."""
        incident_id = f"i-{secrets.token_hex(8)}"
        now = int(time.time() * 1000)
        record = json.dumps({"kind": kind.value, "detected_at_ms": now, "details": details}, sort_keys=True)
        entry = self._audit_fields(f"incident_{kind.value}", incident_id)
        opened, current = await self._raise(
            keys=[self.keys.incident_open(kind.value), *self._keys("records", "occurrences", "timeline",
                                                                   "unacknowledged"), self._audit_stream()],
            args=[incident_id, record, now, self.settings.window_seconds * 1000, *entry],
        )
        if int(opened):
            logger.error("incident.%s id=%s %s", kind.value, incident_id,
                         " ".join(f"{name}={value}" for name, value in sorted(details.items())))
        return text_of(current)

    async def acknowledge(self, incident_id: str, agent_id: str, source: Optional[str]) -> None:
        """Marks the incident handled by ``agent_id``; raises ``IncidentNotFound`` or
        ``IncidentAlreadyAcknowledged``."""
        acknowledgement = json.dumps({"by": agent_id, "at_ms": int(time.time() * 1000)})
        kind = await self.redis.hget(self.keys.incidents("records"), incident_id)
        if kind is None:
            raise IncidentNotFound(f"no incident {incident_id!r}")
        open_key = self.keys.incident_open(json.loads(kind)["kind"])
        result = await self._acknowledge(
            keys=[*self._keys("records", "unacknowledged", "acknowledgements"), open_key, self._audit_stream()],
            args=[incident_id, acknowledgement, *self._audit_fields("acknowledge_incident", incident_id, agent_id,
                                                                    source)],
        )
        if int(result) == -1:
            raise IncidentNotFound(f"no incident {incident_id!r}")
        if int(result) == 0:
            raise IncidentAlreadyAcknowledged(f"incident {incident_id!r} was already acknowledged")

    async def incidents(self, unacknowledged_only: bool = False) -> list[Incident]:
        """The newest incidents first (at most ``MAX_LISTED``)."""
        listing = self.keys.incidents("unacknowledged" if unacknowledged_only else "timeline")
        ids = [text_of(value) for value in await self.redis.zrevrange(listing, 0, MAX_LISTED - 1)]
        if not ids:
            return []
        records, occurrences, acknowledgements = await asyncio.gather(
            *(self.redis.hmget(self.keys.incidents(part), ids)
              for part in ("records", "occurrences", "acknowledgements"))
        )
        listed = []
        rows = zip(ids, records, occurrences, acknowledgements, strict=True)
        for incident_id, record, count, acknowledgement in rows:
            body = json.loads(record)
            handled = json.loads(acknowledgement) if acknowledgement else {}
            listed.append(Incident(incident_id, body["kind"], body["detected_at_ms"], body["details"],
                                   int(count or 0), handled.get("by"), handled.get("at_ms")))
        return listed

    def _keys(self, *parts: str) -> list[str]:
        return [self.keys.incidents(part) for part in parts]

    def _audit_stream(self) -> str:
        return self.audit.stream() if self.audit is not None else self.keys.audit_log()

    def _audit_fields(self, action: str, incident_id: str, actor: str = INCIDENT_ACTOR,
                      source: Optional[str] = None) -> list[str]:
        """The audit entry's stream fields (the incident id stands where a conversation would), or blanks
        that the script skips when this process has no audit keys."""
        if self.audit is None:
            return ["", "", ""]
        fields = self.audit.prepare(actor, action, incident_id, source)
        return [fields["entry"], fields["key"], fields["mac"]]


class CredentialRefusals:
    """Counts patient requests refused 401, all clients together, per minute (in Redis, shared by every Rasa
    process); from the ``limit``-th in a minute on, each raises (or counts in) a ``patient_credential_flood``."""

    def __init__(self, incidents: IncidentLog, limit: int) -> None:
        self.incidents = incidents
        self.limit = limit

    async def refused(self) -> None:
        minute = int(time.time()) // 60
        key = self.incidents.keys.rate("patient-unauthorized", "all", minute)
        async with self.incidents.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
        if int(count) >= self.limit:
            await self.incidents.raise_incident(IncidentKind.PATIENT_CREDENTIAL_FLOOD,
                                                limit_per_minute=str(self.limit))


async def verify_audit_log(audit: AuditLog, incidents: IncidentLog) -> AuditVerification:
    """Verifies the audit log; a broken chain raises an ``audit_chain_broken`` incident and is re-raised."""
    try:
        return await audit.verify()
    except AuditChainBroken as broken:
        await incidents.raise_incident(IncidentKind.AUDIT_CHAIN_BROKEN, fault=str(broken))
        raise


async def verify_periodically(audit: AuditLog, incidents: IncidentLog, interval_seconds: float) -> None:
    """The console's background check of the audit chain; every round that finds it broken raises (or counts
    in) an incident."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await verify_audit_log(audit, incidents)
        except AuditChainBroken:
            continue
        except Exception:
            logger.exception("audit.verify_failed (retrying)")
