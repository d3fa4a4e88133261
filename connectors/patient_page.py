"""What the chat page needs before the patient writes: every language it offers, with the texts it shows in each,
and the patient's choice of language checked on every message.

``GET /webhooks/patient/languages`` answers ``{"default": "en", "languages": [{"code", "name", "direction",
"texts": {...}}]}``: each language of ``languages/*.yml``, named in itself, with the page's texts from its notices
(``PAGE_NOTICES``). The page greets the patient from it in the language of the browser's locale, or the one the
patient picks, and shows the emergency line in that language.

A language the patient picks on the page comes with each message as ``metadata.language``: an explicit choice
that outranks the message's own language and the browser's locale (``chosen_language``). Anything
but a code of the catalog is refused (``BadLanguageChoice``), before it changes anything.
"""

from typing import Any, Optional

from rasa.core.channels.channel import UserMessage

from languages import LanguageCatalog
from languages.detection import DEFAULT_LANGUAGE

PAGE_NOTICES = ("greeting", "emergency_line", "agent_joined", "agent_typing", "language_label", "page_title",
                "message_label", "message_placeholder", "send_button", "message_retrying", "message_not_sent")
"""Notices of ``languages/*.yml`` the page shows; every language has each (a unit test holds them to it)."""
RIGHT_TO_LEFT_SCRIPTS = frozenset(["arabic"])
LANGUAGE_CHOICE_KEY = "language"
"""The key of ``metadata`` that carries the patient's choice."""


class BadLanguageChoice(ValueError):
    """``metadata.language`` is not a language the catalog has."""


def page_languages(catalog: LanguageCatalog) -> dict[str, Any]:
    return {
        "default": DEFAULT_LANGUAGE,
        "languages": [
            {
                "code": language.code,
                "name": language.name,
                "direction": "rtl" if language.script in RIGHT_TO_LEFT_SCRIPTS else "ltr",
                "texts": {key: language.notices[key] for key in PAGE_NOTICES},
            }
            for language in sorted(catalog, key=lambda language: language.code)
        ],
    }


def check_language_choice(metadata: Optional[dict[str, Any]], catalog: LanguageCatalog) -> None:
    """Raises ``BadLanguageChoice`` unless ``metadata.language`` is absent or a code of the catalog."""
    if not metadata or LANGUAGE_CHOICE_KEY not in metadata:
        return
    choice = metadata[LANGUAGE_CHOICE_KEY]
    if not (isinstance(choice, str) and catalog.get(choice) is not None):
        codes = ", ".join(sorted(language.code for language in catalog))
        raise BadLanguageChoice(f"metadata.language must be one of {codes}")


def without_language_choice(metadata: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The metadata less a refused choice: a crisis message that carried one is still answered."""
    if metadata is None:
        return None
    return {key: value for key, value in metadata.items() if key != LANGUAGE_CHOICE_KEY}


def chosen_language(message: UserMessage, catalog: LanguageCatalog) -> Optional[str]:
    """The language the patient picked (``metadata.language``, a code of the catalog): it outranks the message's
    own language and the locale (``connectors.gate``). The patient channel refuses any other value; a value the
    catalog lacks from another channel counts as no choice."""
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    choice = metadata.get(LANGUAGE_CHOICE_KEY)
    return choice if isinstance(choice, str) and catalog.get(choice) is not None else None
