"""A crisis no agent of its language can take also waits in the English queue; one claim takes both."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis

from handoff import (
    AgentDirectory,
    ConversationState,
    InvalidTransition,
    KeyRing,
    KeySpace,
    LiveAgentQueue,
    NotAssignedAgent,
    Priority,
    Skill,
)
from handoff.coverage import CoverageHours
from handoff.models import CrisisFlag
from handoff.staffing import Staffing

TRAINED = date.today() - timedelta(days=10)
CRISIS = CrisisFlag("suicide_self_harm", "quero morrer")


@pytest.fixture
def queue(redis: Redis, key_ring: KeyRing, keys: KeySpace) -> LiveAgentQueue:
    return LiveAgentQueue(redis, key_ring, keys)


async def queued_in(redis: Redis, keys: KeySpace, language: str) -> list[str]:
    return [member.decode() for member in await redis.zrange(keys.queue(language), 0, -1)]


async def pt_crisis(queue: LiveAgentQueue, conversation_id: str) -> None:
    await queue.enqueue_escalation(
        conversation_id, "pt", Skill.BEHAVIORAL_HEALTH, Priority.CRISIS, "crisis_suicide_self_harm", CRISIS, "en"
    )


async def test_the_crisis_waits_at_the_head_of_both_queues(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.enqueue_escalation("en-normal", "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.enqueue_escalation("pt-normal", "pt", Skill.GENERAL, Priority.NORMAL, "language_without_bot_flows")
    await pt_crisis(queue, "pt-crisis")
    assert await queued_in(redis, keys, "pt") == ["pt-crisis", "pt-normal"]
    assert await queued_in(redis, keys, "en") == ["pt-crisis", "en-normal"]
    english = await queue.waiting(["en"])
    head = english[0]
    assert (head.conversation_id, head.language, head.fallback_language) == ("pt-crisis", "pt", "en")
    both = [c.conversation_id for c in await queue.waiting(["pt", "en"])]
    assert both == ["pt-crisis", "en-normal", "pt-normal"], "listed once"
    assert await queue.position("pt-crisis") == 1


@pytest.mark.parametrize("claim_languages", [["en"], ["pt"]])
async def test_a_claim_from_either_queue_takes_it_out_of_both(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace, claim_languages: list[str]
) -> None:
    await pt_crisis(queue, "pt-crisis")
    claimed = await queue.claim("pt-crisis", "first", claim_languages, None)
    assert claimed.state == ConversationState.WITH_AGENT and claimed.fallback_language is None
    assert await queued_in(redis, keys, "pt") == [] and await queued_in(redis, keys, "en") == []
    with pytest.raises(InvalidTransition):
        await queue.claim("pt-crisis", "second", ["pt", "en"], None)


async def test_an_agent_of_neither_language_cannot_claim_it(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await pt_crisis(queue, "pt-crisis")
    with pytest.raises(NotAssignedAgent):
        await queue.claim("pt-crisis", "luis", ["es"], None)
    assert await queued_in(redis, keys, "en") == ["pt-crisis"]


async def test_an_after_hours_conversation_raised_to_crisis_is_no_longer_held(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    await queue.enqueue_escalation("pt-later", "pt", Skill.GENERAL, Priority.NORMAL, "language_without_bot_flows")
    await queue.capture_for_callback("pt-later", 1_900_000_000_000)
    await pt_crisis(queue, "pt-later")
    conversation = await queue.conversation("pt-later")
    assert conversation is not None
    assert (conversation.priority, conversation.reply_after_ms, conversation.fallback_language) == (
        Priority.CRISIS, None, "en"
    )
    assert await queued_in(redis, keys, "en") == ["pt-later"]


async def test_switching_to_english_leaves_one_entry(queue: LiveAgentQueue, redis: Redis, keys: KeySpace) -> None:
    await pt_crisis(queue, "pt-crisis")
    await queue.remember_language("pt-crisis", "en")
    assert await queued_in(redis, keys, "pt") == [] and await queued_in(redis, keys, "en") == ["pt-crisis"]
    conversation = await queue.conversation("pt-crisis")
    assert conversation is not None and conversation.fallback_language is None


def directory(tmp_path: Path, agents: list[dict[str, object]]) -> AgentDirectory:
    path = tmp_path / "agents.yml"
    path.write_text(yaml.safe_dump({"agents": [dict(agent, password_hash="x") for agent in agents]}))
    return AgentDirectory.from_file(path)


def test_staffing_decides_when_english_also_gets_the_crisis(tmp_path: Path) -> None:
    coverage = CoverageHours("UTC", {"pt": {}})
    agents = directory(
        tmp_path,
        [
            {"id": "amy", "role": "nurse", "languages": ["en"], "skills": ["behavioral-health", "nurse"],
             "hipaa_training": TRAINED},
            {"id": "luis", "languages": ["es", "pt"], "skills": ["general"], "hipaa_training": TRAINED},
            {"id": "kim", "languages": ["ko"], "role": "supervisor", "skills": [], "hipaa_training": TRAINED},
            {"id": "vy", "languages": ["vi"], "skills": ["general"], "hipaa_training": date(2000, 1, 1)},
            {"id": "olek", "languages": ["ru"], "skills": ["general"]},
        ],
    )
    staffing = Staffing(coverage, agents)
    assert staffing.crisis_fallback("pt", Skill.GENERAL) == "en", "outside coverage hours"
    assert staffing.crisis_fallback("ru", Skill.BEHAVIORAL_HEALTH) == "en", "nobody speaks Russian"
    assert staffing.crisis_fallback("es", Skill.BEHAVIORAL_HEALTH) == "en", "Luis cannot take a suicide crisis"
    assert staffing.crisis_fallback("es", Skill.GENERAL) is None
    assert staffing.crisis_fallback("ko", Skill.NURSE) is None, "a supervisor takes any skill"
    assert staffing.crisis_fallback("en", Skill.BEHAVIORAL_HEALTH) is None
    assert staffing.crisis_fallback("vi", Skill.GENERAL) == "en", "Vy's HIPAA training lapsed: she cannot claim"
    assert staffing.crisis_fallback("ru", Skill.GENERAL) == "en", "no training on record for Olek"
    assert Staffing(coverage).crisis_fallback("ru", Skill.NURSE) is None, "without a directory, hours decide"
