"""The ``undecryptable_data`` incident of a Rasa tracker that does not open.

Rasa reads trackers in synchronous code (``deserialise_tracker``) inside its event loop, and its
fail-safe tracker store swallows the error (the patient carries on with a fresh tracker), so the
tracker store reports the failure here: the incident is raised in a task on the running loop, with
a Redis connection of this process's own.
"""

import asyncio
import logging
from typing import Optional

from redis.asyncio import Redis

from handoff import HandoffSettings, KeySpace
from handoff.audit_intake import AuditIntake
from handoff.incidents import IncidentKind, IncidentLog
from handoff.log_privacy import pseudonym

logger = logging.getLogger(__name__)


class TrackerIncidents:
    def __init__(self, settings: HandoffSettings) -> None:
        self.settings = settings
        self.key_ring = settings.key_ring()
        self._incidents: Optional[IncidentLog] = None
        self._raising: set[asyncio.Task[None]] = set()

    def undecryptable(self, sender_id: str) -> None:
        """Raises the incident in the background; the caller goes on to raise its ``EnvelopeError``."""
        task = asyncio.get_running_loop().create_task(self._raise(sender_id))
        self._raising.add(task)
        task.add_done_callback(self._raising.discard)

    async def _raise(self, sender_id: str) -> None:
        conversation = pseudonym(self.key_ring, sender_id)
        try:
            await self._incident_log().raise_incident(IncidentKind.UNDECRYPTABLE_DATA, where="tracker store",
                                                      conversation=conversation)
        except Exception:
            logger.exception("tracker.incident_not_recorded conversation=%s", conversation)

    def _incident_log(self) -> IncidentLog:
        if self._incidents is None:
            settings = self.settings
            redis = Redis.from_url(settings.redis_url)
            keys = KeySpace(settings.namespace)
            self._incidents = IncidentLog(redis, keys, lambda conversation: pseudonym(self.key_ring, conversation),
                                          AuditIntake(keys, self.key_ring), settings.incidents)
        return self._incidents
