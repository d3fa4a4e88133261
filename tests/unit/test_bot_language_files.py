"""Every language with bot flows (``bot: true`` in ``languages/<code>.yml``) has all of them: NLU
examples of every intent in the same topic files as English, responses, and story tests that
walk every intent the patient can express, and the agents' canned replies (README, "Adding a language")."""

from pathlib import Path

import pytest
import yaml

from handoff.canned_replies import read_replies
from languages.catalog import LanguageCatalog
from languages.detection import nlu_examples

PROJECT_DIR = Path(__file__).resolve().parents[2]
NLU_DIR = PROJECT_DIR / "data" / "nlu"
BOT_LANGUAGES = sorted(LanguageCatalog.load().bot_languages)
INTENTS = set(yaml.safe_load((PROJECT_DIR / "domain" / "bot.yml").read_text(encoding="utf-8"))["intents"])
PATIENT_INTENTS = INTENTS - {"nlu_fallback"}
MIN_EXAMPLES_PER_INTENT = 10


def topic_files(language: str) -> set[str]:
    return {path.name for path in (NLU_DIR / language).glob("*.yml")}


@pytest.mark.parametrize("language", BOT_LANGUAGES)
def test_every_intent_has_examples_in_the_topic_files_english_has(language: str) -> None:
    assert topic_files(language) == topic_files("en")
    counts: dict[str, int] = {}
    for path in sorted((NLU_DIR / language).glob("*.yml")):
        for _, intent in nlu_examples(path):
            counts[intent] = counts.get(intent, 0) + 1
    assert set(counts) == PATIENT_INTENTS, f"{language}: missing {PATIENT_INTENTS - set(counts)}"
    thin = {intent: count for intent, count in counts.items() if count < MIN_EXAMPLES_PER_INTENT}
    assert not thin, f"{language}: fewer than {MIN_EXAMPLES_PER_INTENT} examples for {thin}"


@pytest.mark.parametrize("language", BOT_LANGUAGES)
def test_responses_and_story_tests_exist_and_stories_walk_every_intent(language: str) -> None:
    assert (PROJECT_DIR / "domain" / "responses" / f"{language}.yml").is_file()
    stories = yaml.safe_load((PROJECT_DIR / "tests" / "stories" / f"test_{language}.yml").read_text(encoding="utf-8"))
    walked = {step["intent"] for story in stories["stories"] for step in story["steps"] if "intent" in step}
    assert walked == INTENTS, f"{language}: no story for {INTENTS - walked}"


@pytest.mark.parametrize("language", BOT_LANGUAGES)
def test_agents_have_the_canned_replies_english_has_in_the_language(language: str) -> None:
    english = read_replies(PROJECT_DIR / "canned_replies" / "en.yml")
    replies = read_replies(PROJECT_DIR / "canned_replies" / f"{language}.yml")
    assert [reply.reply_id for reply in replies] == [reply.reply_id for reply in english]
    if language != "en":
        same = [reply.reply_id for reply, original in zip(replies, english, strict=True) if reply.text == original.text]
        assert not same, f"{language}: still the English text of {same}"
    assert all("988" in reply.text and "911" in reply.text for reply in replies if reply.reply_id == "emergency")
