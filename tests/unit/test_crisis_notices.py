"""The crisis notice the connector sends must give 988 and 911 at once, in every language.

Read straight from every ``languages/*.yml`` file, so a new language cannot ship
without a notice that passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

LANGUAGES_DIR = Path(__file__).resolve().parents[2] / "languages"
LANGUAGE_FILES = sorted(LANGUAGES_DIR.glob("*.yml"))
# A sentence ends at . ! ? followed by a space (not inside "988lifeline.org"),
# or at a full-width stop.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])")


def _first_sentences(text: str, count: int = 2) -> str:
    parts = [part for part in _SENTENCE_END.split(text.strip()) if part]
    return " ".join(parts[:count])


def _notice(path: Path) -> tuple[str, str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(document["code"]), str((document.get("notices") or {}).get("crisis_resources", ""))


def test_every_routed_language_has_a_file() -> None:
    codes = {_notice(path)[0] for path in LANGUAGE_FILES}
    assert codes >= {"en", "es", "zh", "vi", "tl", "ar", "ko", "ru", "fr", "ht", "pt"}


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_crisis_notice_names_988_and_911_in_its_first_two_sentences(path: Path) -> None:
    code, notice = _notice(path)
    assert notice, f"{code}: no crisis_resources notice"
    opening = _first_sentences(notice)
    assert "988" in opening, f"{code}: 988 not in the first two sentences: {opening!r}"
    assert "911" in opening, f"{code}: 911 not in the first two sentences: {opening!r}"


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.stem)
def test_crisis_notice_gives_the_way_in_for_the_patients_language(path: Path) -> None:
    code, notice = _notice(path)
    opening = _first_sentences(notice)
    if code == "en":
        assert "call or text 988" in opening
    elif code == "es":
        # Spanish line: call 988 and press 2, or text AYUDA to 988
        assert re.search(r"988 y marque 2", opening), opening
        assert "AYUDA" in opening and opening.count("988") >= 2, opening
    else:
        # interpreters in 200+ languages, by phone
        assert re.search(r"(?<!\d)200(?!\d)", opening), f"{code}: no 200+ languages interpreters: {opening!r}"


def test_sentence_split_does_not_break_on_a_web_address() -> None:
    text = "Call or text 988 (chat at 988lifeline.org). Call 911. Stay here."
    assert _first_sentences(text) == "Call or text 988 (chat at 988lifeline.org). Call 911."
    assert _first_sentences("拨打 988。请拨打 911。请不要关闭。") == "拨打 988。 请拨打 911。"


RESPONSES_DIR = Path(__file__).resolve().parents[2] / "domain" / "responses"


@pytest.mark.parametrize("path", sorted(RESPONSES_DIR.glob("*.yml")), ids=lambda p: p.stem)
def test_the_bots_crisis_response_promises_no_person_before_the_escalation_is_stored(path: Path) -> None:
    """Rasa speaks before the connector stores the escalation; "connecting you" is the connector's to say."""
    responses = yaml.safe_load(path.read_text(encoding="utf-8"))["responses"]
    [crisis] = [variant["text"] for variant in responses["utter_crisis_resources"]]
    handoff = [variant["text"] for variant in responses["utter_handoff"]]
    language = yaml.safe_load((LANGUAGES_DIR / path.name).read_text(encoding="utf-8"))
    connecting = language["notices"]["crisis_connecting"]
    assert "988" in _first_sentences(crisis) and "911" in _first_sentences(crisis)
    assert connecting.rstrip(".。") not in crisis
    assert not any(text.split(".")[0].split("。")[0] in crisis for text in handoff)
