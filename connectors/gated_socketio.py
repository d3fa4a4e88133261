"""Rasa's socket.io channel behind the gate, for the stock ``rasa-webchat`` widget.

The widget asks for a session (``session_request`` with the ``session_id`` it
kept) and sends ``user_uttered`` events; it shows ``bot_uttered`` events. What
changes, invisibly to the widget:

* **The server issues the session id, and it is a credential.** It is
  ``<conversation id>.<session token>`` (the patient session of
  ``handoff.patient_sessions``, the same as the REST channel's). A
  ``session_request`` that presents a live session resumes it; anything else
  (no id, a conversation id alone, a wrong or expired token) gets a new
  conversation, never the one named.
* **A socket speaks only for the session it was given.** Rasa's channel runs
  without ``session_persistence``, so the sender of a ``user_uttered`` is the
  socket itself, whatever ``session_id`` the event carries; the gate maps the
  socket to its conversation. Only the conversation's sockets are in its room,
  which is where its replies and agent messages go.
* Agent messages reach the patient's socket as ``bot_uttered`` from a relay in
  the process that holds the socket (``connectors.agent_relay``): whichever Rasa
  process the patient is connected to, it reads the outbox in Redis.

``GET /webhooks/socketio/chat`` serves a page with the widget, and
``/webhooks/socketio/webchat.js`` the widget itself from the npm package the
set-up installs (``make widget``).
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors.gated_channel import GatedChannel, Refused
from connectors.patient_access import client_address
from connectors.patient_push import PUSH_STATES
from handoff.patient_sessions import PatientAccessError, PatientCredential, Unauthorized
from handoff.spool import STORAGE_ERRORS
from handoff.transcripts import OutboxMessage
from screening import CrisisFinding

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
WIDGET_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "rasa-webchat" / "lib" / "index.js"
SESSION_SEPARATOR = "."
"""Neither a conversation id (``p-`` and URL-safe base64) nor its token's first part contains it."""


@dataclass(frozen=True)
class SocketSession:
    conversation_id: str
    token: str

    @property
    def session_id(self) -> str:
        return f"{self.conversation_id}{SESSION_SEPARATOR}{self.token}"

    @classmethod
    def parse(cls, session_id: Any) -> Optional["SocketSession"]:
        if not isinstance(session_id, str) or len(session_id) > 512:
            return None
        conversation_id, separator, token = session_id.partition(SESSION_SEPARATOR)
        return cls(conversation_id, token) if separator and conversation_id and token else None


class GatedSocketIO(GatedChannel):
    wrapped = SocketIOInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.inner, SocketIOInput)
        self.socket_input: SocketIOInput = self.inner
        self.socket_input.session_persistence = False
        self.sessions_of_sockets: dict[str, SocketSession] = {}

    @property
    def sio(self) -> AsyncServer:
        assert self.socket_input.sio is not None, "the blueprint makes the socket.io server"
        return self.socket_input.sio

    def guard(self, blueprint: Blueprint) -> None:
        namespace = self.socket_input.namespace
        self.sio.on("session_request", self.session_request, namespace=namespace)
        self.sio.on("disconnect", self.disconnect, namespace=namespace)

        @blueprint.route("/chat", methods=["GET"])
        async def chat_page(_: Request) -> HTTPResponse:
            return await response.file(str(STATIC / "webchat.html"), headers={"Cache-Control": "no-store"})

        @blueprint.route("/webchat.js", methods=["GET"])
        async def widget_script(_: Request) -> HTTPResponse:
            if not WIDGET_SCRIPT.is_file():
                return response.json({"error": "the widget is not installed: run `make widget`"}, status=404)
            return await response.file(str(WIDGET_SCRIPT), mime_type="application/javascript")

    async def started(self) -> None:
        """No sweep: agent messages go to sockets, and only the process holding one relays to it."""

    async def session_request(self, sid: str, data: Any) -> None:
        claimed = SocketSession.parse(data.get("session_id") if isinstance(data, dict) else None)
        session = await self._resumed(claimed) if claimed else None
        if session is None:
            session = await self._new_session(sid)
        if session is not None:
            await self._bind(sid, session)

    async def disconnect(self, sid: str) -> None:
        self.sessions_of_sockets.pop(sid, None)

    async def admit(self, message: UserMessage, finding: Optional[CrisisFinding]) -> tuple[str, str]:
        """The conversation of the socket's session; a socket without a live one gets a new conversation."""
        sid = message.sender_id
        session = self.sessions_of_sockets.get(sid)
        if session is not None:
            try:
                await self.services.sessions.authenticate(session.conversation_id, session.token)
            except Unauthorized:
                session = None
            except STORAGE_ERRORS:
                if not self.services.sessions.token_matches(session.conversation_id, session.token):
                    session = None
        if session is None:
            session = await self._new_session(sid)
            if session is None:
                raise Refused("no new conversation can be opened for this socket now")
            await self._bind(sid, session)
        return session.conversation_id, session.conversation_id

    def patient_output(self, message: UserMessage) -> OutputChannel:
        return SocketIOOutput(self.sio, self.socket_input.bot_message_evt)

    async def follow(self, conversation_id: str, recipient: str) -> None:
        """Relays agent messages to the conversation's room while a socket of it is connected here."""
        output = SocketIOOutput(self.sio, self.socket_input.bot_message_evt)

        async def deliver(outbox_message: OutboxMessage) -> None:
            await output.send_text_message(conversation_id, outbox_message.entry.text)

        def connected_here() -> bool:
            return any(session.conversation_id == conversation_id for session in self.sessions_of_sockets.values())

        self.relay.follow(conversation_id, deliver, connected_here)

    async def _resumed(self, claimed: SocketSession) -> Optional[SocketSession]:
        try:
            await self.services.sessions.authenticate(claimed.conversation_id, claimed.token)
        except Unauthorized:
            await self.services.gatekeeper.count_refusal()
            return None
        except STORAGE_ERRORS:
            return claimed if self.services.sessions.token_matches(claimed.conversation_id, claimed.token) else None
        return claimed

    async def _new_session(self, sid: str) -> Optional[SocketSession]:
        """A new conversation for the socket, within its address's limit; None over it."""
        credential: PatientCredential
        try:
            credential = await self.services.sessions.open(self._address(sid))
        except PatientAccessError as refusal:
            logger.warning("socketio.session_refused: %s", refusal)
            return None
        except STORAGE_ERRORS:
            credential = self.services.sessions.mint()
        return SocketSession(credential.conversation_id, credential.token)

    async def _bind(self, sid: str, session: SocketSession) -> None:
        namespace = self.socket_input.namespace
        previous = self.sessions_of_sockets.get(sid)
        if previous is not None and previous.conversation_id != session.conversation_id:
            await self.sio.leave_room(sid, previous.conversation_id, namespace=namespace)
        self.sessions_of_sockets[sid] = session
        await self.sio.enter_room(sid, session.conversation_id, namespace=namespace)
        await self.sio.emit("session_confirm", session.session_id, room=sid, namespace=namespace)
        try:
            conversation = await self.services.queue.conversation(session.conversation_id)
        except STORAGE_ERRORS:
            return
        if conversation is not None and conversation.state in PUSH_STATES:
            await self.follow(session.conversation_id, session.conversation_id)

    def _address(self, sid: str) -> str:
        environ = self.sio.get_environ(sid, namespace=self.socket_input.namespace) or {}
        request = environ.get("sanic.request")
        return client_address(request) if request is not None else "unknown"
