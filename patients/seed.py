"""Seeds the patient directory and the care stores from a YAML file (``patients/demo.yml``).

``python -m patients.seed [FILE]`` reads ``REDIS_URL``, ``HANDOFF_DATA_KEYS`` and
``HANDOFF_NAMESPACE`` like every other process (``handoff.settings``); ``make run``
and the test stack run it on start. Seeding again overwrites the same records.
Keys are HMACs under the key ring's current key: after rotating the key ring,
seed (or re-index) again.
"""

import argparse
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Optional

import redis
import yaml

from handoff.crypto import KeyRing
from handoff.keys import KeySpace
from handoff.settings import HandoffSettings
from patients.care import RedisCareRecords
from patients.directory import RedisPatientDirectory
from patients.records import Appointment, PatientRecord, Refill, RefillStatus

DEMO_PATIENTS = Path(__file__).with_name("demo.yml")


def _refill(item: dict[str, Any], today: date) -> Refill:
    days = item.get("ready_in_days")
    return Refill(
        medication=str(item["medication"]),
        status=RefillStatus(item["status"]),
        pharmacy=str(item.get("pharmacy") or ""),
        ready_on=today + timedelta(days=int(days)) if days is not None else None,
    )


def _appointment(item: dict[str, Any], today: date) -> Appointment:
    hour, minute = (int(part) for part in str(item["time"]).split(":"))
    day = today + timedelta(days=int(item["in_days"]))
    return Appointment(datetime.combine(day, time(hour, minute)), str(item["clinician"]), str(item["location"]))


def sealed_entries(
    document: dict[str, Any], keys: KeySpace, key_ring: KeyRing, today: Optional[date] = None
) -> list[tuple[str, str]]:
    """Every Redis key and sealed value for the patients in ``document``."""
    today = today or date.today()
    directory = RedisPatientDirectory(None, keys, key_ring)  # type: ignore[arg-type]
    care = RedisCareRecords(None, keys, key_ring)  # type: ignore[arg-type]
    entries: list[tuple[str, str]] = []
    for patient in document.get("patients") or []:
        born = patient["date_of_birth"]
        record = PatientRecord(
            patient_id=str(patient["patient_id"]),
            names=tuple(str(name) for name in patient["names"]),
            date_of_birth=born if isinstance(born, date) else date.fromisoformat(str(born)),
        )
        entries.append(directory.sealed_entry(str(patient["member_id"]), record))
        entries.extend(
            care.sealed_entries(
                record.patient_id,
                [_refill(item, today) for item in patient.get("refills") or []],
                [_appointment(item, today) for item in patient.get("appointments") or []],
                int(patient.get("results_ready") or 0),
            )
        )
    return entries


def seed_file(path: Path, settings: HandoffSettings) -> int:
    """Writes every patient of ``path`` into the settings' Redis; returns how many keys were written."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = sealed_entries(document, KeySpace(settings.namespace), settings.key_ring())
    client = redis.Redis.from_url(settings.redis_url)
    try:
        if entries:
            client.mset(dict(entries))
    finally:
        client.close()
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, nargs="?", default=DEMO_PATIENTS)
    args = parser.parse_args()
    written = seed_file(args.file, HandoffSettings.from_env())
    print(f"seeded {written} sealed patient records from {args.file}")


if __name__ == "__main__":
    main()
