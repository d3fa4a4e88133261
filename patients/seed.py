"""Seeds the patient directory and the care stores from a YAML file (``patients/demo.yml``).

``python -m patients.seed [FILE]`` reads ``REDIS_URL``, ``HANDOFF_DATA_KEYS`` and
``HANDOFF_NAMESPACE`` like every other process (``handoff.settings``); ``make run``
and the test stack run it on start. Seeding again overwrites the same records.
Keys are HMACs under the key ring's current key: after rotating the key ring,
seed (or re-index) again.
"""

import argparse
import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Optional

import yaml
from redis.asyncio import Redis

from handoff.crypto import KeyRing
from handoff.keys import KeySpace
from handoff.redis_connection import async_redis
from handoff.settings import HandoffSettings
from patients.care import RedisCareRecords
from patients.directory import RedisPatientDirectory
from patients.records import Appointment, PatientRecord, Refill, RefillStatus

DEMO_PATIENTS = Path(__file__).with_name("demo.yml")


@dataclass(frozen=True)
class DemoPatient:
    member_id: str
    record: PatientRecord
    refills: list[Refill]
    appointments: list[Appointment]
    results_ready: int


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


def patients_of(document: dict[str, Any], today: Optional[date] = None) -> list[DemoPatient]:
    """The patients of a demo YAML document, with dates made absolute from ``today``."""
    today = today or date.today()
    patients = []
    for patient in document.get("patients") or []:
        born = patient["date_of_birth"]
        record = PatientRecord(
            patient_id=str(patient["patient_id"]),
            names=tuple(str(name) for name in patient["names"]),
            date_of_birth=born if isinstance(born, date) else date.fromisoformat(str(born)),
        )
        patients.append(
            DemoPatient(
                member_id=str(patient["member_id"]),
                record=record,
                refills=[_refill(item, today) for item in patient.get("refills") or []],
                appointments=[_appointment(item, today) for item in patient.get("appointments") or []],
                results_ready=int(patient.get("results_ready") or 0),
            )
        )
    return patients


def load_patients(path: Path) -> list[DemoPatient]:
    return patients_of(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


async def seed(redis: Redis, keys: KeySpace, key_ring: KeyRing, patients: list[DemoPatient]) -> int:
    """Writes every patient (sealed); returns how many."""
    directory = RedisPatientDirectory(redis, keys, key_ring)
    care = RedisCareRecords(redis, keys, key_ring)
    for patient in patients:
        await directory.put(patient.member_id, patient.record)
        await care.put(patient.record.patient_id, patient.refills, patient.appointments, patient.results_ready)
    return len(patients)


async def seed_from_settings(patients: list[DemoPatient], settings: HandoffSettings) -> int:
    redis = async_redis(settings.redis_url)
    try:
        return await seed(redis, KeySpace(settings.namespace), settings.key_ring(), patients)
    finally:
        await redis.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, nargs="?", default=DEMO_PATIENTS)
    args = parser.parse_args()
    count = asyncio.run(seed_from_settings(load_patients(args.file), HandoffSettings.from_env()))
    print(f"seeded {count} patients (sealed) from {args.file}")


if __name__ == "__main__":
    main()
