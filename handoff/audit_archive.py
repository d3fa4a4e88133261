"""Six years of audit log without six years of Redis: sealed archive segments that keep the chain verifiable.

Design: ``python -m handoff.audit archive`` (run daily, like the PHI retention purge) takes the sealed
entries older than ``AUDIT_ARCHIVE_AFTER_DAYS``, up to a checkpoint, writes them with their MACs to one
file of a unique name sealed under the audit key (AES-256-GCM, bound to the name: never PHI in clear on
disk, and a file renamed or altered does not open), fsyncs it, and only then removes them from Redis in one
script that also replaces the **archive marker**, compare-and-set against the marker it read. The marker, signed
under the audit key, names the last archived checkpoint (its seq, cumulative count and MAC), every archive
file (its checkpoint range and sha256) and what retention removed. ``verify`` checks the entries left in
Redis against the checkpoints after the marker's; the checkpoints themselves stay in Redis and in the
anchor file, so removing entries without a marker, or rolling the marker back, still breaks the chain.
``verify --archives`` also opens every file the marker names and checks it against its checkpoints.
Retention (``AUDIT_RETENTION_DAYS``, six years by default, HIPAA's figure) deletes whole files whose newest
entry is older than that, recording it in the marker (``purged_seq``) and in the log.
"""

import asyncio
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.audit import AuditChainBroken, AuditLog, macs_digest
from handoff.crypto import EnvelopeError
from handoff.redis_values import decoded, text_of
from handoff.settings import DAY_MS, AuditRetention

ARCHIVIST = "audit-archive"
FILE_PURPOSE = "audit-archive-file"

REPLACE_MARKER_SCRIPT = """
local marker, log = KEYS[1], KEYS[2]
local expected, replacement, min_id = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', marker) or ''
if current ~= expected then return 0 end
redis.call('SET', marker, replacement)
if min_id ~= '' then redis.call('XTRIM', log, 'MINID', min_id) end
return 1
"""
"""Replaces the archive marker and drops the archived entries together, if no other archivist moved first."""


@dataclass(frozen=True)
class ArchiveReport:
    archived_entries: int
    archive_file: str
    purged_files: list[str]
    archived_through_seq: int

    def __str__(self) -> str:
        archived = (f"archived {self.archived_entries} entries up to checkpoint {self.archived_through_seq} "
                    f"into {self.archive_file}") if self.archive_file else "nothing old enough to archive"
        purged = f"; retention removed {', '.join(self.purged_files)}" if self.purged_files else ""
        return archived + purged


