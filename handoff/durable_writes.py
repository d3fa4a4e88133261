"""Writes that lead to a promise wait until replicas hold them (``WAIT``), and are stored once when sent again.

Replication is asynchronous: a write the primary acknowledged in its last moments may be missing on the replica
the sentinels promote. So the writes after which the patient or the agent is told something (the escalation
enqueue, "a person is coming"; a patient message stored while queued or with an agent; an agent reply accepted; a
crisis replayed from the spool) run their script and ``WAIT <replicas> <timeout ms>`` in one pipeline, on one
connection (``ReplicaAcks``, ``HANDOFF_REPLICA_ACKS``). When fewer replicas acknowledge in time,
``UnreplicatedWrite`` is raised: the callers treat it as an outage (a crisis is spooled and told the truth,
anything else gets 503 with ``Retry-After``).

The write may nonetheless be on the primary, so the message sent again must not be stored twice: each message
carries an id (the client's ``message_id``, else one per request), and the script that stores it skips a message
whose id is among the author's recent stored ones (``KeySpace.message_stored``, ``RECENT_MESSAGE_IDS``). A script
that skips writes that mark again, so that its ``WAIT`` covers the first write, wherever it came from: the server
counts a client's ``WAIT`` from that client's own last write.
"""

import re
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from handoff.settings import ReplicaAcks

MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
"""A message id a client may give (patient webhook, console reply): long enough to be its own."""
RECENT_MESSAGE_IDS = 32
"""How many of an author's latest message ids a conversation keeps: a message sent again after as many newer ones
would be stored twice."""
PATIENT = "patient"
AGENT = "agent"
"""Whose messages a ``message_stored`` key follows."""


class UnreplicatedWrite(Exception):
    """Fewer replicas than required acknowledged a write in time: it may be lost in a failover, so nothing that
    depends on it may be promised. The caller retries later, as after an outage."""


async def run_durably(
    redis: Redis, script: AsyncScript, keys: list[str], args: list[Any], acks: ReplicaAcks
) -> Any:
    """The script's answer, once ``acks.replicas`` replicas hold what it wrote; ``UnreplicatedWrite`` otherwise."""
    if acks.replicas == 0:
        return await script(keys=keys, args=args)
    async with redis.pipeline(transaction=False) as pipe:
        await script(keys=keys, args=args, client=pipe)
        pipe.execute_command("WAIT", acks.replicas, acks.timeout_ms)
        answer, acknowledged = await pipe.execute()
    if int(acknowledged) < acks.replicas:
        raise UnreplicatedWrite(
            f"{acknowledged} of {acks.replicas} replicas acknowledged the write within {acks.timeout_ms} ms"
        )
    return answer
