"""The patient directory and care records in ``python -m handoff.keys rotate`` (``handoff.key_rotation``).

Both are stored under an HMAC made with the data key: each record is moved to the newest key's HMAC and
sealed again for it. A directory record carries its member ID and patient id, which name both.
"""

import json

from redis.asyncio import Redis

from handoff.crypto import EnvelopeError, KeyRing
from handoff.key_rotation import KeyedRecords, KeyRotation, RotationReport
from handoff.keys import KeySpace
from handoff.redis_values import keys_after, text_of
from patients.care import CARE_RECORD_KINDS, RedisCareRecords, care_context
from patients.directory import PATIENT_BY_MEMBER, RedisPatientDirectory, directory_context

DIRECTORY = "patient directory"
CARE = "care records"


class PatientRecordsRotation:
    def __init__(self, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
        self.kinds = [DIRECTORY, CARE]
        self.redis, self.keys, self.key_ring = redis, keys, key_ring
        self.directory = RedisPatientDirectory(redis, keys, key_ring)
        self.care = RedisCareRecords(redis, keys, key_ring)

    async def rotate(self, rotation: KeyRotation, report: RotationReport) -> None:
        prefix = self.keys.key(PATIENT_BY_MEMBER) + ":"
        for mac in [mac async for mac in keys_after(self.redis, prefix)]:
            key, name = prefix + mac, mac[:16]
            try:
                envelope = text_of(await self.redis.get(key) or b"")
                record = json.loads(self.key_ring.open(envelope, directory_context(key)))
                member_id, patient_id = str(record["member_id"]), str(record["patient_id"])
            except (EnvelopeError, ValueError, KeyError):
                report.unreadable.append(f"{DIRECTORY} {name}")
                continue
            await rotation.move(report, DIRECTORY, key, self.directory.record_key(member_id), directory_context, name)
            for kind in CARE_RECORD_KINDS:
                newest = self.care.record_key(kind, patient_id)
                for care_key in self.care.record_keys(kind, patient_id):
                    await rotation.move(report, CARE, care_key, newest, care_context, name)


def patient_records(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> list[KeyedRecords]:
    return [PatientRecordsRotation(redis, keys, key_ring)]