class AuditArchive:
    def __init__(self, audit: AuditLog, directory: Path, retention: AuditRetention) -> None:
        self.audit = audit
        self.directory = directory
        self.retention = retention
        self._replace = audit.redis.register_script(REPLACE_MARKER_SCRIPT)

    async def run(self, now_ms: int) -> ArchiveReport:
        """Seals, archives what is older than ``archive_after_days`` and purges archives older than
        ``retention_days``; refuses (``AuditChainBroken``) when the log does not verify first."""
        await self.audit.seal()
        await self.audit.verify()
        raw = await self.audit.redis.get(self.audit.keys.audit_archived())
        marker = await self.audit.archived()
        archived = await self._archive(marker, now_ms - self.retention.archive_after_days * DAY_MS)
        retained_from = now_ms - self.retention.retention_days * DAY_MS
        expired = [entry for entry in marker["files"] if entry["last_at_ms"] < retained_from]
        if expired:
            marker["files"] = [entry for entry in marker["files"] if entry not in expired]
            marker["purged_seq"] = max(entry["last_seq"] for entry in expired)
        if not archived and not expired:
            return ArchiveReport(0, "", [], marker["seq"])
        min_id = ""
        if archived:
            entry, _, checkpoint = archived
            marker.update(seq=checkpoint["seq"], count=checkpoint["count"], mac=checkpoint["mac"])
            marker["files"] = [*marker["files"], entry]
            min_id = _after(checkpoint["last_entry"])
        replaced = await self._replace(keys=[self.audit.keys.audit_archived(), self.audit.keys.audit_log()],
                                       args=[text_of(raw) if raw else "", self.audit.signed_marker(marker), min_id])
        if not int(replaced):
            if archived:
                (self.directory / archived[0]["name"]).unlink(missing_ok=True)
            raise AuditChainBroken("another archivist changed the archive marker meanwhile; run again")
        for gone in expired:
            (self.directory / gone["name"]).unlink(missing_ok=True)
        names = [gone["name"] for gone in expired]
        written = archived[0]["name"] if archived else ""
        await self.audit.record(ARCHIVIST, "audit_archived", "-",
                                ",".join([written, *(f"purged:{name}" for name in names)]).strip(","))
        return ArchiveReport(len(archived[1]) if archived else 0, written, names, marker["seq"])

    async def _archive(
        self, marker: dict[str, Any], cutoff_ms: int
    ) -> tuple[dict[str, Any], list[list[str]], dict[str, Any]] | None:
        """Writes the archive file of the checkpoints after the marker's whose newest entry is older than
        ``cutoff_ms``; its entry in the marker, its rows and its last checkpoint, or None when none is."""
        eligible = [checkpoint for checkpoint in await self.audit.checkpoints()
                    if checkpoint["seq"] > marker["seq"] and _entry_ms(checkpoint["last_entry"]) < cutoff_ms]
        if not eligible:
            return None
        last = eligible[-1]
        rows = [[text_of(entry_id), *(decoded(fields)[name] for name in ("entry", "key", "mac"))]
                for entry_id, fields in await self.audit.redis.xrange(self.audit.keys.audit_log(),
                                                                      max=last["last_entry"])]
        name = f"audit-{eligible[0]['seq']:08d}-{last['seq']:08d}-{secrets.token_hex(4)}.sealed"
        body = json.dumps({"first_seq": eligible[0]["seq"], "last_seq": last["seq"], "rows": rows})
        sealed = self.audit.audit_keys.seal(body.encode(), f"{FILE_PURPOSE}:{name}")
        await asyncio.to_thread(_write_durably, self.directory / name, sealed)
        entry = {"name": name, "first_seq": eligible[0]["seq"], "last_seq": last["seq"],
                 "last_at_ms": _entry_ms(last["last_entry"]), "sha256": hashlib.sha256(sealed.encode()).hexdigest()}
        return entry, rows, last

    async def verify_files(self) -> int:
        """Opens every archive file the marker names and checks its entries against their checkpoints; returns
        how many entries the files hold. ``AuditChainBroken`` names the first file that is missing, altered,
        or does not match."""
        marker = await self.audit.archived()
        checkpoints = {checkpoint["seq"]: checkpoint for checkpoint in await self.audit.checkpoints()}
        expected_seq, entries = marker["purged_seq"] + 1, 0
        base = checkpoints.get(marker["purged_seq"], {"count": 0})["count"]
        for entry in marker["files"]:
            if entry["first_seq"] != expected_seq:
                raise AuditChainBroken(f"archive file {entry['name']} does not follow checkpoint {expected_seq - 1}")
            rows = self._rows(entry)
            position = 0
            for seq in range(entry["first_seq"], entry["last_seq"] + 1):
                checkpoint = checkpoints.get(seq)
                if checkpoint is None:
                    raise AuditChainBroken(f"checkpoint {seq} of archive file {entry['name']} is missing")
                end = next((index for index, row in enumerate(rows) if row[0] == checkpoint["last_entry"]), None)
                segment = rows[position:end + 1] if end is not None else []
                if (end is None or base + position + len(segment) != checkpoint["count"]
                        or macs_digest(row[3] for row in segment) != checkpoint["digest"]):
                    raise AuditChainBroken(f"archive file {entry['name']} does not match checkpoint {seq}")
                position = end + 1
            for entry_id, encoded, key_id, mac in rows:
                if not self.audit.verify_entry(key_id, encoded, mac):
                    raise AuditChainBroken(f"entry {entry_id} in archive file {entry['name']} was altered")
            base += len(rows)
            entries += len(rows)
            expected_seq = entry["last_seq"] + 1
        if marker["files"] and (expected_seq != marker["seq"] + 1 or base != marker["count"]):
            raise AuditChainBroken(f"the archive files do not end at checkpoint {marker['seq']}")
        return entries

    def _rows(self, entry: dict[str, Any]) -> list[list[str]]:
        path = self.directory / entry["name"]
        if not path.exists():
            raise AuditChainBroken(f"archive file {entry['name']} is missing from {self.directory}")
        sealed = path.read_text()
        if hashlib.sha256(sealed.encode()).hexdigest() != entry["sha256"]:
            raise AuditChainBroken(f"archive file {entry['name']} was altered")
        try:
            opened = self.audit.audit_keys.open(sealed, f"{FILE_PURPOSE}:{entry['name']}")
            rows: list[list[str]] = json.loads(opened)["rows"]
        except EnvelopeError as error:
            raise AuditChainBroken(f"archive file {entry['name']} does not open: {error}") from error
        return rows


def _entry_ms(stream_id: str) -> int:
    return int(stream_id.split("-")[0])


def _after(stream_id: str) -> str:
    """The smallest stream id after ``stream_id``: ``XTRIM MINID`` keeps it and everything newer."""
    milliseconds, sequence = stream_id.split("-")
    return f"{milliseconds}-{int(sequence) + 1}"


def _write_durably(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
