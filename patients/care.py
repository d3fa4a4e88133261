"""Demo stores of what a verified patient may be told: refills, upcoming appointments, results ready.

``CareRecords`` is the interface the bot uses; a FHIR server can replace the
Redis stores (``MedicationRequest``/``MedicationDispense`` for refills,
``Appointment?patient=...&date=ge<today>`` for appointments, ``DiagnosticReport``
status for results ready). The Redis stores keep one sealed JSON list per
patient and kind, under a key named by an HMAC of the patient id, sealed with
the key ring and bound to its purpose and key name. As for the directory, a lookup tries
the HMAC under every key of the ring, newest first.
"""

import json
from typing import Any, Optional, Protocol

from redis.asyncio import Redis

from handoff.crypto import KeyRing, associated_data
from handoff.keys import KeySpace
from patients.records import Appointment, Refill

PATIENT_REFILLS = "patient-refills"
PATIENT_APPOINTMENTS = "patient-appointments"
PATIENT_RESULTS = "patient-results"
"""Key kinds: ``{ns}:<kind>:<HMAC of the patient id>`` -> sealed JSON."""
PATIENT_ID_PURPOSE = "patient-record-id"
CARE_RECORD_PURPOSE = "patient-care-record"
CARE_RECORD_KINDS = (PATIENT_REFILLS, PATIENT_APPOINTMENTS, PATIENT_RESULTS)


def care_context(key: str) -> str:
    """What a care record (refills, appointments, results) is bound to: its purpose and its key."""
    return associated_data(CARE_RECORD_PURPOSE, key)


class CareRecords(Protocol):
    async def refills(self, patient_id: str) -> list[Refill]:
        """The patient's open refill requests."""

    async def appointments(self, patient_id: str) -> list[Appointment]:
        """The patient's booked appointments (past ones too; the caller picks the upcoming)."""

    async def results_ready(self, patient_id: str) -> int:
        """How many test results are ready for a nurse to go through (never their values)."""


class RedisCareRecords:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring

    def record_key(self, kind: str, patient_id: str) -> str:
        """Where the newest data key keeps the patient's records of ``kind``."""
        return self.record_keys(kind, patient_id)[0]

    def record_keys(self, kind: str, patient_id: str) -> list[str]:
        """Where each key of the ring, newest first, keeps them."""
        return [self.keys.key(kind, mac) for mac in self.key_ring.macs(PATIENT_ID_PURPOSE, patient_id)]

    async def put(
        self, patient_id: str, refills: list[Refill], appointments: list[Appointment], results_ready: int
    ) -> None:
        documents: dict[str, Any] = {
            PATIENT_REFILLS: [refill.to_json() for refill in refills],
            PATIENT_APPOINTMENTS: [appointment.to_json() for appointment in appointments],
            PATIENT_RESULTS: {"ready": results_ready},
        }
        sealed = {}
        for kind, document in documents.items():
            key = self.record_key(kind, patient_id)
            sealed[key] = self.key_ring.seal(json.dumps(document).encode(), care_context(key))
        await self.redis.mset(sealed)

    async def _document(self, kind: str, patient_id: str) -> Optional[Any]:
        keys = self.record_keys(kind, patient_id)
        for key, raw in zip(keys, await self.redis.mget(keys), strict=True):
            if raw is not None:
                envelope = raw.decode() if isinstance(raw, bytes) else str(raw)
                return json.loads(self.key_ring.open(envelope, care_context(key)))
        return None

    async def refills(self, patient_id: str) -> list[Refill]:
        return [Refill.from_json(item) for item in await self._document(PATIENT_REFILLS, patient_id) or []]

    async def appointments(self, patient_id: str) -> list[Appointment]:
        return [Appointment.from_json(item) for item in await self._document(PATIENT_APPOINTMENTS, patient_id) or []]

    async def results_ready(self, patient_id: str) -> int:
        document = await self._document(PATIENT_RESULTS, patient_id) or {}
        return int(document.get("ready") or 0)
