"""The survey at close on the running stack: the patient is offered it on the push socket, a number that is no
rating is re-asked, a rating is stored and thanked, and the bot, not the survey, answers what comes next."""

import asyncio
import json

import aiohttp
from redis.asyncio import Redis

from handoff import LiveAgentQueue
from stack.services import Stack
from tests.e2e.patient_client import AgentClient, Patient, handoff_of, texts
from tests.e2e.test_operations_metrics import scrape
from tests.e2e.training_messages import training_message
from tests.reaping import CATALOG

DEADLINE_SECONDS = 20


async def test_the_patient_is_offered_the_survey_at_close_and_rates_the_agent(
    stack: Stack, http: aiohttp.ClientSession, redis: Redis, stack_queue: LiveAgentQueue, amy: AgentClient
) -> None:
    patient = Patient(http, stack)
    handoff = handoff_of(await patient.say(training_message("en", "request_human")))
    assert handoff is not None
    base = f"/api/conversations/{patient.sender}"
    assert (await amy.call("POST", f"{base}/claim"))[0] == 200
    params = {"sender": patient.conversation_id, "token": handoff["push_token"]}
    async with http.ws_connect(stack.patient_push_url, params=params) as push:
        assert (await amy.call("POST", f"{base}/messages", {"text": "Your referral is approved."}))[0] == 201
        assert (await amy.call("POST", f"{base}/close", {"outcome": "bot"}))[0] == 200
        pushed = [json.loads((await asyncio.wait_for(push.receive(), DEADLINE_SECONDS)).data) for _ in range(2)]
    assert [(m["from"], m["text"]) for m in pushed] == [
        ("agent", "Your referral is approved."), ("bot", CATALOG.notice("en", "survey_offer"))]

    metrics_url = stack.patient_webhook_url.rsplit("/", 1)[0] + "/metrics"
    _, before = await scrape(http, metrics_url)
    assert texts(await patient.say("9")) == [CATALOG.notice("en", "survey_retry")], "re-asked, nothing else"
    assert await redis.hget(stack_queue.keys.conversation(patient.sender), "survey_rating") is None
    assert texts(await patient.say("5")) == [CATALOG.notice("en", "survey_thanks")]
    assert await redis.hget(stack_queue.keys.conversation(patient.sender), "survey_rating") == b"5"
    totals = await redis.hgetall(stack_queue.keys.survey_totals())
    assert int(totals[b"agent:amy:count"]) >= 1 and int(totals[b"queue:en:count"]) >= 1
    _, after_rating = await scrape(http, metrics_url)
    csat = ("hcb_csat_answers_total", frozenset({("score", "5"), ("queue", "en")}))
    assert after_rating.get(csat, 0) - before.get(csat, 0) == 1, "the rating counts once for CSAT, the 9 not at all"
    after = await patient.say(training_message("en", "ask_hours"))
    assert any("Monday to Friday" in text for text in texts(after)), "the bot answers once the survey is done"
