"""The bot's replies reach the transcript, in order, before they reach the patient, whichever way the channel
delivers them: a REST answer (held until the turn ends: recorded while Rasa finishes its turn) or a socket (sent at
once: recorded first). Against a real Redis."""

from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from connectors.rasa_turn import HandoffAwareOutput
from handoff import KeyRing, KeySpace, LiveAgentQueue, TranscriptRole
from handoff.redis_connection import async_redis
from stack.services import free_port

REPLIES = ["Hello! How can I help?", "We are open 8 to 6.", "Anything else?", "Take care."]


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


async def test_replies_held_until_the_turn_ends_are_all_recorded_in_order_when_the_turn_ends(
    queue: LiveAgentQueue,
) -> None:
    await queue.record("held-replies", TranscriptRole.PATIENT, "hi there")
    collector = CollectingOutputChannel()
    output = HandoffAwareOutput(collector, queue, "held-replies")
    for reply in REPLIES:
        await output.send_response("held-replies", {"text": reply})
    await output.recorded()
    transcript = await queue.transcript("held-replies")
    assert [(entry.role, entry.text) for entry in transcript] == [
        (TranscriptRole.PATIENT, "hi there"), *((TranscriptRole.BOT, reply) for reply in REPLIES)
    ]
    assert [message["text"] for message in collector.messages] == REPLIES


async def test_a_reply_sent_again_is_not_recorded_twice(queue: LiveAgentQueue) -> None:
    """A message sent again whose replies the transcript holds: the patient gets the replies, the transcript keeps
    the first attempt's."""
    collector = CollectingOutputChannel()
    output = HandoffAwareOutput(collector, queue, "answered-before", record_replies=False)
    await output.send_response("answered-before", {"text": REPLIES[0]})
    await output.recorded()
    assert await queue.transcript("answered-before") == []
    assert [message["text"] for message in collector.messages] == REPLIES[:1]


async def test_a_socket_reply_is_in_the_transcript_before_it_is_sent(queue: LiveAgentQueue) -> None:
    socket = SocketOutput(queue, "socket-replies")
    output = HandoffAwareOutput(socket, queue, "socket-replies")
    for reply in REPLIES[:2]:
        await output.send_response("socket-replies", {"text": reply})
    assert socket.sent == [(REPLIES[0], 1), (REPLIES[1], 2)]


async def test_a_reply_that_cannot_be_recorded_fails_the_turn(key_ring: KeyRing, keys: KeySpace) -> None:
    """Redis gone mid-turn: waiting for the records raises, so the gate answers 503 and the held replies never
    reach the patient unrecorded."""
    unreachable: Redis = async_redis(f"redis://127.0.0.1:{free_port()}/0")
    queue = LiveAgentQueue(unreachable, key_ring, keys)
    output = HandoffAwareOutput(CollectingOutputChannel(), queue, "redis-gone")
    try:
        for reply in REPLIES[:2]:
            await output.send_response("redis-gone", {"text": reply})
        with pytest.raises(RedisConnectionError):
            await output.recorded()
    finally:
        await unreachable.close()
