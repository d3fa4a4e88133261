"""Patient identity and the records a verified patient may be told; no Rasa import.

``PatientDirectory`` (lookup by member ID) and ``CareRecords`` (refills,
appointments, results ready) are small interfaces that a FHIR server can
replace; the Redis implementations seal every PHI field with the handoff key
ring and name keys by HMACs, never by member ID or patient id.
"""

from patients.care import CareRecords, RedisCareRecords
from patients.dates import format_date, format_time, parse_date_of_birth
from patients.directory import PatientDirectory, RedisPatientDirectory, normalize_member_id, plausible_member_id
from patients.names import same_name
from patients.records import Appointment, PatientRecord, Refill, RefillStatus
from patients.throttle import FailureThrottle
from patients.verifier import IdentityVerifier

__all__ = [
    "Appointment",
    "CareRecords",
    "FailureThrottle",
    "IdentityVerifier",
    "PatientDirectory",
    "PatientRecord",
    "RedisCareRecords",
    "RedisPatientDirectory",
    "Refill",
    "RefillStatus",
    "format_date",
    "format_time",
    "normalize_member_id",
    "parse_date_of_birth",
    "plausible_member_id",
    "same_name",
]
