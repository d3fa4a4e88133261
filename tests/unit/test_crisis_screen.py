"""Tests for the crisis-language screen (screening/)."""

from __future__ import annotations

import random

import pytest

from screening import CrisisCategory, CrisisFinding, CrisisScreen
from screening.evaluate import NONE_LABEL, LabelledCase, load_cases
from screening.normalise import Normaliser
from screening.patterns import PatternFileError, expand

CASES = load_cases()


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    return CrisisScreen()


def _case_id(case: LabelledCase) -> str:
    return f"{case.language}-{case.kind}-{case.text[:40]}"


def test_labelled_set_is_large_and_covers_every_category_in_every_language() -> None:
    assert len(CASES) >= 300
    for language in ("en", "es", "zh", "vi"):
        labels = {case.label for case in CASES if case.language == language}
        assert labels >= {category.value for category in CrisisCategory} | {NONE_LABEL}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_labelled_case(screen: CrisisScreen, case: LabelledCase) -> None:
    finding = screen.screen(case.text, case.language)
    if case.label == NONE_LABEL:
        assert finding is None, f"false alarm on {finding}"
    else:
        assert finding is not None
        assert finding.category is CrisisCategory(case.label)


@pytest.mark.parametrize("case", [c for c in CASES if c.label != NONE_LABEL], ids=_case_id)
def test_evidence_is_a_span_of_the_original_text(screen: CrisisScreen, case: LabelledCase) -> None:
    finding = screen.screen(case.text, case.language)
    assert finding is not None
    assert finding.evidence
    assert finding.evidence in case.text
    assert finding.evidence == finding.evidence.strip()


def test_evidence_keeps_original_case_accents_and_apostrophes(screen: CrisisScreen) -> None:
    finding = screen.screen("Honestly I DON'T want to live anymore.", "en")
    assert finding == CrisisFinding(CrisisCategory.SUICIDE_SELF_HARM, "DON'T want to live", "en")
    finding = screen.screen("De verdad, ya no quiero estar aquí.", "es")
    assert finding is not None and finding.evidence == "ya no quiero estar aquí"
    finding = screen.screen("我想自殺。", "zh")
    assert finding is not None and finding.evidence == "自殺"


@pytest.mark.parametrize("language", ["", "fr", "und", "xx-YY", "zh-Hant", "ES", "en_US", "tl"])
def test_any_language_code_is_accepted(screen: CrisisScreen, language: str) -> None:
    assert screen.screen("I want to kill myself", language) is not None
    assert screen.screen("Hello, what are your hours?", language) is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我想自杀", CrisisCategory.SUICIDE_SELF_HARM),
        ("Tôi không muốn sống nữa", CrisisCategory.SUICIDE_SELF_HARM),
        ("no quiero vivir", CrisisCategory.SUICIDE_SELF_HARM),
    ],
)
def test_unsupported_or_wrong_language_screens_with_every_language(
    screen: CrisisScreen, text: str, category: CrisisCategory
) -> None:
    finding = screen.screen(text, "fr")
    assert finding is not None and finding.category is category


def test_english_and_spanish_are_always_screened(screen: CrisisScreen) -> None:
    finding = screen.screen("Xin chào, I took all my pills", "vi")
    assert finding is not None and finding.category is CrisisCategory.OVERDOSE_POISONING
    assert finding.language == "en"
    finding = screen.screen("我需要续药, pero ya no quiero vivir", "zh")
    assert finding is not None and finding.language == "es"


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("Necesito mi refill, but honestly I want to die", "es", CrisisCategory.SUICIDE_SELF_HARM),
        ("My mom no respira!!", "en", CrisisCategory.MEDICAL_EMERGENCY),
        ("医生你好, my husband hits me", "zh", CrisisCategory.VIOLENCE_ABUSE),
        ("Bác sĩ ơi, tôi bị đau ngực, chest pain", "vi", CrisisCategory.MEDICAL_EMERGENCY),
    ],
)
def test_mixed_language_messages(
    screen: CrisisScreen, text: str, language: str, category: CrisisCategory
) -> None:
    finding = screen.screen(text, language)
    assert finding is not None and finding.category is category


@pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n", "...", "???!!!", "\u200b", "'''", "😀😀"])
def test_empty_and_punctuation_only_input(screen: CrisisScreen, text: str) -> None:
    assert screen.screen(text, "en") is None


def test_very_long_input_does_not_raise(screen: CrisisScreen) -> None:
    filler = "I need to reschedule my appointment and check my claim. " * 80
    assert len(filler) > 4096
    assert screen.screen(filler, "en") is None
    finding = screen.screen(filler + "I want to end my life", "unknown")
    assert finding is not None and finding.evidence == "end my life"


def test_random_unicode_does_not_raise(screen: CrisisScreen) -> None:
    rng = random.Random(7)
    alphabet = "aeiou kl'\u2019-.,!?ÁÉíñüđơư自杀想死不\u0301\u200b\t\n\uff21\uff11"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        finding = screen.screen(text, rng.choice(["en", "es", "zh", "vi", "xx"]))
        assert finding is None or finding.evidence in text


def test_languages_property(screen: CrisisScreen) -> None:
    assert set(screen.languages) == {"en", "es", "zh", "vi"}


def test_finding_is_frozen(screen: CrisisScreen) -> None:
    finding = screen.screen("I can't breathe", "en")
    assert finding is not None
    with pytest.raises(AttributeError):
        finding.category = CrisisCategory.VIOLENCE_ABUSE  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I'm  NOT suicidal", "im not suicidal"),
        ("Quiero suicidarme", "quiero suicidarme"),
        ("I WANT TO DIEEEE", "i want to die"),
        ("self-harm", "self harm"),
        ("Tôi muốn chết", "toi muon chet"),
        ("Đau ngực", "dau nguc"),
        ("\uff26\uff35\uff2c\uff2c\u3000\uff57\uff49\uff44\uff54\uff48", "ful width"),
    ],
)
def test_normalisation(raw: str, expected: str) -> None:
    assert Normaliser().normalise(raw) == expected


def test_traditional_chinese_folds_to_simplified() -> None:
    normaliser = Normaliser({"殺": "杀"})
    assert normaliser.normalise("自殺") == "自杀"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_offset_path_agrees_with_fast_path(screen: CrisisScreen, case: LabelledCase) -> None:
    normaliser = screen._normaliser
    normalised, starts, ends = normaliser.normalise_with_offsets(case.text)
    assert normalised == normaliser.normalise(case.text)
    assert len(starts) == len(ends) == len(normalised)
    assert all(0 <= s < e <= len(case.text) for s, e in zip(starts, ends, strict=True))


def test_pattern_expansion() -> None:
    assert expand("a (b|c d)? e") == [
        (("a",), ("b",), ("e",)),
        (("a",), ("c",), ("d",), ("e",)),
        (("a",), ("e",)),
    ]
    assert expand("(x|y|) z") == [(("x", "y", ""), ("z",))]
    with pytest.raises(PatternFileError):
        expand("(a|b")
    with pytest.raises(PatternFileError):
        expand("a)")
