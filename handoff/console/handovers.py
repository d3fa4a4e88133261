"""The handover API: transfer, a supervisor's reassignment and take-over, internal notes, escalation to phone and
the supervisors' callback list (``handoff.handovers``)."""

import json
import re
from typing import Any, Optional

from aiohttp import web

from handoff.agents import Agent
from handoff.console.api import (
    ASSIGNER_KEY,
    AUDIT_KEY,
    CATALOG_KEY,
    DIRECTORY_KEY,
    HANDOVERS_KEY,
    QUEUE_KEY,
    SESSIONS_KEY,
    conversation_id_of,
    error_response,
    json_body,
)
from handoff.console.auth import permitted_agent, trained_agent
from handoff.errors import ConversationNotFound, InvalidTransition, NotAssignedAgent
from handoff.handovers import Target
from handoff.models import Conversation, ConversationState, Skill
from handoff.permissions import Action, allowed
from handoff.presence import PresenceStatus

MAX_NOTE_CHARACTERS = 2000
MAX_BEST_TIME_CHARACTERS = 100
PHONE_NUMBER = re.compile(r"\+?[0-9][0-9 ().-]{5,23}")
PHONE_DIGITS = range(7, 16)
"""A number as people write it (E.164 allows 15 digits at most; 7 is a local number without its area code)."""


class BadRequest(web.HTTPBadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(text=json.dumps({"error": message}), content_type="application/json")


def note_of(body: dict[str, Any], required: bool = False, name: str = "note") -> str:
    note = body.get(name, "")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARACTERS or (required and not note.strip()):
        need = "a non-empty string" if required else "a string"
        raise BadRequest(f"{name} must be {need} of at most {MAX_NOTE_CHARACTERS} characters")
    return note.strip()


async def transfer(request: web.Request) -> web.Response:
    """The agent hands its conversation on: ``{"agent_id": ...}`` to a named person who is available, or
    ``{"language": ..., "skill": ...}`` (either or both) to the head of that queue; ``note`` for the next person."""
    conversation_id = conversation_id_of(request)
    agent = await trained_agent(request, conversation_id, Action.TRANSFER)
    body = await json_body(request)
    note = note_of(body)
    conversation = await _conversation(request, conversation_id)
    handovers = request.app[HANDOVERS_KEY]
    if "agent_id" in body:
        target = await _available_target(request, body["agent_id"])
        capacity = request.app[ASSIGNER_KEY].capacity_of(target)
        audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "transfer_to_agent", conversation_id, target.agent_id)
        moved = await handovers.reassign(conversation_id, agent.agent_id, _target(target, capacity), agent.agent_id,
                                         note, audit)
        return web.json_response({"conversation": moved.to_json()})
    if "language" not in body and "skill" not in body:
        return error_response(400, "say where to: agent_id, or language and/or skill")
    language = body.get("language", conversation.language)
    if not isinstance(language, str) or request.app[CATALOG_KEY].get(language) is None:
        return error_response(400, "language must be the code of a language the system routes, such as en or es")
    try:
        skill = Skill(body.get("skill", conversation.skill.value if conversation.skill else None))
    except ValueError:
        return error_response(400, f"skill must be one of {', '.join(skill.value for skill in Skill)}")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "transfer_to_queue", conversation_id,
                                           f"{language}/{skill.value}")
    moved = await handovers.transfer_to_queue(conversation_id, agent.agent_id, language, skill, note, audit)
    return web.json_response({"conversation": moved.to_json()})


async def reassign(request: web.Request) -> web.Response:
    """A supervisor gives the conversation, waiting or with an agent, to the named person (``agent_id``), who must
    be available; capacity does not bind a supervisor. ``from_agent_id``: the holder the supervisor saw (the list of
    held conversations sends it); if another has it by now, nothing is done (409)."""
    conversation_id = conversation_id_of(request)
    supervisor = await trained_agent(request, conversation_id, Action.REASSIGN)
    body = await json_body(request)
    note, holder = note_of(body), _holder_of(body)
    target = await _available_target(request, body.get("agent_id"))
    return await _hand_to(request, conversation_id, supervisor, target, note, "reassign", holder)


async def take_over(request: web.Request) -> web.Response:
    """A supervisor takes the conversation, waiting or with an agent, into its own hands (``from_agent_id`` as for a
    reassignment)."""
    conversation_id = conversation_id_of(request)
    supervisor = await trained_agent(request, conversation_id, Action.REASSIGN)
    body = await json_body(request) if request.can_read_body else {}
    return await _hand_to(request, conversation_id, supervisor, supervisor, note_of(body), "take_over",
                          _holder_of(body))


async def add_note(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.ADD_NOTE, conversation_id)
    text = note_of(await json_body(request), required=True, name="text")
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "add_note", conversation_id, request.remote)
    await request.app[HANDOVERS_KEY].add_note(conversation_id, agent.agent_id, text, audit)
    return web.json_response({"status": "noted"}, status=201)


