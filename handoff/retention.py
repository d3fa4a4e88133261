"""How long PHI stays in Redis, and ``python -m handoff.retention purge --dry-run|--apply``.

The retention (``PHI_RETENTION_DAYS``, README "PHI at rest, in logs, and retention") counts from a
conversation's last activity once it is no longer open. Redis expiries do the work, set in the same
scripts as the changes (``handoff.scripts``): closing an episode sets it on the conversation's hash,
transcript and sealed episode records (the episode's outbox goes 10 minutes after the close); while the
conversation is with the bot, each transcript entry starts it again; escalating removes it, so a queued
conversation or one with an agent never expires. Rasa trackers expire as long after their last save
(``record_exp``, set from the same setting by ``connectors.tracker_store``).

``purge`` is for what has no expiry: data written before expiries existed, or by a path that sets none.

* A conversation that is not open, last active (the newest of its hash's times, its last transcript
  entry, its last episode record, its outboxes' last message) longer ago than the retention: all its
  keys are deleted. Not that long ago: its keys get the expiry they would have had. An open one
  (QUEUED, WITH_AGENT) is never touched.
* A Rasa tracker without an expiry: the same, by its last event's time.
* Crisis alerts older than the retention are trimmed.

Each change is one script that first checks that nothing changed since the purge read it and writes its
audit entry (actor ``retention-purge``, source the operating-system user) in the same step. The run
itself is audited first (``retention_purge`` or ``retention_purge_dry_run``): it opens transcript
entries and episode records to read their times. ``--dry-run`` changes nothing else. Data that does not
open with the key ring (a retired key, or altered) is reported and left alone. The audit log is never
purged: HIPAA asks six years for it; archive it with ``python -m handoff.audit export``.
"""

import argparse
import asyncio
import getpass
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Optional

from handoff.audit import AuditLog
from handoff.crypto import EnvelopeError, associated_data
from handoff.keys import CONVERSATION, EPISODES, OUTBOX, TRANSCRIPT, KeySpace
from handoff.queue import LiveAgentQueue, now_ms
from handoff.redis_connection import async_redis
from handoff.redis_values import decoded, keys_after, text_of
from handoff.retention_scripts import PURGE_CONVERSATION_SCRIPT, PURGE_TRACKER_SCRIPT, TRIM_ALERTS_SCRIPT
from handoff.settings import operator_settings

logger = logging.getLogger(__name__)

ACTOR = "retention-purge"
TRACKER_KEY_PREFIX = "tracker:tracker:"
"""How Rasa's Redis tracker store names a tracker with ``key_prefix: tracker`` (endpoints.yml), then the
sender id; ``connectors.tracker_store`` refuses to run with another."""
TRACKER_PURPOSE = "rasa-tracker"
OPEN_STATES = ("QUEUED", "WITH_AGENT")
TIME_FIELDS = ("updated_at", "enqueued_at", "claimed_at", "requeued_at", "verified_at")


def tracker_context(sender_id: str) -> str:
    """What a sealed Rasa tracker is bound to: its purpose and its conversation."""
    return associated_data(TRACKER_PURPOSE, sender_id)


@dataclass
class PurgeReport:
    """What a run found (``--dry-run``) or did (``--apply``); conversations by their log pseudonyms."""

    applied: bool
    deleted: list[str] = field(default_factory=list)
    expiring: list[str] = field(default_factory=list)
    kept_open: int = 0
    changed_meanwhile: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    trackers_deleted: int = 0
    trackers_expiring: int = 0
    alerts_trimmed: int = 0

    def summary(self) -> str:
        verb = ("deleted", "given their expiry", "trimmed") if self.applied else (
            "to delete", "to give their expiry", "to trim")
        lines = [
            f"conversations past retention {verb[0]}: {len(self.deleted)}",
            f"conversations without expiry {verb[1]}: {len(self.expiring)}",
            f"open conversations kept (never expired): {self.kept_open}",
            f"trackers past retention {verb[0]}: {self.trackers_deleted}",
            f"trackers without expiry {verb[1]}: {self.trackers_expiring}",
            f"crisis alerts past retention {verb[2]}: {self.alerts_trimmed}",
        ]
        if self.changed_meanwhile:
            lines.append(f"changed while the purge ran, left for the next run: {' '.join(self.changed_meanwhile)}")
        if self.unreadable:
            lines.append(f"left alone, do not open with the key ring: {' '.join(self.unreadable)}")
        return "\n".join(lines)


