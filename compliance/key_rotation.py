"""The transcript review's and the operations events' sealed records in ``python -m handoff.keys rotate``
(``handoff.key_rotation``): findings and the facts of episodes waiting for review (hash fields bound to their id),
the operations events (a stream) and the names of the operations totals (hash fields bound to their MAC)."""

from redis.asyncio import Redis

from compliance.store import FACTS_PURPOSE, FINDING_PURPOSE
from handoff.crypto import KeyRing, associated_data
from handoff.key_rotation import KeyedRecords, KeyRotation, RotationReport
from handoff.keys import KeySpace
from handoff.operations import EVENT_PURPOSE, TOTAL_PURPOSE
from handoff.redis_values import decoded

FINDINGS = "compliance findings"
HELD_EPISODES = "episodes held for review"
OPERATIONS_EVENTS = "operations events"
OPERATIONS_TOTALS = "operations total names"


class OperationsRecordsRotation:
    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self.kinds = [FINDINGS, HELD_EPISODES, OPERATIONS_EVENTS, OPERATIONS_TOTALS]
        self.redis, self.keys = redis, keys

    async def rotate(self, rotation: KeyRotation, report: RotationReport) -> None:
        for kind, key, purpose in ((FINDINGS, self.keys.compliance("findings"), FINDING_PURPOSE),
                                   (HELD_EPISODES, self.keys.compliance("episodes"), FACTS_PURPOSE),
                                   (OPERATIONS_TOTALS, self.keys.operations("names"), TOTAL_PURPOSE)):
            for place, envelope in decoded(await self.redis.hgetall(key)).items():
                await rotation.value(report, kind, "-", "hash", key, place, envelope,
                                     associated_data(purpose, place))
        await rotation.stream(report, OPERATIONS_EVENTS, self.keys.operations("events"), "event",
                              lambda _: ("-", EVENT_PURPOSE))


def operations_records(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> list[KeyedRecords]:
    return [OperationsRecordsRotation(redis, keys)]
