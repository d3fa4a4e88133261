"""Metrics on the running stack: scripted patient conversations move the patient channel's and the console's
``/metrics`` by the right amounts, both report the same figures (read from Redis), and neither names a conversation
or repeats a patient's words."""

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from stack.services import Stack
from tests.conftest import METRICS_AUTHORIZATION, METRICS_TOKEN
from tests.e2e.patient_client import Patient, handoff_of
from tests.e2e.training_messages import training_message

CRISIS_WORDS = "I don't want to be here anymore"
AFTER_HOURS_WORDS = "Olá, preciso falar com alguém sobre a minha receita, por favor"


async def scrape(http: aiohttp.ClientSession, url: str) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]],
                                                                           float]]:
    async with http.get(url, headers=METRICS_AUTHORIZATION) as response:
        assert response.status == 200
        text = await response.text()
    return text, {(sample.name, frozenset(sample.labels.items())): sample.value
                  for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_patient_conversations_move_both_metrics_endpoints_alike(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    patient_metrics = stack.patient_webhook_url.rsplit("/", 1)[0] + "/metrics"
    console_metrics = stack.console_url.rstrip("/") + "/metrics"
    for url in (patient_metrics, console_metrics):
        for headers in ({}, {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"}, {"Authorization": METRICS_TOKEN}):
            async with http.get(url, headers=headers) as refused:
                assert refused.status == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer"), url
                assert "hcb_" not in await refused.text()
    _, before = await scrape(http, patient_metrics)

    asks = Patient(http, stack)
    await asks.say(training_message("en", "greet"))
    assert handoff_of(await asks.say(training_message("en", "request_human"))) is not None
    in_crisis = Patient(http, stack)
    crisis = handoff_of(await in_crisis.say(CRISIS_WORDS))
    assert crisis is not None and crisis["priority"] == "crisis"
    after_hours = Patient(http, stack)
    captured = handoff_of(await after_hours.say(AFTER_HOURS_WORDS))
    assert captured is not None and captured["status"] == "after_hours"

    text, after = await scrape(http, patient_metrics)
    assert text == (await scrape(http, console_metrics))[0], "the patient channel and the console agree"

    def moved(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("hcb_conversations_started_total") == 3
    assert moved("hcb_bot_turns_total", language="en") == 2
    assert moved("hcb_handoffs_total", reason="patient_request", queue="en", priority="normal", language="en",
                 first="yes") == 1
    assert moved("hcb_handoffs_total", reason="crisis_suicide_self_harm", queue="en", priority="crisis",
                 language="en", first="yes") == 1
    assert moved("hcb_handoffs_total", reason="language_without_bot_flows", queue="pt", priority="normal",
                 language="pt", first="yes") == 1
    assert moved("hcb_crisis_escalations_total", category="suicide_self_harm", language="en") == 1
    assert moved("hcb_crisis_screen_hits_total", source="rules", category="suicide_self_harm") == 1
    assert moved("hcb_after_hours_captures_total", queue="pt") == 1
    for secret in (asks.conversation_id, in_crisis.conversation_id, after_hours.conversation_id, CRISIS_WORDS,
                   "receita"):
        assert secret not in text
