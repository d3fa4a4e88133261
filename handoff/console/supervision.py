"""The supervisor's overview (every queue, every agent, satisfaction), the conversations agents hold, and the
agents' canned replies."""

import time
from typing import Any

from aiohttp import web

from handoff.assignment import can_take
from handoff.console.api import (
    ASSIGNER_KEY,
    AUDIT_KEY,
    CANNED_REPLIES_KEY,
    CATALOG_KEY,
    DIRECTORY_KEY,
    QUEUE_KEY,
    SESSIONS_KEY,
    SURVEYS_KEY,
    error_response,
)
from handoff.console.auth import permitted_agent, trained_agent
from handoff.held_conversations import held_conversation
from handoff.permissions import Action, allowed
from handoff.presence import PresenceStatus
from handoff.transcripts import now_ms


async def supervision(request: web.Request) -> web.Response:
    """Every routed language's queue with its waiting count and longest wait (and how many wait per priority),
    every agent who takes conversations with presence and load, and satisfaction per agent and queue; no
    conversation content."""
    agent = await permitted_agent(request, Action.VIEW_SUPERVISION)
    await request.app[AUDIT_KEY].record(agent.agent_id, "view_supervision", "-", request.remote)
    queue, now = request.app[QUEUE_KEY], int(time.time() * 1000)
    queues: list[dict[str, Any]] = []
    for language in sorted(language.code for language in request.app[CATALOG_KEY]):
        waiting = await queue.waiting([language])
        since = [conversation.enqueued_at_ms for conversation in waiting if conversation.enqueued_at_ms]
        by_priority: dict[str, int] = {}
        for conversation in waiting:
            priority = conversation.priority.value if conversation.priority else "normal"
            by_priority[priority] = by_priority.get(priority, 0) + 1
        queues.append({"language": language, "waiting": len(waiting), "by_priority": by_priority,
                       "longest_wait_ms": now - min(since) if since else 0})
    loads = await request.app[ASSIGNER_KEY].loads()
    satisfaction = await request.app[SURVEYS_KEY].satisfaction()
    return web.json_response({
        "queues": queues,
        "agents": [load.to_json() for load in loads],
        "satisfaction": [{"subject": item.subject, "ratings": item.count, "mean": item.mean}
                         for item in satisfaction],
    })


async def held_conversations(request: web.Request) -> web.Response:
    """Per agent who may take conversations, those it holds (``handoff.held_conversations``: no message text, no
    patient name), each with the available people a supervisor may reassign it to (its language and skill, current
    training; their load, which does not bind a supervisor). Health facts (skill, crisis): audited, as every read."""
    supervisor = await trained_agent(request, "-", Action.VIEW_SUPERVISION)
    await request.app[AUDIT_KEY].record(supervisor.agent_id, "view_held_conversations", "-", request.remote)
    queue = request.app[QUEUE_KEY]
    valid_days = request.app[SESSIONS_KEY].access.training_valid_days
    members = {agent.agent_id: agent for agent in request.app[DIRECTORY_KEY].agents()
               if allowed(agent.role, Action.CLAIM)}
    loads = await request.app[ASSIGNER_KEY].loads(list(members.values()))
    takers = [load for load in loads if load.presence == PresenceStatus.AVAILABLE
              and members[load.agent_id].training_problem(valid_days) is None]
    agents = []
    for load in loads:
        rows = []
        for conversation in await queue.assigned_to(load.agent_id):
            candidates = [{"agent_id": taker.agent_id, "name": taker.name, "conversations": taker.conversations,
                           "capacity": taker.capacity} for taker in takers
                          if taker.agent_id != load.agent_id and can_take(members[taker.agent_id], conversation)]
            row = (await held_conversation(queue, conversation)).to_json()
            rows.append(dict(row, reassign_to=candidates))
        agents.append({"agent_id": load.agent_id, "name": load.name, "presence": load.presence.value,
                       "capacity": load.capacity, "conversations": rows})
    return web.json_response({"now_ms": now_ms(), "agents": agents})


async def canned_replies(request: web.Request) -> web.Response:
    """The canned replies of ``?language=`` (default: every language the agent speaks), with the agent's name
    filled in, and what is wrong with any file that could not be read."""
    agent = await permitted_agent(request, Action.REPLY)
    language = request.query.get("language")
    if language is not None and language not in agent.languages:
        return error_response(400, f"language must be one the agent speaks: {', '.join(agent.languages)}")
    replies, problems = request.app[CANNED_REPLIES_KEY].for_languages([language] if language else
                                                                      list(agent.languages))
    return web.json_response({"replies": [reply.for_agent(agent.name) for reply in replies], "problems": problems})
