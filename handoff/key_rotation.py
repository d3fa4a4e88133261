"""``python -m handoff.keys rotate [--dry-run]``: every sealed record re-encrypted under the newest data key.

To rotate: put a new key first in ``HANDOFF_DATA_KEYS`` (``new:...,old:...``) and restart the processes;
they seal with the new key and still open what the older ones sealed. Then run the rotation: it
re-encrypts every record an older key sealed, so that the older key can be retired (removed from the ring)
and everything still opens. Records: conversation fields (reason, skill, crisis category and evidence),
transcript entries, episode records, outbox messages, crisis alerts, the portal id of patient sessions,
Rasa trackers, the patient directory and care records (``patients.key_rotation``), the operations events and the
transcript review's findings (``compliance.key_rotation``), and the crisis spool file.

Each record is replaced by one script that first checks that it is still the value read
(``RESEAL_SCRIPT``, ``RESEAL_STREAM_SCRIPT``), else it is read again and retried: an append, a close or a
save meanwhile is never lost. A record keeps its place and purpose (its associated data). ``--dry-run``
counts what would be re-encrypted and changes nothing. The run is audited first (``key_rotation`` or
``key_rotation_dry_run``, actor ``key-rotation``, source the operating-system user). A record that does not
open (sealed by a key no longer in the ring, or altered) is named (by pseudonym) and left: the exit status
is then 1, and the older key must not be retired yet. No usable key ring, or a wrong option: exit status 2,
nothing read or changed.
"""

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Optional, Protocol

from redis.asyncio import Redis

from handoff.audit import AuditLog
from handoff.crypto import EnvelopeError, KeyRing
from handoff.errors import HandoffError
from handoff.health_facts import CALLBACK, CRISIS_CATEGORY, CRISIS_EVIDENCE, REASON, SKILL, HealthFacts, field_context
from handoff.keys import CONVERSATION, EPISODES, OUTBOX, PATIENT_SESSION, TRANSCRIPT, KeySpace
from handoff.log_privacy import pseudonym
from handoff.patient_sessions import PORTAL_FIELD, portal_context
from handoff.redis_connection import async_redis
from handoff.redis_values import decoded, keys_after, text_of
from handoff.retention import TRACKER_KEY_PREFIX, tracker_context
from handoff.rotation_scripts import RESEAL_MOVE_SCRIPT, RESEAL_SCRIPT, RESEAL_STREAM_SCRIPT
from handoff.sealed_records import episode_record_context, outbox_context, transcript_context
from handoff.settings import operator_settings
from handoff.spool import CrisisSpool

logger = logging.getLogger(__name__)

ACTOR = "key-rotation"
ATTEMPTS = 100
"""How often one record is read again because it changed between its read and its replacement."""
SEALED_FIELDS = (REASON, SKILL, CRISIS_CATEGORY, CRISIS_EVIDENCE, CALLBACK)

CONVERSATION_FIELDS = "conversation fields"
SKILL_TAGS = "skill tags"
TRANSCRIPT_ENTRIES = "transcript entries"
EPISODE_RECORDS = "episode records"
OUTBOX_MESSAGES = "outbox messages"
CRISIS_ALERTS = "crisis alerts"
PATIENT_SESSIONS = "patient sessions"
TRACKERS = "trackers"
CRISIS_SPOOL = "crisis spool"


class KeyedRecords(Protocol):
    """Records stored under a MAC made with the data key (the patient directory): moved by ``KeyRotation.move``."""

    kinds: list[str]

    async def rotate(self, rotation: "KeyRotation", report: "RotationReport") -> None: ...


@dataclass
class RotationReport:
    apply: bool
    kinds: list[str]
    rotated: Counter[str] = field(default_factory=Counter)
    current: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        done = "re-encrypted" if self.apply else "to re-encrypt"
        lines = [f"{kind}: {self.rotated[kind]} {done}, {self.current[kind]} already under the newest key"
                 for kind in self.kinds]
        lines += [f"unreadable, left as they are (do not retire a key yet): {name}" for name in self.unreadable]
        return "\n".join(lines)


