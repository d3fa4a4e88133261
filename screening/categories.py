"""What the crisis screen reports: a category and the words that triggered it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CrisisCategory(str, Enum):
    """What kind of crisis a message indicates."""

    SUICIDE_SELF_HARM = "suicide_self_harm"
    OVERDOSE_POISONING = "overdose_poisoning"
    MEDICAL_EMERGENCY = "medical_emergency"
    VIOLENCE_ABUSE = "violence_abuse"


@dataclass(frozen=True)
class CrisisFinding:
    """A crisis detected in a message.

    Attributes:
        category: The crisis category.
        evidence: The matched span, copied verbatim from the original text.
        language: The language whose patterns matched (which may differ from
            the language the message was screened as).
    """

    category: CrisisCategory
    evidence: str
    language: str
