"""The e2e tests' routing messages are training examples of their intents, in their language."""

from functools import cache
from pathlib import Path

import pytest

from languages import LanguageCatalog, LanguageResolver
from languages.detection import nlu_examples
from tests.e2e.training_messages import TRAINING_MESSAGES

NLU_DIR = Path(__file__).resolve().parents[2] / "data" / "nlu"


@cache
def training_examples(language: str) -> set[tuple[str, str]]:
    return {example for path in sorted((NLU_DIR / language).glob("*.yml")) for example in nlu_examples(path)}


@cache
def language_resolver() -> LanguageResolver:
    return LanguageResolver(LanguageCatalog.load())


@pytest.mark.parametrize(("language", "intent"), sorted(TRAINING_MESSAGES))
def test_routing_message_is_a_training_example_of_its_intent(language: str, intent: str) -> None:
    text = TRAINING_MESSAGES[(language, intent)]
    assert (text, intent) in training_examples(language), f"{text!r} is not a {language} example of {intent}"


@pytest.mark.parametrize(("language", "intent"), sorted(TRAINING_MESSAGES))
def test_routing_message_is_read_as_its_language(language: str, intent: str) -> None:
    assert language_resolver().resolve(TRAINING_MESSAGES[(language, intent)], None, None).language == language
