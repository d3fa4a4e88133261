"""``python -m handoff.keys rotate [--dry-run]``: see ``handoff.key_rotation``."""

from redis.asyncio import Redis

from compliance.key_rotation import operations_records
from handoff.crypto import KeyRing
from handoff.key_rotation import KeyedRecords, main
from handoff.keys import KeySpace
from patients.key_rotation import patient_records


def every_keyed_record(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> list[KeyedRecords]:
    return [*patient_records(redis, keys, key_ring), *operations_records(redis, keys, key_ring)]


main(every_keyed_record)
