"""Reviewing finished conversations: on every close (the console's close hook), and ``python -m compliance review``.

The close hook reads what the close is about to clear (verification time, after-hours promise, crisis flags and
evidence), keeps it sealed with the episode (``ComplianceStore.hold_for_review``), then reviews the episode and
stores its findings; a review that failed is done by the next ``python -m compliance review``. That command also
reviews conversations that never reached a person (the bot's part), once they are idle.
"""

import logging
import time
from dataclasses import dataclass
from typing import Optional

from compliance.phi import PhiDetector
from compliance.rules import EpisodeFacts, ProtocolReview, Review, survey_offers, unplaced_replies
from compliance.store import ComplianceStore
from handoff.coverage import CoverageHours
from handoff.health_facts import CRISIS_CATEGORY, CRISIS_EVIDENCE, REASON
from handoff.operations import COMPLIANCE_CHECK, OperationsEvent, OperationsEvents
from handoff.queue import LiveAgentQueue
from handoff.redis_values import decoded, keys_after
from handoff.settings import ComplianceTargets
from handoff.transcripts import now_ms
from languages import LanguageCatalog

logger = logging.getLogger(__name__)

OPEN_STATES = ("QUEUED", "WITH_AGENT")
DIRECTORY_REFRESH_SECONDS = 600.0
"""How long the review's copy of the patient directory's member IDs and birth dates is used before it is read
again."""


@dataclass
class Closing:
    """An episode about to be closed, as it stood; ``after_close`` measures and reviews it."""

    reviewer: "ConversationReviewer"
    facts: Optional[EpisodeFacts]
    queue_language: str

    async def after_close(self, outcome: str, disposition: Optional[str]) -> None:
        if self.facts is None:
            return
        facts = self.facts
        closed_at = now_ms()
        closed = EpisodeFacts(**dict(facts.to_json(), closed_at_ms=closed_at,
                                     transcript_to=await self.reviewer.transcript_length(facts.conversation_id)))
        handle = (closed_at - facts.claimed_at_ms) / 1000 if facts.claimed_at_ms else None
        await self.reviewer.events.episode_closed(self.queue_language, facts.priority or "", outcome,
                                                  facts.phone_follow_up, disposition, handle)
        review_id = await self.reviewer.store.hold_for_review(closed)
        try:
            await self.reviewer.review_held(review_id, closed)
        except Exception:
            logger.exception("compliance.review_on_close_failed review=%s (python -m compliance review retries)",
                             review_id)


class ConversationReviewer:
    def __init__(self, queue: LiveAgentQueue, store: ComplianceStore, events: OperationsEvents,
                 targets: ComplianceTargets, coverage: CoverageHours) -> None:
        self.queue = queue
        self.store = store
        self.events = events
        self.targets = targets
        self.coverage = coverage
        self.unplaced = unplaced_replies()
        self.offers = survey_offers(LanguageCatalog.load())
        self._protocol: Optional[ProtocolReview] = None
        self._protocol_read_at = 0.0

    async def before_close(self, conversation_id: str) -> Closing:
        """What the close will clear, read first."""
        fields = decoded(await self.queue.redis.hgetall(self.queue.keys.conversation(conversation_id)))
        if fields.get("state") != "WITH_AGENT":
            return Closing(self, None, "")
        opened = self.queue.facts.opened(conversation_id, fields)
        evidence = self.queue.facts.open(conversation_id, CRISIS_EVIDENCE, fields[CRISIS_EVIDENCE]) \
            if CRISIS_EVIDENCE in fields else None

        def number(name: str) -> Optional[int]:
            return int(fields[name]) if name in fields else None

        facts = EpisodeFacts(
            conversation_id=conversation_id, episode=int(fields.get("episode", 0)),
            transcript_from=int(fields.get("transcript_from", 0)), transcript_to=0,
            language=fields.get("language"), patient_language=fields.get("patient_language"),
            priority=fields.get("priority"), reason=opened.get(REASON),
            crisis_category=opened.get(CRISIS_CATEGORY), crisis_evidence=evidence,
            phone_follow_up=fields.get("phone_follow_up") == "1", enqueued_at_ms=number("enqueued_at"),
            claimed_at_ms=number("claimed_at"), verified_at_ms=number("verified_at"),
            reply_after_ms=number("reply_after"),
        )
        return Closing(self, facts, fields.get("language", ""))

    async def transcript_length(self, conversation_id: str) -> int:
        return int(await self.queue.redis.llen(self.queue.keys.transcript(conversation_id)))

    async def protocol(self) -> ProtocolReview:
        """The rules with a recent copy of the patient directory's identifiers."""
        if self._protocol is None or time.monotonic() - self._protocol_read_at > DIRECTORY_REFRESH_SECONDS:
            phi = await PhiDetector.with_directory(self.queue.redis, self.queue.keys, self.store.key_ring)
            self._protocol = ProtocolReview(phi, self.targets, self.coverage, self.unplaced, self.offers)
            self._protocol_read_at = time.monotonic()
        return self._protocol

    async def review_held(self, review_id: str, facts: EpisodeFacts) -> Optional[Review]:
        """Reviews one finished episode and stores its findings; None when it was already reviewed."""
        if await self.store.reviewed(review_id):
            return None
        entries = await self.queue.transcript(facts.conversation_id, facts.transcript_from)
        entries = entries[:max(0, facts.transcript_to - facts.transcript_from)]
        review = (await self.protocol()).review(facts, entries)
        if not await self.store.save_review(review_id, facts, review.findings):
            return None
        found = {finding.rule: finding.severity for finding in review.findings}
        checks = [OperationsEvent(COMPLIANCE_CHECK, {"rule": rule, "result": "finding" if rule in found else "pass",
                                                     "severity": found.get(rule, "none")})
                  for rule in review.applied]
        await self.events.record(*checks)
        return review

    async def review_since(self, since_ms: int, idle_seconds: int) -> list[Review]:
        """Every finished episode since ``since_ms`` not yet reviewed, then every conversation that stayed with the
        bot, was last active since ``since_ms`` and has been idle ``idle_seconds``."""
        reviews = []
        for review_id, facts in await self.store.pending(since_ms):
            review = await self.review_held(review_id, facts)
            if review is not None:
                reviews.append(review)
        idle_before = now_ms() - idle_seconds * 1000
        prefix = self.queue.keys.transcript("")
        async for conversation_id in keys_after(self.queue.redis, prefix):
            fields = decoded(await self.queue.redis.hgetall(self.queue.keys.conversation(conversation_id)))
            if fields.get("state") in OPEN_STATES or int(fields.get("episode", 0)) > 0:
                continue
            start = int(fields.get("transcript_from", 0))
            entries = await self.queue.transcript(conversation_id, start)
            if not entries or not since_ms <= entries[-1].at_ms <= idle_before:
                continue
            facts = EpisodeFacts(conversation_id, 0, start, start + len(entries), language=fields.get("language"),
                                 verified_at_ms=int(fields["verified_at"]) if "verified_at" in fields else None,
                                 closed_at_ms=entries[-1].at_ms)
            review = await self.review_held(self.store.review_id(conversation_id, 0), facts)
            if review is not None:
                reviews.append(review)
        return reviews
