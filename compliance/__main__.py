"""``python -m compliance review --since YYYY-MM-DD``: reviews every finished conversation since then that was not
reviewed yet (closes are reviewed as they happen; this catches the rest and the conversations that stayed with the
bot), then prints each rule's compliance rate over the period and the period's findings (rule, severity, time;
never the evidence, which stays sealed for the dashboard)."""

import argparse
import asyncio
import sys
from collections import Counter
from datetime import datetime, timezone

from redis.asyncio import Redis

from compliance.review import ConversationReviewer
from compliance.store import ComplianceStore
from handoff.keys import KeySpace
from handoff.operations import COMPLIANCE_CHECK, OperationsEvents
from handoff.queue import LiveAgentQueue
from handoff.settings import operator_settings


async def _review(since_ms: int, idle_seconds: int) -> int:
    configured = operator_settings()
    if configured is None:
        return 2
    settings, key_ring, _ = configured
    redis = Redis.from_url(settings.redis_url)
    keys = KeySpace(settings.namespace)
    try:
        queue = LiveAgentQueue(redis, key_ring, keys, settings.retention.ms)
        events = OperationsEvents(redis, keys, key_ring)
        store = ComplianceStore(redis, keys, key_ring)
        reviewer = ConversationReviewer(queue, store, events, settings.compliance, settings.coverage())
        reviews = await reviewer.review_since(since_ms, idle_seconds)
        print(f"reviewed {len(reviews)} conversations now, "
              f"{sum(len(review.findings) for review in reviews)} findings among them")
        checks = Counter((event.labels["rule"], event.labels["result"])
                         for event in await events.events(since_ms) if event.kind == COMPLIANCE_CHECK)
        for rule in sorted({rule for rule, _ in checks}):
            passed, found = checks[(rule, "pass")], checks[(rule, "finding")]
            print(f"{rule:28} {100 * passed / (passed + found):6.1f} % compliant ({found} of {passed + found})")
        for finding in await store.findings(since_ms):
            at = datetime.fromtimestamp(finding.finding.at_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
            state = f"reviewed by {finding.reviewed_by}" if finding.reviewed_by else "open"
            print(f"{finding.finding_id} {at} {finding.finding.severity:8} {finding.finding.rule} ({state})")
    finally:
        await redis.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m compliance", description=__doc__)
    parser.add_argument("command", choices=["review"])
    parser.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
    parser.add_argument("--idle-minutes", type=int, default=30,
                        help="a conversation that stayed with the bot is reviewed once idle this long (default 30)")
    arguments = parser.parse_args()
    try:
        since = datetime.fromisoformat(arguments.since).replace(tzinfo=timezone.utc)
    except ValueError:
        parser.error(f"--since must be a date such as 2026-11-01, not {arguments.since!r}")
    if arguments.idle_minutes < 0:
        parser.error("--idle-minutes must be 0 or more")
    sys.exit(asyncio.run(_review(int(since.timestamp() * 1000), arguments.idle_minutes * 60)))


if __name__ == "__main__":
    main()
