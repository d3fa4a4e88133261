"""``/metrics`` in Prometheus' text format, from the operations totals in Redis (``handoff.operations``).

Each console process and each Rasa server (the patient channel's ``/webhooks/patient/metrics``) serves the
same figures: they are read from Redis at every scrape, never kept in the process. Labels are the events'
labels, codes from closed vocabularies (no conversation id, no text). Only a scraper with the bearer token
``METRICS_TOKEN`` reads them (:func:`scrape_refusal`); without a token set, nobody does.
"""

import hmac
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator, Optional

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from handoff.operations import (
    AFTER_HOURS_CAPTURE,
    BOT_TURN,
    CLAIM,
    COMPLIANCE_CHECK,
    CONVERSATION_STARTED,
    CRISIS_ESCALATION,
    CRISIS_SCREEN_HIT,
    EPISODE_CLOSED,
    FIRST_AGENT_RESPONSE,
    HANDOFF,
    HISTOGRAM_BUCKETS,
    SURVEY_ANSWER,
    OperationsEvents,
)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "hcb_"
BEARER = "Bearer "
REFUSAL_HEADERS = {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"}


def scrape_refusal(authorization: Optional[str], token: str) -> Optional[str]:
    """Why a request with this ``Authorization`` header may not read ``/metrics`` (answered 401), or None when it
    carries ``Bearer <token>``. With no token configured, every request is refused."""
    if not token:
        return "metrics are closed: set METRICS_TOKEN and give it to the scraper as its bearer token"
    presented = authorization[len(BEARER):] if authorization and authorization.startswith(BEARER) else ""
    if not hmac.compare_digest(presented.encode(), token.encode()):
        return "send the metrics token: Authorization: Bearer <METRICS_TOKEN>"
    return None


@dataclass(frozen=True)
class MetricName:
    name: str
    help: str


COUNTERS = {
    CONVERSATION_STARTED: MetricName("conversations_started", "Patient conversations opened."),
    BOT_TURN: MetricName("bot_turns", "Patient messages answered by the bot, by language."),
    HANDOFF: MetricName("handoffs", "Escalations to the live-agent queue, once per episode, by reason, queue, "
                        "priority, patient language and first handoff of the conversation."),
    CRISIS_ESCALATION: MetricName("crisis_escalations", "Crises sent to the front of the queue or to the agent "
                                  "who has the conversation, by category and patient language."),
    AFTER_HOURS_CAPTURE: MetricName("after_hours_captures", "Messages captured outside coverage hours for callback."),
    CRISIS_SCREEN_HIT: MetricName("crisis_screen_hits", "Patient messages the crisis screen flagged, by source "
                                  "(rules or classifier) and category."),
    SURVEY_ANSWER: MetricName("csat_answers", "CSAT: post-chat survey answers by score (1-5) and queue."),
    COMPLIANCE_CHECK: MetricName("compliance_checks", "Transcript review checks by rule, result (pass or finding) "
                                 "and severity."),
}
HISTOGRAMS = {
    CLAIM: MetricName("queue_wait_seconds", "Time from escalation to an agent's claim, by queue and priority."),
    FIRST_AGENT_RESPONSE: MetricName("first_agent_response_seconds", "Time from claim to the agent's first "
                                     "message, by queue and priority (priority=crisis: crisis escalations)."),
    EPISODE_CLOSED: MetricName("handle_time_seconds", "Time from claim to close, by queue, priority, outcome, "
                               "phone follow-up and crisis disposition."),
}


def parse_totals(totals: dict[str, float]) -> dict[str, dict[tuple[tuple[str, str], ...], dict[str, float]]]:
    """kind -> labels -> part (``""`` for a counter, ``bucketN``, ``sum``) -> value."""
    parsed: dict[str, dict[tuple[tuple[str, str], ...], dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for field, value in totals.items():
        kind, *rest = field.split("|")
        part = rest.pop() if rest and "=" not in rest[-1] else ""
        labels = tuple(tuple(item.split("=", 1)) for item in rest)
        parsed[kind][labels][part] = value  # type: ignore[index]
    return parsed


def _sum_by(series: dict[tuple[tuple[str, str], ...], dict[str, float]], keep: tuple[str, ...],
            where: dict[str, str]) -> dict[tuple[str, ...], float]:
    """Counts of the series whose labels match ``where``, summed by the labels in ``keep``."""
    sums: dict[tuple[str, ...], float] = defaultdict(float)
    for labels, parts in series.items():
        named = dict(labels)
        if all(named.get(key) == value for key, value in where.items()):
            sums[tuple(named.get(key, "") for key in keep)] += _count(parts)
    return sums


def _count(parts: dict[str, float]) -> float:
    return parts.get("", 0.0) or sum(value for part, value in parts.items() if part.startswith("bucket"))


class OperationsCollector(Collector):
    """The families of one snapshot of the totals."""

    def __init__(self, totals: dict[str, float]) -> None:
        self.parsed = parse_totals(totals)

    def collect(self) -> Iterator[Metric]:
        for kind, metric in COUNTERS.items():
            yield self._counter(kind, metric)
        for kind, metric in HISTOGRAMS.items():
            yield self._histogram(kind, metric)
        yield from self._derived()

    def _counter(self, kind: str, metric: MetricName) -> Metric:
        series = self.parsed.get(kind, {})
        names = sorted({key for labels in series for key, _ in labels})
        family = CounterMetricFamily(PREFIX + metric.name, metric.help, labels=names)
        for labels, parts in sorted(series.items()):
            named = dict(labels)
            family.add_metric([named.get(name, "") for name in names], parts.get("", 0.0))
        return family

    def _histogram(self, kind: str, metric: MetricName) -> Metric:
        series = self.parsed.get(kind, {})
        names = sorted({key for labels in series for key, _ in labels})
        family = HistogramMetricFamily(PREFIX + metric.name, metric.help, labels=names)
        for labels, parts in sorted(series.items()):
            named = dict(labels)
            cumulative, buckets = 0.0, []
            for index, bound in enumerate([*HISTOGRAM_BUCKETS, float("inf")]):
                cumulative += parts.get(f"bucket{index}", 0.0)
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            family.add_metric([named.get(name, "") for name in names], buckets, parts.get("sum", 0.0))
        return family

    def _derived(self) -> Iterator[Metric]:
        handoffs, closed = self.parsed.get(HANDOFF, {}), self.parsed.get(EPISODE_CLOSED, {})
        phone = CounterMetricFamily(PREFIX + "phone_escalations", "Closed episodes that needed a phone follow-up, "
                                    "by crisis disposition.", labels=["disposition"])
        for (disposition,), count in sorted(_sum_by(closed, ("disposition",), {"phone_follow_up": "yes"}).items()):
            phone.add_metric([disposition], count)
        yield phone
        started = sum(_sum_by(self.parsed.get(CONVERSATION_STARTED, {}), (), {}).values())
        escalated = sum(_sum_by(handoffs, (), {"first": "yes"}).values())
        yield GaugeMetricFamily(PREFIX + "bot_containment_ratio", "Share of conversations never handed to a "
                                "person (target 0.35-0.50).", value=1 - escalated / started if started else 0.0)
        episodes = sum(_sum_by(closed, (), {}).values())
        by_phone = sum(_sum_by(closed, (), {"phone_follow_up": "yes"}).values())
        yield GaugeMetricFamily(PREFIX + "resolution_without_phone_ratio", "Share of closed episodes resolved "
                                "without a phone follow-up (target > 0.75).",
                                value=1 - by_phone / episodes if episodes else 0.0)
        rate = GaugeMetricFamily(PREFIX + "compliance_rate", "Share of reviewed conversations that passed each "
                                 "rule (target 1.0).", labels=["rule"])
        checks = _sum_by(self.parsed.get(COMPLIANCE_CHECK, {}), ("rule", "result"), {})
        for rule in sorted({rule for rule, _ in checks}):
            passed, found = checks.get((rule, "pass"), 0.0), checks.get((rule, "finding"), 0.0)
            rate.add_metric([rule], passed / (passed + found))
        yield rate


async def exposition(events: OperationsEvents) -> bytes:
    """The text format of the totals as they are in Redis now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OperationsCollector(await events.totals()))
    return generate_latest(registry)
