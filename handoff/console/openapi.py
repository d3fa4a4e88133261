"""The console API described as an OpenAPI 3 document, served at ``/api/openapi.json``.

Everything the console page does goes through this API; a test checks that every ``/api/`` route of the app
is described here and that real responses match their schemas.
"""

from typing import Any

from aiohttp import web

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
NULLABLE_INTEGER: Schema = {"type": ["integer", "null"]}
ERROR: Schema = {"type": "object", "required": ["error"], "properties": {"error": STRING}}
STATUS: Schema = {"type": "object", "required": ["status"], "properties": {"status": STRING}}
CONVERSATION: Schema = {
    "type": "object",
    "required": ["conversation_id", "state"],
    "properties": {
        "conversation_id": STRING,
        "state": {"enum": ["BOT", "QUEUED", "WITH_AGENT", "CLOSED"]},
        "language": NULLABLE_STRING,
        "skill": NULLABLE_STRING,
        "priority": NULLABLE_STRING,
        "agent_id": NULLABLE_STRING,
        "enqueued_at_ms": NULLABLE_INTEGER,
        "claimed_at_ms": NULLABLE_INTEGER,
        "requeued_at_ms": NULLABLE_INTEGER,
        "episode": INTEGER,
    },
}
CONVERSATION_ANSWER: Schema = {"type": "object", "required": ["conversation"],
                               "properties": {"conversation": CONVERSATION}}

HELD_CONVERSATION: Schema = {
    "type": "object",
    "required": ["conversation_id", "short_id", "agent_id", "crisis", "unanswered_patient_messages", "reassign_to"],
    "additionalProperties": False,
    "properties": {
        "conversation_id": STRING, "short_id": STRING, "agent_id": STRING, "language": NULLABLE_STRING,
        "skill": NULLABLE_STRING, "priority": NULLABLE_STRING, "crisis": {"type": "boolean"},
        "claimed_at_ms": NULLABLE_INTEGER, "last_agent_message_at_ms": NULLABLE_INTEGER,
        "unanswered_patient_messages": INTEGER,
        "reassign_to": {"type": "array", "items": {
            "type": "object", "required": ["agent_id", "name", "conversations", "capacity"],
            "properties": {"agent_id": STRING, "name": STRING, "conversations": INTEGER, "capacity": INTEGER}}},
    },
}
"""A conversation an agent holds, as the supervisor's list shows it: no message text, no patient name."""


def listing(name: str, item: Schema) -> Schema:
    return {"type": "object", "required": [name], "properties": {name: {"type": "array", "items": item}}}


