"""The patient directory identity verification checks against, behind a one-method interface.

``PatientDirectory.find_by_member_id`` is all verification needs, so a FHIR
server can replace the Redis directory: search ``Patient?identifier=<member-id
system>|<member id>`` and map ``Patient.id``, ``Patient.name`` and
``Patient.birthDate`` into a ``PatientRecord`` (see the README).

``RedisPatientDirectory`` keeps each record under a key named by an HMAC of the
member ID (the member ID never appears in clear, not even in a key name), its
body sealed with the key ring, bound to its purpose and that key name as associated data,
so a record copied under another member's key does not open. The HMAC is made with the newest
data key; a lookup tries the HMAC under every key of the ring, so putting a new key first breaks
nothing, and the key rotation moves each record to the newest key's HMAC (the sealed record
carries its member ID for that) before the older key is retired.
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


def directory_context(key: str) -> str:
    """What a directory record is bound to: its purpose and its key."""
    return associated_data(DIRECTORY_RECORD_PURPOSE, key)
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
        """Where the newest data key keeps the member's record."""
        return self.record_keys(member_id)[0]

    def record_keys(self, member_id: str) -> list[str]:
        """Where each key of the ring, newest first, keeps the member's record."""
        macs = self.key_ring.macs(MEMBER_ID_PURPOSE, normalize_member_id(member_id))
        return [self.keys.key(PATIENT_BY_MEMBER, mac) for mac in macs]

    async def put(self, member_id: str, record: PatientRecord) -> None:
        key = self.record_key(member_id)
        document = {"member_id": normalize_member_id(member_id), **record.to_json()}
        await self.redis.set(key, self.key_ring.seal(json.dumps(document).encode(), directory_context(key)))

    async def find_by_member_id(self, member_id: str) -> Optional[PatientRecord]:
        keys = self.record_keys(member_id)
        for key, raw in zip(keys, await self.redis.mget(keys), strict=True):
            if raw is not None:
                envelope = raw.decode() if isinstance(raw, bytes) else str(raw)
                return PatientRecord.from_json(json.loads(self.key_ring.open(envelope, directory_context(key))))
        return None
