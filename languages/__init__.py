"""The languages the system serves: catalog (one YAML file per language) and detection.

Imports nothing from Rasa. Adding a language starts with ``languages/<code>.yml``.
"""

from languages.catalog import Language, LanguageCatalog
from languages.detection import LanguageResolver, Resolution

__all__ = ["Language", "LanguageCatalog", "LanguageResolver", "Resolution"]
