"""The console's event socket: ``GET /api/events`` (websocket) tells an agent, as it happens, about new tasks in
its queue, conversations given to it or taken away (auto-assignment, transfers, take-overs), new messages in its
conversations and crisis alerts; a supervisor also hears when the escalated crises change, and (``held``) when what
agents hold changes: who holds what, a new message in it, an agent's presence (``/api/supervision/held``).

The first message the client sends is ``{"token": "<bearer token>"}`` (a browser cannot set headers on a
websocket, and a token in the URL would reach access logs). Events carry no message content: a new message is
announced with its conversation and the transcript's length, and the client reads it through the audited
transcript route. The socket ends when the session does (``1008``).

What the socket has told is kept as signatures, not just ids: a conversation that left and came back between two
rounds (transferred to the queue and reassigned to the same agent, sent back and claimed again) has a new
``claimed_at`` or ``requeued_at``, so it is told again. The socket is read all along (the client's pongs and its
close are seen); a round that fails closes it with ``1011`` and the page reconnects and is told the state anew.

A round runs as soon as a change is stored (``handoff.console.wakeups``: the process's one reader of the console
changes stream wakes its sockets), after a short gap so that a burst of changes is told in a few rounds, and
otherwise every ``SAFETY_ROUND_SECONDS``, so that a wake-up lost costs latency, never a change told. The session is
looked at every ``SESSION_CHECK_SECONDS`` whatever happens, and with every round, beside its reads: a round of a
session found revoked tells nothing, and the socket closes.
"""

import asyncio
import contextlib
import json
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any, Optional

from aiohttp import WSMsgType, web

from handoff.agents import Agent
from handoff.console.api import ASSIGNER_KEY, AUDIT_KEY, CRISIS_ALERTS_KEY, DIRECTORY_KEY, QUEUE_KEY, SESSIONS_KEY
from handoff.console.wakeups import WAKEUPS_KEY, add_wakeups
from handoff.console_changes import ConsoleChanges
from handoff.held_conversations import holdings
from handoff.permissions import Action, allowed

logger = logging.getLogger(__name__)

SAFETY_ROUND_SECONDS = 5.0
"""A round this long after the last one even when nothing woke the socket."""
ROUND_GAP_SECONDS = 0.005
"""After a round, changes stored within this long are told together by the next one."""
SESSION_CHECK_SECONDS = 1.0
TOKEN_WAIT_SECONDS = 10.0
OPEN_SOCKETS_KEY: web.AppKey["weakref.WeakSet[web.WebSocketResponse]"] = web.AppKey("event-sockets")
GOING_AWAY = 1001
TRY_AGAIN = 1011


def add_events(app: web.Application) -> None:
    """The route, the reader that wakes the sockets, and on shutdown the open sockets closed ("going away"): the
    pages reconnect to another console process at once instead of holding this one's shutdown until they leave."""
    app[OPEN_SOCKETS_KEY] = weakref.WeakSet()
    app.router.add_get("/api/events", events)
    app.on_shutdown.append(close_event_sockets)  # type: ignore[arg-type]
    queue = app[QUEUE_KEY]
    add_wakeups(app, ConsoleChanges(queue.redis, queue.keys))


async def close_event_sockets(app: web.Application) -> None:
    sockets = app[OPEN_SOCKETS_KEY]
    for socket in list(sockets):
        await socket.close(code=GOING_AWAY, message=b"the console is shutting down")


@dataclass
class Seen:
    """What the agent's socket has told it so far."""

    waiting: Optional[list[tuple[str, Optional[int]]]] = None
    """(conversation, requeued at) in queue order; None until the first round, which always tells the state."""
    mine: Optional[list[tuple[str, Optional[int]]]] = None
    """(conversation, claimed at)."""
    lengths: dict[str, int] = field(default_factory=dict)
    alert_after: str = "0"
    escalated: list[str] = field(default_factory=list)
    held: Optional[list[Any]] = None
    """Every agent's presence and its ``holdings``; None until the first round."""


