"""Where the review keeps its work in Redis: sealed like every other health fact, nothing about a patient in clear.

``{ns}:compliance:episodes``
    review id -> the finished episode's facts (``EpisodeFacts``), sealed, until it is reviewed;
    ``{ns}:compliance:pending`` orders them by close time.
``{ns}:compliance:findings``
    finding id -> the finding (rule, severity, evidence, conversation, episode, time), sealed and bound to its
    id; ``{ns}:compliance:timeline`` orders them by time (ids and times only).
``{ns}:compliance:reviewed``
    finding id -> who marked it reviewed and when (a staff id and a time), set by a script that writes the
    audit entry in the same step.
``{ns}:compliance:reviews``
    review id -> when it was reviewed: a conversation is reviewed once.

A review id is the conversation's log pseudonym (an HMAC under the data key, ``handoff.log_privacy``) and its
episode, so no key or field names a conversation in clear.
"""

import json
import secrets
from dataclasses import dataclass
from typing import Any, Optional

from redis.asyncio import Redis

from compliance.rules import EpisodeFacts, Finding
from handoff.audit import AuditLog
from handoff.crypto import KeyRing, associated_data
from handoff.errors import HandoffError
from handoff.keys import KeySpace
from handoff.log_privacy import pseudonym
from handoff.redis_values import decoded, text_of
from handoff.scripts import AUDIT_FUNCTION
from handoff.transcripts import now_ms

FACTS_PURPOSE = "compliance-episode"
FINDING_PURPOSE = "compliance-finding"

MARK_REVIEWED_SCRIPT = AUDIT_FUNCTION + """
local findings, reviewed = KEYS[1], KEYS[2]
if redis.call('HEXISTS', findings, ARGV[1]) == 0 then return 'not_found' end
if redis.call('HSETNX', reviewed, ARGV[1], ARGV[2]) == 0 then return 'already_reviewed' end
audit(KEYS[3], ARGV[3], ARGV[4], ARGV[5])
return 'ok'
"""
"""A supervisor marks a finding reviewed once; the audit entry is written in the same step."""

SAVE_REVIEW_SCRIPT = """
local findings, timeline, reviews, episodes, pending = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('HSETNX', reviews, ARGV[1], ARGV[2]) == 0 then return 0 end
for index = 3, #ARGV, 3 do
  redis.call('HSET', findings, ARGV[index], ARGV[index + 1])
  redis.call('ZADD', timeline, ARGV[index + 2], ARGV[index])
end
redis.call('HDEL', episodes, ARGV[1])
redis.call('ZREM', pending, ARGV[1])
return 1
"""
"""A conversation's findings stored, its review marked done and its pending facts dropped, once, in one step."""


class FindingNotFound(HandoffError):
    pass


class FindingAlreadyReviewed(HandoffError):
    pass


@dataclass(frozen=True)
class StoredFinding:
    finding_id: str
    conversation_id: str
    episode: int
    finding: Finding
    reviewed_by: Optional[str] = None
    reviewed_at_ms: Optional[int] = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.finding_id, "conversation_id": self.conversation_id, "episode": self.episode,
                "rule": self.finding.rule, "severity": self.finding.severity, "evidence": self.finding.evidence,
                "at_ms": self.finding.at_ms, "reviewed_by": self.reviewed_by, "reviewed_at_ms": self.reviewed_at_ms}


