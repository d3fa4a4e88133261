"""What every gated channel shares: Redis, the patient sessions, the conversation gate and the crisis replayer.

Created lazily, inside the server's event loop, by the channel that owns them
(``connectors.patient_channel.PatientChannel``, ``connectors.gated_channel.GatedChannel``).
"""

import asyncio
import functools
import gc
import logging
from typing import Any, Optional

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationResumed, SlotSet

from connectors.gate import ConversationGate
from connectors.patient_access import PatientGatekeeper
from connectors.patient_push import PUSH_WAIT_MS, AgentMessagePush
from handoff import AgentDirectory, HandoffSettings, KeySpace, LiveAgentQueue
from handoff.agents import AgentDirectoryError
from handoff.audit_intake import AuditIntake
from handoff.background import stop_tasks
from handoff.incidents import CredentialRefusals, IncidentLog
from handoff.patient_sessions import PatientSessions
from handoff.redis_connection import async_redis
from handoff.spool import CrisisReplayer, CrisisSpool
from handoff.staffing import Staffing
from languages import LanguageCatalog
from screening import CrisisScreen

logger = logging.getLogger(__name__)

REDIS_CONNECT_TIMEOUT_SECONDS = 2
"""An unreachable Redis must not hold back a crisis reply for long."""
REDIS_SOCKET_TIMEOUT_SECONDS = PUSH_WAIT_MS / 1000 + 10


@functools.cache
def process_crisis_screen() -> CrisisScreen:
    """The one crisis screen of this process, shared by every channel: the patient channel and the gated
    channels each have their own services, and a screen holds every language's tokenizer and matchers (it is
    stateless: sharing it changes no result)."""
    return CrisisScreen()


@functools.cache
def freeze_the_loaded_process() -> None:
    """Once the server has started (the model loaded), what the process holds is put out of the garbage collector's
    reach (``gc.freeze``): a full collection walked all of it (TensorFlow, spaCy, the model: a heap of over a
    gigabyte) and paused the process 250-300 ms, about once every hundred turns (``make bench``: p99 of one
    conversation). What the process allocates later is collected as before. Once per process (each Sanic worker)."""
    gc.collect()
    gc.freeze()


class GateServices:
    """The handoff services of one channel, created on first use."""

    def __init__(self, redis_url: str, namespace: str, settings: HandoffSettings) -> None:
        self.redis_url = redis_url
        self.keys = KeySpace(namespace)
        self.key_ring = settings.key_ring()
        self.access = settings.patients
        self.incident_response = settings.incidents
        self.retention_ms = settings.retention.ms
        self.replica_acks = settings.replica_acks
        self.metrics_token = settings.metrics_token
        self.catalog = LanguageCatalog.load()
        self.crisis_screen = process_crisis_screen()
        self.coverage = settings.coverage()
        self.directory = _agent_directory(settings)
        self.staffing = Staffing(self.coverage, self.directory, settings.agents.training_valid_days)
        self.spool = CrisisSpool(settings.crisis_spool, self.key_ring, namespace)
        self._queue: Optional[LiveAgentQueue] = None
        self._sessions: Optional[PatientSessions] = None
        self._push: Optional[AgentMessagePush] = None
        self._gatekeeper: Optional[PatientGatekeeper] = None
        self._incidents: Optional[IncidentLog] = None
        self._gate: Optional[ConversationGate] = None
        self._replayer: Optional[CrisisReplayer] = None
        self._replaying: Optional[asyncio.Task[None]] = None

    @property
    def queue(self) -> LiveAgentQueue:
        """Created on first use, inside the server's event loop."""
        if self._queue is None:
            redis = async_redis(
                self.redis_url,
                socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
                socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            )
            self._queue = LiveAgentQueue(redis, self.key_ring, self.keys, self.retention_ms, self.replica_acks)
        return self._queue

    @property
    def sessions(self) -> PatientSessions:
        if self._sessions is None:
            self._sessions = PatientSessions(self.queue.redis, self.keys, self.key_ring, self.access)
        return self._sessions

    @property
    def incidents(self) -> IncidentLog:
        """Incidents this process detects, audited through the intake (``handoff.audit_intake``): a Rasa server
        holds no audit keys."""
        if self._incidents is None:
            self._incidents = IncidentLog(self.queue.redis, self.keys, self.queue.pseudonym,
                                          AuditIntake(self.keys, self.key_ring), self.incident_response)
        return self._incidents

    @property
    def push_sockets(self) -> AgentMessagePush:
        if self._push is None:
            self._push = AgentMessagePush(self.queue, self.sessions, self.access, self.incidents, self.catalog,
                                          self.directory)
        return self._push

    @property
    def gatekeeper(self) -> PatientGatekeeper:
        if self._gatekeeper is None:
            self._gatekeeper = PatientGatekeeper(
                self.sessions, self.access, CredentialRefusals(self.incidents, self.access.unauthorized_per_minute)
            )
        return self._gatekeeper

    @property
    def replayer(self) -> CrisisReplayer:
        if self._replayer is None:
            self._replayer = CrisisReplayer(self.spool, self.queue, self.staffing.crisis_fallback)
        return self._replayer

    @property
    def gate(self) -> ConversationGate:
        if self._gate is None:
            self._gate = ConversationGate(
                self.queue,
                self.catalog,
                self.crisis_screen,
                self.sessions.push_token,
                self.coverage,
                self.staffing,
                self.spool,
                self.replayer,
                AuditIntake(self.keys, self.key_ring),
            )
        return self._gate

    def start_replaying(self) -> None:
        """Crises spooled while Redis was unreachable (by this or an earlier process) reach the queue; once, however
        many channels share these services."""
        if self._replaying is None or self._replaying.done():
            self._replaying = asyncio.ensure_future(self.replayer.run())

    async def stop_replaying(self) -> None:
        await stop_tasks(self._replaying)


def _agent_directory(settings: HandoffSettings) -> Optional[AgentDirectory]:
    """Who can take a crisis; an unreadable directory counts as nobody (crises also go to English)."""
    if settings.agents_file is None:
        return None
    try:
        return AgentDirectory.from_file(settings.agents_file)
    except AgentDirectoryError:
        logger.exception("patient.agent_directory_unreadable: every crisis also goes to the English queue")
        return AgentDirectory([], settings.agents_file if settings.agents_file.exists() else None)


async def prepare_rasa_conversation(
    agent: Agent, conversation_id: str, resume: bool, slots: dict[str, Any], message: UserMessage
) -> None:
    """Sets the slots the gate owns, and resumes a conversation an agent handed back.

    Resuming continues where the bot paused, not afresh, but with no form half
    filled and identity verification lapsed (the gate's slots say so). The handoff action
    paused the conversation before Rasa logged its ``action_listen``; adding it
    back makes the tracker look as if the bot had listened all along, so rules
    apply to the next message as usual.
    """
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(
            conversation_id, message.output_channel, message.metadata
        )
        if resume:
            tracker.update(ConversationResumed())
            tracker.update(ActiveLoop(None))
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        for slot, value in slots.items():
            if tracker.slots.get(slot) is not None and tracker.get_slot(slot) != value:
                tracker.update(SlotSet(slot, value))
        await agent.tracker_store.save(tracker)
