"""The protocol a finished conversation is held to, rule by rule: each finding names its rule, its evidence and
its severity. Pure functions of the episode's facts and transcript, so a replayed conversation is judged the same.

| rule | applies to | finding when |
|---|---|---|
| ``crisis_resources_first`` | a crisis | the first reply after the patient's crisis message lacks 988/911 |
| ``crisis_phone_follow_up`` | a crisis | the conversation was not flagged for a phone follow-up |
| ``crisis_agent_response`` | a crisis an agent claimed | no agent message within the target of the claim |
| ``unplaced_bot_exchanges`` | every conversation | more bot "didn't catch that" replies than allowed |
| ``phi_before_verification`` | every conversation | a bot message with PHI before identity verification |
| ``phi_to_unverified_patient`` | every conversation with an agent | an agent message with PHI before verification |
| ``after_hours_capture`` | escalated while its queue was closed (not a crisis) | not captured for callback |
| ``after_hours_callback`` | captured after hours | no agent message by the promised time (+ grace) |
| ``first_agent_response`` | claimed, not a crisis | no agent message within the target of the claim |
| ``survey_offered`` | closed by an agent, not a crisis | no 1-5 survey offer in the patient's language at close |
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import yaml

from compliance.phi import PhiDetector
from handoff.coverage import CoverageHours
from handoff.models import TranscriptEntry, TranscriptRole
from handoff.settings import ComplianceTargets
from handoff.surveys import OFFER_NOTICE
from languages import LanguageCatalog

CRITICAL, MAJOR, MINOR = "critical", "major", "minor"
RULES = {
    "crisis_resources_first": CRITICAL,
    "crisis_phone_follow_up": CRITICAL,
    "crisis_agent_response": CRITICAL,
    "unplaced_bot_exchanges": MAJOR,
    "phi_before_verification": CRITICAL,
    "phi_to_unverified_patient": CRITICAL,
    "after_hours_capture": MAJOR,
    "after_hours_callback": MAJOR,
    "first_agent_response": MINOR,
    "survey_offered": MINOR,
}
CRISIS_RESOURCE_NUMBERS = ("988", "911")
RESPONSES = Path(__file__).resolve().parent.parent / "domain" / "responses"
UNPLACED_RESPONSE = "utter_rephrase"


@dataclass(frozen=True)
class EpisodeFacts:
    """What the review needs of a finished conversation besides its transcript (kept sealed until reviewed)."""

    conversation_id: str
    episode: int
    transcript_from: int
    transcript_to: int
    language: Optional[str] = None
    patient_language: Optional[str] = None
    """The language the patient writes in, when the queue's is another (``Conversation.spoken_language``)."""
    priority: Optional[str] = None
    reason: Optional[str] = None
    crisis_category: Optional[str] = None
    crisis_evidence: Optional[str] = None
    phone_follow_up: bool = False
    enqueued_at_ms: Optional[int] = None
    claimed_at_ms: Optional[int] = None
    verified_at_ms: Optional[int] = None
    reply_after_ms: Optional[int] = None
    closed_at_ms: Optional[int] = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EpisodeFacts":
        return cls(**data)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    evidence: str
    at_ms: int


@dataclass(frozen=True)
class Review:
    """Which rules applied to the conversation, and what broke them."""

    applied: tuple[str, ...]
    findings: tuple[Finding, ...]


def unplaced_replies(responses: Path = RESPONSES) -> frozenset[str]:
    """The bot's "didn't catch that" reply in every language."""
    texts = set()
    for path in responses.glob("*.yml"):
        for variant in (yaml.safe_load(path.read_text()).get("responses", {}).get(UNPLACED_RESPONSE) or []):
            texts.add(str(variant.get("text", "")).strip())
    return frozenset(text for text in texts if text)


def survey_offers(catalog: LanguageCatalog) -> dict[str, str]:
    """The close's 1-5 survey offer (``handoff.surveys``) by language, as ``LanguageCatalog.notice`` gives it; under
    ``""``, the one a language without its own text gets."""
    return {"": catalog.notice("", OFFER_NOTICE),
            **{language.code: catalog.notice(language.code, OFFER_NOTICE) for language in catalog}}


