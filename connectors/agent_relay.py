"""Delivers agent messages from a conversation's outbox to the patient's channel, once each, in order.

The console writes an agent's message to the episode's outbox in Redis (see
``handoff.transcripts``); a relay reads it and hands it to the channel
(a Twilio SMS, a ``bot_uttered`` event on the patient's socket). One relay per
conversation across every Rasa process: it holds a lease in Redis while it
runs, and it keeps the id of the last message delivered (the cursor) in Redis,
so a relay started by another process, or after a reconnect, goes on where the
last one stopped and never sends a message twice. A message whose delivery
fails is tried again; the cursor moves only past a delivered one. An outbox
message that does not open at its place (moved, replayed or forged in Redis) is
never delivered: the messages before it are, the relay stops and an
``undecryptable_data`` incident is raised.
"""

import asyncio
import logging
import uuid
from typing import Awaitable, Callable, Optional

from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from connectors.patient_push import PUSH_STATES
from handoff import LiveAgentQueue
from handoff.background import stop_tasks
from handoff.incidents import IncidentKind, IncidentLog
from handoff.spool import STORAGE_ERRORS
from handoff.transcripts import OutboxInterrupted, OutboxMessage

logger = logging.getLogger(__name__)

RELAY_LEASE_SECONDS = 30
RELAY_WAIT_MS = 5_000
RETRY_SECONDS = 2.0
CURSOR_SECONDS = 24 * 3600
"""The cursor outlives the episode's outbox (kept 10 minutes after close) by far, and then expires."""

Deliver = Callable[[OutboxMessage], Awaitable[None]]
StillWanted = Callable[[], bool]
Finished = Callable[[], Awaitable[None]]


class AgentMessageRelay:
    """Runs, in this process, the relays of the conversations it was asked to follow."""

    def __init__(self, queue: LiveAgentQueue, incidents: IncidentLog) -> None:
        self.queue = queue
        self.incidents = incidents
        self.running: dict[str, asyncio.Task[None]] = {}

    def follow(self, conversation_id: str, deliver: Deliver, wanted: StillWanted = lambda: True,
               finished: Optional[Finished] = None) -> None:
        """Starts the conversation's relay here unless one already runs in this process.

        ``wanted``: False once this process should stop trying (the patient's
        last socket here closed). The relay ends by itself when the
        conversation is back with the bot and every agent message is delivered;
        then ``finished`` runs, still under the lease.
        """
        task = self.running.get(conversation_id)
        if task is not None and not task.done():
            return
        self.running[conversation_id] = asyncio.ensure_future(
            self._relay(conversation_id, deliver, wanted, finished)
        )

    async def stop(self) -> None:
        running, self.running = list(self.running.values()), {}
        await stop_tasks(*running)

    async def _relay(self, conversation_id: str, deliver: Deliver, wanted: StillWanted,
                     finished: Optional[Finished]) -> None:
        lease = Lock(self.queue.redis, self.queue.keys.relay_lease(conversation_id), timeout=RELAY_LEASE_SECONDS,
                     blocking=False, thread_local=False)
        try:
            while wanted():
                try:
                    if not await lease.acquire(token=uuid.uuid4().hex):
                        await asyncio.sleep(RETRY_SECONDS)
                        continue
                    try:
                        if await self._deliver_while_open(conversation_id, deliver, wanted, lease) and finished:
                            await finished()
                        return
                    finally:
                        await _release(lease)
                except (*STORAGE_ERRORS, LockError) as error:
                    logger.warning("relay.storage_error conversation=%s: %s",
                                   self.queue.pseudonym(conversation_id), error)
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            if self.running.get(conversation_id) is asyncio.current_task():
                del self.running[conversation_id]

    async def _deliver_while_open(self, conversation_id: str, deliver: Deliver, wanted: StillWanted,
                                  lease: Lock) -> bool:
        """Delivers until the conversation is back with the bot (or closed) and nothing is left to send (True), or
        until this process is no longer wanted (False)."""
        while wanted():
            conversation = await self.queue.conversation(conversation_id)
            if conversation is None:
                return True
            cursor_key = self.queue.keys.relay_cursor(conversation_id, conversation.episode)
            cursor = (await self.queue.redis.get(cursor_key) or b"0").decode()
            try:
                messages = await self.queue.agent_messages(conversation_id, conversation.episode, cursor,
                                                           RELAY_WAIT_MS)
            except OutboxInterrupted as interrupted:
                await self._deliver_in_order(conversation_id, deliver, wanted, interrupted.opened, cursor_key)
                await self.incidents.raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="agent message relay",
                                                    conversation=self.queue.pseudonym(conversation_id))
                return True
            await self._deliver_in_order(conversation_id, deliver, wanted, messages, cursor_key)
            await lease.reacquire()
            if not messages and conversation.state not in PUSH_STATES:
                return True
        return False

    async def _deliver_in_order(self, conversation_id: str, deliver: Deliver, wanted: StillWanted,
                                messages: list[OutboxMessage], cursor_key: str) -> None:
        """Delivers until one fails (it is tried again on the next read); the cursor follows each delivered one.

        Stops, leaving the rest undelivered, once this process is no longer wanted: a message that arrives while the
        relay waits on the outbox after the patient's socket here closed is for the socket the patient comes back on
        (sent to the closed one's room, nobody would read it, and the cursor would pass it)."""
        for message in messages:
            if not wanted() or not await self._delivered(conversation_id, deliver, message):
                return
            await self.queue.redis.set(cursor_key, message.message_id, ex=CURSOR_SECONDS)

    async def _delivered(self, conversation_id: str, deliver: Deliver, message: OutboxMessage) -> bool:
        try:
            await deliver(message)
        except Exception:
            logger.exception("relay.delivery_failed conversation=%s (tried again)",
                             self.queue.pseudonym(conversation_id))
            await asyncio.sleep(RETRY_SECONDS)
            return False
        return True


async def _release(lease: Lock) -> None:
    try:
        await lease.release()
    except LockError:
        return

