"""Each rule of the transcript review, replayed: a conversation built to break it gives exactly that finding, the
same conversation done right gives none."""

from datetime import date, datetime, timezone

import pytest

from compliance.phi import PhiDetector, load_medications
from compliance.rules import RULES, EpisodeFacts, ProtocolReview, survey_offers, unplaced_replies
from handoff.coverage import CoverageHours
from handoff.models import TranscriptEntry, TranscriptRole
from handoff.operations import label_value
from handoff.settings import ComplianceTargets
from handoff.surveys import OFFER_NOTICE
from languages import LanguageCatalog

T0 = int(datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc).timestamp() * 1000)
"""A Monday, 10:00 in New York."""
CRISIS_NOTICE = ("If you are thinking about suicide or may hurt yourself, call or text 988 now (Suicide & Crisis "
                 "Lifeline, or chat at 988lifeline.org). If you or someone else is in danger or this is a medical "
                 "emergency, call 911. Please stay in this chat.")
REPHRASE = ("Sorry, I didn't catch that. Could you say it another way? You can also type \"agent\" to talk with a "
            "person.")
PATIENT, BOT, AGENT = TranscriptRole.PATIENT, TranscriptRole.BOT, TranscriptRole.AGENT
CATALOG = LanguageCatalog.load()


def entry(role: TranscriptRole, text: str, seconds: float) -> TranscriptEntry:
    return TranscriptEntry(role, text, T0 + int(seconds * 1000))


def facts(**changes: object) -> EpisodeFacts:
    base: dict[str, object] = {
        "conversation_id": "p-abc", "episode": 1, "transcript_from": 0, "transcript_to": 0, "language": "en",
        "priority": "normal", "reason": "patient_request", "enqueued_at_ms": T0 + 5_000,
        "claimed_at_ms": T0 + 20_000, "closed_at_ms": T0 + 600_000,
    }
    return EpisodeFacts(**dict(base, **changes))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> ProtocolReview:
    coverage = tmp_path_factory.mktemp("coverage") / "coverage.yml"
    weekdays = ", ".join(f"{day}: '09:00-17:00'" for day in ("mon", "tue", "wed", "thu", "fri"))
    coverage.write_text(f"timezone: America/New_York\ndefault: always\nqueues:\n  pt: {{{weekdays}}}\n")
    weekdays_only = CoverageHours.from_file(coverage)
    phi = PhiDetector(load_medications(), ["HCB-100-200"], [date(1962, 3, 14)])
    return ProtocolReview(phi, ComplianceTargets(), weekdays_only, unplaced_replies(), survey_offers(CATALOG))


def closed(entries: list[TranscriptEntry], language: str = "en") -> list[TranscriptEntry]:
    """The episode as the console's close ends it: the survey offered in ``language`` after everything else."""
    return [*entries, entry(BOT, CATALOG.notice(language, OFFER_NOTICE), 600)]


CLEAN = closed([
    entry(PATIENT, "I want to talk to a person", 0),
    entry(BOT, "I'm connecting you with a person now.", 1),
    entry(AGENT, "Hi, this is Amy. How can I help?", 30),
    entry(PATIENT, "what time do you open tomorrow", 40),
    entry(AGENT, "We open at 8 am.", 50),
])
OPEN = CLEAN[:-1]


def rules_found(review: ProtocolReview, episode: EpisodeFacts, entries: list[TranscriptEntry]) -> list[str]:
    return [finding.rule for finding in review.review(episode, entries).findings]


def test_a_clean_conversation_has_no_finding(review: ProtocolReview) -> None:
    result = review.review(facts(), CLEAN)
    assert result.findings == ()
    assert set(result.applied) == {"unplaced_bot_exchanges", "phi_before_verification", "phi_to_unverified_patient",
                                   "first_agent_response", "survey_offered"}


def test_an_agent_telling_an_unverified_patient_their_date_of_birth_is_critical(review: ProtocolReview) -> None:
    told = closed([*OPEN, entry(AGENT, "I see your date of birth is 03/14/1962.", 60)])
    [finding] = review.review(facts(), told).findings
    assert (finding.rule, finding.severity) == ("phi_to_unverified_patient", "critical")
    assert "date_of_birth '03/14/1962'" in finding.evidence and "message 5" in finding.evidence
    assert rules_found(review, facts(verified_at_ms=T0 + 35_000), told) == []


