"""Place in line and estimated wait against a real Redis: every claim records its wait per place in line, and the
estimate is the place times the median of the queue's recent waits (``handoff.waits``)."""

from redis.asyncio import Redis

from handoff import LiveAgentQueue, Priority, Skill
from handoff.queue import RECENT_WAITS_KEPT
from handoff.waits import QueueStanding, standing
from tests.reaping import CATALOG, agent_left

MINUTE_MS = 60_000


async def standing_of(queue: LiveAgentQueue, conversation_id: str) -> QueueStanding | None:
    conversation = await queue.conversation(conversation_id)
    assert conversation is not None
    return await standing(queue, conversation)


async def test_a_claim_records_its_wait_per_place_and_the_estimate_follows_the_line(
    queue: LiveAgentQueue, redis: Redis
) -> None:
    for conversation_id in ("first", "second", "third"):
        await queue.enqueue_escalation(conversation_id, "vi", Skill.GENERAL, Priority.NORMAL, "patient_request")
    assert await standing_of(queue, "third") == QueueStanding(3, None), "no recent wait: the place alone"
    assert CATALOG.notice("vi", "queue_position", position=3) == QueueStanding(3, None).notice(CATALOG, "vi")

    await queue.claim("second", "van", ["vi"])
    claimed = {key.decode(): value.decode() for key, value in
               (await redis.hgetall(queue.keys.conversation("second"))).items()}
    waited_per_place = (int(claimed["claimed_at"]) - int(claimed["enqueued_at"])) // 2
    recorded = [int(sample) for sample in await redis.lrange(queue.keys.recent_waits("vi"), 0, -1)]
    assert len(recorded) == 1 and abs(recorded[0] - waited_per_place) <= 1, "its wait over its place at enqueue"

    await redis.delete(queue.keys.recent_waits("vi"))
    await redis.lpush(queue.keys.recent_waits("vi"), 4 * MINUTE_MS, 1 * MINUTE_MS, 2 * MINUTE_MS)
    assert await standing_of(queue, "third") == QueueStanding(2, 4), "place 2 times the median, 2 min"
    await queue.claim("first", "van", ["vi"])
    assert await standing_of(queue, "third") == QueueStanding(1, 2), "the line moved"
    text = QueueStanding(1, 2).notice(CATALOG, "vi")
    assert "1" in text and "2 phút" in text, "in the patient's language"
    assert await standing_of(queue, "first") is None, "with an agent, no standing"


async def test_a_conversation_sent_back_records_no_wait_and_the_list_keeps_the_newest(
    queue: LiveAgentQueue, redis: Redis
) -> None:
    await queue.enqueue_escalation("back", "ko", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim("back", "kim", ["ko"])
    await queue.requeue("back", "kim", agent_left)
    await queue.claim("back", "lee", ["ko"])
    assert await redis.llen(queue.keys.recent_waits("ko")) == 1, "the first claim only: its place said nothing after"
    for index in range(RECENT_WAITS_KEPT + 5):
        await queue.enqueue_escalation(f"p{index}", "ko", Skill.GENERAL, Priority.NORMAL, "patient_request")
        await queue.claim(f"p{index}", "kim", ["ko"])
    assert await redis.llen(queue.keys.recent_waits("ko")) == RECENT_WAITS_KEPT