async def escalate_to_phone(request: web.Request) -> web.Response:
    """"Escalate to phone": the callback task (``number``, ``best_time``, optional ``note``) supervisors see."""
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.ESCALATE_TO_PHONE, conversation_id)
    body = await json_body(request)
    number, best_time = body.get("number"), body.get("best_time")
    digits = sum(character.isdigit() for character in number) if isinstance(number, str) else 0
    if not isinstance(number, str) or not PHONE_NUMBER.fullmatch(number.strip()) or digits not in PHONE_DIGITS:
        return error_response(400, "number must be a phone number of 7 to 15 digits, such as +1 555 123 4567")
    if not isinstance(best_time, str) or not best_time.strip() or len(best_time) > MAX_BEST_TIME_CHARACTERS:
        return error_response(400, f"best_time must say when to call, in at most {MAX_BEST_TIME_CHARACTERS} "
                                   "characters (weekdays after 5 pm)")
    note = note_of(body)
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "escalate_to_phone", conversation_id, request.remote)
    await request.app[HANDOVERS_KEY].escalate_to_phone(conversation_id, agent.agent_id, number.strip(),
                                                       best_time.strip(), note, audit)
    return web.json_response({"status": "callback recorded"}, status=201)


async def list_callbacks(request: web.Request) -> web.Response:
    agent = await permitted_agent(request, Action.VIEW_CALLBACKS)
    await request.app[AUDIT_KEY].record(agent.agent_id, "list_callbacks", "-", request.remote)
    callbacks = await request.app[HANDOVERS_KEY].phone_callbacks()
    return web.json_response({"callbacks": [callback.to_json() for callback in callbacks]})


async def callback_done(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.VIEW_CALLBACKS, conversation_id)
    audit = request.app[AUDIT_KEY].prepare(agent.agent_id, "callback_done", conversation_id, request.remote)
    await request.app[HANDOVERS_KEY].callback_done(conversation_id, audit)
    return web.json_response({"status": "done"})


def _holder_of(body: dict[str, Any]) -> Optional[str]:
    holder = body.get("from_agent_id")
    if holder is not None and not isinstance(holder, str):
        raise BadRequest("from_agent_id must be the id of the agent who holds the conversation")
    return holder


async def _hand_to(request: web.Request, conversation_id: str, supervisor: Agent, target: Agent, note: str,
                   action: str, holder: Optional[str]) -> web.Response:
    """With ``holder``, only from that agent, checked in the same step as the change."""
    conversation = await _conversation(request, conversation_id)
    if holder is not None and (conversation.state, conversation.agent_id) != (ConversationState.WITH_AGENT, holder):
        raise _moved_on(conversation_id, holder)
    audit = request.app[AUDIT_KEY].prepare(supervisor.agent_id, action, conversation_id, target.agent_id)
    if conversation.state == ConversationState.QUEUED:
        access = request.app[SESSIONS_KEY].access
        try:
            moved = await request.app[QUEUE_KEY].claim(conversation_id, target.agent_id, list(target.languages),
                                                       target.claimable_skills, audit, access.answer_timeout_seconds)
        except NotAssignedAgent as unqualified:
            raise _cannot_take(target, unqualified) from unqualified
        if note:
            await request.app[HANDOVERS_KEY].add_note(conversation_id, target.agent_id, note, {}, supervisor.agent_id)
        return web.json_response({"conversation": moved.to_json()})
    if conversation.state != ConversationState.WITH_AGENT or conversation.agent_id is None:
        raise InvalidTransition(f"conversation {conversation_id!r} is neither waiting nor with an agent")
    try:
        moved = await request.app[HANDOVERS_KEY].reassign(conversation_id, conversation.agent_id,
                                                          _target(target, None), supervisor.agent_id, note, audit)
    except NotAssignedAgent as refused:
        now = await _conversation(request, conversation_id)
        if (now.state, now.agent_id, now.episode) != (conversation.state, conversation.agent_id, conversation.episode):
            raise _moved_on(conversation_id, conversation.agent_id) from refused
        raise _cannot_take(target, refused) from refused
    return web.json_response({"conversation": moved.to_json()})


def _cannot_take(target: Agent, refused: NotAssignedAgent) -> InvalidTransition:
    """The person the supervisor named lacks the conversation's language or skill: a 409 (the supervisor may do
    this, but not with this person), never the 403 that would say the supervisor may not."""
    return InvalidTransition(f"{target.agent_id} cannot take it ({refused}): nothing was done, choose someone with "
                             "the conversation's language and skill")


def _moved_on(conversation_id: str, holder: str) -> InvalidTransition:
    """The conversation left the holder the supervisor acted for (a race with another change): a 409."""
    return InvalidTransition(f"conversation {conversation_id!r} is no longer with {holder}: nothing was done, look "
                             "again")


async def _conversation(request: web.Request, conversation_id: str) -> Conversation:
    conversation = await request.app[QUEUE_KEY].conversation(conversation_id)
    if conversation is None:
        raise ConversationNotFound(f"no conversation {conversation_id!r}")
    return conversation


async def _available_target(request: web.Request, agent_id: Any) -> Agent:
    """The named person, if the directory has it, it may take conversations with current training, and it is
    available; else an HTTP 400 or 409 that says why."""
    target: Optional[Agent] = request.app[DIRECTORY_KEY].get(agent_id) if isinstance(agent_id, str) else None
    valid_days = request.app[SESSIONS_KEY].access.training_valid_days
    if target is None or not allowed(target.role, Action.CLAIM) or target.training_problem(valid_days):
        raise BadRequest("agent_id must name a member of staff who may take conversations")
    [status] = (await request.app[ASSIGNER_KEY].presence.status_of([target.agent_id])).values()
    if status != PresenceStatus.AVAILABLE:
        raise web.HTTPConflict(text=json.dumps({"error": f"{target.agent_id} is {status.value}"}),
                               content_type="application/json")
    return target


def _target(agent: Agent, capacity: Optional[int]) -> Target:
    return Target(agent.agent_id, agent.languages, agent.claimable_skills, capacity)
