"""The conversation API: the queue, claim, transcript, the agent's own conversations and alerts, replies, close."""

import re

from aiohttp import web

from handoff.console.api import (
    ASSIGNER_KEY,
    AUDIT_KEY,
    CATALOG_KEY,
    CRISIS_ALERTS_KEY,
    QUEUE_KEY,
    SESSIONS_KEY,
    conversation_id_of,
    error_response,
    json_body,
)
from handoff.console.auth import permitted_agent, trained_agent
from handoff.console.dashboard import operations_of, reviewer_of
from handoff.durable_writes import MESSAGE_ID
from handoff.errors import AtCapacity, ConversationNotFound, NotAssignedAgent
from handoff.models import CloseOutcome, CrisisDisposition
from handoff.permissions import Action, allowed
from handoff.settings import MAX_MESSAGE_BYTES
from handoff.surveys import OFFER_NOTICE as SURVEY_OFFER_NOTICE

ALERT_ID = re.compile(r"\d{1,15}(-\d{1,9})?")


async def list_queue(request: web.Request) -> web.Response:
    agent = await permitted_agent(request, Action.VIEW_QUEUE)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_queue", "-", request.remote)
    waiting = await request.app[QUEUE_KEY].waiting(list(agent.languages), agent.claimable_skills)
    return web.json_response(
        {"waiting": [dict(conversation.to_json(), position=index + 1)
                     for index, conversation in enumerate(waiting)]}
    )


async def claim(request: web.Request) -> web.Response:
    """Pull-claim: the agent takes a waiting conversation, within its capacity (as Rocket.Chat refuses a manual take
    beyond an agent's maximum simultaneous chats); a conversation with an open crisis is never refused for capacity.
    A supervisor's take-over is the way past capacity."""
    conversation_id = conversation_id_of(request)
    agent = await trained_agent(request, conversation_id, Action.CLAIM)
    queue = request.app[QUEUE_KEY]
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "claim", conversation_id, request.remote)
    answer_within = request.app[SESSIONS_KEY].access.answer_timeout_seconds
    capacity = request.app[ASSIGNER_KEY].capacity_of(agent)
    try:
        conversation = await queue.claim(conversation_id, agent.agent_id, list(agent.languages),
                                         agent.claimable_skills, audit, answer_within, capacity,
                                         crisis_beyond_capacity=True)
    except AtCapacity:
        return error_response(409, f"you already have {capacity} conversations, your capacity: close or hand one on "
                                   "before you claim another (a crisis can always be claimed)")
    await operations_of(request).claimed(conversation_id)
    return web.json_response({"conversation": conversation.to_json(), "answer_within_seconds": answer_within})


async def acknowledge_crisis(request: web.Request) -> web.Response:
    """The agent who has the conversation (or a supervisor, once escalated) takes responsibility for its crisis."""
    conversation_id = conversation_id_of(request)
    agent = await trained_agent(request, conversation_id, Action.ACKNOWLEDGE_CRISIS)
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "acknowledge_crisis", conversation_id, request.remote)
    await request.app[CRISIS_ALERTS_KEY].acknowledge(conversation_id, agent, audit)
    return web.json_response({"status": "acknowledged"})


