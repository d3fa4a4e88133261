"""``POST /api/conversations/{id}/typing``: the agent holding the conversation is typing (``handoff.patient_signals``).

The console page sends it at most every few seconds while the agent writes a reply; the patient's page shows
"<agent> is typing…". Only the agent who holds the conversation may (403 otherwise, 404 for no conversation); a
signal within ``TYPING_INTERVAL_MS`` of the last one gets 429. Nothing is recorded: no transcript entry, no answer.
"""

from aiohttp import web

from handoff.console.api import QUEUE_KEY, conversation_id_of, error_response
from handoff.console.auth import permitted_agent
from handoff.patient_signals import TYPING_INTERVAL_MS, PatientSignals, TypingThrottled
from handoff.permissions import Action

SIGNALS_KEY = web.AppKey("patient-signals", PatientSignals)
RETRY_AFTER_SECONDS = str(-(-TYPING_INTERVAL_MS // 1000))


def add_typing(app: web.Application) -> None:
    queue = app[QUEUE_KEY]
    app[SIGNALS_KEY] = PatientSignals(queue.redis, queue.keys)
    app.router.add_post("/api/conversations/{conversation_id}/typing", typing)


async def typing(request: web.Request) -> web.Response:
    conversation_id = conversation_id_of(request)
    agent = await permitted_agent(request, Action.REPLY, conversation_id)
    try:
        await request.app[SIGNALS_KEY].typing(conversation_id, agent.agent_id)
    except TypingThrottled as throttled:
        response = error_response(429, str(throttled))
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    return web.json_response({"status": "sent"}, status=202)
