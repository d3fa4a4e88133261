"""Tests for the crisis-language screen (screening/)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from screening import CrisisCategory, CrisisFinding, CrisisScreen
from screening.evaluate import HELD_OUT, NONE_LABEL, TUNED, LabelledCase, load_cases, rates, run
from screening.normalise import Normaliser
from screening.patterns import PATTERN_DIR, PatternFileError, expand

CASES = load_cases()
TUNED_CASES = [case for case in CASES if case.split == TUNED]
HELD_OUT_CASES = [case for case in CASES if case.split == HELD_OUT]
LANGUAGES_DIR = Path(__file__).resolve().parents[2] / "languages"
ROUTED_LANGUAGES = sorted(path.stem for path in LANGUAGES_DIR.glob("*.yml"))


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    """The rules alone: these tests are about the patterns (the learned screen: test_crisis_classifier)."""
    return CrisisScreen(classifier=None)


def _case_id(case: LabelledCase) -> str:
    return f"{case.language}-{case.kind}-{case.text[:40]}"


def test_labelled_set_is_large_and_covers_every_category_in_every_language() -> None:
    assert len(TUNED_CASES) >= 800
    for language in ROUTED_LANGUAGES:
        cases = [case for case in TUNED_CASES if case.language == language]
        assert len(cases) >= 40, language
        labels = {case.label for case in cases}
        assert labels >= {category.value for category in CrisisCategory} | {NONE_LABEL}, language
        kinds = {case.kind for case in cases}
        assert kinds >= {"explicit", "indirect", "typo", "negation", "hard_negative"}, language


@pytest.mark.parametrize("language", ROUTED_LANGUAGES)
def test_every_routed_language_has_patterns_and_a_held_out_split(language: str) -> None:
    """Issue 9: crisis safety in every language the system routes."""
    assert (PATTERN_DIR / f"{language}.yml").is_file()
    held_out = [case for case in HELD_OUT_CASES if case.language == language]
    assert len(held_out) >= 15
    assert {case.label for case in held_out} >= {category.value for category in CrisisCategory} | {NONE_LABEL}


def test_held_out_split_is_disjoint_from_the_tuning_set() -> None:
    assert not {(c.language, c.text) for c in HELD_OUT_CASES} & {(c.language, c.text) for c in TUNED_CASES}


def test_held_out_figures_stay_above_a_floor() -> None:
    """A regression floor of the product screen (rules and classifier), below today's figures
    (held-out recall 96 % overall, >= 87 % per language; hard-negative FPR 15 % overall).

    The held-out cases are never trained or tuned on, so they are not asserted one by one;
    this only catches a change that breaks many of them at once.
    """
    outcomes = run(CrisisScreen().screen, HELD_OUT_CASES)
    recall, hard_fpr = rates(outcomes)
    assert recall >= 0.9 and hard_fpr <= 0.25, (recall, hard_fpr)
    for language in sorted({case.language for case in HELD_OUT_CASES}):
        recall, _ = rates([o for o in outcomes if o.case.language == language])
        assert recall >= 0.8, (language, recall)


@pytest.mark.parametrize("case", TUNED_CASES, ids=_case_id)
def test_labelled_case(screen: CrisisScreen, case: LabelledCase) -> None:
    finding = screen.screen(case.text, case.language)
    if case.label == NONE_LABEL:
        assert finding is None, f"false alarm on {finding}"
    else:
        assert finding is not None
        assert finding.category is CrisisCategory(case.label)


@pytest.mark.parametrize("case", TUNED_CASES, ids=_case_id)
def test_labelled_case_screened_with_every_language(screen: CrisisScreen, case: LabelledCase) -> None:
    """The connector screens as "und": every language's patterns run on every message,
    so one language's patterns must not fire on another's negations and idioms."""
    finding = screen.screen(case.text, "und")
    if case.label == NONE_LABEL:
        assert finding is None, f"false alarm on {finding}"
    else:
        assert finding is not None
        assert finding.category is CrisisCategory(case.label)


@pytest.mark.parametrize("case", [c for c in CASES if c.label != NONE_LABEL and c.split == TUNED], ids=_case_id)
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
    # "ya" is a filler: deleted before matching, so it is not at the edge of the evidence
    assert finding is not None and finding.evidence == "no quiero estar aquí"
    finding = screen.screen("i want to FUCKING die", "en")
    assert finding is not None and finding.evidence == "want to FUCKING die"
    finding = screen.screen("i m such a burden", "en")
    assert finding is not None and finding.evidence == "i m such a burden"
    finding = screen.screen("我想自殺。", "zh")
    assert finding is not None and finding.evidence == "自殺"


@pytest.mark.parametrize("language", ["", "fr", "und", "xx-YY", "zh-Hant", "ES", "en_US", "tl", "ko-KR", "ar_EG"])
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
    finding = screen.screen(text, "de")
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
    assert set(screen.languages) == set(ROUTED_LANGUAGES)


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


# --- issue 9: fillers, contractions, pseudo-negation, clitics, scripts -------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("i want to fucking die", "en"),
        ("I want to die", "en"),
        ("i m a burden to everyone", "en"),
        ("i don t want to live", "en"),
        ("quiero ya morirme", "es"),
        ("me quiero pinche morir", "es"),
        ("no me soporto me quiero morir", "es"),
        ("no se que hacer me quiero matar", "es"),
        ("más que nunca siento que me quiero morir", "es"),
        ("plus que jamais je veux mourir", "fr"),
    ],
)
def test_fillers_contractions_and_pseudo_negations_keep_the_crisis(
    screen: CrisisScreen, text: str, language: str
) -> None:
    finding = screen.screen(text, language)
    assert finding is not None and finding.category is CrisisCategory.SUICIDE_SELF_HARM


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I'm not fucking suicidal, I need a refill", "en"),
        ("i m not suicidal i just need a refill", "en"),
        ("no tengo pensamientos suicidas, solo quiero pedir una cita", "es"),
        ("nunca me quiero morir", "es"),
        ("Je ne suis pas suicidaire", "fr"),
        ("Não sou suicida", "pt"),
        ("لا أفكر في الانتحار", "ar"),
        ("자살할 생각은 없어요", "ko"),
    ],
)
def test_negated_statements_do_not_fire(screen: CrisisScreen, text: str, language: str) -> None:
    assert screen.screen(text, language) is None
    assert screen.screen(text, "und") is None


@pytest.mark.parametrize(
    "text",
    ["أفكر بالانتحار", "وسأنتحر الليلة", "أفكر في الانتحـــار", "افكر فى الانتحار", "بلعت ٣٠ حبة"],
)
def test_arabic_clitics_tatweel_letter_variants_and_digits(screen: CrisisScreen, text: str) -> None:
    finding = screen.screen(text, "ar")
    assert finding is not None and finding.evidence in text


@pytest.mark.parametrize("text", ["죽고싶다", "죽고 싶다", "죽고  싶어요", "그냥죽고싶어"])
def test_korean_matches_whatever_the_spacing(screen: CrisisScreen, text: str) -> None:
    finding = screen.screen(text, "ko")
    assert finding is not None and finding.category is CrisisCategory.SUICIDE_SELF_HARM


def test_hangul_syllables_are_not_split_into_jamo() -> None:
    assert Normaliser().normalise("죽고 싶어") == "죽고 싶어"
    # a pattern syllable must not match inside another syllable ("고" inside "곧")
    assert "고" not in Normaliser().normalise("곧")


def test_arabic_and_russian_folding() -> None:
    normaliser = Normaliser()
    assert normaliser.normalise("أنتحـــر") == "انتحر"
    assert normaliser.normalise("٣٠ حبة") == "30 حبة"
    assert normaliser.normalise("Всё убийство") == "все убиство"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("the wait is killing me and I am dying of laughter", "en"),
        ("I don't want to live with my parents anymore", "en"),
        ("can you overdose on vitamin D? it's for a class", "en"),
        ("me estoy ahogando de la risa", "es"),
        ("ya no quiero vivir con mi suegra", "es"),
        ("Je meurs de faim", "fr"),
        ("Умираю с голоду", "ru"),  # noqa: RUF001 (Cyrillic, as meant)
        ("배고파 죽겠어요", "ko"),
        ("أموت من الجوع", "ar"),
        ("Namatay ako sa tawa", "tl"),
        ("M ap mouri grangou", "ht"),
        ("Morri de rir", "pt"),
    ],
)
def test_idioms_and_informational_questions_do_not_fire(screen: CrisisScreen, text: str, language: str) -> None:
    assert screen.screen(text, "und") is None


def test_long_messages_are_screened_in_windows_without_losing_anything(screen: CrisisScreen) -> None:
    benign = " ".join(c.text for c in TUNED_CASES if c.label == NONE_LABEL)[:4000]
    assert screen.screen(benign, "und") is None
    for case in [c for c in TUNED_CASES if c.label != NONE_LABEL][::25]:
        middle = benign[:2000] + " " + case.text + " " + benign
        for text in (benign + " " + case.text, case.text + " " + benign, middle):
            finding = screen.screen(text, case.language)
            assert finding is not None, case.text
            if text.startswith(case.text):
                assert finding.category is CrisisCategory(case.label)
    # a negation at the start of a window still governs the match after it
    negated = benign + " . I'm not suicidal, I need a refill"
    assert screen.screen(negated, "en") is None


def test_pattern_file_errors(tmp_path: Path) -> None:
    (tmp_path / "xx.yml").write_text(
        "language: xx\nspacy_lang: xx\ncategories:\n  suicide_self_harm:\n    negatable: ['{ÜBER} die']\n",
        encoding="utf-8",
    )
    with pytest.raises(PatternFileError, match="unresolved"):
        CrisisScreen(tmp_path)
    (tmp_path / "xx.yml").write_text(
        "language: xx\nspacy_lang: xx\nfillers: [just]\nnegation: {cues: [not], pseudo: ['not just']}\n"
        "categories:\n  suicide_self_harm:\n    negatable: ['kill myself']\n",
        encoding="utf-8",
    )
    with pytest.raises(PatternFileError, match="bare cue"):
        CrisisScreen(tmp_path)
