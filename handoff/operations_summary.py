"""The seed metrics of a period (DOMAIN.md, "What operators measure"), computed from the operations events.

The dashboard's JSON API and ``make report`` both use :func:`summarize`, so the page, the HTML report and the CSV
show the same figures, each with its DOMAIN.md target (:data:`FIGURE_TARGETS`). A figure without events to compute
it from is ``None`` ("not measured"), never 0; a plot without events says "not measured" too.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Optional

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
    SURVEY_ANSWER,
    OperationsEvent,
)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
FIRST_RESPONSE_TARGET_SECONDS = 60
NOT_A_CRISIS = "not_a_crisis"
NOT_MEASURED = "not measured"
FIGURE_TARGETS = {
    "counts": "none for a count: the seed metrics above hold the targets",
    "queue_wait": "live agent first response < 60 s (the wait in the queue comes before it)",
    "handoffs_by_reason": "none per reason; all handoffs together 50-65 % of conversations (bot containment 35-50 %)",
    "containment": "35-50 %",
    "csat_distribution": "mean > 4.2 / 5",
    "crisis_first_response": "live agent < 60 s; crisis escalation accuracy > 98 %",
    "compliance_by_rule": "100 % (HIPAA protocol compliance)",
}
"""Each figure of the dashboard and the report (besides the seed metrics, which carry their own) and the target
DOMAIN.md ("What operators measure") sets for it."""


@dataclass(frozen=True)
class SeedMetric:
    key: str
    name: str
    value: Optional[float]
    shown: str
    target: str
    met: Optional[bool]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ratio(part: float, whole: float) -> Optional[float]:
    return part / whole if whole else None


def _percent(value: Optional[float]) -> str:
    return NOT_MEASURED if value is None else f"{100 * value:.1f} %"


def _p90(values: list[float]) -> Optional[float]:
    if not values:
        return None
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def seed_metrics(events: list[OperationsEvent]) -> list[SeedMetric]:
    """Each seed metric against its target."""
    kinds = defaultdict(list)
    for event in events:
        kinds[event.kind].append(event)
    answers = [event.seconds for event in kinds[FIRST_AGENT_RESPONSE] if event.seconds is not None]
    p90 = _p90(answers)
    within = _ratio(sum(1 for seconds in answers if seconds <= FIRST_RESPONSE_TARGET_SECONDS), len(answers))
    closed = kinds[EPISODE_CLOSED]
    without_phone = _ratio(sum(1 for event in closed if event.labels.get("phone_follow_up") != "yes"), len(closed))
    scores = [int(event.labels["score"]) for event in kinds[SURVEY_ANSWER]]
    csat = statistics.fmean(scores) if scores else None
    started = len(kinds[CONVERSATION_STARTED])
    escalated = sum(1 for event in kinds[HANDOFF] if event.labels.get("first") == "yes")
    containment = 1 - escalated / started if started else None
    checks = kinds[COMPLIANCE_CHECK]
    compliance = _ratio(sum(1 for event in checks if event.labels.get("result") == "pass"), len(checks))
    crisis_closed = [event for event in closed if event.labels.get("disposition", "none") != "none"]
    accuracy = _ratio(sum(1 for event in crisis_closed if event.labels["disposition"] != NOT_A_CRISIS),
                      len(crisis_closed))
    return [
        SeedMetric("first_response", "First agent response (90th percentile)", p90,
                   NOT_MEASURED if p90 is None else f"{p90:.0f} s ({_percent(within)} within 60 s)",
                   "bot immediate; agent < 60 s", None if p90 is None else p90 <= FIRST_RESPONSE_TARGET_SECONDS),
        SeedMetric("resolution_without_phone", "Resolved without phone escalation", without_phone,
                   _percent(without_phone), "> 75 %", None if without_phone is None else without_phone > 0.75),
        SeedMetric("csat", "Post-chat CSAT", csat, NOT_MEASURED if csat is None else f"{csat:.2f} / 5",
                   "> 4.2 / 5", None if csat is None else csat > 4.2,
                   "" if scores else "no post-chat survey answers in this period"),
        SeedMetric("containment", "Bot containment", containment, _percent(containment), "35-50 %",
                   None if containment is None else 0.35 <= containment <= 0.50),
        SeedMetric("compliance", "HIPAA protocol compliance", compliance, _percent(compliance), "100 %",
                   None if compliance is None else compliance == 1.0),
        SeedMetric("escalation_accuracy", "Crisis escalation accuracy", accuracy, _percent(accuracy), "> 98 %",
                   None if accuracy is None else accuracy > 0.98,
                   "closed crises not dispositioned not_a_crisis; recall: python -m screening.evaluate"),
        SeedMetric("phone_volume_reduction", "Routine phone-volume reduction", None, NOT_MEASURED, "15-30 %", None,
                   "needs the phone system's call counts"),
    ]


def summarize(events: list[OperationsEvent], since_ms: int, until_ms: int) -> dict[str, Any]:
    """Seed metrics, counts and the plots' series of the period."""
    bucket_ms = HOUR_MS if until_ms - since_ms <= DAY_MS else DAY_MS
    buckets = list(range(since_ms - since_ms % bucket_ms, until_ms + 1, bucket_ms))

    def bucket_of(event: OperationsEvent) -> int:
        return event.at_ms - event.at_ms % bucket_ms

    waits: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    started: Counter[int] = Counter()
    escalated: Counter[int] = Counter()
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    screen: Counter[str] = Counter()
    scores: Counter[str] = Counter({str(score): 0 for score in range(1, 6)})
    crisis_answers: list[list[float]] = []
    rules: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        counts[event.kind] += 1
        if event.kind == CLAIM and event.seconds is not None:
            waits[event.labels.get("queue", "other")][bucket_of(event)].append(event.seconds)
        elif event.kind == CONVERSATION_STARTED:
            started[bucket_of(event)] += 1
        elif event.kind == HANDOFF:
            reasons[event.labels.get("reason", "other")] += 1
            if event.labels.get("first") == "yes":
                escalated[bucket_of(event)] += 1
        elif event.kind == CRISIS_SCREEN_HIT:
            screen[event.labels.get("source", "other")] += 1
        elif event.kind == SURVEY_ANSWER:
            scores[event.labels.get("score", "other")] += 1
        elif event.kind == FIRST_AGENT_RESPONSE and event.labels.get("priority") == "crisis":
            crisis_answers.append([event.at_ms, event.seconds or 0.0])
        elif event.kind == COMPLIANCE_CHECK:
            rules[event.labels.get("rule", "other")][event.labels.get("result", "other")] += 1
    phone = sum(1 for event in events if event.kind == EPISODE_CLOSED and event.labels.get("phone_follow_up") == "yes")
    return {
        "since_ms": since_ms,
        "until_ms": until_ms,
        "bucket_ms": bucket_ms,
        "seed_metrics": [metric.to_json() for metric in seed_metrics(events)],
        "targets": FIGURE_TARGETS,
        "counts": {
            "conversations": counts[CONVERSATION_STARTED], "bot_turns": counts[BOT_TURN],
            "handoffs": counts[HANDOFF], "crisis_escalations": counts[CRISIS_ESCALATION],
            "episodes_closed": counts[EPISODE_CLOSED], "phone_escalations": phone,
            "after_hours_captures": counts[AFTER_HOURS_CAPTURE], "crisis_screen_rule_hits": screen["rules"],
            "crisis_screen_classifier_hits": screen["classifier"], "csat_answers": counts[SURVEY_ANSWER],
        },
        "queue_wait": {language: [[bucket, statistics.fmean(by_bucket[bucket])] for bucket in sorted(by_bucket)]
                       for language, by_bucket in sorted(waits.items())},
        "handoffs_by_reason": reasons.most_common(),
        "containment": [[bucket, 1 - escalated[bucket] / started[bucket]] for bucket in buckets if started[bucket]],
        "csat_distribution": sorted(scores.items()),
        "crisis_first_response": crisis_answers,
        "compliance_by_rule": [[rule, results["pass"] / (results["pass"] + results["finding"]),
                                results["finding"]] for rule, results in sorted(rules.items())],
    }