async def read_transcript(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    wants_all = request.query.get("episodes") == "all"
    permission = Action.READ_EARLIER_EPISODES if wants_all else Action.READ_TRANSCRIPT
    agent = await trained_agent(request, conversation_id, permission)
    queue = request.app[QUEUE_KEY]
    conversation = await queue.conversation(conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"no conversation {conversation_id!r}")
    if conversation.agent_id != agent.agent_id:
        raise NotAssignedAgent(f"conversation {conversation_id!r} is not assigned to this agent")
    start = request.query.get("from", "0")
    if not start.isdigit() or len(start) > 9:
        return error_response(400, "from must be a transcript entry number (0 or more)")
    episodes = request.query.get("episodes", "current")
    if episodes not in ("current", "all"):
        return error_response(400, "episodes must be 'current' or 'all'")
    first = 0 if episodes == "all" else conversation.transcript_from
    action = "read_earlier_episodes" if episodes == "all" else "read_transcript"
    await request.app[AUDIT_KEY].record(agent.agent_id, action, conversation_id, request.remote)
    entries = await queue.transcript(conversation_id, max(int(start), first))
    shows_evidence = conversation.crisis_category and allowed(agent.role, Action.READ_CRISIS_EVIDENCE)
    evidence = await queue.crisis_evidence(conversation_id) if shows_evidence else None
    pending = await request.app[CRISIS_ALERTS_KEY].unacknowledged([conversation_id])
    return web.json_response(
        {
            "conversation": dict(conversation.to_json(), crisis_evidence=evidence,
                                 crisis_alert_pending=conversation_id in pending),
            "from": max(int(start), first),
            "entries": [entry.to_json() for entry in entries],
        }
    )


async def my_conversations(request: web.Request) -> web.Response:
    """The conversations this agent is working, so a reloaded console picks them up again."""
    agent = await permitted_agent(request, Action.LIST_MINE)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_mine", "-", request.remote)
    assigned = await request.app[QUEUE_KEY].assigned_to(agent.agent_id)
    return web.json_response({"conversations": [conversation.to_json() for conversation in assigned]})


async def crisis_alerts(request: web.Request) -> web.Response:
    """Crisis alerts on the agent's own conversations, each saying whether it was acknowledged; poll with
    ``?after=<last id>``."""
    agent = await permitted_agent(request, Action.VIEW_ALERTS)
    after = request.query.get("after", "0")
    if not ALERT_ID.fullmatch(after):
        return error_response(400, "after must be an alert id such as 1700000000000-0")
    await request.app[AUDIT_KEY].record(agent.agent_id, "read_alerts", "-", request.remote)
    alerts = await request.app[QUEUE_KEY].crisis_alerts(agent.agent_id, after)
    conversations = {conversation for alert in alerts if (conversation := alert.get("conversation"))}
    pending = await request.app[CRISIS_ALERTS_KEY].unacknowledged(conversations)
    return web.json_response(
        {"alerts": [dict(alert, acknowledged=alert["conversation"] not in pending) for alert in alerts]}
    )


async def send_message(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.REPLY, conversation_id)
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error_response(400, "text is required and must be a non-empty string")
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        return error_response(413, f"text exceeds {MAX_MESSAGE_BYTES} bytes")
    client_id = body.get("message_id")
    if client_id is not None and (not isinstance(client_id, str) or not MESSAGE_ID.fullmatch(client_id)):
        return error_response(400, "message_id must be 8-64 characters of letters, digits and _.:-")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "send_message", conversation_id, request.remote)
    message_id = await request.app[QUEUE_KEY].send_agent_message(conversation_id, agent.agent_id, text, audit,
                                                                 client_id or "")
    await operations_of(request).agent_answered(conversation_id)
    return web.json_response({"message_id": message_id}, status=201)


async def close(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.CLOSE, conversation_id)
    body = await json_body(request)
    try:
        outcome = CloseOutcome(body.get("outcome"))
    except ValueError:
        return error_response(400, "outcome must be 'bot' or 'closed'")
    disposition = None
    if body.get("crisis_disposition") is not None:
        try:
            disposition = CrisisDisposition(body["crisis_disposition"])
        except ValueError:
            dispositions = ", ".join(disposition.value for disposition in CrisisDisposition)
            return error_response(400, f"crisis_disposition must be one of {dispositions}")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, f"close_{outcome.value}", conversation_id, request.remote)
    closing = await reviewer_of(request).before_close(conversation_id)
    catalog = request.app[CATALOG_KEY]
    await request.app[QUEUE_KEY].close(conversation_id, agent.agent_id, outcome, disposition, audit,
                                       lambda language: catalog.notice(language, SURVEY_OFFER_NOTICE))
    await closing.after_close(outcome.value, disposition.value if disposition else None)
    return web.json_response({"status": outcome.value})
