"""The satisfaction survey at close against a real Redis: offered in the patient's language on the push path,
answered with a digit or the localized word, stored per conversation, agent and queue; a number that is no rating
is re-asked and changes nothing; anything else, or a new escalation, withdraws it; a crisis episode gets none."""

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from handoff import AuditLog, CloseOutcome, KeySpace, LiveAgentQueue, Priority, Skill, TranscriptRole
from handoff.models import CrisisDisposition, CrisisFlag
from handoff.surveys import Satisfaction, Surveys
from tests.console_clients import console_app, sign_in
from tests.reaping import CATALOG


async def closed_by_console(queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path,
                            conversation_id: str, language: str, agent_id: str) -> None:
    """The conversation escalated in ``language``, claimed, answered and closed through the console API."""
    await queue.enqueue_escalation(conversation_id, language, Skill.GENERAL, Priority.NORMAL, "patient_request")
    async with TestClient(TestServer(console_app(queue, audit, redis, keys, agents_file))) as client:
        headers = await sign_in(client, agent_id)
        base = f"/api/conversations/{conversation_id}"
        assert (await client.post(f"{base}/claim", headers=headers)).status == 200
        assert (await client.post(f"{base}/messages", headers=headers, json={"text": "Listo."})).status == 201
        assert (await client.post(f"{base}/close", headers=headers, json={"outcome": "bot"})).status == 200


async def test_the_patient_rates_in_their_language_and_bad_numbers_are_re_asked_changing_nothing(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    await closed_by_console(queue, audit, redis, keys, agents_file, "p1", "es", "luis")
    conversation = await queue.conversation("p1")
    assert conversation is not None
    offer = CATALOG.notice("es", "survey_offer")
    pushed = [(m.entry.role, m.entry.text) for m in await queue.agent_messages("p1", conversation.episode)]
    assert pushed == [(TranscriptRole.AGENT, "Listo."), (TranscriptRole.BOT, offer)], "offered on the push path"
    assert (await queue.transcript("p1"))[-1].text == offer and conversation.transcript_from == 2

    surveys = Surveys(queue, CATALOG, audit)
    before = await redis.hgetall(keys.conversation("p1"))
    for miss in ("0", "6", "10", "4.5", "-1", " 7 ", "3,5"):
        assert await surveys.answer("p1", miss, "es") == CATALOG.notice("es", "survey_retry"), miss
    assert await redis.hgetall(keys.conversation("p1")) == before, "a miss changes nothing"
    assert await surveys.satisfaction() == []

    assert await surveys.answer("p1", "¡Cuatro!", "es") == CATALOG.notice("es", "survey_thanks")
    stored = await redis.hgetall(keys.conversation("p1"))
    assert (stored[b"survey_rating"], stored[b"survey_rated_episode"]) == (b"4", b"1")
    assert await surveys.satisfaction() == [Satisfaction("agent:luis", 1, 4.0), Satisfaction("queue:es", 1, 4.0)]
    assert await surveys.answer("p1", "5", "es") is None, "answered once; the next message goes on as usual"
    assert [(e.actor, e.action, e.conversation) for e in await audit.entries() if e.action == "survey_answered"] == [
        ("patient", "survey_answered", "p1")]


async def test_any_other_message_or_a_new_escalation_withdraws_the_survey_and_a_crisis_gets_none(
    queue: LiveAgentQueue, audit: AuditLog, redis: Redis, keys: KeySpace, agents_file: Path
) -> None:
    surveys = Surveys(queue, CATALOG, audit)
    for conversation_id in ("moves-on", "escalates"):
        await closed_by_console(queue, audit, redis, keys, agents_file, conversation_id, "en", "amy")
    assert await surveys.answer("moves-on", "what are your hours", "en") is None
    assert await surveys.answer("moves-on", "5", "en") is None, "withdrawn: nothing waits for a rating"
    await queue.enqueue_escalation("escalates", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await surveys.answer("escalates", "5", "en") is None
    assert await surveys.satisfaction() == []

    await queue.enqueue_escalation("crisis", "en", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm",
                                   CrisisFlag("suicide_self_harm", "I want to end my life"))
    await queue.claim("crisis", "amy", ["en"])
    await queue.close("crisis", "amy", CloseOutcome.CLOSED, CrisisDisposition.RESOURCES_GIVEN_PATIENT_SAFE,
                      survey_offer=lambda language: CATALOG.notice(language, "survey_offer"))
    assert await queue.transcript("crisis") == [], "no survey after a crisis"
    assert await surveys.answer("crisis", "5", "en") is None


def test_ratings_in_every_script_and_language(queue: LiveAgentQueue) -> None:
    surveys = Surveys(queue, CATALOG)
    answers = {("\u0665", "ar"): 5, ("\uff15", "zh"): 5, ("五", "zh"): 5, ("3.", "en"): 3, ("Three", "en"): 3,
               ("ba", "vi"): 3, ("다섯", "ko"): 5, ("quatre", "fr"): 4, ("dalawa", "tl"): 2, ("пять", "ru"): 5,
               ("kat", "ht"): 4, ("dois", "pt"): 2, ("seven", "en"): None, ("45", "en"): None, ("", "en"): None,
               ("-1", "en"): None, ("+5", "en"): None, ("5!", "en"): 5}
    for (text, language), rating in answers.items():
        assert surveys.rating_of(text, [language]) == rating, (text, language)
    for language in CATALOG:
        words = CATALOG.notice(language.code, "survey_words").split(",")
        assert len(words) == 5 and len(set(words)) == 5, language.code
