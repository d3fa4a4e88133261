"""The patient directory, care stores and failure throttle on a real Redis, tried as an attacker would."""

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from redis.asyncio import Redis

from handoff import KeyRing, KeySpace
from handoff.crypto import EnvelopeError, associated_data, generate_key_ring_spec
from patients import FailureThrottle, IdentityVerifier, RedisCareRecords, RedisPatientDirectory, RefillStatus
from patients.directory import DIRECTORY_RECORD_PURPOSE
from patients.seed import DEMO_PATIENTS, load_patients, seed
from stack.redis_server import RedisServer

PROJECT_DIR = Path(__file__).resolve().parents[2]

MARIA = ("HCB-100-200", "María López", date(1962, 3, 14))


async def seeded(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    await seed(redis, keys, key_ring, load_patients(DEMO_PATIENTS))


async def everything_in(redis: Redis, keys: KeySpace) -> list[tuple[str, str]]:
    """Every key of the namespace and its value, as text."""
    found = []
    async for raw_key in redis.scan_iter(match=f"{{{keys.namespace}}}:*"):
        key = raw_key.decode()
        kind = (await redis.type(raw_key)).decode()
        assert kind == "string", f"{key} is a {kind}"
        found.append((key, (await redis.get(raw_key)).decode()))
    return found


async def test_lookup_by_member_id_finds_the_sealed_record(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    await seeded(redis, keys, key_ring)
    directory = RedisPatientDirectory(redis, keys, key_ring)
    record = await directory.find_by_member_id("HCB100200")
    assert record is not None
    assert (record.patient_id, record.names, record.date_of_birth) == ("demo-0001", ("María López",), MARIA[2])
    assert await directory.find_by_member_id("HCB100299") is None


async def test_no_member_id_name_or_date_of_birth_is_in_clear_anywhere_in_redis(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    await seeded(redis, keys, key_ring)
    throttle = FailureThrottle(redis, keys, key_ring, 5, 60)
    verifier = IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), throttle)
    assert await verifier.verify("María López", MARIA[2], "HCB100200") is not None
    assert await verifier.verify("Someone Else", MARIA[2], "HCB100200") is None  # leaves a throttle counter
    assert await verifier.verify("Someone Else", MARIA[2], "ZZ99887766") is None
    stored = await everything_in(redis, keys)
    assert len(stored) >= 4 * 4 + 2
    clear = [
        "HCB100200", "HCB-100-200", "hcb100200", "ZZ99887766",
        "López", "Lopez", "Nguyễn", "王小明", "Wang", "Carter",
        "1962-03-14", "1962", "demo-0001", "demo-0004",
        "Lisinopril", "Patel", "Main Clinic",
    ]
    for key, value in stored:
        for text in clear:
            assert text not in key, f"{text!r} in key {key}"
            assert text not in value, f"{text!r} in the value of {key}"


async def test_a_record_copied_under_another_member_id_does_not_open(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    """An attacker with write access who copies Maria's sealed record under their own member ID gains nothing."""
    await seeded(redis, keys, key_ring)
    directory = RedisPatientDirectory(redis, keys, key_ring)
    await redis.set(directory.record_key("ATTACKER123"), await redis.get(directory.record_key("HCB100200")))
    with pytest.raises(EnvelopeError):
        await directory.find_by_member_id("ATTACKER123")


async def test_another_key_ring_reads_nothing(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    """Without the key ring, an attacker can neither find a record by member ID nor open one."""
    await seeded(redis, keys, key_ring)
    stranger = KeyRing.from_spec(generate_key_ring_spec("k1"))
    assert await RedisPatientDirectory(redis, keys, stranger).find_by_member_id("HCB100200") is None
    key = RedisPatientDirectory(redis, keys, key_ring).record_key("HCB100200")
    with pytest.raises(EnvelopeError):
        stranger.open((await redis.get(key)).decode(), associated_data(DIRECTORY_RECORD_PURPOSE, key))


async def test_care_stores_hold_each_patients_refills_appointments_and_results(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    await seeded(redis, keys, key_ring)
    care = RedisCareRecords(redis, keys, key_ring)
    refills = await care.refills("demo-0001")
    assert [(r.medication, r.status) for r in refills] == [
        ("Lisinopril 10 mg", RefillStatus.READY),
        ("Metformin 500 mg", RefillStatus.IN_PROGRESS),
        ("Atorvastatin 20 mg", RefillStatus.AWAITING_APPROVAL),
    ]
    appointments = await care.appointments("demo-0001")
    assert len(appointments) == 2 and all(a.starts_at.date() > date.today() for a in appointments)
    assert await care.results_ready("demo-0001") == 1
    assert await care.refills("demo-0002") == [] and await care.results_ready("demo-0002") == 0
    assert await care.refills("no-such-patient") == []


async def test_the_same_member_id_failing_across_conversations_is_throttled(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    """Each conversation allows a few attempts; the member ID's counter spans all of them."""
    await seeded(redis, keys, key_ring)
    throttle = FailureThrottle(redis, keys, key_ring, max_failures=5, window_seconds=3600)
    verifier = IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), throttle)
    guesses = [date(1962, 1, day) for day in range(1, 6)]
    for guess in guesses:  # five guesses, as if from five conversations
        assert await verifier.verify("Maria Lopez", guess, "hcb 100 200") is None
    assert await throttle.is_throttled("HCB100200")
    # Now even the right answers fail, exactly like a wrong one.
    assert await verifier.verify("María López", MARIA[2], "HCB-100-200") is None
    # Another member's ID is not affected.
    assert await verifier.verify("Wang Xiaoming", date(1980, 1, 25), "HCB100203") is not None
    ttl = await redis.ttl(throttle.counter_key("HCB100200"))
    assert 0 < ttl <= 3600, "the throttle always expires"


async def test_the_throttle_window_ends(redis: Redis, keys: KeySpace, key_ring: KeyRing) -> None:
    await seeded(redis, keys, key_ring)
    throttle = FailureThrottle(redis, keys, key_ring, max_failures=2, window_seconds=1)
    verifier = IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), throttle)
    for _ in range(2):
        await verifier.verify("Nobody", MARIA[2], "HCB100200")
    assert await verifier.verify("María López", MARIA[2], "HCB100200") is None
    await redis.delete(throttle.counter_key("HCB100200"))  # what the expiry does after the window
    assert await verifier.verify("María López", MARIA[2], "HCB100200") is not None


async def test_unknown_and_implausible_member_ids_count_as_failures_too(
    redis: Redis, keys: KeySpace, key_ring: KeyRing
) -> None:
    throttle = FailureThrottle(redis, keys, key_ring, max_failures=3, window_seconds=60)
    verifier = IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), throttle)
    for member_id in ("NOPE12345", "x", "NOPE-12345"):
        assert await verifier.verify("Maria Lopez", MARIA[2], member_id) is None
    assert await throttle.failures("NOPE12345") == 2
    assert await throttle.failures("X") == 1


