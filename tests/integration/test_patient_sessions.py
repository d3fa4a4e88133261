"""Patient credentials and limits against a real Redis, replayed as an attacker would try them."""

import asyncio
import hashlib
import hmac
import time
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.crypto import generate_key_ring_spec
from handoff.patient_sessions import (
    PatientSessions,
    RateLimited,
    Unauthorized,
    identity_hash,
    identity_hash_matches,
    platform_signature_matches,
)
from handoff.settings import PatientAccess, SettingsError

ACCESS = PatientAccess(session_idle_seconds=60, session_max_seconds=3600, messages_per_minute=3,
                       new_conversations_per_minute=2, push_sockets_per_conversation=2)


@pytest.fixture
def sessions(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> PatientSessions:
    return PatientSessions(redis, keys, key_ring, ACCESS)


async def test_a_sender_id_alone_or_another_conversations_token_opens_nothing(sessions: PatientSessions) -> None:
    alice = await sessions.open("198.51.100.1")
    bob = await sessions.open("198.51.100.2")
    await sessions.authenticate(alice.conversation_id, alice.token)
    for conversation, token in [
        (alice.conversation_id, ""),
        (alice.conversation_id, bob.token),
        (alice.conversation_id, alice.token + "x"),
        (alice.conversation_id, "1.2.3"),
        (alice.conversation_id, "é.é.é"),
        ("someone@example.org", alice.token),
    ]:
        with pytest.raises(Unauthorized):
            await sessions.authenticate(conversation, token)


async def test_the_server_mints_unguessable_ids_and_stores_no_token(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    credentials = [await sessions.open("198.51.100.3") for _ in range(2)]
    assert credentials[0].conversation_id != credentials[1].conversation_id
    assert all(len(c.conversation_id) >= 24 for c in credentials)
    stored = await redis.hgetall(keys.patient_session(credentials[0].conversation_id))
    assert credentials[0].token.encode() not in stored.values()


async def test_an_idle_session_and_an_ended_one_open_nothing(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    idle = await sessions.open("198.51.100.4")
    await redis.hset(keys.patient_session(idle.conversation_id), "last_seen", time.time() - 61)
    with pytest.raises(Unauthorized, match="ended"):
        await sessions.authenticate(idle.conversation_id, idle.token)
    ended = await sessions.open("198.51.100.5")
    await sessions.end(ended.conversation_id)
    with pytest.raises(Unauthorized, match="ended"):
        await sessions.authenticate(ended.conversation_id, ended.token)


async def test_a_token_past_its_absolute_lifetime_is_refused_even_in_use(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    short = PatientSessions(redis, keys, key_ring, replace(ACCESS, session_max_seconds=1))
    credential = await short.open("198.51.100.6")
    await short.authenticate(credential.conversation_id, credential.token)
    await asyncio.sleep(1.1)
    assert not short.token_matches(credential.conversation_id, credential.token)
    with pytest.raises(Unauthorized):
        await short.authenticate(credential.conversation_id, credential.token)


async def test_a_token_from_another_deployments_keys_is_refused(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    other = PatientSessions(redis, keys, KeyRing.from_spec(generate_key_ring_spec("k9")), ACCESS)
    forged = other.mint()
    with pytest.raises(Unauthorized):
        await sessions.authenticate(forged.conversation_id, forged.token)


async def test_a_token_minted_during_an_outage_starts_its_session_when_redis_is_back(
    sessions: PatientSessions,
) -> None:
    offline = sessions.mint()
    assert sessions.token_matches(offline.conversation_id, offline.token)
    await sessions.authenticate(offline.conversation_id, offline.token)
    assert await sessions.known(offline.conversation_id)


async def test_new_conversations_per_address_and_messages_per_conversation_are_limited(
    sessions: PatientSessions,
) -> None:
    await sessions.open("203.0.113.7")
    await sessions.open("203.0.113.7")
    with pytest.raises(RateLimited) as refused:
        await sessions.open("203.0.113.7")
    assert refused.value.status == 429 and 0 < (refused.value.retry_after or 0) <= 60
    await sessions.open("203.0.113.8")
    for _ in range(3):
        await sessions.count_message("p-flood")
    with pytest.raises(RateLimited, match="too many messages"):
        await sessions.count_message("p-flood")


async def test_client_addresses_are_not_kept_in_clear(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    await sessions.open("192.0.2.55")
    names = [key async for key in redis.scan_iter(match=f"{{{keys.namespace}}}:*")]
    assert names and not any(b"192.0.2.55" in name for name in names)


async def test_at_most_two_push_sockets_per_conversation_and_a_lease_frees_a_slot(
    sessions: PatientSessions,
) -> None:
    assert await sessions.acquire_push_socket("p1", "socket-a")
    assert await sessions.acquire_push_socket("p1", "socket-b")
    assert not await sessions.acquire_push_socket("p1", "socket-c")
    assert await sessions.acquire_push_socket("p1", "socket-a"), "renewing a held lease is not a new socket"
    await sessions.release_push_socket("p1", "socket-b")
    assert await sessions.acquire_push_socket("p1", "socket-c")


def test_push_tokens_belong_to_one_episode(sessions: PatientSessions) -> None:
    token = sessions.push_token("p1", 1)
    assert sessions.push_token_matches("p1", 1, token)
    assert not sessions.push_token_matches("p1", 2, token)
    assert not sessions.push_token_matches("p2", 1, token)


def test_portal_identity_hash_and_platform_signature() -> None:
    good = identity_hash("portal-secret", "patient-42")
    assert identity_hash_matches("portal-secret", "patient-42", good)
    assert identity_hash_matches("portal-secret", "patient-42", good.upper())
    for patient, claimed, secret in [
        ("patient-43", good, "portal-secret"),
        ("patient-42", good[:-1] + "0", "portal-secret"),
        ("patient-42", "é" * 64, "portal-secret"),
        ("patient-42", good, ""),
    ]:
        assert not identity_hash_matches(secret, patient, claimed)
    body = b'{"sender": "sms:+15551234567", "message": "hi"}'
    signature = "sha256=" + hmac.new(b"relay", body, hashlib.sha256).hexdigest()
    assert platform_signature_matches("relay", body, signature)
    assert not platform_signature_matches("relay", body + b" ", signature)
    assert not platform_signature_matches("", body, signature)
    assert not platform_signature_matches("relay", body, signature.removeprefix("sha256="))


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({"PATIENT_MESSAGES_PER_MINUTE": "0"}, "PATIENT_MESSAGES_PER_MINUTE"),
        ({"PATIENT_SESSION_IDLE_SECONDS": "ten"}, "PATIENT_SESSION_IDLE_SECONDS"),
        ({"PATIENT_PORTAL_IDENTITY_REQUIRED": "yes"}, "true or false"),
        ({"PATIENT_PORTAL_IDENTITY_REQUIRED": "true"}, "SECRET is not set"),
    ],
)
def test_bad_patient_settings_are_refused_at_start(environ: dict[str, str], error: str) -> None:
    with pytest.raises(SettingsError, match=error):
        PatientAccess.from_env(environ)


async def test_an_offline_token_whose_session_was_ended_before_it_was_stored_opens_nothing(
    sessions: PatientSessions,
) -> None:
    offline = sessions.mint()
    await sessions.end(offline.conversation_id)
    with pytest.raises(Unauthorized, match="ended"):
        await sessions.authenticate(offline.conversation_id, offline.token)


async def test_a_session_record_altered_in_redis_opens_nothing_and_breaks_nothing(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    replaced = await sessions.open("198.51.100.9")
    await redis.hset(keys.patient_session(replaced.conversation_id), "nonce", sessions.mint().token.split(".")[1])
    stripped = await sessions.open("198.51.100.9")
    await redis.hdel(keys.patient_session(stripped.conversation_id), "last_seen")
    for credential in (replaced, stripped):
        with pytest.raises(Unauthorized, match="ended"):
            await sessions.authenticate(credential.conversation_id, credential.token, count_message=True)


async def test_a_message_is_counted_with_its_authentication_a_crisis_never_and_a_refused_one_not_at_all(
    sessions: PatientSessions, redis: Redis, keys: KeySpace
) -> None:
    alice = await sessions.open("198.51.100.10")
    for _ in range(3):
        await sessions.authenticate(alice.conversation_id, alice.token, count_message=True)
    with pytest.raises(RateLimited, match="too many messages") as refused:
        await sessions.authenticate(alice.conversation_id, alice.token, count_message=True)
    assert 0 < (refused.value.retry_after or 0) <= 60
    await sessions.authenticate(alice.conversation_id, alice.token, count_message=False)

    ended = await sessions.open("198.51.100.10")
    await sessions.end(ended.conversation_id)
    with pytest.raises(Unauthorized):
        await sessions.authenticate(ended.conversation_id, ended.token, count_message=True)
    counters = [key async for key in redis.scan_iter(match=f"{{{keys.namespace}}}:rate:messages:*")]
    assert all(ended.conversation_id.encode() not in key for key in counters)

    offline = sessions.mint()
    for _ in range(3):
        await sessions.authenticate(offline.conversation_id, offline.token, count_message=True)
    with pytest.raises(RateLimited):
        await sessions.authenticate(offline.conversation_id, offline.token, count_message=True)