@pytest.mark.parametrize("text", [
    "Your member ID is HCB-100-200.",
    "Our records list you as born March 14, 1962.",
    "Your lisinopril was sent to the pharmacy.",
    "Your A1C came back at 7.9",
    "the potassium was 5.9 mmol/L",
    "it's on file under hcb 100 200",
])
def test_every_kind_of_phi_is_found_in_an_agent_message_to_an_unverified_patient(
    review: ProtocolReview, text: str
) -> None:
    assert rules_found(review, facts(), closed([*OPEN, entry(AGENT, text, 60)])) == ["phi_to_unverified_patient"]


def test_phi_the_bot_gave_before_verification_is_found(review: ProtocolReview) -> None:
    bot_only = facts(episode=0, enqueued_at_ms=None, claimed_at_ms=None)
    leaked = [entry(PATIENT, "is my refill ready", 0), entry(BOT, "Your Metformin 500 mg is ready.", 1)]
    assert rules_found(review, bot_only, leaked) == ["phi_before_verification"]
    assert rules_found(review, facts(episode=0, enqueued_at_ms=None, claimed_at_ms=None, verified_at_ms=T0 + 500),
                       leaked) == []


def test_a_crisis_the_bot_answered_before_the_resources_is_critical(review: ProtocolReview) -> None:
    crisis = facts(priority="crisis", crisis_category="overdose_poisoning", crisis_evidence="took all my pills",
                   phone_follow_up=True)
    bot_first = [entry(PATIENT, "I took all my pills", 0), entry(BOT, REPHRASE, 1), entry(BOT, CRISIS_NOTICE, 2),
                 entry(AGENT, "I'm here, are you safe right now?", 25)]
    [finding] = review.review(crisis, bot_first).findings
    assert (finding.rule, finding.severity) == ("crisis_resources_first", "critical")
    assert "by the bot" in finding.evidence
    resources_first = [bot_first[0], bot_first[2], bot_first[1], bot_first[3]]
    result = review.review(crisis, resources_first)
    assert result.findings == ()
    assert {"crisis_resources_first", "crisis_phone_follow_up", "crisis_agent_response"} <= set(result.applied)
    assert "first_agent_response" not in result.applied


def test_a_crisis_without_phone_follow_up_or_a_timely_agent_is_found(review: ProtocolReview) -> None:
    crisis = facts(priority="crisis", crisis_category="suicide_self_harm", crisis_evidence="want to die")
    late = [entry(PATIENT, "I want to die", 0), entry(BOT, CRISIS_NOTICE, 1), entry(AGENT, "I'm here.", 200)]
    assert sorted(rules_found(review, crisis, late)) == ["crisis_agent_response", "crisis_phone_follow_up"]


def test_more_than_two_unplaced_bot_exchanges_before_a_handoff(review: ProtocolReview) -> None:
    three = [entry(PATIENT, "asdf", 0), entry(BOT, REPHRASE, 1), entry(PATIENT, "qwer", 2), entry(BOT, REPHRASE, 3),
             entry(PATIENT, "zxcv", 4), entry(BOT, REPHRASE, 4.5), *CLEAN]
    assert rules_found(review, facts(), three) == ["unplaced_bot_exchanges"]
    assert rules_found(review, facts(), three[2:]) == []


def test_the_first_agent_response_must_come_within_a_minute_of_the_claim(review: ProtocolReview) -> None:
    slow = closed([CLEAN[0], CLEAN[1], entry(AGENT, "Hi, this is Amy.", 95)])
    [finding] = review.review(facts(), slow).findings
    assert (finding.rule, finding.severity) == ("first_agent_response", "minor")
    assert "75 s after the claim" in finding.evidence
    assert rules_found(review, facts(), closed(CLEAN[:2])) == ["first_agent_response"]


