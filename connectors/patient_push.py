"""The patient's push socket: agent messages of the current episode, as they are sent, and our notices in
between (``"from": "bot"``: the agent left and the patient is back in line, see ``handoff.presence``; while the
patient waits, their place in line and estimated wait each time it changes, with ``"queue"``, see
``handoff.waits``); once a person has the conversation, their name (``"agent"``, the display name from the agent
directory and nothing else about them) and, while they type, ``"typing"`` (``handoff.patient_signals``), each with
its notice in the patient's language.

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
from dataclasses import dataclass
from typing import Any, Optional

from sanic.request import Request

from handoff import AgentDirectory, Conversation, ConversationState, LiveAgentQueue
from handoff.incidents import IncidentKind, IncidentLog
from handoff.models import TranscriptRole
from handoff.patient_sessions import PatientSessions
from handoff.patient_signals import TYPING, PatientSignal, PatientSignals
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


@dataclass(frozen=True)
class AgentIntroduction:
    """Who the patient is talking to: the agent's id (never sent) and what the patient is told."""

    agent_id: str
    name: str
    joined: str
    typing: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "joined": self.joined}


class PushRefused(Exception):
    """The socket cannot open; the message says why."""


class AgentMessagePush:
    def __init__(
        self, queue: LiveAgentQueue, sessions: PatientSessions, access: PatientAccess, incidents: IncidentLog,
        catalog: LanguageCatalog, directory: Optional[AgentDirectory] = None,
    ) -> None:
        self.queue = queue
        self.signals = PatientSignals(queue.redis, queue.keys)
        self.directory = directory
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
        agent_told: Optional[str] = None
        try:
            signals_after = await self.signals.latest(sender)
            while await self.sessions.acquire_push_socket(sender, socket_id):
                told = await self._tell_standing(ws, sender, episode, told)
                wait_ms = STANDING_WAIT_MS if told else PUSH_WAIT_MS
                signals_after, signals, outbox_entries = await self.signals.wait(
                    sender, self.queue.keys.outbox(sender, episode), after, signals_after, wait_ms
                )
                try:
                    messages = await self.queue.open_agent_messages(sender, episode, after, outbox_entries)
                except OutboxInterrupted as interrupted:
                    await self._send(ws, sender, interrupted.opened)
                    await self.incidents.raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="patient push",
                                                        conversation=self.queue.pseudonym(sender))
                    await ws.close(code=1011, reason=UNDELIVERABLE)
                    return
                conversation = await self.queue.conversation(sender)
                current = conversation is not None and conversation.episode == episode
                if not messages and not (current and conversation.state in PUSH_STATES):  # type: ignore[union-attr]
                    await ws.close(code=1000, reason="the conversation is back with the bot")
                    return
                agent = self._agent_of(conversation) if current else None
                after = await self._send(ws, sender, messages, agent) or after
                agent_told = await self._tell_agent(ws, sender, episode, agent, agent_told, signals, messages)
                if not await self.sessions.keep_alive(sender):
                    await ws.close(code=1008, reason="the session has ended")
                    return
        finally:
            self.open_sockets -= 1
            await self.sessions.release_push_socket(sender, socket_id)

    @staticmethod
    async def _send(ws: Any, sender: str, messages: list[OutboxMessage],
                    agent: Optional[AgentIntroduction] = None) -> str:
        """Sends the messages (an agent's with the name the patient knows them by); the id of the last one, or ""
        when there were none."""
        for outbox_message in messages:
            role = outbox_message.entry.role
            named = {"agent": agent.to_json()} if agent and role == TranscriptRole.AGENT else {}
            await ws.send(json.dumps({
                "recipient_id": sender,
                "id": outbox_message.message_id,
                "from": role.value,
                "text": outbox_message.entry.text,
                **named,
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

    async def _tell_agent(
        self, ws: Any, sender: str, episode: int, agent: Optional[AgentIntroduction], told: Optional[str],
        signals: list[PatientSignal], messages: list[OutboxMessage],
    ) -> Optional[str]:
        """Once a person has the conversation (or another person), their name, unless their messages just carried
        it; while they type, that they do. Returns the agent the patient was last told of."""
        if agent is None:
            return told
        if messages:
            return agent.agent_id
        if agent.agent_id != told:
            await ws.send(json.dumps({"recipient_id": sender, "from": "bot", "agent": agent.to_json(),
                                      "text": agent.joined}))
        if any(signal.kind == TYPING and signal.agent_id == agent.agent_id and signal.episode == episode
               for signal in signals):
            await ws.send(json.dumps({"recipient_id": sender, "from": "bot", "typing": {"name": agent.name},
                                      "text": agent.typing}))
        return agent.agent_id

    def _agent_of(self, conversation: Optional[Conversation]) -> Optional[AgentIntroduction]:
        """The agent with the conversation, by the name the patient may see (``Agent.patient_name``: the display
        name, nothing else), with the notices in the patient's language; None when no agent we know has it."""
        if conversation is None or conversation.state != ConversationState.WITH_AGENT or self.directory is None:
            return None
        agent = self.directory.get(conversation.agent_id or "")
        if agent is None:
            return None
        name, language = agent.patient_name, conversation.spoken_language or ""
        return AgentIntroduction(agent.agent_id, name, self.catalog.notice(language, "agent_joined", name=name),
                                 self.catalog.notice(language, "agent_typing", name=name))

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