def body(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    return {"type": "object", "required": list(required), "properties": properties}


NOTE = {"note": {"type": "string", "maxLength": 2000}}
HOLDER = {"from_agent_id": STRING}
OPERATIONS: dict[tuple[str, str], tuple[str, Schema | None, int, Schema]] = {
    ("post", "/api/login"): ("Sign in; returns a bearer token",
                             body({"agent_id": STRING, "password": STRING}, ("agent_id", "password")), 200,
                             body({"token": STRING, "agent": {"type": "object"}}, ("token", "agent"))),
    ("post", "/api/logout"): ("Sign out: the session ends and the agent is offline", None, 200, STATUS),
    ("post", "/api/presence"): ("Heartbeat; optionally say whether new conversations are wanted",
                                body({"status": {"enum": ["available", "away"]}}), 200,
                                body({"status": STRING, "timeout_seconds": INTEGER}, ("status", "timeout_seconds"))),
    ("get", "/api/queue"): ("Waiting conversations of the agent's languages and skills", None, 200,
                            listing("waiting", CONVERSATION)),
    ("get", "/api/alerts"): ("Crisis alerts on the agent's conversations (?after=<id>)", None, 200,
                             listing("alerts", {"type": "object"})),
    ("get", "/api/mine"): ("The agent's conversations", None, 200, listing("conversations", CONVERSATION)),
    ("post", "/api/conversations/{conversation_id}/claim"): (
        "Take a waiting conversation", None, 200,
        body({"conversation": CONVERSATION, "answer_within_seconds": INTEGER}, ("conversation",))),
    ("post", "/api/conversations/{conversation_id}/acknowledge-crisis"): (
        "Take responsibility for the conversation's open crisis", None, 200, STATUS),
    ("get", "/api/conversations/{conversation_id}/transcript"): (
        "The current episode (?episodes=all for supervisors), notes included; audited", None, 200,
        body({"conversation": CONVERSATION, "from": INTEGER, "entries": {"type": "array", "items": body(
            {"role": {"enum": ["patient", "bot", "agent", "note"]}, "text": STRING, "at_ms": INTEGER,
             "author": STRING}, ("role", "text", "at_ms"))}}, ("conversation", "entries"))),
    ("post", "/api/conversations/{conversation_id}/messages"): (
        "Write to the patient (send it again with the same message_id after a 503: it is stored once)",
        body({"text": STRING, "message_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,64}$"}}, ("text",)),
        201, body({"message_id": STRING}, ("message_id",))),
    ("post", "/api/conversations/{conversation_id}/typing"): (
        "The agent who holds the conversation is typing: the patient sees it; not recorded, not an answer "
        "(403 another's, 429 within 2 s of the last)", None, 202, STATUS),
    ("post", "/api/conversations/{conversation_id}/close"): (
        "Hand back to the bot or close; the patient is offered the survey",
        body({"outcome": {"enum": ["bot", "closed"]}, "crisis_disposition": STRING}, ("outcome",)), 200, STATUS),
    ("post", "/api/conversations/{conversation_id}/transfer"): (
        "Hand the conversation to a named agent, or to another queue or skill, with a note",
        body({"agent_id": STRING, "language": STRING, "skill": STRING, **NOTE}), 200, CONVERSATION_ANSWER),
    ("post", "/api/conversations/{conversation_id}/reassign"): (
        "Supervisor: give the conversation to a named agent (from_agent_id: only from the holder seen)",
        body({"agent_id": STRING, **HOLDER, **NOTE}, ("agent_id",)), 200, CONVERSATION_ANSWER),
    ("post", "/api/conversations/{conversation_id}/take-over"): (
        "Supervisor: take the conversation (from_agent_id: only from the holder seen)", body({**HOLDER, **NOTE}), 200,
        CONVERSATION_ANSWER),
    ("post", "/api/conversations/{conversation_id}/notes"): (
        "An internal note the patient never sees", body({"text": STRING}, ("text",)), 201, STATUS),
    ("post", "/api/conversations/{conversation_id}/phone-callback"): (
        "Escalate to phone: record the callback task",
        body({"number": STRING, "best_time": STRING, **NOTE}, ("number", "best_time")), 201, STATUS),
    ("get", "/api/callbacks"): ("Supervisor: open phone callbacks (audited)", None, 200,
                                listing("callbacks", body({"conversation_id": STRING, "number": STRING,
                                                           "best_time": STRING, "requested_by": STRING},
                                                          ("conversation_id", "number", "best_time")))),
    ("post", "/api/callbacks/{conversation_id}/done"): ("Supervisor: the patient was called back", None, 200, STATUS),
    ("get", "/api/supervision"): (
        "Supervisor: every queue and every agent", None, 200,
        body({"queues": {"type": "array", "items": body({"language": STRING, "waiting": INTEGER,
                                                        "longest_wait_ms": INTEGER, "by_priority": {"type": "object"}},
                                                       ("language", "waiting", "longest_wait_ms"))},
              "agents": {"type": "array", "items": body({"agent_id": STRING, "presence": {
                  "enum": ["available", "away", "offline"]}, "conversations": INTEGER, "capacity": INTEGER},
                  ("agent_id", "presence", "conversations", "capacity"))},
              "satisfaction": {"type": "array"}}, ("queues", "agents", "satisfaction"))),
    ("get", "/api/supervision/held"): (
        "Supervisor: per agent, the conversations it holds, with whom each may be reassigned to (audited)", None, 200,
        body({"now_ms": INTEGER, "agents": {"type": "array", "items": body(
            {"agent_id": STRING, "name": STRING, "presence": {"enum": ["available", "away", "offline"]},
             "capacity": INTEGER, "conversations": {"type": "array", "items": HELD_CONVERSATION}},
            ("agent_id", "presence", "conversations"))}}, ("now_ms", "agents"))),
    ("get", "/api/canned-replies"): (
        "Canned replies of the agent's languages (?language=)", None, 200,
        body({"replies": {"type": "array", "items": body({"id": STRING, "language": STRING, "title": STRING,
                                                         "text": STRING}, ("id", "language", "title", "text"))},
              "problems": {"type": "array", "items": STRING}}, ("replies", "problems"))),
    ("get", "/api/agents"): ("Admin: the directory's profiles", None, 200, listing("agents", {"type": "object"})),
    ("get", "/api/audit"): ("The audit trail (?since=&limit=)", None, 200, listing("entries", {"type": "object"})),
    ("get", "/api/escalations"): ("Supervisor: crises nobody acknowledged in time", None, 200,
                                  listing("escalations", {"type": "object"})),
    ("get", "/api/incidents"): ("Security incidents", None, 200, listing("incidents", {"type": "object"})),
    ("post", "/api/incidents/{incident_id}/acknowledge"): ("Take an incident in hand", None, 200, STATUS),
    ("get", "/api/dashboard"): (
        "Supervisor: seed metrics against their targets and the plots' series (?period=today|7d|30d)", None, 200,
        {"type": "object"}),
    ("get", "/api/compliance/findings"): ("Supervisor: the transcript review's findings (?period=)", None, 200,
                                          listing("findings", {"type": "object"})),
    ("post", "/api/compliance/findings/{finding_id}/review"): (
        "Supervisor: mark a finding reviewed (audited)", None, 200,
        body({"status": STRING, "reviewed_at": STRING}, ("status", "reviewed_at"))),
    ("get", "/api/events"): (
        "Websocket: send {\"token\": ...} first; then events of type queue, assignments, conversation_updated, "
        "crisis_alert and (supervisors) escalations and held, as JSON messages, no message content", None, 101,
        {"type": "object"}),
    ("get", "/api/openapi.json"): ("This document", None, 200, {"type": "object", "required": ["openapi", "paths"]}),
}
"""(method, path) -> (summary, request body schema or None, success status, success response schema)."""

PUBLIC = {("post", "/api/login"), ("get", "/api/openapi.json"), ("get", "/api/events")}
"""Operations that need no bearer token header (the event socket takes its token in its first message)."""


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), (summary, request, status, response) in OPERATIONS.items():
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {
                str(status): {"description": "done", "content": {"application/json": {"schema": response}}},
                "default": {"description": "refused: says why", "content": {"application/json": {"schema": ERROR}}},
            },
        }
        parameters = [{"name": name, "in": "path", "required": True, "schema": STRING}
                      for name in ("conversation_id", "incident_id") if f"{{{name}}}" in path]
        if parameters:
            operation["parameters"] = parameters
        if request is not None:
            operation["requestBody"] = {"required": method == "post" and bool(request.get("required")),
                                        "content": {"application/json": {"schema": request}}}
        if (method, path) not in PUBLIC:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Agent console API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(document())