def test_after_hours_capture_and_callback_by_the_promised_time(review: ProtocolReview) -> None:
    saturday = int(datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc).timestamp() * 1000)
    monday_open = int(datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc).timestamp() * 1000)
    closed_queue = facts(language="pt", enqueued_at_ms=saturday, claimed_at_ms=monday_open + 60_000)
    called = [entry(PATIENT, "preciso falar com alguém", -1e5), TranscriptEntry(AGENT, "Olá!", monday_open + 70_000),
              TranscriptEntry(BOT, CATALOG.notice("pt", OFFER_NOTICE), monday_open + 80_000)]
    assert rules_found(review, closed_queue, called) == ["after_hours_capture"]
    captured = facts(language="pt", enqueued_at_ms=saturday, claimed_at_ms=monday_open + 60_000,
                     reply_after_ms=monday_open)
    assert rules_found(review, captured, called) == []
    late = [called[0], TranscriptEntry(AGENT, "Olá!", monday_open + 3 * 3600_000),
            TranscriptEntry(BOT, CATALOG.notice("pt", OFFER_NOTICE), monday_open + 3 * 3600_000 + 1)]
    late_claim = facts(language="pt", enqueued_at_ms=saturday, claimed_at_ms=monday_open + 3 * 3600_000 - 10_000,
                       reply_after_ms=monday_open)
    [finding] = review.review(late_claim, late).findings
    assert (finding.rule, finding.severity) == ("after_hours_callback", "major")


def test_a_close_without_the_survey_in_the_patients_language_is_found(review: ProtocolReview) -> None:
    [finding] = review.review(facts(), OPEN).findings
    assert (finding.rule, finding.severity) == ("survey_offered", "minor")
    assert "without offering the 1-5 survey in the patient's language (en)" in finding.evidence
    spanish_patient = facts(language="en", patient_language="es")
    [finding] = review.review(spanish_patient, CLEAN).findings
    assert finding.rule == "survey_offered" and "offered in en, not in the patient's language (es)" in finding.evidence
    assert rules_found(review, spanish_patient, closed(OPEN, "es")) == []
    offered_too_early = [*OPEN[:3], entry(BOT, CATALOG.notice("en", OFFER_NOTICE), 35), *OPEN[3:]]
    assert rules_found(review, facts(), offered_too_early) == ["survey_offered"], "the offer ends the episode"
    mentioned = [*OPEN, entry(BOT, "Please rate this chat.", 600)]
    assert rules_found(review, facts(), mentioned) == ["survey_offered"], "only the 1-5 offer counts"


def test_a_queue_only_language_is_offered_the_survey_as_the_close_offers_it(review: ProtocolReview) -> None:
    haitian = facts(language="ht")
    assert rules_found(review, haitian, closed(OPEN, "ht")) == []
    assert rules_found(review, facts(language="xx"), closed(OPEN, "xx")) == []


def test_no_survey_is_owed_after_a_crisis_or_without_an_agent(review: ProtocolReview) -> None:
    crisis = facts(priority="crisis", crisis_category="suicide_self_harm", crisis_evidence="want to die",
                   phone_follow_up=True)
    answered = [entry(PATIENT, "I want to die", 0), entry(BOT, CRISIS_NOTICE, 1), entry(AGENT, "I'm here.", 25)]
    assert "survey_offered" not in review.review(crisis, answered).applied
    bot_only = facts(episode=0, enqueued_at_ms=None, claimed_at_ms=None)
    assert "survey_offered" not in review.review(bot_only, [entry(PATIENT, "hours?", 0)]).applied


def test_every_rule_has_a_severity() -> None:
    assert set(RULES.values()) <= {"critical", "major", "minor"}


def test_text_the_detector_must_leave_alone() -> None:
    phi = PhiDetector(load_medications(), ["HCB-100-200"], [date(1962, 3, 14)])
    for text in ("We open at 8 am on weekdays.", "Call 988 or 911 now.", "Your appointment is confirmed.",
                 "Our clinic is at 100 Health Way."):
        assert phi.find(text) == [], text


@pytest.mark.parametrize("value", ["p-Xy3kQ9", "sms:+15550104477", "my dob is 1962-03-14", "John Smith", "", None,
                                   "Billing_Question", "x" * 60])
def test_a_label_value_is_a_code_or_other(value: object) -> None:
    assert label_value(value) == "other"  # type: ignore[arg-type]


def test_codes_pass_as_label_values() -> None:
    assert [label_value(code) for code in ("billing_question", "en", "behavioral-health", "crisis")] == [
        "billing_question", "en", "behavioral-health", "crisis"]
