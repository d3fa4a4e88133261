"""What the crisis screen reports: a category, the words that triggered it, and which screen fired."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

RULES = "rules"
CLASSIFIER = "classifier"


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
        evidence: The matched span, copied verbatim from the original text
            (for the classifier: its highest-scoring segment, truncated).
        language: The language whose patterns matched (which may differ from
            the language the message was screened as); for the classifier,
            the language the message was screened as.
        source: ``"rules"`` or ``"classifier"``: which screen fired.
    """

    category: CrisisCategory
    evidence: str
    language: str
    source: str = RULES
