"""What the bot may tell a verified patient: refill status, upcoming appointments, results ready.

Values only: ``patients.directory`` and ``patients.care`` store them.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Optional


class RefillStatus(str, Enum):
    READY = "ready"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    TOO_SOON = "too_soon"


@dataclass(frozen=True)
class PatientRecord:
    """One directory entry: what identity verification compares, and the id the stores use."""

    patient_id: str
    names: tuple[str, ...]
    """Every name on file (FHIR ``Patient.name`` may hold several, e.g. in two scripts)."""
    date_of_birth: date

    def to_json(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "names": list(self.names),
            "date_of_birth": self.date_of_birth.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PatientRecord":
        names = tuple(str(name) for name in data["names"])
        return cls(str(data["patient_id"]), names, date.fromisoformat(data["date_of_birth"]))


@dataclass(frozen=True)
class Refill:
    medication: str
    status: RefillStatus
    pharmacy: str = ""
    ready_on: Optional[date] = None
    """For ``in_progress`` the expected date, for ``too_soon`` the first date it can be filled."""

    def to_json(self) -> dict[str, Any]:
        return {
            "medication": self.medication,
            "status": self.status.value,
            "pharmacy": self.pharmacy,
            "ready_on": self.ready_on.isoformat() if self.ready_on else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Refill":
        ready_on = data.get("ready_on")
        return cls(
            medication=str(data["medication"]),
            status=RefillStatus(data["status"]),
            pharmacy=str(data.get("pharmacy") or ""),
            ready_on=date.fromisoformat(ready_on) if ready_on else None,
        )


@dataclass(frozen=True)
class Appointment:
    starts_at: datetime
    """Local clinic time."""
    clinician: str
    location: str

    def to_json(self) -> dict[str, Any]:
        return {"starts_at": self.starts_at.isoformat(), "clinician": self.clinician, "location": self.location}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Appointment":
        return cls(datetime.fromisoformat(data["starts_at"]), str(data["clinician"]), str(data["location"]))
