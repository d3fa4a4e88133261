"""Tamper-evident audit log of who did what to which conversation, from where.

Design:

* **Entries** go to a Redis stream, one ``XADD`` each (atomic, nothing to lose a
  race over: any number of writers append at once). An entry is JSON with a
  random id, and carries ``HMAC(audit key, entry)`` and the id of the audit key
  that made it. The audit keys (``HANDOFF_AUDIT_KEYS``) are not the data keys:
  processes that only seal PHI cannot forge the log, retiring a data key breaks
  nothing here, and an old audit key stays in the ring for as long as entries
  made with it are kept. A change that needs auditing writes its entry in the
  same Lua script as the change (see ``handoff.scripts``), so there is never a
  change without its record; a read of PHI is recorded before the data is read.
* **Checkpoints** seal the order and the count. The sealer (a background task
  of the console, or ``python -m handoff.audit seal``) takes the entries since
  the last checkpoint and appends ``{seq, last entry id, count, sha256 of their
  MACs in order, previous checkpoint's MAC}`` with its own MAC, to a second
  stream and then to a local append-only **anchor** file (fsync'd) outside Redis. So
  deleting, inserting, reordering or truncating sealed entries breaks a
  checkpoint, and deleting the whole log (or its newest checkpoints) is caught
  by the anchor. Entries newer than the last checkpoint (a few seconds' worth)
  are protected by their own MACs only.
* ``python -m handoff.audit verify`` names the first broken record (and raises an incident, see
  ``handoff.incidents``); ``export --since`` writes the entries as signed JSON lines sealed under the
  audit key (never PHI in clear on disk), which ``read-export`` opens (``handoff.audit_commands``).
* **Six years** without six years of Redis: ``archive`` moves old sealed entries into sealed files and a
  signed marker tells ``verify`` where the entries in Redis begin (``handoff.audit_archive``).
"""

import asyncio
import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Optional, Protocol

from redis.asyncio import Redis

from handoff.crypto import KeyRing
from handoff.keys import KeySpace
from handoff.redis_values import decoded, text_of

logger = logging.getLogger(__name__)

ENTRY_PURPOSE = "audit-entry"
CHECKPOINT_PURPOSE = "audit-checkpoint"
EXPORT_PURPOSE = "audit-export"
ARCHIVE_PURPOSE = "audit-archive"
GENESIS = "genesis"
NOTHING_ARCHIVED: dict[str, Any] = {"seq": 0, "count": 0, "mac": GENESIS, "purged_seq": 0, "files": []}
SEAL_LOCK_SECONDS = 30
SEAL_INTERVAL_SECONDS = 5.0