class ComplianceStore:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring
        self._mark_reviewed = redis.register_script(MARK_REVIEWED_SCRIPT)
        self._save_review = redis.register_script(SAVE_REVIEW_SCRIPT)

    def review_id(self, conversation_id: str, episode: int) -> str:
        return f"{pseudonym(self.key_ring, conversation_id)}.{episode}"

    async def hold_for_review(self, facts: EpisodeFacts) -> str:
        """Keeps a finished episode's facts (sealed) until its review is stored; returns its review id."""
        review_id = self.review_id(facts.conversation_id, facts.episode)
        sealed = self.key_ring.seal(json.dumps(facts.to_json()).encode(), associated_data(FACTS_PURPOSE, review_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.compliance("episodes"), review_id, sealed)
            pipe.zadd(self.keys.compliance("pending"), {review_id: facts.closed_at_ms or now_ms()})
            await pipe.execute()
        return review_id

    async def pending(self, since_ms: int) -> list[tuple[str, EpisodeFacts]]:
        """Finished episodes closed since ``since_ms`` whose review is not stored yet."""
        ids = [text_of(member) for member in
               await self.redis.zrangebyscore(self.keys.compliance("pending"), since_ms, "+inf")]
        held = await self.redis.hmget(self.keys.compliance("episodes"), ids) if ids else []
        return [(review_id, EpisodeFacts.from_json(json.loads(self.key_ring.open(
            text_of(sealed), associated_data(FACTS_PURPOSE, review_id)))))
            for review_id, sealed in zip(ids, held, strict=True) if sealed is not None]

    async def reviewed(self, review_id: str) -> bool:
        return bool(await self.redis.hexists(self.keys.compliance("reviews"), review_id))

    async def save_review(self, review_id: str, facts: EpisodeFacts, findings: tuple[Finding, ...]) -> bool:
        """Stores the findings of one review; False when that conversation was already reviewed (nothing stored)."""
        args: list[object] = [review_id, now_ms()]
        for finding in findings:
            finding_id = f"f-{secrets.token_hex(8)}"
            body = {"conversation_id": facts.conversation_id, "episode": facts.episode, "rule": finding.rule,
                    "severity": finding.severity, "evidence": finding.evidence, "at_ms": finding.at_ms}
            args += [finding_id, self.key_ring.seal(json.dumps(body).encode(),
                                                    associated_data(FINDING_PURPOSE, finding_id)), finding.at_ms]
        saved = await self._save_review(
            keys=[self.keys.compliance(part) for part in ("findings", "timeline", "reviews", "episodes", "pending")],
            args=args,
        )
        return bool(saved)

    async def findings(self, since_ms: int, until_ms: Optional[int] = None) -> list[StoredFinding]:
        """Findings dated in the period, newest first, opened (the caller audits the read)."""
        ids = [text_of(member) for member in await self.redis.zrevrangebyscore(
            self.keys.compliance("timeline"), "+inf" if until_ms is None else until_ms, since_ms)]
        if not ids:
            return []
        sealed = await self.redis.hmget(self.keys.compliance("findings"), ids)
        marks = await self.redis.hmget(self.keys.compliance("reviewed"), ids)
        stored = []
        for finding_id, envelope, mark in zip(ids, sealed, marks, strict=True):
            if envelope is None:
                continue
            body = json.loads(self.key_ring.open(text_of(envelope), associated_data(FINDING_PURPOSE, finding_id)))
            reviewed = json.loads(text_of(mark)) if mark is not None else {}
            stored.append(StoredFinding(
                finding_id, body["conversation_id"], int(body["episode"]),
                Finding(body["rule"], body["severity"], body["evidence"], int(body["at_ms"])),
                reviewed.get("by"), reviewed.get("at_ms"),
            ))
        return stored

    async def conversation_of(self, finding_id: str) -> str:
        """The conversation a finding is about; ``FindingNotFound`` if there is no such finding."""
        envelope = await self.redis.hget(self.keys.compliance("findings"), finding_id)
        if envelope is None:
            raise FindingNotFound(f"no finding {finding_id!r}")
        body = json.loads(self.key_ring.open(text_of(envelope), associated_data(FINDING_PURPOSE, finding_id)))
        return str(body["conversation_id"])

    async def mark_reviewed(self, finding_id: str, supervisor: str, audit: AuditLog, source: Optional[str]) -> None:
        """The supervisor reviewed the finding; audited as ``review_compliance_finding``."""
        conversation_id = await self.conversation_of(finding_id)
        entry = audit.prepare(supervisor, "review_compliance_finding", conversation_id, source)
        mark = json.dumps({"by": supervisor, "at_ms": now_ms()})
        outcome = text_of(await self._mark_reviewed(
            keys=[self.keys.compliance("findings"), self.keys.compliance("reviewed"), self.keys.audit_log()],
            args=[finding_id, mark, entry["entry"], entry["key"], entry["mac"]],
        ))
        if outcome == "not_found":
            raise FindingNotFound(f"no finding {finding_id!r}")
        if outcome == "already_reviewed":
            raise FindingAlreadyReviewed(f"finding {finding_id!r} was already reviewed")

    async def review_marks(self) -> dict[str, dict[str, Any]]:
        return {finding_id: json.loads(mark) for finding_id, mark in
                decoded(await self.redis.hgetall(self.keys.compliance("reviewed"))).items()}
