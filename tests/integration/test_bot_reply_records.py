"""The bot's replies reach the transcript, in order, before they reach the patient, whichever way the channel
delivers them: a REST answer holds them until the turn ends, and they go in with the conversation lock's release, in
one round trip; a socket sends each at once, recorded first. The lock's release never lets go of a lock another
process holds, and an entry another process appended meanwhile moves the replies after it. Against a real Redis."""

from collections import Counter
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from redis.asyncio import Redis
from redis.exceptions import LockNotOwnedError

from connectors.rasa_turn import HandoffAwareOutput
from handoff import KeyRing, KeySpace, LiveAgentQueue, TranscriptRole
from tests.integration.conftest import CountingRedis

REPLIES = ["Hello! How can I help?", "We are open 8 to 6.", "Anything else?"]


class SocketOutput(OutputChannel):
    """Sends at once, as a socket does; notes how many transcript entries there were when each reply went out."""

    def __init__(self, queue: LiveAgentQueue, conversation_id: str) -> None:
        self.queue, self.conversation_id = queue, conversation_id
        self.sent: list[tuple[str, int]] = []

    @classmethod
    def name(cls) -> str:
        return "socket"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent.append((message["text"], len(await self.queue.transcript(self.conversation_id))))


async def texts(queue: LiveAgentQueue, conversation_id: str) -> list[str]:
    """The transcript, every entry opened at the place it was sealed for (``MisplacedRecord`` otherwise)."""
    return [entry.text for entry in await queue.transcript(conversation_id)]


async def lock_is_free(redis: Redis, keys: KeySpace, conversation_id: str) -> bool:
    return bool(await redis.lock(keys.gate_lock(conversation_id), timeout=5).acquire(blocking=False))


async def held_turn(queue: LiveAgentQueue, conversation_id: str) -> HandoffAwareOutput:
    output = HandoffAwareOutput(CollectingOutputChannel(), queue, conversation_id)
    for reply in REPLIES:
        await output.send_response(conversation_id, {"text": reply})
    return output


async def test_held_replies_go_in_with_the_release_in_order_in_one_round_trip(
    counting: CountingRedis, redis: Redis, key_ring: KeyRing, keys: KeySpace
) -> None:
    queue = LiveAgentQueue(counting, key_ring, keys)
    async with queue.locked_conversation("turn", 5) as lock:
        await queue.record("turn", TranscriptRole.PATIENT, "hi there")
        output = await held_turn(queue, "turn")
        assert await texts(queue, "turn") == ["hi there"], "held: nothing recorded before the turn ends"
        lock.record_on_release(output.held_replies)
        counting.sent.clear()
    assert counting.sent == Counter({"EVALSHA": 1}), "the replies and the release: one script, one round trip"
    assert await texts(queue, "turn") == ["hi there", *REPLIES]
    assert await lock_is_free(redis, keys, "turn")


async def test_replies_held_when_the_turn_fails_are_recorded_all_the_same(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """Rasa raised after sending replies: the patient may still get them, so they are in the transcript."""
    with pytest.raises(RuntimeError):
        async with queue.locked_conversation("failed-turn", 5) as lock:
            lock.record_on_release((await held_turn(queue, "failed-turn")).held_replies)
            raise RuntimeError("Rasa failed after its replies")
    assert await texts(queue, "failed-turn") == REPLIES
    assert await lock_is_free(redis, keys, "failed-turn")


async def test_held_replies_before_an_escalation_are_recorded_while_the_lock_is_held(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    async with queue.locked_conversation("handing-off", 5) as lock:
        lock.record_on_release((await held_turn(queue, "handing-off")).held_replies)
        await lock.record_held()
        assert await texts(queue, "handing-off") == REPLIES
        assert not await lock_is_free(redis, keys, "handing-off")
        await queue.record("handing-off", TranscriptRole.BOT, "A person will be with you shortly.")
    assert await texts(queue, "handing-off") == [*REPLIES, "A person will be with you shortly."]
    assert await lock_is_free(redis, keys, "handing-off")


async def test_an_entry_another_process_appended_meanwhile_comes_before_the_replies(
    queue: LiveAgentQueue, other_process: Redis, key_ring: KeyRing, keys: KeySpace, redis: Redis
) -> None:
    other_queue = LiveAgentQueue(other_process, key_ring, keys)
    async with queue.locked_conversation("moved", 5) as lock:
        await queue.record("moved", TranscriptRole.PATIENT, "hello")
        lock.record_on_release((await held_turn(queue, "moved")).held_replies)
        await other_queue.record("moved", TranscriptRole.BOT, "written by another process")
    assert await texts(queue, "moved") == ["hello", "written by another process", *REPLIES]
    assert await lock_is_free(redis, keys, "moved")


async def test_a_lock_that_expired_and_was_taken_by_another_is_not_let_go(
    queue: LiveAgentQueue, redis: Redis, keys: KeySpace
) -> None:
    """The turn outlived its lock and another message's routing holds it now: the replies are stored, the other's
    lock stays."""
    with pytest.raises(LockNotOwnedError):
        async with queue.locked_conversation("expired", 5) as lock:
            lock.record_on_release((await held_turn(queue, "expired")).held_replies)
            await redis.set(keys.gate_lock("expired"), "another-routing-token", px=5000)
    assert await texts(queue, "expired") == REPLIES
    assert await redis.get(keys.gate_lock("expired")) == b"another-routing-token"


async def test_replies_to_a_message_sent_again_are_not_held_twice(queue: LiveAgentQueue) -> None:
    """A message sent again whose replies the transcript holds: the patient gets the replies, the transcript keeps
    the first attempt's."""
    collector = CollectingOutputChannel()
    output = HandoffAwareOutput(collector, queue, "answered-before", record_replies=False)
    await output.send_response("answered-before", {"text": REPLIES[0]})
    assert output.held_replies == []
    assert [message["text"] for message in collector.messages] == REPLIES[:1]


async def test_a_socket_reply_is_in_the_transcript_before_it_is_sent(queue: LiveAgentQueue) -> None:
    socket = SocketOutput(queue, "socket-replies")
    output = HandoffAwareOutput(socket, queue, "socket-replies")
    for reply in REPLIES[:2]:
        await output.send_response("socket-replies", {"text": reply})
    assert socket.sent == [(REPLIES[0], 1), (REPLIES[1], 2)]
    assert output.held_replies == []
