"""Operations metrics on real Redis: a scripted conversation moves each figure by the right amount, every console
process reports the same figures, and nothing in them names a conversation or carries its words."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from handoff import AgentDirectory, AgentSessions, AuditLog, KeyRing, KeySpace, LiveAgentQueue, Priority, Skill
from handoff.agent_sessions import LoginThrottle
from handoff.console import create_console_app
from handoff.models import CrisisFlag, TranscriptRole
from handoff.operations import OperationsEvents
from handoff.settings import AgentAccess
from tests.conftest import AGENT_PASSWORDS, METRICS_AUTHORIZATION, METRICS_TOKEN
from tests.redis_contents import every_stored_value

PATIENT = "sms:15550107788"
PATIENT_WORDS = "my bill from March says 412 dollars"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def console_on(redis: Redis, key_ring: KeyRing, keys: KeySpace, audit_keys: KeyRing,
                     agents_file: Path, metrics_token: str = METRICS_TOKEN) -> TestClient:
    access = AgentAccess()
    app = create_console_app(
        LiveAgentQueue(redis, key_ring, keys),
        AgentSessions(redis, keys, AgentDirectory.from_file(agents_file), access),
        AuditLog(redis, keys, audit_keys), LoginThrottle(redis, keys, access), metrics_token=metrics_token,
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest_asyncio.fixture
async def consoles(redis: Redis, other_process: Redis, key_ring: KeyRing, keys: KeySpace, audit_keys: KeyRing,
                   agents_file: Path) -> AsyncIterator[tuple[TestClient, TestClient]]:
    """Two console processes' apps, each on its own connection to the same Redis."""
    first = await console_on(redis, key_ring, keys, audit_keys, agents_file)
    second = await console_on(other_process, key_ring, keys, audit_keys, agents_file)
    yield first, second
    await first.close()
    await second.close()