class RetentionPurge:
    def __init__(self, queue: LiveAgentQueue, audit: AuditLog, retention_ms: int, source: str) -> None:
        self.queue = queue
        self.redis = queue.redis
        self.keys = queue.keys
        self.audit = audit
        self.retention_ms = retention_ms
        self.source = source
        self._purge_conversation = self.redis.register_script(PURGE_CONVERSATION_SCRIPT)
        self._purge_tracker = self.redis.register_script(PURGE_TRACKER_SCRIPT)
        self._trim_alerts = self.redis.register_script(TRIM_ALERTS_SCRIPT)

    async def run(self, apply: bool) -> PurgeReport:
        await self.audit.record(ACTOR, "retention_purge" if apply else "retention_purge_dry_run", "-", self.source)
        report = PurgeReport(apply)
        now = now_ms()
        for conversation_id, outboxes in (await self._conversations()).items():
            await self._conversation(conversation_id, outboxes, apply, now, report)
        async for tracker in keys_after(self.redis, TRACKER_KEY_PREFIX):
            await self._tracker(tracker, apply, now, report)
        await self._alerts(apply, now - self.retention_ms, report)
        return report

    async def _conversations(self) -> dict[str, list[str]]:
        """Every conversation id with a key in the namespace, with its outbox keys."""
        found: dict[str, list[str]] = {}
        for kind in (CONVERSATION, TRANSCRIPT, EPISODES):
            async for conversation_id in keys_after(self.redis, self.keys.key(kind) + ":"):
                found.setdefault(conversation_id, [])
        async for rest in keys_after(self.redis, self.keys.key(OUTBOX) + ":"):
            conversation_id, _, _ = rest.rpartition(":")
            outboxes = found.setdefault(conversation_id, [])
            if self.keys.key(OUTBOX, rest) not in outboxes:
                outboxes.append(self.keys.key(OUTBOX, rest))
        return found

    async def _conversation(
        self, conversation_id: str, outboxes: list[str], apply: bool, now: int, report: PurgeReport
    ) -> None:
        keys = self.keys
        family = [keys.conversation(conversation_id), keys.transcript(conversation_id),
                  keys.episodes(conversation_id), *outboxes]
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in family:
                pipe.pttl(key)
            if -1 not in await pipe.execute():
                return
        name = self.queue.pseudonym(conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(family[0])
            pipe.llen(family[1])
            pipe.llen(family[2])
            raw_fields, transcript_length, episode_count = await pipe.execute()
        fields = decoded(raw_fields)
        if fields.get("state") in OPEN_STATES:
            report.kept_open += 1
            return
        try:
            last = await self._last_activity(conversation_id, fields, outboxes)
        except (EnvelopeError, ValueError, KeyError):
            logger.error("retention.unreadable conversation=%s", name)
            report.unreadable.append(name)
            return
        expire_at = (last or now) + self.retention_ms
        past = expire_at <= now
        (report.deleted if past else report.expiring).append(name)
        if not apply:
            return
        audit = self.audit.prepare(ACTOR, "retention_deleted" if past else "retention_expiry_set", conversation_id,
                                   self.source)
        outcome = text_of(await self._purge_conversation(
            keys=[*family[:3], keys.audit_log(), *outboxes],
            args=["delete" if past else "expire", expire_at, fields.get("state", ""), fields.get("updated_at", ""),
                  transcript_length, episode_count, audit["entry"], audit["key"], audit["mac"]],
        ))
        if outcome != "ok":
            (report.deleted if past else report.expiring).remove(name)
            report.changed_meanwhile.append(name)

    async def _last_activity(self, conversation_id: str, fields: dict[str, str], outboxes: list[str]) -> Optional[int]:
        """When the conversation last changed, in ms; None when nothing in it says."""
        times = [int(fields[name]) for name in TIME_FIELDS if fields.get(name, "").isdigit()]
        times += [entry.at_ms for entry in await self.queue.transcript(conversation_id, -1)]
        episodes = await self.queue.closed_episodes(conversation_id)
        times += [int(episodes[-1]["closed_at_ms"])] if episodes else []
        for outbox in outboxes:
            newest = await self.redis.xrevrange(outbox, count=1)
            times += [int(text_of(newest[0][0]).partition("-")[0])] if newest else []
        return max(times, default=None)

    async def _tracker(self, sender_id: str, apply: bool, now: int, report: PurgeReport) -> None:
        key = TRACKER_KEY_PREFIX + sender_id
        if await self.redis.pttl(key) != -1:
            return
        state = text_of(await self.redis.hget(self.keys.conversation(sender_id), "state") or b"")
        if state in OPEN_STATES:
            return
        sealed = text_of(await self.redis.get(key) or b"")
        try:
            events = json.loads(self.queue.facts.key_ring.open(sealed, tracker_context(sender_id)))["events"]
            last = max((int(float(event["timestamp"]) * 1000) for event in events), default=None)
        except (EnvelopeError, ValueError, KeyError, TypeError):
            report.unreadable.append(f"tracker:{self.queue.pseudonym(sender_id)}")
            return
        expire_at = (last or now) + self.retention_ms
        past = expire_at <= now
        if not apply:
            report.trackers_deleted += past
            report.trackers_expiring += not past
            return
        audit = self.audit.prepare(ACTOR, "retention_deleted_tracker" if past else "retention_expiry_set_tracker",
                                   sender_id, self.source)
        outcome = text_of(await self._purge_tracker(
            keys=[key, self.keys.audit_log(), self.keys.conversation(sender_id)],
            args=["delete" if past else "expire", expire_at, len(sealed.encode()),
                  audit["entry"], audit["key"], audit["mac"]],
        ))
        if outcome == "ok":
            report.trackers_deleted += past
            report.trackers_expiring += not past

    async def _alerts(self, apply: bool, cutoff_ms: int, report: PurgeReport) -> None:
        alerts = self.keys.crisis_alerts()
        if not apply:
            report.alerts_trimmed = len(await self.redis.xrange(alerts, "-", f"{cutoff_ms - 1}"))
            return
        audit = self.audit.prepare(ACTOR, "retention_trimmed_alerts", "-", self.source)
        report.alerts_trimmed = int(await self._trim_alerts(
            keys=[alerts, self.keys.audit_log()], args=[cutoff_ms, audit["entry"], audit["key"], audit["mac"]]
        ))


async def _purge(apply: bool) -> int:
    operator = operator_settings()
    if operator is None:
        return 2
    settings, key_ring, audit_keys = operator
    redis = async_redis(settings.redis_url)
    queue = LiveAgentQueue(redis, key_ring, KeySpace(settings.namespace), settings.retention.ms)
    try:
        audit = AuditLog(redis, queue.keys, audit_keys, settings.audit_anchor)
        report = await RetentionPurge(queue, audit, settings.retention.ms, getpass.getuser()).run(apply)
    finally:
        await redis.close()
    print(("applied" if apply else "dry run, nothing changed") + f" (retention {settings.retention.days} days)")
    print(report.summary())
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description="PHI retention (reads REDIS_URL, HANDOFF_DATA_KEYS, HANDOFF_AUDIT_KEYS, PHI_RETENTION_DAYS).")
    commands = parser.add_subparsers(dest="command", required=True)
    purge = commands.add_parser("purge", help="remove what is past retention and has no expiry; date the rest")
    mode = purge.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    mode.add_argument("--apply", action="store_true", help="change it (each change audited)")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(_purge(arguments.apply)))


if __name__ == "__main__":
    main()
