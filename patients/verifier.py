"""Checks name, date of birth and member ID together, and answers only yes or no.

Which part was wrong is never returned, so no caller can leak it; a throttled
member ID fails like a wrong one.
"""

from dataclasses import dataclass
from datetime import date
from typing import Optional

from patients.directory import PatientDirectory, normalize_member_id, plausible_member_id
from patients.names import same_name
from patients.records import PatientRecord
from patients.throttle import FailureThrottle


@dataclass(frozen=True)
class Verification:
    record: Optional[PatientRecord]
    """The patient's record when all three matched; None otherwise, whatever was wrong."""
    throttled: bool = False
    """The member ID has failed too often across conversations: no point in asking again here."""


class IdentityVerifier:
    def __init__(self, directory: PatientDirectory, throttle: FailureThrottle) -> None:
        self.directory = directory
        self.throttle = throttle

    async def verify(self, name: str, date_of_birth: date, member_id: str) -> Optional[PatientRecord]:
        """The patient's record when all three match and the member ID is not throttled; else None."""
        return (await self.check(name, date_of_birth, member_id)).record

    async def check(self, name: str, date_of_birth: date, member_id: str) -> Verification:
        member = normalize_member_id(member_id)
        if await self.throttle.is_throttled(member):
            await self.throttle.record_failure(member)
            return Verification(None, throttled=True)
        record = await self.directory.find_by_member_id(member) if plausible_member_id(member) else None
        if (
            record is not None
            and record.date_of_birth == date_of_birth
            and any(same_name(name, on_record) for on_record in record.names)
        ):
            return Verification(record)
        failures = await self.throttle.record_failure(member)
        return Verification(None, throttled=failures >= self.throttle.max_failures)
