"""On the running stack: no health fact in clear in Redis, no PHI in any process's log, and retention.

One crisis and one billing escalation go through the whole system (patient channel, Rasa,
action server, console: claim, read, close); then Redis is read as an attacker would, the
three processes' logs are searched, and the expiries are checked.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest_asyncio
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace, LiveAgentQueue
from handoff.redis_connection import async_redis
from handoff.retention import TRACKER_KEY_PREFIX
from handoff.settings import Retention
from stack.services import SERVICE_NAMES, Stack
from tests.conftest import AGENT_PASSWORDS
from tests.e2e.patient_client import AgentClient, Patient, handoff_of
from tests.e2e.training_messages import training_message
from tests.redis_contents import every_stored_value

CRISIS_WORDS = "I don't want to be here anymore"
BILLING_WORDS = training_message("en", "billing_question")
RETENTION_MS = Retention().ms


@dataclass(frozen=True)
class Escalations:
    crisis: str
    billing: str
    billing_expiries_while_queued: list[int]


async def expiries(redis: Redis, keys: KeySpace, conversation_id: str) -> list[int]:
    return [await redis.pttl(key) for key in
            (keys.conversation(conversation_id), keys.transcript(conversation_id), keys.episodes(conversation_id))]


@pytest_asyncio.fixture(scope="module")
async def escalations(stack: Stack) -> AsyncIterator[Escalations]:
    """A crisis claimed, read and closed; a billing question queued, then closed."""
    keys = KeySpace(stack.config.namespace)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        redis = async_redis(stack.redis_url)
        crisis, billing = Patient(http, stack), Patient(http, stack)
        crisis_handoff = handoff_of(await crisis.say(CRISIS_WORDS))
        assert crisis_handoff is not None and crisis_handoff["reason"] == "crisis_suicide_self_harm"
        billing_handoff = handoff_of(await billing.say(BILLING_WORDS))
        assert billing_handoff is not None and billing_handoff["reason"] == "billing_question"
        queued = await expiries(redis, keys, billing.conversation_id)
        amy = AgentClient(http, stack)
        await amy.login("amy", AGENT_PASSWORDS["amy"])
        for conversation, close in ((crisis.conversation_id, {"outcome": "closed",
                                                              "crisis_disposition": "resources_given_patient_safe"}),
                                    (billing.conversation_id, {"outcome": "closed"})):
            assert (await amy.call("POST", f"/api/conversations/{conversation}/claim"))[0] == 200
            assert (await amy.call("GET", f"/api/conversations/{conversation}/transcript"))[0] == 200
            assert (await amy.call("POST", f"/api/conversations/{conversation}/close", close))[0] == 200
        await redis.close()
        yield Escalations(crisis.conversation_id, billing.conversation_id, queued)


async def test_an_attacker_reading_redis_finds_no_health_fact_or_patient_words(
    escalations: Escalations, redis: Redis, stack: Stack
) -> None:
    stored = []
    for pattern in (f"{{{stack.config.namespace}}}:*", "tracker:*", "lock:*"):
        stored += await every_stored_value(redis, pattern)
    facts = [b"billing_question", b"billing", b"suicide_self_harm", b"behavioral-health", CRISIS_WORDS.encode(),
             BILLING_WORDS.encode(), b"here anymore"]
    assert [fact for fact in facts if any(fact in value for value in stored)] == []


async def test_no_process_logs_a_conversation_id_patient_words_or_a_category_next_to_an_id(
    escalations: Escalations, stack_queue: LiveAgentQueue, stack: Stack
) -> None:
    logs = {name: (stack.log_dir / f"{name}.log").read_text(errors="replace") for name in SERVICE_NAMES}
    for name, log in logs.items():
        for phi in (escalations.crisis, escalations.billing, CRISIS_WORDS, BILLING_WORDS):
            assert phi not in log, f"the {name} log holds {phi!r}"
    crisis = stack_queue.pseudonym(escalations.crisis)
    assert f"crisis.escalated conversation={crisis} category=suicide_self_harm" in logs["rasa"]
    assert f"/api/conversations/{crisis}/claim" in logs["console"]


async def test_closed_conversations_expire_after_the_retention_and_a_queued_one_never(
    escalations: Escalations, redis: Redis, stack: Stack
) -> None:
    assert escalations.billing_expiries_while_queued == [-1, -1, -2]
    keys = KeySpace(stack.config.namespace)
    for conversation_id in (escalations.crisis, escalations.billing):
        assert all(0 < ttl <= RETENTION_MS for ttl in await expiries(redis, keys, conversation_id))
    assert 0 < await redis.ttl(TRACKER_KEY_PREFIX + escalations.billing) <= RETENTION_MS // 1000, "record_exp"


async def test_the_stack_reads_the_health_facts_it_sealed(
    escalations: Escalations, stack: Stack, redis: Redis
) -> None:
    queue = LiveAgentQueue(redis, KeyRing.from_spec(stack.config.data_keys), KeySpace(stack.config.namespace))
    episodes = await queue.closed_episodes(escalations.crisis)
    assert [(record["reason"], record["crisis_category"]) for record in episodes] == [
        ("crisis_suicide_self_harm", "suicide_self_harm")]