class AuditChainBroken(ValueError):
    """The audit log was edited, reordered, truncated or deleted."""


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    conversation: str
    source: str
    entry_id: str = ""
    via: str = ""
    """``intake`` for an entry a process without the audit keys wrote (``handoff.audit_intake``)."""

    def encoded(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class AuditVerification:
    entries: int
    sealed: int
    checkpoints: int

    def __str__(self) -> str:
        unsealed = self.entries - self.sealed
        return f"audit log intact: {self.entries} entries, {self.checkpoints} checkpoints, {unsealed} not yet sealed"


class AuditWriter(Protocol):
    """What a Lua script that records its change needs: the stream to append to and the entry's fields."""

    def stream(self) -> str: ...

    def prepare(self, actor: str, action: str, conversation: str, source: Optional[str]) -> dict[str, str]: ...


class AuditLog:
    def __init__(self, redis: Redis, keys: KeySpace, audit_keys: KeyRing, anchor: Optional[Path] = None) -> None:
        self.redis = redis
        self.keys = keys
        self.audit_keys = audit_keys
        self.anchor = anchor

    def stream(self) -> str:
        """The stream a Lua script appends this writer's entries to."""
        return self.keys.audit_log()

    def prepare(self, actor: str, action: str, conversation: str, source: Optional[str]) -> dict[str, str]:
        """The stream fields of one entry, for a Lua script that makes a change and records it in one step."""
        return self.signed(new_entry(actor, action, conversation, source))

    def signed(self, entry: AuditEntry) -> dict[str, str]:
        encoded = entry.encoded()
        key_id, mac = self.audit_keys.signed(ENTRY_PURPOSE, encoded)
        return {"entry": encoded, "key": key_id, "mac": mac}

    async def record(self, actor: str, action: str, conversation: str, source: Optional[str]) -> None:
        """Appends who did what to which conversation, from where; one atomic stream append."""
        await self.redis.xadd(self.keys.audit_log(), self.prepare(actor, action, conversation, source))

    async def entries(self, since_ms: int = 0) -> list[AuditEntry]:
        rows = await self.redis.xrange(self.keys.audit_log(), min=f"{since_ms}-0" if since_ms else "-")
        return [AuditEntry(**json.loads(fields[b"entry"])) for _, fields in rows]

    async def seal(self) -> Optional[dict[str, Any]]:
        """Checkpoints the entries appended since the last checkpoint; None when there are none.

        Runs under a Redis lock, so sealers in several processes never fork the checkpoints.
        """
        async with self.redis.lock(self.keys.audit_seal_lock(), timeout=SEAL_LOCK_SECONDS,
                                   blocking_timeout=SEAL_LOCK_SECONDS):
            last = await self._last_checkpoint()
            after = last["last_entry"] if last else "0"
            rows = await self.redis.xrange(self.keys.audit_log(), min=f"({after}" if last else "-")
            if not rows:
                return None
            body = {
                "seq": (last["seq"] + 1) if last else 1,
                "last_entry": text_of(rows[-1][0]),
                "count": (last["count"] if last else 0) + len(rows),
                "digest": _digest(rows),
                "previous": last["mac"] if last else GENESIS,
                "at_ms": int(time.time() * 1000),
            }
            encoded = json.dumps(body, sort_keys=True, separators=(",", ":"))
            key_id, mac = self.audit_keys.signed(CHECKPOINT_PURPOSE, encoded)
            checkpoint = dict(body, key=key_id, mac=mac)
            await self.redis.xadd(self.keys.audit_checkpoints(), {"checkpoint": json.dumps(checkpoint)})
            if self.anchor is not None:
                await asyncio.to_thread(_append_line, self.anchor, json.dumps(checkpoint, sort_keys=True))
            return checkpoint

    async def verify(self) -> AuditVerification:
        """Checks every entry, every checkpoint and the anchor; raises ``AuditChainBroken`` at the first fault.

        Reads the anchor, then the checkpoints, then the entries: the order a sealer
        writes them in reverse, so a seal running meanwhile is never taken for a fault.
        """
        anchored = self._anchored()
        archived = await self.archived()
        checkpoints = await self.checkpoints()
        rows = await self.redis.xrange(self.keys.audit_log())
        seen: set[str] = set()
        for entry_id, fields in rows:
            values = decoded(fields)
            if not self.verify_entry(values.get("key", ""), values.get("entry", ""), values.get("mac", "")):
                raise AuditChainBroken(f"entry {text_of(entry_id)} was altered, inserted or made with a key "
                                       "the audit key ring does not have")
            if values["mac"] in seen:
                raise AuditChainBroken(f"entry {text_of(entry_id)} replays an earlier entry")
            seen.add(values["mac"])
        positions = {text_of(entry_id): index for index, (entry_id, _) in enumerate(rows)}
        position, previous = 0, GENESIS
        for checkpoint in checkpoints:
            self._check_checkpoint(checkpoint, previous)
            previous = checkpoint["mac"]
            if checkpoint["seq"] <= archived["seq"]:
                continue
            end = positions.get(checkpoint["last_entry"])
            segment = rows[position:end + 1] if end is not None else []
            intact = (archived["count"] + position + len(segment) == checkpoint["count"]
                      and _digest(segment) == checkpoint["digest"])
            if end is None or not intact:
                first = text_of(rows[position][0]) if position < len(rows) else "the end of the log"
                raise AuditChainBroken(
                    f"entries were deleted, inserted or reordered between {first} and checkpoint "
                    f"{checkpoint['seq']} (entry {checkpoint['last_entry']}, {checkpoint['count']} entries)"
                )
            position = end + 1
        if archived["seq"] and not any(checkpoint["mac"] == archived["mac"] for checkpoint in checkpoints):
            raise AuditChainBroken(f"checkpoint {archived['seq']}, up to which the log was archived, is missing "
                                   "or altered")
        self._check_anchor(anchored, checkpoints)
        return AuditVerification(len(rows), position, len(checkpoints))

    async def export(self, since_ms: int, out: Any) -> int:
        """Writes entries since ``since_ms`` as JSON lines, then a line with a MAC over all of them, the whole
        sealed (AES-256-GCM) under the current audit key: one envelope line, so no conversation id (a phone
        number, say) reaches the disk in clear. :meth:`open_export` gives the lines back."""
        digest = hashlib.sha256()
        lines = []
        for _, fields in await self.redis.xrange(self.keys.audit_log(), min=f"{since_ms}-0"):
            line = json.dumps(decoded(fields), sort_keys=True)
            digest.update(line.encode() + b"\n")
            lines.append(line + "\n")
        key_id, mac = self.audit_keys.signed(EXPORT_PURPOSE, digest.hexdigest())
        trailer = {"export": {"entries": len(lines), "sha256": digest.hexdigest(), "key": key_id, "mac": mac}}
        lines.append(json.dumps(trailer) + "\n")
        out.write(self.audit_keys.seal("".join(lines).encode(), EXPORT_PURPOSE) + "\n")
        return len(lines) - 1

    def open_export(self, sealed: str) -> str:
        """The JSON lines of an export; ``EnvelopeError`` if it was altered or sealed by a key not in the ring."""
        return self.audit_keys.open(sealed.strip(), EXPORT_PURPOSE).decode()

    def verify_entry(self, key_id: str, encoded: str, mac: str) -> bool:
        return self.audit_keys.verify_signed(key_id, ENTRY_PURPOSE, encoded, mac)

    async def checkpoints(self) -> list[dict[str, Any]]:
        rows = await self.redis.xrange(self.keys.audit_checkpoints())
        return [json.loads(fields[b"checkpoint"]) for _, fields in rows]

    async def archived(self) -> dict[str, Any]:
        """The signed marker of what was archived out of Redis (``handoff.audit_archive``): the last archived
        checkpoint's ``seq``, ``count`` and ``mac``, the archive files, and the ``purged_seq`` that retention
        removed; a marker of nothing when nothing was. ``AuditChainBroken`` when it was altered or forged."""
        raw = await self.redis.get(self.keys.audit_archived())
        if raw is None:
            return dict(NOTHING_ARCHIVED)
        marker = json.loads(raw)
        if not self.audit_keys.verify_signed(marker.get("key", ""), ARCHIVE_PURPOSE, _signed_body(marker),
                                             marker.get("marker_mac", "")):
            raise AuditChainBroken("the archive marker was altered or forged")
        return dict(marker)

    def signed_marker(self, marker: dict[str, Any]) -> str:
        key_id, mac = self.audit_keys.signed(ARCHIVE_PURPOSE, _signed_body(marker))
        return json.dumps(dict(marker, key=key_id, marker_mac=mac), sort_keys=True)

    async def _last_checkpoint(self) -> Optional[dict[str, Any]]:
        rows = await self.redis.xrevrange(self.keys.audit_checkpoints(), count=1)
        return json.loads(rows[0][1][b"checkpoint"]) if rows else None

    def _check_checkpoint(self, checkpoint: dict[str, Any], previous: str) -> None:
        body = {key: value for key, value in checkpoint.items() if key not in ("key", "mac")}
        encoded = json.dumps(body, sort_keys=True, separators=(",", ":"))
        if not self.audit_keys.verify_signed(checkpoint.get("key", ""), CHECKPOINT_PURPOSE, encoded,
                                             checkpoint.get("mac", "")):
            raise AuditChainBroken(f"checkpoint {checkpoint.get('seq')} was altered or forged")
        if checkpoint["previous"] != previous:
            raise AuditChainBroken(f"checkpoints are missing or reordered before checkpoint {checkpoint['seq']}")

    def _anchored(self) -> list[dict[str, Any]]:
        if self.anchor is None or not self.anchor.exists():
            return []
        anchored = []
        for line in self.anchor.read_text().splitlines():
            try:
                anchored.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return anchored

    @staticmethod
    def _check_anchor(anchored: list[dict[str, Any]], checkpoints: list[dict[str, Any]]) -> None:
        """Every checkpoint the anchor file saw must still be in Redis, unchanged."""
        in_redis = {checkpoint["seq"]: checkpoint["mac"] for checkpoint in checkpoints}
        for checkpoint in anchored:
            if in_redis.get(checkpoint["seq"]) != checkpoint["mac"]:
                raise AuditChainBroken(
                    f"checkpoint {checkpoint['seq']} ({checkpoint['count']} entries up to {checkpoint['last_entry']}) "
                    "is in the anchor file but not in Redis: the log was truncated or deleted"
                )


def new_entry(actor: str, action: str, conversation: str, source: Optional[str]) -> AuditEntry:
    return AuditEntry(int(time.time() * 1000), actor[:64], action, conversation, source or "-", secrets.token_hex(8))


def _signed_body(marker: dict[str, Any]) -> str:
    body = {key: value for key, value in marker.items() if key not in ("key", "marker_mac")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _digest(rows: list[tuple[Any, dict[Any, Any]]]) -> str:
    return macs_digest(text_of(fields[b"mac"]) for _, fields in rows)


def macs_digest(macs: Iterable[str]) -> str:
    """What a checkpoint seals of its entries: their MACs, in order."""
    digest = hashlib.sha256()
    for mac in macs:
        digest.update(mac.encode() + b"\n")
    return digest.hexdigest()


def _append_line(path: Path, line: str) -> None:
    """Appends one line and fsyncs it: the anchor outlives anything done to Redis."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


async def seal_periodically(
    audit: AuditLog, admit_intake: Callable[[], Awaitable[int]], interval_seconds: float = SEAL_INTERVAL_SECONDS
) -> None:
    """The console's background sealer: admits the intake (``handoff.audit_intake``), then seals; a failed round is
    retried at the next."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await admit_intake()
            await audit.seal()
        except Exception:
            logger.exception("audit.seal_failed (retrying)")


if __name__ == "__main__":
    from handoff.audit_commands import main

    main()