async def test_the_seed_command_fills_the_directory_from_the_environment(
    redis: Redis, redis_server: RedisServer, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str
) -> None:
    """What ``make run`` and the test stack run on start (``Stack.seed_patients``)."""
    env = dict(
        os.environ,
        REDIS_URL=redis_server.url,
        HANDOFF_DATA_KEYS=key_ring_spec,
        HANDOFF_NAMESPACE=keys.namespace,
        PYTHONPATH=str(PROJECT_DIR),
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "patients.seed", str(DEMO_PATIENTS)],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    record = await RedisPatientDirectory(redis, keys, key_ring).find_by_member_id("HCB100203")
    assert record is not None and record.names == ("王小明", "Wang Xiaoming")


async def test_rotating_the_data_keys_gives_a_guesser_no_fresh_attempts(
    redis: Redis, keys: KeySpace, key_ring: KeyRing, key_ring_spec: str
) -> None:
    await seeded(redis, keys, key_ring)
    before = FailureThrottle(redis, keys, key_ring, max_failures=4, window_seconds=3600)
    for day in range(1, 4):
        await IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), before).verify(
            "Maria Lopez", date(1962, 1, day), "HCB100200")
    rotated = KeyRing.from_spec(f"{generate_key_ring_spec('k2')},{key_ring_spec}")
    after = FailureThrottle(redis, keys, rotated, max_failures=4, window_seconds=3600)
    verifier = IdentityVerifier(RedisPatientDirectory(redis, keys, key_ring), after)

    assert await after.failures("HCB100200") == 3 and not await after.is_throttled("HCB100200")
    assert (await verifier.check("Maria Lopez", date(1962, 1, 9), "HCB100200")).throttled
    assert await verifier.verify("María López", MARIA[2], "HCB100200") is None, "the right answer, throttled"
    assert after.counter_key("HCB100200") != before.counter_key("HCB100200")
