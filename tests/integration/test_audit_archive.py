"""Audit archiving and retention on a real Redis: old entries leave Redis for sealed files and the chain still
verifies; every way of hiding entries through the archive (deleting or rolling back the marker, editing or
removing a file) is caught; retention removes whole files only, on the record."""

import asyncio
import json
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from handoff import AuditLog, KeyRing, KeySpace
from handoff.audit import AuditChainBroken
from handoff.audit_archive import AuditArchive
from handoff.settings import DAY_MS, AuditRetention

PATIENT = "sms:+15550107788"


@pytest.fixture
def audit(redis: Redis, keys: KeySpace, audit_keys: KeyRing, tmp_path: Path) -> AuditLog:
    return AuditLog(redis, keys, audit_keys, tmp_path / "audit-anchor.jsonl")


@pytest.fixture
def archive(audit: AuditLog, tmp_path: Path) -> AuditArchive:
    return AuditArchive(audit, tmp_path / "archive", AuditRetention(retention_days=5, archive_after_days=1))


async def record_rounds(audit: AuditLog, rounds: int, per_round: int = 10) -> None:
    for round_number in range(rounds):
        for number in range(per_round):
            await audit.record("amy", "read_transcript", f"{PATIENT}-{round_number}-{number}", "10.0.0.4")
        await audit.seal()


def in_days(days: float) -> int:
    return int(time.time() * 1000 + days * DAY_MS)


async def test_old_entries_move_into_a_sealed_file_and_the_chain_still_verifies(
    audit: AuditLog, archive: AuditArchive, redis: Redis, keys: KeySpace, tmp_path: Path
) -> None:
    await record_rounds(audit, 3)

    report = await archive.run(in_days(2))

    assert report.archived_entries == 30 and report.archived_through_seq == 3
    [archived_file] = (tmp_path / "archive").iterdir()
    assert PATIENT not in archived_file.read_text() and "read_transcript" not in archived_file.read_text()
    assert [entry.action for entry in await audit.entries()] == ["audit_archived"]
    await record_rounds(audit, 1, per_round=5)
    assert (await audit.verify()).entries == 6
    assert await archive.verify_files() == 30
    assert await redis.xlen(keys.audit_log()) == 6


async def test_nothing_younger_than_the_archive_age_leaves_redis(audit: AuditLog, archive: AuditArchive) -> None:
    await record_rounds(audit, 2)

    report = await archive.run(in_days(0))

    assert str(report) == "nothing old enough to archive"
    assert len(await audit.entries()) == 20 and await archive.verify_files() == 0


@pytest.mark.parametrize("attack", ["marker deleted", "marker rolled back", "marker edited"])
async def test_hiding_entries_through_the_archive_marker_breaks_the_chain(
    audit: AuditLog, archive: AuditArchive, redis: Redis, keys: KeySpace, attack: str
) -> None:
    await record_rounds(audit, 2)
    await archive.run(in_days(2))
    first_marker = await redis.get(keys.audit_archived())
    await record_rounds(audit, 2)
    await archive.run(in_days(3))
    if attack == "marker deleted":
        await redis.delete(keys.audit_archived())
    elif attack == "marker rolled back":
        await redis.set(keys.audit_archived(), first_marker)
    else:
        marker = json.loads(await redis.get(keys.audit_archived()))
        marker["count"] -= 10
        await redis.set(keys.audit_archived(), json.dumps(marker))

    with pytest.raises(AuditChainBroken):
        await audit.verify()


@pytest.mark.parametrize("attack", ["file edited", "file removed", "file swapped"])
async def test_an_archive_file_edited_removed_or_swapped_is_named(
    audit: AuditLog, archive: AuditArchive, tmp_path: Path, attack: str
) -> None:
    await record_rounds(audit, 2)
    first = (await archive.run(in_days(2))).archive_file
    await record_rounds(audit, 2)
    second = (await archive.run(in_days(3))).archive_file
    directory = tmp_path / "archive"
    if attack == "file edited":
        text = (directory / first).read_text()
        (directory / first).write_text(text[:-10] + ("A" if text[-10] != "A" else "B") + text[-9:])
    elif attack == "file removed":
        (directory / first).unlink()
    else:
        (directory / first).write_text((directory / second).read_text())

    with pytest.raises(AuditChainBroken, match=first):
        await archive.verify_files()
    assert (await audit.verify()).entries >= 1


async def test_retention_removes_whole_archive_files_older_than_it_on_the_record(
    audit: AuditLog, archive: AuditArchive, tmp_path: Path
) -> None:
    await record_rounds(audit, 2)
    first = (await archive.run(in_days(2))).archive_file
    await record_rounds(audit, 1)

    report = await archive.run(in_days(7))

    assert report.purged_files == [first] and not (tmp_path / "archive" / first).exists()
    assert [path.name for path in (tmp_path / "archive").iterdir()] == [report.archive_file]
    assert await archive.verify_files() == 11
    assert (await audit.verify()).entries == 1
    [record] = await audit.entries()
    assert record.action == "audit_archived" and f"purged:{first}" in record.source


async def test_two_archivists_at_once_archive_once(audit: AuditLog, archive: AuditArchive, tmp_path: Path) -> None:
    await record_rounds(audit, 3)
    rival = AuditArchive(audit, tmp_path / "archive", AuditRetention(retention_days=5, archive_after_days=1))

    outcomes = await asyncio.gather(archive.run(in_days(2)), rival.run(in_days(2)), return_exceptions=True)

    succeeded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert all("another archivist" in str(outcome) for outcome in outcomes if outcome not in succeeded)
    assert len(list((tmp_path / "archive").iterdir())) == len(succeeded) >= 1
    assert await archive.verify_files() + (await audit.verify()).entries == 30 + len(succeeded)
