"""The patient directory identity verification checks against, behind a one-method interface.

``PatientDirectory.find_by_member_id`` is all verification needs, so a FHIR
server can replace the Redis directory: search ``Patient?identifier=<member-id
system>|<member id>`` and map ``Patient.id``, ``Patient.name`` and
``Patient.birthDate`` into a ``PatientRecord`` (see the README).

``RedisPatientDirectory`` keeps each record under a key named by an HMAC of the
member ID (the member ID never appears in clear, not even in a key name), its
body sealed with the key ring, bound to that key name as associated data, so a
record copied under another member's key does not open.
"""

import json
from typing import Optional, Protocol

from redis.asyncio import Redis

from handoff.crypto import KeyRing, associated_data
from handoff.keys import KeySpace
from patients.records import PatientRecord

PATIENT_BY_MEMBER = "patient-by-member"
"""Key kind: ``{ns}:patient-by-member:<HMAC of the member ID>`` -> sealed ``PatientRecord``."""
MEMBER_ID_PURPOSE = "patient-member-id"
DIRECTORY_RECORD_PURPOSE = "patient-directory-record"
"""A directory record is sealed for this purpose and its key."""
MAX_MEMBER_ID_CHARS = 32


def normalize_member_id(raw: str) -> str:
    """Upper case, without spaces, dashes and dots: ``hcb-100 200`` -> ``HCB100200``."""
    return "".join(c for c in raw.upper() if c.isalnum())[: MAX_MEMBER_ID_CHARS + 1]


def plausible_member_id(member_id: str) -> bool:
    """A normalized member ID has 5-32 ASCII letters and digits, with at least one digit."""
    return (
        5 <= len(member_id) <= MAX_MEMBER_ID_CHARS
        and member_id.isascii()
        and member_id.isalnum()
        and any(c.isdigit() for c in member_id)
    )


class PatientDirectory(Protocol):
    async def find_by_member_id(self, member_id: str) -> Optional[PatientRecord]:
        """The patient with this (normalized) member ID, or None."""


class RedisPatientDirectory:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self.key_ring = key_ring

    def record_key(self, member_id: str) -> str:
        return self.keys.key(PATIENT_BY_MEMBER, self.key_ring.mac(MEMBER_ID_PURPOSE, normalize_member_id(member_id)))

    async def put(self, member_id: str, record: PatientRecord) -> None:
        key = self.record_key(member_id)
        context = associated_data(DIRECTORY_RECORD_PURPOSE, key)
        await self.redis.set(key, self.key_ring.seal(json.dumps(record.to_json()).encode(), context))

    async def find_by_member_id(self, member_id: str) -> Optional[PatientRecord]:
        key = self.record_key(member_id)
        raw = await self.redis.get(key)
        if raw is None:
            return None
        envelope = raw.decode() if isinstance(raw, bytes) else str(raw)
        opened = self.key_ring.open(envelope, associated_data(DIRECTORY_RECORD_PURPOSE, key))
        return PatientRecord.from_json(json.loads(opened))
