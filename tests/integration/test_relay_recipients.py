"""The relay's record of whom to send a conversation's agent messages to, attacked with write access to Redis.

A platform recipient is kept sealed and bound to its conversation: copied onto another conversation (so that
one patient's agent messages would go to another's phone), it does not open, nothing is sent, and an
``undecryptable_data`` incident is raised.
"""

import json

import pytest
from redis.asyncio import Redis

from connectors.gated_channel import GatedChannel
from connectors.gated_twilio import GatedTwilio
from handoff import KeySpace
from stack.redis_server import RedisServer

CREDENTIALS = {"account_sid": "AC" + "0" * 32, "auth_token": "token", "twilio_number": "+15550001111",
               "api_base_url": "http://127.0.0.1:9"}


@pytest.fixture
def twilio_channel(redis_server: RedisServer, keys: KeySpace, key_ring_spec: str,
                   monkeypatch: pytest.MonkeyPatch) -> GatedChannel:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("HANDOFF_DATA_KEYS", key_ring_spec)
    monkeypatch.setenv("HANDOFF_NAMESPACE", keys.namespace)
    channel = GatedTwilio.from_credentials(CREDENTIALS)
    assert isinstance(channel, GatedTwilio)
    return channel


async def test_a_recipient_copied_onto_another_conversation_does_not_open(
    twilio_channel: GatedChannel, redis: Redis, keys: KeySpace
) -> None:
    relayed = keys.relayed_conversations("twilio")
    await twilio_channel.follow("twilio-victim", "+15557654321")
    await twilio_channel.relay.stop()
    sealed = await redis.hget(relayed, "twilio-victim")
    await redis.hset(relayed, "twilio-attacker", sealed)

    await twilio_channel.follow_every_relayed()

    assert "twilio-attacker" not in twilio_channel.relay.running
    assert "twilio-victim" in twilio_channel.relay.running
    await twilio_channel.relay.stop()
    records = [json.loads(record) for record in (await redis.hgetall(keys.incidents("records"))).values()]
    assert [(record["kind"], record["details"]["where"]) for record in records] == [
        ("undecryptable_data", "relay recipients")
    ]