class ProtocolReview:
    def __init__(self, phi: PhiDetector, targets: ComplianceTargets, coverage: CoverageHours,
                 unplaced: frozenset[str], offers: dict[str, str]) -> None:
        self.phi = phi
        self.targets = targets
        self.coverage = coverage
        self.unplaced = unplaced
        self.offers = offers

    def review(self, facts: EpisodeFacts, entries: list[TranscriptEntry]) -> Review:
        applied: list[str] = []
        findings: list[Finding] = []

        def check(rule: str, finding: Optional[tuple[str, int]]) -> None:
            applied.append(rule)
            if finding is not None:
                findings.append(Finding(rule, RULES[rule], finding[0], finding[1]))

        if facts.crisis_category:
            check("crisis_resources_first", self._crisis_resources_first(facts, entries))
            check("crisis_phone_follow_up", None if facts.phone_follow_up else (
                f"{facts.crisis_category} crisis closed without a phone follow-up flag", facts.enqueued_at_ms or 0))
            if facts.claimed_at_ms is not None:
                check("crisis_agent_response", self._first_response(facts, entries, "crisis "))
        check("unplaced_bot_exchanges", self._unplaced(facts, entries))
        check("phi_before_verification", self._phi(facts, entries, TranscriptRole.BOT))
        if facts.claimed_at_ms is not None:
            check("phi_to_unverified_patient", self._phi(facts, entries, TranscriptRole.AGENT))
        if facts.enqueued_at_ms is not None and not facts.crisis_category:
            enqueued = datetime.fromtimestamp(facts.enqueued_at_ms / 1000, timezone.utc)
            closed_queue = not self.coverage.is_open(facts.language or "", enqueued)
            if closed_queue:
                check("after_hours_capture", None if facts.reply_after_ms is not None else (
                    f"escalated to the closed {facts.language} queue without an after-hours capture",
                    facts.enqueued_at_ms))
            if facts.reply_after_ms is not None:
                check("after_hours_callback", self._callback(facts, entries))
        if facts.claimed_at_ms is not None and not facts.crisis_category:
            check("first_agent_response", self._first_response(facts, entries, ""))
            check("survey_offered", self._survey(facts, entries))
        return Review(tuple(applied), tuple(findings))

    @staticmethod
    def _crisis_resources_first(facts: EpisodeFacts, entries: list[TranscriptEntry]) -> Optional[tuple[str, int]]:
        evidence = (facts.crisis_evidence or "").strip().lower()
        patients = [index for index, entry in enumerate(entries) if entry.role == TranscriptRole.PATIENT]
        trigger = next((index for index in patients if evidence and evidence in entries[index].text.lower()), None)
        if trigger is None:
            before = [index for index in patients if entries[index].at_ms <= (facts.enqueued_at_ms or 0)]
            trigger = before[-1] if before else (patients[0] if patients else None)
        if trigger is None:
            return f"{facts.crisis_category} crisis without the patient's message in the transcript", 0
        reply = next((entry for entry in entries[trigger + 1:] if entry.role != TranscriptRole.PATIENT), None)
        if reply is None:
            return "no reply at all after the patient's crisis message", entries[trigger].at_ms
        if not any(number in reply.text for number in CRISIS_RESOURCE_NUMBERS):
            return (f"the first reply after the crisis message (by the {reply.role.value}) gave no 988/911 "
                    f"resources: {reply.text[:200]!r}", reply.at_ms)
        return None

    def _first_response(self, facts: EpisodeFacts, entries: list[TranscriptEntry],
                        kind: str) -> Optional[tuple[str, int]]:
        claimed = facts.claimed_at_ms or 0
        target = self.targets.first_response_seconds
        first = next((entry for entry in entries if entry.role == TranscriptRole.AGENT and entry.at_ms >= claimed),
                     None)
        if first is None:
            return f"the agent never wrote to the patient in this {kind}episode", claimed
        seconds = (first.at_ms - claimed) / 1000
        if seconds > target:
            return f"first agent message {seconds:.0f} s after the claim (target {target} s)", first.at_ms
        return None

    def _unplaced(self, facts: EpisodeFacts, entries: list[TranscriptEntry]) -> Optional[tuple[str, int]]:
        handoff = facts.enqueued_at_ms if facts.enqueued_at_ms is not None else entries[-1].at_ms if entries else 0
        unplaced = [entry for entry in entries if entry.role == TranscriptRole.BOT and entry.at_ms <= handoff
                    and entry.text.strip() in self.unplaced]
        if len(unplaced) > self.targets.unplaced_bot_exchanges:
            return (f"{len(unplaced)} bot replies could not place the patient's message before a person took over "
                    f"(at most {self.targets.unplaced_bot_exchanges})", unplaced[-1].at_ms)
        return None

    def _phi(self, facts: EpisodeFacts, entries: list[TranscriptEntry],
             role: TranscriptRole) -> Optional[tuple[str, int]]:
        verified = facts.verified_at_ms
        for index, entry in enumerate(entries):
            if entry.role != role or (verified is not None and entry.at_ms >= verified):
                continue
            matches = self.phi.find(entry.text)
            if matches:
                shown = ", ".join(f"{match.kind} {match.text!r}" for match in matches)
                return (f"{role.value} message {facts.transcript_from + index} to a patient who had not verified "
                        f"their identity contains {shown}", entry.at_ms)
        return None

    def _callback(self, facts: EpisodeFacts, entries: list[TranscriptEntry]) -> Optional[tuple[str, int]]:
        promised = (facts.reply_after_ms or 0) + self.targets.callback_grace_seconds * 1000
        first = next((entry for entry in entries if entry.role == TranscriptRole.AGENT), None)
        promised_at = datetime.fromtimestamp((facts.reply_after_ms or 0) / 1000, timezone.utc).isoformat()
        if first is None:
            return f"captured after hours for a reply after {promised_at}; no agent ever wrote", promised
        if first.at_ms > promised:
            late = (first.at_ms - promised) / 60000
            return (f"captured after hours for a reply after {promised_at}; the agent first wrote {late:.0f} min "
                    "after the grace period", first.at_ms)
        return None

    def _survey(self, facts: EpisodeFacts, entries: list[TranscriptEntry]) -> Optional[tuple[str, int]]:
        """The close offered the survey, after the agent's last message, in the language the patient writes."""
        language = facts.patient_language or facts.language or ""
        expected = self.offers.get(language, self.offers[""])
        agents = [entry.at_ms for entry in entries if entry.role == TranscriptRole.AGENT]
        after = max(agents, default=facts.claimed_at_ms or 0)
        closing = [entry.text for entry in entries if entry.role == TranscriptRole.BOT and entry.at_ms >= after]
        if expected in closing:
            return None
        offered = {code for code, offer in self.offers.items() if code and offer in closing}
        closed = facts.closed_at_ms or after
        if offered:
            return (f"the survey was offered in {', '.join(sorted(offered))}, not in the patient's language "
                    f"({language})", closed)
        return f"the episode was closed without offering the 1-5 survey in the patient's language ({language})", closed
