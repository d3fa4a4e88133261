"""Crisis-language screening for patient chat messages (no Rasa dependency)."""

from screening.crisis import CrisisCategory, CrisisFinding, CrisisScreen

__all__ = ["CrisisCategory", "CrisisFinding", "CrisisScreen"]