async def scrape(client: TestClient) -> tuple[str, Samples]:
    response = await client.get("/metrics", headers=METRICS_AUTHORIZATION)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples}
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def sign_in(client: TestClient, agent_id: str) -> dict[str, str]:
    response = await client.post("/api/login", json={"agent_id": agent_id, "password": AGENT_PASSWORDS[agent_id]})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_scripted_conversation_moves_each_figure_by_one_and_every_console_reports_the_same(
    consoles: tuple[TestClient, TestClient], redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    first, second = consoles
    queue, events = LiveAgentQueue(redis, key_ring, keys), OperationsEvents(redis, keys, key_ring)
    _, before = await scrape(first)

    await events.conversation_started()
    await queue.record(PATIENT, TranscriptRole.PATIENT, PATIENT_WORDS)
    await events.bot_turn("en")
    result = await queue.enqueue_escalation(PATIENT, "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    await events.escalated(PATIENT, result, "billing_question", "en")
    await events.escalated(PATIENT, result, "billing_question", "en")
    headers = await sign_in(first, "amy")
    assert (await first.post(f"/api/conversations/{PATIENT}/claim", headers=headers)).status == 200
    for text in ("Hi, this is Amy from billing.", "Let me look at that bill."):
        response = await second.post(f"/api/conversations/{PATIENT}/messages", json={"text": text}, headers=headers)
        assert response.status == 201
    response = await first.post(f"/api/conversations/{PATIENT}/close", json={"outcome": "closed"}, headers=headers)
    assert response.status == 200

    text, after = await scrape(first)
    assert text == (await scrape(second))[0], "two console processes report the same figures"
    moved = {key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key, 0.0)}
    en_normal = (("priority", "normal"), ("queue", "en"))
    assert moved[("hcb_conversations_started_total", ())] == 1
    assert moved[("hcb_bot_turns_total", (("language", "en"),))] == 1
    assert moved[("hcb_handoffs_total", (("first", "yes"), ("language", "en"), ("priority", "normal"),
                                         ("queue", "en"), ("reason", "billing_question")))] == 1, "once an episode"
    assert moved[("hcb_queue_wait_seconds_count", en_normal)] == 1
    assert moved[("hcb_first_agent_response_seconds_count", en_normal)] == 1, "the first answer only"
    closed = (("disposition", "none"), ("outcome", "closed"), ("phone_follow_up", "no"), *en_normal)
    assert moved[("hcb_handle_time_seconds_count", tuple(sorted(closed)))] == 1
    assert value(after, "hcb_bot_containment_ratio") == 0.0, "the one conversation was handed to a person"
    assert value(after, "hcb_resolution_without_phone_ratio") == 1.0
    assert value(after, "hcb_compliance_rate", rule="first_agent_response") == 1.0
    assert value(after, "hcb_compliance_rate", rule="phi_to_unverified_patient") == 1.0
    assert ("hcb_csat_answers_total", ()) not in moved


async def test_crisis_escalations_phone_follow_ups_and_crisis_first_response(
    consoles: tuple[TestClient, TestClient], redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    first, _ = consoles
    queue, events = LiveAgentQueue(redis, key_ring, keys), OperationsEvents(redis, keys, key_ring)
    flag = CrisisFlag("overdose_poisoning", "took all my pills")
    await queue.record(PATIENT, TranscriptRole.PATIENT, "I took all my pills")
    await queue.record(PATIENT, TranscriptRole.BOT, "Call or text 988 now, or call 911.")
    result = await queue.enqueue_escalation(PATIENT, "en", Skill.NURSE, Priority.CRISIS,
                                            "crisis_overdose_poisoning", flag)
    await events.escalated(PATIENT, result, "crisis_overdose_poisoning", "en", flag.category)
    await events.crisis_screened("rules", flag.category)
    headers = await sign_in(first, "amy")
    await first.post(f"/api/conversations/{PATIENT}/claim", headers=headers)
    await first.post(f"/api/conversations/{PATIENT}/messages", json={"text": "I'm here with you."}, headers=headers)
    await first.post(f"/api/conversations/{PATIENT}/close",
                     json={"outcome": "closed", "crisis_disposition": "phone_follow_up_done"}, headers=headers)

    _, samples = await scrape(first)
    assert value(samples, "hcb_crisis_escalations_total", category="overdose_poisoning", language="en") == 1
    assert value(samples, "hcb_crisis_screen_hits_total", category="overdose_poisoning", source="rules") == 1
    assert value(samples, "hcb_first_agent_response_seconds_count", priority="crisis", queue="en") == 1
    assert value(samples, "hcb_phone_escalations_total", disposition="phone_follow_up_done") == 1
    assert value(samples, "hcb_resolution_without_phone_ratio") == 0.0
    assert value(samples, "hcb_compliance_rate", rule="crisis_resources_first") == 1.0


async def test_no_label_and_no_stored_event_names_a_conversation_or_carries_its_words(
    consoles: tuple[TestClient, TestClient], redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    first, _ = consoles
    queue, events = LiveAgentQueue(redis, key_ring, keys), OperationsEvents(redis, keys, key_ring)
    await queue.record(PATIENT, TranscriptRole.PATIENT, PATIENT_WORDS)
    result = await queue.enqueue_escalation(PATIENT, "en", Skill.BILLING, Priority.NORMAL, "billing_question")
    # A custom action (or an attacker who controls one) puts the conversation id and the patient's words in the
    # reason and the language: both become "other".
    await events.escalated(PATIENT, result, PATIENT, PATIENT_WORDS)
    await events.bot_turn(PATIENT_WORDS)
    await events.crisis_screened(PATIENT_WORDS, "p-Xy3kQ9")
    headers = await sign_in(first, "amy")
    await first.post(f"/api/conversations/{PATIENT}/claim", headers=headers)
    await first.post(f"/api/conversations/{PATIENT}/messages", json={"text": PATIENT_WORDS}, headers=headers)
    await first.post(f"/api/conversations/{PATIENT}/close", json={"outcome": "closed"}, headers=headers)

    text, samples = await scrape(first)
    labels = {label for (_, pairs) in samples for _, label in pairs}
    assert labels, "the scrape has labelled series"
    assert "other" in labels
    assert all(re.fullmatch(r"[a-z][a-z_-]*|\d+(\.\d+)?|\+Inf", label) for label in labels), labels
    for secret in (PATIENT, "15550107788", PATIENT_WORDS, "p-Xy3kQ9"):
        assert secret not in text
    assert not any("412" in label for label in labels), "the amount is no label (a measured sum, 0.412 s, may be)"
    stored = b"\n".join([*await every_stored_value(redis, keys.operations("*")),
                          *await every_stored_value(redis, keys.operations_once("*"))])
    assert stored, "the events and totals are in Redis"
    for clear in (b"15550107788", PATIENT_WORDS.encode(), b"p-Xy3kQ9", b"billing_question", b"reason", b"other"):
        assert clear not in stored, f"Redis holds {clear!r} in clear"


async def test_an_agents_escalation_to_phone_counts_once_and_lowers_resolution_without_phone(
    consoles: tuple[TestClient, TestClient], redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    first, second = consoles
    queue = LiveAgentQueue(redis, key_ring, keys)
    headers = await sign_in(first, "amy")
    phone = {"number": "+1 (555) 010-7788", "best_time": "today before 6 pm", "note": "wants to talk it through"}
    for patient, escalates in (("web-chat-only", False), (PATIENT, True)):
        await queue.record(patient, TranscriptRole.PATIENT, PATIENT_WORDS)
        await queue.enqueue_escalation(patient, "en", Skill.GENERAL, Priority.NORMAL, "billing_question")
        assert (await first.post(f"/api/conversations/{patient}/claim", headers=headers)).status == 200
        await first.post(f"/api/conversations/{patient}/messages", json={"text": "Hi, this is Amy."}, headers=headers)
        _, before = await scrape(first)
        if escalates:
            for console in (first, second, first):
                response = await console.post(f"/api/conversations/{patient}/phone-callback", json=phone,
                                              headers=headers)
                assert response.status == 201, await response.text()
        response = await first.post(f"/api/conversations/{patient}/close", json={"outcome": "closed"},
                                    headers=headers)
        assert response.status == 200

    text, after = await scrape(first)
    moved = {key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key, 0.0)}
    assert moved[("hcb_phone_escalations_total", (("disposition", "none"),))] == 1, "one callback, asked thrice"
    assert sum(count for (name, _), count in moved.items() if name == "hcb_phone_escalations_total") == 1
    closed = (("disposition", "none"), ("outcome", "closed"), ("phone_follow_up", "yes"), ("priority", "normal"),
              ("queue", "en"))
    assert moved[("hcb_handle_time_seconds_count", closed)] == 1
    assert value(after, "hcb_resolution_without_phone_ratio") == 0.5, "one of the two closed episodes needed a call"
    assert "555" not in text and "7788" not in text, "the callback's number is no label"
    supervisor = await sign_in(first, "sam")
    figures = await (await first.get("/api/dashboard?period=today", headers=supervisor)).json()
    assert figures["counts"]["phone_escalations"] == 1
    [resolution] = [metric for metric in figures["seed_metrics"] if metric["key"] == "resolution_without_phone"]
    assert (resolution["value"], resolution["met"]) == (0.5, False)


async def test_metrics_are_read_only_with_the_metrics_token(
    consoles: tuple[TestClient, TestClient], redis: Redis, keys: KeySpace, key_ring: KeyRing, audit_keys: KeyRing,
    agents_file: Path
) -> None:
    first, _ = consoles
    await OperationsEvents(redis, keys, key_ring).bot_turn("en")
    agent = await sign_in(first, "amy")
    supervisor = await sign_in(first, "sam")
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "}, {"Authorization": METRICS_TOKEN},
                    {"Authorization": f"Basic {METRICS_TOKEN}"}, {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
                    {"Authorization": f"Bearer {METRICS_TOKEN}x"}, {"Authorization": f"bearer {METRICS_TOKEN}"},
                    agent, supervisor):
        response = await first.get("/metrics", headers=headers)
        assert response.status == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "hcb_" not in await response.text()
    assert (await first.get(f"/metrics?token={METRICS_TOKEN}")).status == 401, "a token in a URL ends up in logs"
    assert (await first.get("/metrics", headers=METRICS_AUTHORIZATION)).status == 200

    unset = await console_on(redis, key_ring, keys, audit_keys, agents_file, metrics_token="")
    try:
        for headers in ({}, {"Authorization": "Bearer "}, METRICS_AUTHORIZATION):
            response = await unset.get("/metrics", headers=headers)
            assert response.status == 401 and "set METRICS_TOKEN" in (await response.json())["error"], headers
    finally:
        await unset.close()