class KeyRotation:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing, audit: AuditLog, source: str,
                 keyed: list[KeyedRecords], spool: Optional[CrisisSpool] = None) -> None:
        self.redis, self.keys, self.key_ring, self.audit, self.source = redis, keys, key_ring, audit, source
        self.keyed, self.spool = keyed, spool
        self.facts = HealthFacts(key_ring)
        self._reseal = redis.register_script(RESEAL_SCRIPT)
        self._reseal_stream = redis.register_script(RESEAL_STREAM_SCRIPT)
        self._reseal_move = redis.register_script(RESEAL_MOVE_SCRIPT)

    async def run(self, apply: bool) -> RotationReport:
        await self.audit.record(ACTOR, "key_rotation" if apply else "key_rotation_dry_run", "-", self.source)
        report = RotationReport(apply, [CONVERSATION_FIELDS, SKILL_TAGS, TRANSCRIPT_ENTRIES, EPISODE_RECORDS,
                                        OUTBOX_MESSAGES, CRISIS_ALERTS, PATIENT_SESSIONS, TRACKERS,
                                        *(kind for records in self.keyed for kind in records.kinds), CRISIS_SPOOL])
        keys = self.keys
        async for conversation_id in keys_after(self.redis, keys.key(CONVERSATION) + ":"):
            fields = await self.redis.hmget(keys.conversation(conversation_id), SEALED_FIELDS)
            for name, value in zip(SEALED_FIELDS, fields, strict=True):
                await self.value(report, CONVERSATION_FIELDS, conversation_id, "hash", keys.conversation(
                    conversation_id), name, value, field_context(conversation_id, name))
            await self._skill_tag(report, conversation_id)
        for kind, key_kind, context in ((TRANSCRIPT_ENTRIES, TRANSCRIPT, transcript_context),
                                        (EPISODE_RECORDS, EPISODES, episode_record_context)):
            async for conversation_id in keys_after(self.redis, keys.key(key_kind) + ":"):
                key = keys.key(key_kind, conversation_id)
                for position, envelope in enumerate(await self.redis.lrange(key, 0, -1)):
                    await self.value(report, kind, conversation_id, "list", key, str(position), envelope,
                                      context(conversation_id, position))
        async for conversation_episode in keys_after(self.redis, keys.key(OUTBOX) + ":"):
            conversation_id, _, episode = conversation_episode.rpartition(":")
            await self.stream(report, OUTBOX_MESSAGES, keys.key(OUTBOX, conversation_episode), "entry",
                               partial(_outbox_place, conversation_id, episode))
        await self.stream(report, CRISIS_ALERTS, keys.crisis_alerts(), "category", _alert_place)
        async for conversation_id in keys_after(self.redis, keys.key(PATIENT_SESSION) + ":"):
            key = keys.patient_session(conversation_id)
            await self.value(report, PATIENT_SESSIONS, conversation_id, "hash", key, PORTAL_FIELD,
                              await self.redis.hget(key, PORTAL_FIELD), portal_context(conversation_id))
        async for sender_id in keys_after(self.redis, TRACKER_KEY_PREFIX):
            key = TRACKER_KEY_PREFIX + sender_id
            await self.value(report, TRACKERS, sender_id, "string", key, "", await self.redis.get(key),
                              tracker_context(sender_id))
        for records in self.keyed:
            await records.rotate(self, report)
        if self.spool is not None and self.spool.path.exists():
            older, current, unreadable = self.spool.rotate(apply)
            report.rotated[CRISIS_SPOOL] += older
            report.current[CRISIS_SPOOL] += current
            report.unreadable += [f"{CRISIS_SPOOL} {self.spool.path}"] if unreadable else []
        return report

    async def value(self, report: RotationReport, kind: str, conversation_id: str, redis_kind: str,
                     key: str, place: str, value: object, context: str) -> None:
        """One sealed value re-encrypted if an older key sealed it; read again while it changes meanwhile."""
        for _ in range(ATTEMPTS):
            if value is None:
                return
            old = text_of(value)
            new = self._resealed(report, kind, old, context, pseudonym(self.key_ring, conversation_id))
            if new is None:
                return
            if not report.apply or await self._reseal(keys=[key], args=[redis_kind, old, new, place]):
                report.rotated[kind] += 1
                return
            value = await self._read(redis_kind, key, place)
        raise HandoffError(f"a record of {kind} changed {ATTEMPTS} times during its rotation; run the rotation again")

    async def _skill_tag(self, report: RotationReport, conversation_id: str) -> None:
        """The claim compares ``skill_tag`` with MACs under the ring's keys: made again with the newest key."""
        key = self.keys.conversation(conversation_id)
        skill, tag = await self.redis.hmget(key, [SKILL, "skill_tag"])
        if skill is None or tag is None:
            return
        try:
            new = self.facts.skill_tag(conversation_id, self.facts.open(conversation_id, SKILL, text_of(skill)))
        except EnvelopeError:
            return
        if new == text_of(tag):
            report.current[SKILL_TAGS] += 1
        elif not report.apply or await self._reseal(keys=[key], args=["hash", tag, new, "skill_tag"]):
            report.rotated[SKILL_TAGS] += 1

    async def move(self, report: RotationReport, kind: str, key: str, new_key: str,
                   context: Callable[[str], str], name: str) -> None:
        """A record named by a MAC under the data key, moved to ``new_key`` (the newest key's MAC) and sealed
        again for it (``context`` of a key); read again while it changes meanwhile."""
        for _ in range(ATTEMPTS):
            value = await self.redis.get(key)
            if value is None:
                return
            old = text_of(value)
            if key == new_key and not self.key_ring.needs_rotation(old):
                report.current[kind] += 1
                return
            try:
                new = self.key_ring.seal(self.key_ring.open(old, context(key)), context(new_key))
            except EnvelopeError:
                logger.error("key_rotation.unreadable kind=%s record=%s", kind, name)
                report.unreadable.append(f"{kind} {name}")
                return
            if not report.apply or await self._reseal_move(keys=[key, new_key], args=[old, new]):
                report.rotated[kind] += 1
                return
        raise HandoffError(f"a record of {kind} changed {ATTEMPTS} times during its rotation; run the rotation again")

    async def stream(self, report: RotationReport, kind: str, key: str, sealed_field: str,
                      place: Callable[[dict[str, str]], tuple[str, str]]) -> None:
        """A stream written again with its ``sealed_field`` under the newest key, if it holds one an older key
        sealed (``place``: an entry's conversation and what its sealed field is bound to); read again while
        entries are appended or trimmed meanwhile."""
        for _ in range(ATTEMPTS):
            trial, older = RotationReport(report.apply, [kind]), 0
            entries: list[tuple[str, list[str]]] = []
            for entry_id, raw in await self.redis.xrange(key):
                fields = decoded(raw)
                try:
                    conversation_id, entry_context = place(fields)
                    name = pseudonym(self.key_ring, conversation_id)
                except (KeyError, ValueError):
                    trial.unreadable.append(f"{kind} entry {text_of(entry_id)} (malformed)")
                    new = None
                else:
                    new = self._resealed(trial, kind, fields.get(sealed_field, ""), entry_context, name)
                older += new is not None
                fields[sealed_field] = new or fields.get(sealed_field, "")
                entries.append((text_of(entry_id), [part for item in fields.items() for part in item]))
            if not older or not report.apply or await self._reseal_stream(keys=[key], args=[json.dumps(entries)]):
                report.rotated[kind] += older
                report.current[kind] += trial.current[kind]
                report.unreadable += trial.unreadable
                return
        raise HandoffError(f"{key} changed {ATTEMPTS} times during its rotation; run the rotation again")

    def _resealed(self, report: RotationReport, kind: str, old: str, context: str, name: str) -> Optional[str]:
        """The value sealed under the newest key; None when it already is, or does not open (reported)."""
        if not self.key_ring.needs_rotation(old):
            report.current[kind] += 1
            return None
        try:
            new = self.key_ring.seal(self.key_ring.open(old, context), context)
        except EnvelopeError:
            logger.error("key_rotation.unreadable kind=%s record=%s", kind, name)
            report.unreadable.append(f"{kind} {name}")
            return None
        return new

    async def _read(self, redis_kind: str, key: str, place: str) -> Optional[bytes]:
        if redis_kind == "string":
            return await self.redis.get(key)
        if redis_kind == "hash":
            return await self.redis.hget(key, place)
        return await self.redis.lindex(key, int(place))



