"""Every language in ``languages/`` has every file the README's "Adding a language" names, so a language
added (or turned into a bot language) without one of them fails here, naming what is missing."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from languages import LanguageCatalog, LanguageResolver
from languages.detection import nlu_examples

PROJECT = Path(__file__).resolve().parents[2]
LANGUAGES = sorted(path.stem for path in (PROJECT / "languages").glob("*.yml"))
MIN_CRISIS_CASES = 40
RASA_BUILT_IN_INTENTS = frozenset(["nlu_fallback"])
"""Predicted by Rasa's FallbackClassifier, never trained on examples."""


def _yaml(relative: str) -> Any:
    path = PROJECT / relative
    assert path.is_file(), f"{relative} is missing"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _bot_languages() -> list[str]:
    return [code for code in LANGUAGES if _yaml(f"languages/{code}.yml").get("bot")]


def _all_notices() -> set[str]:
    return {key for code in LANGUAGES for key in (_yaml(f"languages/{code}.yml").get("notices") or {})}


def _all_responses() -> set[str]:
    return {
        name
        for path in (PROJECT / "domain" / "responses").glob("*.yml")
        for name in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    }


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_language_has_its_catalog_entry_crisis_patterns_and_labelled_cases(code: str) -> None:
    entry = _yaml(f"languages/{code}.yml")
    assert entry.get("code") == code and entry.get("name") and entry.get("names"), f"languages/{code}.yml"
    assert entry.get("script") or entry.get("common_words"), f"languages/{code}.yml: frequent words or a script"
    missing = sorted(_all_notices() - set(entry.get("notices") or {}))
    assert not missing, f"languages/{code}.yml lacks the notices {missing}"
    assert all(str(text).strip() for text in entry["notices"].values()), f"languages/{code}.yml: an empty notice"

    patterns = _yaml(f"screening/patterns/{code}.yml")
    assert patterns.get("language") == code and patterns.get("categories"), f"screening/patterns/{code}.yml"

    cases = _yaml(f"tests/data/crisis/{code}.yml")
    assert cases.get("language") == code
    assert len(cases.get("cases") or []) >= MIN_CRISIS_CASES, f"tests/data/crisis/{code}.yml: {MIN_CRISIS_CASES} cases"
    assert cases.get("held_out"), f"tests/data/crisis/{code}.yml: a held_out list"


@pytest.mark.parametrize("code", _bot_languages())
def test_every_bot_language_has_nlu_responses_stories_and_held_out_sets(code: str) -> None:
    intents = set(_yaml("domain/bot.yml")["intents"]) - RASA_BUILT_IN_INTENTS
    nlu_dir = PROJECT / "data" / "nlu" / code
    trained = {intent for path in sorted(nlu_dir.glob("*.yml")) for _, intent in nlu_examples(path)}
    assert not sorted(intents - trained), f"data/nlu/{code}/ lacks examples of {sorted(intents - trained)}"

    responses = _yaml(f"domain/responses/{code}.yml").get("responses") or {}
    missing = sorted(_all_responses() - set(responses))
    assert not missing, f"domain/responses/{code}.yml lacks {missing}"
    for name, variations in responses.items():
        assert all(
            {"type": "slot", "name": "language", "value": code} in (variation.get("condition") or [])
            for variation in variations
        ), f"domain/responses/{code}.yml: {name} is not conditioned on language {code}"

    assert _yaml(f"tests/stories/test_{code}.yml").get("stories"), f"tests/stories/test_{code}.yml has no stories"
    assert nlu_examples(PROJECT / "tests" / "data" / "nlu" / f"{code}.yml"), f"tests/data/nlu/{code}.yml is empty"
    detection = _yaml(f"tests/data/language_detection/{code}.yml")
    assert detection.get("language") == code and detection.get("messages"), f"tests/data/language_detection/{code}.yml"


def test_the_catalog_reads_the_bot_flag_the_files_are_checked_against() -> None:
    assert set(LanguageCatalog.load().bot_languages) == set(_bot_languages())
    assert "en" in _bot_languages()


def test_every_language_offers_itself_with_a_word_that_switches_the_bot_to_it() -> None:
    """The menu a patient with no English gets: each language's line quotes the word to write, and that word, sent
    on its own, switches the conversation to the language."""
    catalog = LanguageCatalog.load()
    resolver = LanguageResolver(catalog)
    for language in catalog:
        quoted = re.findall(r'"([^"]+)"', language.notices["language_menu"])
        assert len(quoted) == 1, f"languages/{language.code}.yml: language_menu quotes one word to write"
        assert resolver.resolve(quoted[0], "en", None).language == language.code, language.code
    menu = catalog.language_menu(without="en").splitlines()
    assert len(menu) == len(list(catalog)) - 1 and not any(line.startswith("English") for line in menu)
    assert [catalog.has_bot(line_code) for line_code in _menu_codes(catalog, menu)] == sorted(
        (catalog.has_bot(code) for code in _menu_codes(catalog, menu)), reverse=True), "bot languages first"


def _menu_codes(catalog: LanguageCatalog, lines: list[str]) -> list[str]:
    return [next(language.code for language in catalog if language.notices["language_menu"] == line)
            for line in lines]
