"""The agent console: an aiohttp app with a JSON API and one page.

Every ``/api`` endpoint but login needs ``Authorization: Bearer <token>``. An
agent sees the queue of its languages without message content; the transcript
is readable only by the agent working the conversation, and every read is in
the audit log. Minimum necessary: the transcript starts at the current episode
(everything since the conversation was last closed); earlier episodes are shown
only to roles allowed to read them (``?episodes=all``), audited as such.
Each handler first checks the agent's role against ``handoff.permissions``: a
forbidden pair of role and action answers 403 and is audited as ``forbidden_<action>``.

By concern: ``api`` (the app's stores, JSON errors, request parsing), ``auth`` (sign-in,
sessions, heartbeat, the request's agent), ``conversations`` (queue, claim, transcript,
replies, alerts, close), ``oversight`` (agent directory, audit trail), ``page`` (the HTML
page) and ``app`` (routes, background tasks, ``python -m handoff.console``).
"""

from handoff.console.app import app_from_settings, create_console_app, main

__all__ = ["app_from_settings", "create_console_app", "main"]