def _outbox_place(conversation_id: str, episode: str, fields: dict[str, str]) -> tuple[str, str]:
    return conversation_id, outbox_context(conversation_id, int(episode), int(fields["sequence"]))


def _alert_place(fields: dict[str, str]) -> tuple[str, str]:
    return fields["conversation"], field_context(fields["conversation"], CRISIS_CATEGORY)


async def _rotate(apply: bool, keyed: Callable[[Redis, KeySpace, KeyRing], list[KeyedRecords]]) -> int:
    operator = operator_settings()
    if operator is None:
        return 2
    settings, key_ring, audit_keys = operator
    redis = async_redis(settings.redis_url)
    keys = KeySpace(settings.namespace)
    try:
        rotation = KeyRotation(redis, keys, key_ring, AuditLog(redis, keys, audit_keys, settings.audit_anchor),
                               getpass.getuser(), keyed(redis, keys, key_ring),
                               CrisisSpool(settings.crisis_spool, key_ring, settings.namespace))
        report = await rotation.run(apply)
    finally:
        await redis.close()
    print(("applied" if apply else "dry run, nothing changed") + f": newest key {key_ring.current_key_id!r}")
    print(report.summary())
    return 1 if report.unreadable else 0


def main(keyed: Callable[[Redis, KeySpace, KeyRing], list[KeyedRecords]]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m handoff.keys",
        description="Data keys (reads REDIS_URL, HANDOFF_NAMESPACE, HANDOFF_DATA_KEYS, HANDOFF_AUDIT_KEYS, "
                    "HANDOFF_CRISIS_SPOOL).")
    commands = parser.add_subparsers(dest="command", required=True)
    rotate = commands.add_parser(
        "rotate", help="re-encrypt every record under the newest data key (the first of HANDOFF_DATA_KEYS)")
    rotate.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted; change nothing")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(_rotate(not arguments.dry_run, keyed)))
