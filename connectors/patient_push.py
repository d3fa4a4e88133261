"""The patient's push socket: agent messages of the current episode, as they are sent, and our notices in
between (``"from": "bot"``: the agent left and the patient is back in line, see ``handoff.presence``; while the
patient waits, their place in line and estimated wait each time it changes, with ``"queue"``, see
``handoff.waits``).

``GET /webhooks/patient/push?sender=<id>&token=<push token>&after=<last message id>``.
The push token comes with the handoff message and belongs to one episode
(escalation to close): it opens nothing once the episode is closed, and the
socket reads only that episode's outbox. Each socket holds a lease in Redis, so
a conversation has at most ``PATIENT_PUSH_SOCKETS_PER_CONVERSATION`` open across
every process, and a process at most ``PATIENT_PUSH_SOCKETS_PER_PROCESS``. An
open socket keeps the patient's session from going idle. An outbox message that does not open at its place
(replayed, moved or forged in Redis, ``handoff.sealed_records``) is never delivered: the socket closes
(1011) and an ``undecryptable_data`` incident is raised.
"""

import json
import re
import uuid
from typing import Any, Optional

from sanic.request import Request

from handoff import ConversationState, LiveAgentQueue
from handoff.incidents import IncidentKind, IncidentLog
from handoff.patient_sessions import PatientSessions
from handoff.settings import PatientAccess
from handoff.transcripts import OutboxInterrupted, OutboxMessage
from handoff.waits import QueueStanding, standing
from languages import LanguageCatalog

SENDER_ID = re.compile(r"[A-Za-z0-9_.:@+-]{1,128}")
MESSAGE_ID = re.compile(r"\d{1,15}(-\d{1,9})?")
PUSH_WAIT_MS = 15_000
STANDING_WAIT_MS = 3_000
"""While the patient waits in line, the socket looks at their place this often."""
PUSH_STATES = (ConversationState.QUEUED, ConversationState.WITH_AGENT)
UNDELIVERABLE = "a message could not be delivered safely; staff have been alerted"


class PushRefused(Exception):
    """The socket cannot open; the message says why."""


class AgentMessagePush:
    def __init__(
        self, queue: LiveAgentQueue, sessions: PatientSessions, access: PatientAccess, incidents: IncidentLog,
        catalog: LanguageCatalog,
    ) -> None:
        self.queue = queue
        self.catalog = catalog
        self.sessions = sessions
        self.access = access
        self.incidents = incidents
        self.open_sockets = 0

    async def serve(self, request: Request, ws: Any) -> None:
        """Agent messages of the current episode, for as long as the episode lasts."""
        sender = request.args.get("sender", "")
        after = request.args.get("after", "0")
        socket_id = uuid.uuid4().hex
        try:
            episode = await self._open_episode(sender, request.args.get("token", ""), after, socket_id)
        except PushRefused as refused:
            await ws.send(json.dumps({"error": str(refused)}))
            await ws.close(code=1008, reason=str(refused)[:100])
            return
        self.open_sockets += 1
        told: Optional[QueueStanding] = None
        try:
            while await self.sessions.acquire_push_socket(sender, socket_id):
                told = await self._tell_standing(ws, sender, episode, told)
                wait_ms = STANDING_WAIT_MS if told else PUSH_WAIT_MS
                try:
                    messages = await self.queue.agent_messages(sender, episode, after, wait_ms)
                except OutboxInterrupted as interrupted:
                    await self._send(ws, sender, interrupted.opened)
                    await self.incidents.raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="patient push",
                                                        conversation=self.queue.pseudonym(sender))
                    await ws.close(code=1011, reason=UNDELIVERABLE)
                    return
                after = await self._send(ws, sender, messages) or after
                conversation = await self.queue.conversation(sender)
                current = conversation is not None and conversation.episode == episode
                if not messages and not (current and conversation.state in PUSH_STATES):  # type: ignore[union-attr]
                    await ws.close(code=1000, reason="the conversation is back with the bot")
                    return
                if not await self.sessions.keep_alive(sender):
                    await ws.close(code=1008, reason="the session has ended")
                    return
        finally:
            self.open_sockets -= 1
            await self.sessions.release_push_socket(sender, socket_id)

    @staticmethod
    async def _send(ws: Any, sender: str, messages: list[OutboxMessage]) -> str:
        """Sends the messages; the id of the last one, or "" when there were none."""
        for outbox_message in messages:
            await ws.send(json.dumps({
                "recipient_id": sender,
                "id": outbox_message.message_id,
                "from": outbox_message.entry.role.value,
                "text": outbox_message.entry.text,
            }))
        return messages[-1].message_id if messages else ""

    async def _tell_standing(self, ws: Any, sender: str, episode: int,
                             told: Optional[QueueStanding]) -> Optional[QueueStanding]:
        """While the patient waits, their place and estimated wait (``handoff.waits``) each time it changes, in
        their language; returns what they were last told (None once no longer waiting)."""
        conversation = await self.queue.conversation(sender)
        if conversation is None or conversation.episode != episode:
            return None
        now = await standing(self.queue, conversation)
        if now is not None and now != told:
            await ws.send(json.dumps({
                "recipient_id": sender,
                "from": "bot",
                "queue": now.to_json(),
                "text": now.notice(self.catalog, conversation.spoken_language or ""),
            }))
        return now

    async def _open_episode(self, sender: str, token: str, after: str, socket_id: str) -> int:
        """The episode the token opens, with this socket's lease taken; raises ``PushRefused``."""
        if not SENDER_ID.fullmatch(sender):
            raise PushRefused("sender must be 1-128 characters of letters, digits and _.:@+-")
        if not MESSAGE_ID.fullmatch(after):
            raise PushRefused("after must be a message id such as 1700000000000-0")
        if self.open_sockets >= self.access.push_sockets_per_process:
            raise PushRefused("too many open push sockets on this server; retry shortly")
        conversation = await self.queue.conversation(sender)
        if conversation is None or conversation.state not in PUSH_STATES:
            raise PushRefused("no conversation with a person is open for this token")
        if not self.sessions.push_token_matches(sender, conversation.episode, token):
            raise PushRefused("missing or wrong push token")
        if not await self.sessions.keep_alive(sender):
            raise PushRefused("the session has ended; start a new conversation")
        if not await self.sessions.acquire_push_socket(sender, socket_id):
            raise PushRefused(f"at most {self.access.push_sockets_per_conversation} push sockets per conversation")
        return conversation.episode
