"""The chat page's texts come from ``languages/*.yml`` and exist in every language; the language a patient picks
is a code of the catalog or refused; the agent's name a patient sees is the display name and nothing more."""

from pathlib import Path

import pytest

from connectors.patient_page import PAGE_NOTICES, BadLanguageChoice, check_language_choice, page_languages
from handoff.agents import Agent
from languages import LanguageCatalog

LANGUAGES_DIR = Path(__file__).resolve().parents[2] / "languages"
CATALOG = LanguageCatalog.load()
CODES = sorted(path.stem for path in LANGUAGES_DIR.glob("*.yml"))


@pytest.mark.parametrize("code", CODES)
def test_every_language_greets_and_names_the_emergency_numbers_in_itself(code: str) -> None:
    offered = {language["code"]: language for language in page_languages(CATALOG)["languages"]}
    language = offered[code]
    english = offered["en"]["texts"]
    assert set(language["texts"]) == set(PAGE_NOTICES)
    assert all(text.strip() for text in language["texts"].values())
    assert "911" in language["texts"]["emergency_line"] and "988" in language["texts"]["emergency_line"]
    assert "{name}" in language["texts"]["agent_typing"] and "{name}" in language["texts"]["agent_joined"]
    if code != "en":
        for key in PAGE_NOTICES:
            assert language["texts"][key] != english[key], f"{code} {key}: translated, not copied"
    assert language["name"] == CATALOG.get(code).name, "named in its own language"  # type: ignore[union-attr]
    assert language["direction"] == ("rtl" if code == "ar" else "ltr")


def test_the_spanish_emergency_line_says_press_2_or_text_ayuda() -> None:
    line = CATALOG.notice("es", "emergency_line")
    assert "marque 2" in line and "AYUDA" in line


@pytest.mark.parametrize("code", CODES)
def test_every_language_may_be_chosen(code: str) -> None:
    check_language_choice({"language": code, "locale": "en-US"}, CATALOG)


@pytest.mark.parametrize("choice", ["xx", "EN", "en-US", "", " es", "es\n", "e" * 100_000, None, 7, ["es"], {"es": 1}])
def test_anything_else_is_refused(choice: object) -> None:
    with pytest.raises(BadLanguageChoice, match=r"metadata\.language must be one of ar, en, es"):
        check_language_choice({"language": choice}, CATALOG)


def test_no_choice_is_no_refusal() -> None:
    check_language_choice(None, CATALOG)
    check_language_choice({"locale": "fr-CA"}, CATALOG)


def test_a_patient_sees_the_agents_display_name_or_first_name_only() -> None:
    luis = Agent("lortega7", "Luis Ortega Ramírez", "agent", ("es",), ("general",), "hash")
    assert luis.patient_name == "Luis"
    named = Agent("nurse-k", "Katherine O'Neil", "nurse", ("en",), ("nurse",), "hash", display_name="Kate")
    assert named.patient_name == "Kate"


@pytest.mark.parametrize("code", CODES)
def test_every_language_tells_the_patient_a_message_is_sent_again_or_was_not_sent(code: str) -> None:
    """A patient whose message is being sent again, or was not sent, is told so in their language; the emergency
    number stays in the notice that their message did not go."""
    texts = CATALOG.notice(code, "message_retrying"), CATALOG.notice(code, "message_not_sent")
    english = CATALOG.notice("en", "message_retrying"), CATALOG.notice("en", "message_not_sent")
    assert all(text.strip() for text in texts)
    assert "911" in texts[1]
    if code != "en":
        assert texts[0] != english[0] and texts[1] != english[1], f"{code}: translated, not copied"