async def events(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    request.app[OPEN_SOCKETS_KEY].add(socket)
    token = await _token(socket)
    sessions = request.app[SESSIONS_KEY]
    agent = await sessions.agent_for(token) if token else None
    if agent is None or not allowed(agent.role, Action.LIST_MINE):
        await socket.send_json({"error": "send {\"token\": ...} with a live token of an agent who works conversations"})
        await socket.close(code=1008)
        return socket
    await request.app[AUDIT_KEY].record(agent.agent_id, "open_events", "-", request.remote)
    seen = Seen(alert_after=await _newest_alert(request))
    reader = asyncio.create_task(_read_until_closed(socket))
    wakeups = request.app[WAKEUPS_KEY]
    wakeup = wakeups.listen()
    clock = asyncio.get_running_loop().time
    due = clock()
    try:
        while not socket.closed:
            round_due = wakeup.is_set() or clock() >= due
            wakeup.clear()
            live, changes = await asyncio.gather(
                sessions.agent_for(token), _changes(request, agent, seen) if round_due else _nothing()
            )
            if live is None:
                await socket.close(code=1008, message=b"the session has ended")
                break
            for event in changes or []:
                await socket.send_json(event)
            if round_due:
                due = clock() + SAFETY_ROUND_SECONDS
                await asyncio.sleep(ROUND_GAP_SECONDS)
            await _woken(wakeup, min(SESSION_CHECK_SECONDS, due - clock()))
    except ConnectionResetError:
        raise
    except Exception:
        logger.exception("console.events round failed agent=%s", agent.agent_id)
        await socket.close(code=TRY_AGAIN, message=b"reconnect")
    finally:
        reader.cancel()
        wakeups.forget(wakeup)
    return socket


async def _woken(wakeup: asyncio.Event, seconds: float) -> None:
    """Returns when the socket is woken, or after ``seconds``."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wakeup.wait(), max(0.0, seconds))


async def _read_until_closed(socket: web.WebSocketResponse) -> None:
    """Reads (and drops) what the page sends after its token, so that pongs and its close are handled."""
    async for _ in socket:
        pass


async def _token(socket: web.WebSocketResponse) -> str:
    try:
        message = await socket.receive(timeout=TOKEN_WAIT_SECONDS)
    except asyncio.TimeoutError:
        return ""
    if message.type != WSMsgType.TEXT:
        return ""
    try:
        token = json.loads(message.data).get("token")
    except (json.JSONDecodeError, AttributeError):
        return ""
    return token if isinstance(token, str) else ""


async def _newest_alert(request: web.Request) -> str:
    newest = await request.app[QUEUE_KEY].redis.xrevrange(request.app[QUEUE_KEY].keys.crisis_alerts(), count=1)
    return newest[0][0].decode() if newest else "0"


async def _changes(request: web.Request, agent: Agent, seen: Seen) -> list[dict[str, Any]]:
    """What changed since ``seen``, in the order the page applies it; the independent reads run side by side (a
    round waits for two round trips to Redis, not eight). A ``queue`` event names the conversations newly waiting
    (``new``: id and ``requeued_at_ms``, which the round reads anyway); the page reads the queue itself (``GET
    /api/queue``), so a round with a hundred new ones opens none of them (it opened each in full: 5 ms)."""
    queue = request.app[QUEUE_KEY]
    waiting_now, mine, alerts, escalated, held = await asyncio.gather(
        queue.waiting_signatures(list(agent.languages), agent.claimable_skills),
        queue.assigned_to(agent.agent_id),
        queue.crisis_alerts(agent.agent_id, seen.alert_after),
        _escalated(request) if allowed(agent.role, Action.VIEW_ESCALATIONS) else _nothing(),
        _held(request) if allowed(agent.role, Action.VIEW_SUPERVISION) else _nothing(),
    )
    told = set(seen.waiting or [])
    mine_now = [(conversation.conversation_id, conversation.claimed_at_ms) for conversation in mine]
    held_ids = [conversation_id for conversation_id, _ in mine_now]
    lengths = await _transcript_lengths(request, held_ids)
    changes: list[dict[str, Any]] = []
    if waiting_now != seen.waiting:
        seen.waiting = waiting_now
        changes.append({"type": "queue", "waiting": [conversation_id for conversation_id, _ in waiting_now],
                        "new": [{"conversation_id": conversation_id, "requeued_at_ms": requeued_at}
                                for conversation_id, requeued_at in waiting_now
                                if (conversation_id, requeued_at) not in told]})
    if mine_now != seen.mine:
        seen.mine = mine_now
        changes.append({"type": "assignments", "conversations": [conversation.to_json() for conversation in mine]})
    for conversation_id, length in zip(held_ids, lengths, strict=True):
        if length != seen.lengths.get(conversation_id):
            seen.lengths[conversation_id] = length
            changes.append({"type": "conversation_updated", "conversation_id": conversation_id, "entries": length})
    for alert in alerts:
        seen.alert_after = str(alert["id"])
        changes.append({"type": "crisis_alert", "conversation_id": alert["conversation"],
                        "category": alert["category"]})
    if escalated is not None and escalated != seen.escalated:
        seen.escalated = escalated
        changes.append({"type": "escalations", "conversations": escalated})
    if held is not None and held != seen.held:
        seen.held = held
        changes.append({"type": "held"})
    return changes


async def _nothing() -> None:
    """What a read the agent's role does not call for answers."""
    return None


async def _escalated(request: web.Request) -> list[str]:
    return sorted(crisis.conversation_id for crisis in await request.app[CRISIS_ALERTS_KEY].escalated())


async def _transcript_lengths(request: web.Request, conversation_ids: list[str]) -> list[int]:
    queue = request.app[QUEUE_KEY]
    async with queue.redis.pipeline(transaction=False) as pipe:
        for conversation_id in conversation_ids:
            pipe.llen(queue.keys.transcript(conversation_id))
        return [int(length) for length in await pipe.execute()]


async def _held(request: web.Request) -> list[Any]:
    """What the supervisor's list of held conversations shows, in a form cheap to compare: no transcript opened."""
    members = [member for member in request.app[DIRECTORY_KEY].agents() if allowed(member.role, Action.CLAIM)]
    ids = [member.agent_id for member in members]
    statuses = await request.app[ASSIGNER_KEY].presence.status_of(ids)
    return [sorted(statuses.items()), await holdings(request.app[QUEUE_KEY], ids)]
