"""The agent message relay hands a message to the patient's channel only while this process is still wanted.

A socket.io patient closes the page while the relay here waits on the outbox (up to ``RELAY_WAIT_MS``), and the agent
writes right then: the message must wait for the socket the patient comes back on. Delivered to the closed socket's
room, nobody would read it, and the relay's cursor would pass it for good."""

import asyncio

from connectors.agent_relay import AgentMessageRelay
from handoff import LiveAgentQueue, Priority, Skill
from handoff.incidents import IncidentLog
from handoff.transcripts import OutboxMessage

CONVERSATION = "socket-gone"


async def test_a_message_written_after_the_patients_socket_closed_waits_for_the_socket_they_come_back_on(
    queue: LiveAgentQueue, incidents: IncidentLog
) -> None:
    await queue.enqueue_escalation(CONVERSATION, "en", Skill.GENERAL, Priority.NORMAL, "patient_request")
    await queue.claim(CONVERSATION, "amy", ["en"])
    relay = AgentMessageRelay(queue, incidents)
    to_the_closed_socket: list[str] = []
    checks = 0
    closed = asyncio.Event()

    def socket_open() -> bool:
        """Open for the relay's first two checks (starting, then before it reads the outbox); closed from then on."""
        nonlocal checks
        checks += 1
        if checks == 2:
            closed.set()
        return checks <= 2

    async def deliver_to_the_closed_socket(message: OutboxMessage) -> None:
        to_the_closed_socket.append(message.entry.text)

    relay.follow(CONVERSATION, deliver_to_the_closed_socket, socket_open)
    first = relay.running[CONVERSATION]
    await asyncio.wait_for(closed.wait(), 10)
    await queue.send_agent_message(CONVERSATION, "amy", "Are you still there?")
    await asyncio.wait_for(first, 30)
    assert to_the_closed_socket == []

    to_the_new_socket: list[str] = []
    arrived = asyncio.Event()

    async def deliver_to_the_new_socket(message: OutboxMessage) -> None:
        to_the_new_socket.append(message.entry.text)
        arrived.set()

    relay.follow(CONVERSATION, deliver_to_the_new_socket)
    try:
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        await relay.stop()
    assert to_the_new_socket == ["Are you still there?"]
    assert to_the_closed_socket == []
