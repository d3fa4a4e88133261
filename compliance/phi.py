"""Finding PHI in what the bot or an agent wrote: patterns, a medication list, and the patient directory.

The review asks one question of a message: does it tell the reader something about a patient's health
or identity that only a verified patient may hear? Four kinds are looked for:

``member_id``
    a member ID: "member ID ..." followed by a code with digits, any code shaped like the health system's
    (letters, then digits in groups: ``HCB-100-200``), or any member ID of the patient directory.
``date_of_birth``
    a date written as a date (``03/14/1962``, ``1962-03-14``, ``March 14, 1962``, ``14 March 1962``), or a
    date of birth of the patient directory in any of those forms.
``medication``
    a name from ``compliance/medications.txt``.
``test_value``
    a test name with a value (``A1C is 7.2``, ``cholesterol 210``) or a value with a lab unit
    (``5.4 mmol/L``, ``140 mg/dL``).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

from redis.asyncio import Redis

from handoff.crypto import KeyRing
from handoff.keys import KeySpace
from handoff.redis_values import keys_after, text_of
from patients.directory import PATIENT_BY_MEMBER, directory_context, normalize_member_id

MEDICATIONS_FILE = Path(__file__).with_name("medications.txt")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_PATTERNS = (
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}\b"),
    re.compile(r"\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b"),
    re.compile(rf"\b{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b", re.IGNORECASE),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+(?:19|20)\d{{2}}\b", re.IGNORECASE),
)
MEMBER_ID_PATTERNS = (
    re.compile(r"\bmember\s*(?:id|number|#)\s*(?:is|:)?\s*([A-Za-z0-9][A-Za-z0-9 -]{3,30}\d)", re.IGNORECASE),
    re.compile(r"\b[A-Z]{2,4}-?\d{3}-?\d{3,}\b"),
)
TESTS = (r"a1c|hba1c|glucose|blood sugar|cholesterol|ldl|hdl|triglycerides|potassium|sodium|creatinine|egfr|tsh|"
         r"hemoglobin|platelets|inr|psa|vitamin d|white (?:blood )?count|wbc|blood pressure|bp")
TEST_VALUE_PATTERNS = (
    re.compile(rf"\b(?:{TESTS})\b[^.!?\d]{{0,24}}\d+(?:[.,]\d+)?", re.IGNORECASE),
    re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg/dl|mmol/l|mmhg|ng/ml|miu/l|u/l|g/dl|meq/l)\b", re.IGNORECASE),
)


@dataclass(frozen=True)
class PhiMatch:
    kind: str
    text: str


def load_medications(path: Path = MEDICATIONS_FILE) -> frozenset[str]:
    return frozenset(line.strip().lower() for line in path.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def date_forms(day: date) -> set[str]:
    """How a date may be written in a message, lower case."""
    month = MONTHS[day.month - 1]
    return {
        day.isoformat(), f"{day.month}/{day.day}/{day.year}", f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{month} {day.day}, {day.year}", f"{month} {day.day} {day.year}", f"{day.day} {month} {day.year}",
        f"{day.month:02d}-{day.day:02d}-{day.year}",
    }


class PhiDetector:
    """Patterns, the medication list, and literals taken from the patient directory."""

    def __init__(self, medications: frozenset[str], member_ids: Iterable[str] = (),
                 birth_dates: Iterable[date] = ()) -> None:
        self.medications = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, medications))) + r")\b",
                                      re.IGNORECASE)
        self.member_ids = {normalize_member_id(member_id) for member_id in member_ids if normalize_member_id(member_id)}
        self.birth_dates = {form for day in birth_dates for form in date_forms(day)}

    def find(self, text: str) -> list[PhiMatch]:
        """Every kind of PHI in the text, each with the words that showed it."""
        matches = [PhiMatch("member_id", match.group(0)) for pattern in MEMBER_ID_PATTERNS
                   for match in pattern.finditer(text)]
        compact = normalize_member_id(text)
        matches += [PhiMatch("member_id", member_id) for member_id in sorted(self.member_ids)
                    if member_id in compact]
        matches += [PhiMatch("date_of_birth", match.group(0)) for pattern in DATE_PATTERNS
                    for match in pattern.finditer(text)]
        lowered = text.lower()
        matches += [PhiMatch("date_of_birth", form) for form in sorted(self.birth_dates) if form in lowered]
        matches += [PhiMatch("medication", match.group(0)) for match in self.medications.finditer(text)]
        matches += [PhiMatch("test_value", match.group(0)) for pattern in TEST_VALUE_PATTERNS
                    for match in pattern.finditer(text)]
        unique: dict[tuple[str, str], PhiMatch] = {}
        for match in matches:
            unique.setdefault((match.kind, match.text.lower()), match)
        return list(unique.values())

    @classmethod
    async def with_directory(cls, redis: Redis, keys: KeySpace, key_ring: KeyRing) -> "PhiDetector":
        """The detector with every member ID and date of birth of the patient directory in Redis."""
        member_ids, birth_dates = [], []
        prefix = keys.key(PATIENT_BY_MEMBER, "")
        async for suffix in keys_after(redis, prefix):
            key = prefix + suffix
            sealed = await redis.get(key)
            if sealed is None:
                continue
            record = json.loads(key_ring.open(text_of(sealed), directory_context(key)))
            member_ids.append(str(record.get("member_id", "")))
            birth_dates.append(date.fromisoformat(record["date_of_birth"]))
        return cls(load_medications(), member_ids, birth_dates)
