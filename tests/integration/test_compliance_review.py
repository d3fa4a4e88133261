"""The transcript review on real Redis: every close is reviewed, violations replayed through the console are found,
a clean conversation gives none, findings are sealed at rest, and a supervisor's review of one is audited."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from compliance.review import ConversationReviewer
from compliance.rules import EpisodeFacts
from compliance.store import ComplianceStore
from handoff import AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.coverage import CoverageHours
from handoff.models import CloseOutcome, CrisisFlag, TranscriptRole
from handoff.operations import OperationsEvents
from handoff.settings import ComplianceTargets
from handoff.surveys import OFFER_NOTICE
from languages import LanguageCatalog
from stack.redis_server import RedisServer
from tests.conftest import AUDIT_KEYS
from tests.integration.test_operations_metrics import scrape, sign_in, value
from tests.redis_contents import every_stored_value

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATE_OF_BIRTH = "03/14/1962"
CRISIS_NOTICE = "If you are thinking about suicide, call or text 988 now. In an emergency, call 911."
CATALOG = LanguageCatalog.load()


def survey_offer(language: str) -> str:
    return CATALOG.notice(language, OFFER_NOTICE)


def store_of(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> ComplianceStore:
    return ComplianceStore(redis, keys, key_ring)


async def agent_works(console: TestClient, conversation: str, replies: list[str], disposition: str = "") -> None:
    """Amy claims the conversation, writes ``replies`` and closes it."""
    headers = await sign_in(console, "amy")
    assert (await console.post(f"/api/conversations/{conversation}/claim", headers=headers)).status == 200
    for text in replies:
        response = await console.post(f"/api/conversations/{conversation}/messages", json={"text": text},
                                      headers=headers)
        assert response.status == 201
    body = {"outcome": "closed", **({"crisis_disposition": disposition} if disposition else {})}
    response = await console.post(f"/api/conversations/{conversation}/close", json=body, headers=headers)
    assert response.status == 200, await response.text()


async def test_an_agent_telling_an_unverified_patient_their_date_of_birth_is_found_on_close_and_kept_sealed(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.record("web-dob", TranscriptRole.PATIENT, "what do you have on file for me")
    await queue.enqueue_escalation("web-dob", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await agent_works(operations_console, "web-dob",
                      ["Hi, I'm Amy.", f"We have your date of birth as {DATE_OF_BIRTH}."])

    [finding] = await store_of(redis, keys, key_ring).findings(0)
    assert (finding.conversation_id, finding.finding.rule, finding.finding.severity) == (
        "web-dob", "phi_to_unverified_patient", "critical")
    assert DATE_OF_BIRTH in finding.finding.evidence
    stored = b"\n".join(await every_stored_value(redis, keys.compliance("*")))
    assert DATE_OF_BIRTH.encode() not in stored and b"web-dob" not in stored, "findings are sealed at rest"
    _, samples = await scrape(operations_console)
    assert value(samples, "hcb_compliance_rate", rule="phi_to_unverified_patient") == 0.0
    assert value(samples, "hcb_compliance_checks_total", result="finding", rule="phi_to_unverified_patient",
                 severity="critical") == 1


async def test_a_verified_patient_hearing_their_own_date_of_birth_is_no_finding(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.record("web-verified", TranscriptRole.PATIENT, "I want to talk to a person")
    await queue.mark_verified("web-verified", "form")
    await queue.enqueue_escalation("web-verified", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await agent_works(operations_console, "web-verified",
                      ["Hi, I'm Amy.", f"We have your date of birth as {DATE_OF_BIRTH}."])
    assert await store_of(redis, keys, key_ring).findings(0) == []


async def test_a_crisis_the_bot_answered_before_the_resources_is_found(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.record("web-crisis", TranscriptRole.PATIENT, "I took all my pills")
    await queue.record("web-crisis", TranscriptRole.BOT, "Sorry, I didn't catch that. Could you say it another way?")
    await queue.record("web-crisis", TranscriptRole.BOT, CRISIS_NOTICE)
    await queue.enqueue_escalation("web-crisis", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "took all my pills"))
    await agent_works(operations_console, "web-crisis", ["I'm here. Are you safe right now?"], "phone_follow_up_done")

    [finding] = await store_of(redis, keys, key_ring).findings(0)
    assert (finding.finding.rule, finding.finding.severity) == ("crisis_resources_first", "critical")
    assert "didn't catch that" in finding.finding.evidence


async def test_a_clean_crisis_gives_no_finding(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.record("web-safe", TranscriptRole.PATIENT, "I took all my pills")
    await queue.record("web-safe", TranscriptRole.BOT, CRISIS_NOTICE)
    await queue.enqueue_escalation("web-safe", "en", Skill.NURSE, Priority.CRISIS, "crisis_overdose_poisoning",
                                   CrisisFlag("overdose_poisoning", "took all my pills"))
    await agent_works(operations_console, "web-safe", ["I'm here. Are you safe right now?"], "phone_follow_up_done")
    assert await store_of(redis, keys, key_ring).findings(0) == []
    _, samples = await scrape(operations_console)
    for rule in ("crisis_resources_first", "crisis_phone_follow_up", "crisis_agent_response",
                 "phi_to_unverified_patient"):
        assert value(samples, "hcb_compliance_rate", rule=rule) == 1.0, rule


async def test_a_supervisor_marks_a_finding_reviewed_once_audited_and_an_agent_may_not(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing, audit_keys: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    await queue.record("web-review", TranscriptRole.PATIENT, "hello?")
    await queue.enqueue_escalation("web-review", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await agent_works(operations_console, "web-review", ["Your member ID is HCB-100-200."])

    agent, supervisor = await sign_in(operations_console, "amy"), await sign_in(operations_console, "sam")
    refused = await operations_console.get("/api/compliance/findings?period=today", headers=agent)
    assert refused.status == 403
    response = await operations_console.get("/api/compliance/findings?period=today", headers=supervisor)
    [finding] = (await response.json())["findings"]
    assert finding["rule"] == "phi_to_unverified_patient" and finding["reviewed_by"] is None
    path = f"/api/compliance/findings/{finding['id']}/review"
    assert (await operations_console.post(path, headers=agent)).status == 403
    assert (await operations_console.post(path, headers=supervisor)).status == 200
    assert (await operations_console.post(path, headers=supervisor)).status == 409
    unknown = "/api/compliance/findings/f-0000000000000000/review"
    assert (await operations_console.post(unknown, headers=supervisor)).status == 404
    assert (await operations_console.get("/api/compliance/findings?period=year", headers=supervisor)).status == 400
    [reviewed] = await store_of(redis, keys, key_ring).findings(0)
    assert reviewed.reviewed_by == "sam"
    entries = await AuditLog(redis, keys, audit_keys).entries()
    assert ("sam", "review_compliance_finding", "web-review") in [(e.actor, e.action, e.conversation)
                                                                  for e in entries]
    assert ("sam", "read_compliance_findings") in [(e.actor, e.action) for e in entries]
    assert ("amy", "forbidden_review_compliance") in [(e.actor, e.action) for e in entries]


async def test_a_close_that_offered_no_survey_is_found_and_the_console_close_offers_it_in_the_patients_language(
    operations_console: TestClient, redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    reviewer = ConversationReviewer(queue, store_of(redis, keys, key_ring), OperationsEvents(redis, keys, key_ring),
                                    ComplianceTargets(), CoverageHours.always_open())
    await queue.record("web-mute", TranscriptRole.PATIENT, "I need to talk to someone")
    await queue.enqueue_escalation("web-mute", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("web-mute", "amy", ["en"])
    await queue.send_agent_message("web-mute", "amy", "Hi, I'm Amy. All set?")
    closing = await reviewer.before_close("web-mute")
    await queue.close("web-mute", "amy", CloseOutcome.CLOSED)
    await closing.after_close("closed", None)
    [finding] = await store_of(redis, keys, key_ring).findings(0)
    assert (finding.conversation_id, finding.finding.rule, finding.finding.severity) == (
        "web-mute", "survey_offered", "minor")
    assert "(en)" in finding.finding.evidence

    await queue.record("web-es", TranscriptRole.PATIENT, "quiero hablar con alguien que hable inglés")
    await queue.enqueue_escalation("web-es", "en", Skill.GENERAL, Priority.NORMAL, "patient_request",
                                   patient_language="es")
    await agent_works(operations_console, "web-es", ["Hi, I'm Amy."])
    entries = await queue.transcript("web-es")
    assert entries[-1].text == survey_offer("es"), "the console's close offers the survey in Spanish"
    assert [f.conversation_id for f in await store_of(redis, keys, key_ring).findings(0)] == ["web-mute"]
    _, samples = await scrape(operations_console)
    assert value(samples, "hcb_compliance_checks_total", result="finding", rule="survey_offered",
                 severity="minor") == 1
    assert value(samples, "hcb_compliance_checks_total", result="pass", rule="survey_offered",
                 severity="none") == 1
    assert value(samples, "hcb_compliance_rate", rule="survey_offered") == 0.5


async def test_the_command_reviews_what_the_close_hook_missed_and_the_bot_only_conversations(
    redis: Redis, redis_server: RedisServer, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str
) -> None:
    queue = LiveAgentQueue(redis, key_ring, keys)
    store = ComplianceStore(redis, keys, key_ring)
    reviewer = ConversationReviewer(queue, store, OperationsEvents(redis, keys, key_ring), ComplianceTargets(),
                                    CoverageHours.always_open())
    await queue.record("web-held", TranscriptRole.PATIENT, "hi")
    await queue.enqueue_escalation("web-held", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("web-held", "amy", ["en"])
    closing = await reviewer.before_close("web-held")
    assert closing.facts is not None
    await queue.send_agent_message("web-held", "amy", "Your Metformin is on hold.")
    await queue.close("web-held", "amy", CloseOutcome.CLOSED, survey_offer=survey_offer)
    length = await reviewer.transcript_length("web-held")
    await store.hold_for_review(EpisodeFacts(**dict(closing.facts.to_json(), transcript_to=length,
                                                    closed_at_ms=closing.facts.claimed_at_ms)))
    await queue.record("web-bot", TranscriptRole.PATIENT, "is my refill ready")
    await queue.record("web-bot", TranscriptRole.BOT, "Your lisinopril 10 mg is ready for pickup.")
    environment = dict(os.environ, REDIS_URL=redis_server.url, HANDOFF_DATA_KEYS=key_ring_spec,
                       HANDOFF_AUDIT_KEYS=AUDIT_KEYS, HANDOFF_NAMESPACE=keys.namespace, PYTHONPATH=str(PROJECT_DIR))

    async def run(*arguments: str) -> "subprocess.CompletedProcess[str]":
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "compliance", *arguments],
                                       cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120)

    async def review() -> str:
        done = await run("review", "--since", "2026-01-01", "--idle-minutes", "0")
        assert done.returncode == 0, done.stderr
        return done.stdout

    output = await review()
    assert "reviewed 2 conversations now, 2 findings among them" in output
    assert "phi_to_unverified_patient" in output and "phi_before_verification" in output
    assert "lisinopril" not in output.lower() and "metformin" not in output.lower(), "evidence stays sealed"
    assert "reviewed 0 conversations now" in await review(), "a conversation is reviewed once"
    rules = sorted(finding.finding.rule for finding in await store.findings(0))
    assert rules == ["phi_before_verification", "phi_to_unverified_patient"]
    bad = await run("review", "--since", "last week")
    assert bad.returncode == 2 and "--since must be a date" in bad.stderr
