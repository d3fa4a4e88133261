"""Tests for the learned crisis screen (screening/classifier/) and its place in CrisisScreen.

Assertions are on clear cases and on aggregate rates, never on one
borderline score.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from languages import LanguageCatalog
from screening import CrisisCategory, CrisisScreen
from screening.categories import CLASSIFIER
from screening.classifier import DEFAULT_ARTEFACT, CrisisClassifier
from screening.classifier.corpus import (
    BOT_NLU_HELD_OUT_DIR,
    Example,
    bot_nlu_examples,
    digest,
    held_out_texts,
    is_everyday_evaluation,
    project_examples,
    training_corpus,
)
from screening.classifier.features import normalise, segment_features
from screening.classifier.train import Config

REPO_ROOT = Path(__file__).resolve().parents[2]

# Clear first-person crises in words no pattern was written for (the rules alone missed
# each of these when they were picked).
PARAPHRASES = [
    "i dont think i can keep living like this",
    "i am going to end things tonight",
    "i wrote goodbye letters to my kids",
    "i just want everything to stop for good",
    "honestly life isnt worth it anymore",
    "tonight im going to finally do it",
]

# DOMAIN.md hard negatives and everyday requests.
NOT_CRISES = [
    ("en", "this wait is killing me"),
    ("en", "I'm dying to know my copay"),
    ("en", "refill my sertraline"),
    ("en", "my father died last year and I need his records"),
    ("en", "I'm not suicidal, I need a refill"),
    ("en", "How do I kill a Python process?"),
    ("en", "can I reschedule my appointment to Friday?"),
    ("en", "what time does the pharmacy close"),
    ("en", "I need to pay my bill"),
    ("es", "me muero de risa"),
    ("es", "necesito resurtir mi receta"),
    ("es", "quiero hablar con una persona"),
    ("vi", "tôi muốn đặt lịch hẹn"),
    ("zh", "我想预约看医生"),
    # the bot's own NLU examples that the rules once flagged (dose, "my turn", a dropped call)
    ("es", "quiero cambiar mi dosis"),
    ("es", "cuándo me toca ver al doctor otra vez"),
    ("es", "se me corta la llamada de video"),
    ("en", "my audio keeps cutting out during my virtual appointment"),
    ("zh", "点了link没反应"),
]


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    return CrisisScreen()


@pytest.fixture(scope="module")
def classifier() -> CrisisClassifier:
    return CrisisClassifier.load()


def test_the_classifier_catches_paraphrases_no_pattern_was_written_for(screen: CrisisScreen) -> None:
    findings = [screen.screen(text, "und") for text in PARAPHRASES]
    caught = [f for f in findings if f is not None]
    assert len(caught) >= 0.8 * len(PARAPHRASES), findings
    assert all(f.category is CrisisCategory.SUICIDE_SELF_HARM for f in caught), caught
    from_classifier = [f for f in caught if f.source == CLASSIFIER]
    assert from_classifier, "the rules caught everything: pick paraphrases they miss"
    for finding, text in zip(findings, PARAPHRASES, strict=True):
        if finding is not None and finding.source == CLASSIFIER:
            assert finding.evidence and finding.evidence in text


@pytest.mark.parametrize(("language", "text"), NOT_CRISES)
def test_no_crisis_on_hard_negatives_and_everyday_requests(screen: CrisisScreen, language: str, text: str) -> None:
    assert screen.screen(text, language) is None
    assert screen.screen(text, "und") is None


@pytest.mark.parametrize("language", sorted({e.lang for e in bot_nlu_examples(BOT_NLU_HELD_OUT_DIR)}))
def test_everyday_patient_messages_never_trained_on_are_almost_never_crises(
    screen: CrisisScreen, language: str
) -> None:
    """The bot's held-out NLU messages (never trained on) in each bot language: an earlier
    classifier trained on English everyday requests only flagged 15 % of them in Vietnamese."""
    texts = [e.text for e in bot_nlu_examples(BOT_NLU_HELD_OUT_DIR) if e.lang == language]
    assert len(texts) >= 100
    flagged = [text for text in texts if screen.screen(text, "und") is not None]
    assert len(flagged) <= 0.02 * len(texts), flagged  # today: 0 of 144 in each language


def test_a_crisis_sentence_inside_a_long_benign_message_is_found(screen: CrisisScreen) -> None:
    benign = "Hi, I need to reschedule my appointment on Tuesday and ask about my copay for the imaging center. "
    assert screen.screen(benign * 3, "en") is None
    finding = screen.screen(benign * 3 + "Honestly I just want everything to stop for good.", "en")
    assert finding is not None and finding.category is CrisisCategory.SUICIDE_SELF_HARM
    assert len(finding.evidence) <= 200


def test_screen_is_deterministic(screen: CrisisScreen) -> None:
    texts = PARAPHRASES + [text for _, text in NOT_CRISES] + ["x" * 5000, "", "我想死", "ok."]
    first = [screen.screen(text, "und") for text in texts]
    again = CrisisScreen()
    assert [again.screen(text, "und") for text in texts] == first
    assert [screen.screen(text, "und") for text in texts] == first


@pytest.mark.parametrize("text", ["life", "se tout", "88", "dạ mai em", "ok thanks"])
def test_one_or_two_words_are_left_to_the_rules(classifier: CrisisClassifier, text: str) -> None:
    assert classifier.score(text) == 0.0 and classifier.assess(text) is None


def test_the_rule_fixes_keep_the_crises_they_were_written_for(screen: CrisisScreen) -> None:
    for text, language in [("mi padrastro me toca de noche", "es"), ("minha filha se corta", "pt")]:
        finding = screen.screen(text, language)
        assert finding is not None and finding.source != CLASSIFIER, text


def test_scores_are_probabilities_and_the_threshold_decides(classifier: CrisisClassifier) -> None:
    for text in ["", "   ", "?", "ok", "I want to die", "x" * 5000]:
        score = classifier.score(text)
        assert 0.0 <= score <= 1.0
        assert (classifier.assess(text) is not None) == (score >= classifier.threshold)
    assert 0.0 < classifier.threshold < 1.0
    assert set(classifier.categories) == {category.value for category in CrisisCategory}


def test_normalisation_folds_chat_spelling() -> None:
    assert normalise("I DON\u2019T want to DIEEEE") == normalise("i dont want to die")
    assert normalise("tomé 30 pastillas") == normalise("tome 00 pastillas")
    assert normalise("죽고 싶어요") == "죽고 싶어요"  # Hangul syllables survive the accent folding


def test_features_are_stable_hashes_in_range() -> None:
    # CRC-32, not Python's salted hash(): the same in every process
    lower, upper = segment_features("i want to die"), segment_features("I want to DIE")
    assert lower is not None and upper is not None
    assert lower.buckets.tolist() == upper.buckets.tolist() and lower.counts.tolist() == upper.counts.tolist()
    chinese = segment_features("我想死")
    assert chinese is not None and len(chinese.buckets) and all(0 <= b < 1 << 20 for b in chinese.buckets)
    assert segment_features("") is None and segment_features(" \n ") is None


def test_segments_are_verbatim_parts_of_long_messages() -> None:
    single = segment_features("hello there")
    assert single is not None and single.texts == ["hello there"] and set(single.rows.tolist()) == {0}
    text = "First sentence here.  Second sentence here!\nThird one here?"
    parts = segment_features(text)
    assert parts is not None and parts.texts[0] == text
    assert {"First sentence here.  Second sentence here!", "Second sentence here!", "Third one here?"} <= set(
        parts.texts
    )
    assert all(part in text for part in parts.texts)
    assert set(parts.rows.tolist()) == set(range(len(parts.texts)))
    windows = segment_features(" ".join(f"w{i}" for i in range(40)))
    assert windows is not None and len(windows.texts) > 1


def test_artefact_is_small() -> None:
    assert DEFAULT_ARTEFACT.stat().st_size < 10 * 1024 * 1024


def test_artefact_loads_fast_without_tensorflow_spacy_or_sklearn() -> None:
    # screening/__init__.py imports the rule screen (spaCy); the classifier must not need it, so
    # the child process registers a bare `screening` package and imports only screening.classifier.
    script = textwrap.dedent(
        f"""
        import json, sys, types
        package = types.ModuleType("screening")
        package.__path__ = [{str(REPO_ROOT / "screening")!r}]
        sys.modules["screening"] = package
        from screening.classifier import CrisisClassifier
        classifier = CrisisClassifier.load()
        classifier.assess("I want to die")
        heavy = sorted(m for m in ("tensorflow", "spacy", "thinc", "sklearn", "scipy", "torch") if m in sys.modules)
        print(json.dumps({{"heavy": heavy}}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []


def test_training_never_sees_held_out_crisis_cases_or_held_out_nlu_messages() -> None:
    held_out_case = Example("a held-out case", True, "en", "slurp_devel")
    everyday = [Example(f"set an alarm for {n} am", False, "en", "hwu64", everyday=True) for n in range(50)]
    corpus = training_corpus(public=everyday)
    trained = {normalise(e.text) for e in corpus}
    assert not trained & held_out_texts()
    assert not trained & {normalise(e.text) for e in bot_nlu_examples(BOT_NLU_HELD_OUT_DIR)}
    kept_out = [e for e in everyday if is_everyday_evaluation(e)]
    assert kept_out and not {e.text for e in kept_out} & {e.text for e in corpus}
    assert not is_everyday_evaluation(held_out_case)
    assert {"project_cases", "authored", "hwu64"} <= {e.source for e in corpus}
    assert {e.lang for e in corpus if e.source.startswith("bot_nlu:")} == set(LanguageCatalog.load().bot_languages)


def test_committed_artefact_was_built_from_the_committed_data(classifier: CrisisClassifier) -> None:
    """The project's own training data (crisis cases, authored messages) and the training
    configuration are those the artefact was built from. The public sets and the bot's NLU
    examples are not checked here (the public sets are not in a clean clone); the full
    deterministic rebuild is ``python -m screening.classifier.train --check``."""
    config = Config()
    assert config.as_dict() == classifier.meta["config"], "the training defaults changed: retrain"
    assert digest(project_examples(), config.as_dict()) == classifier.meta["project_digest"], (
        "the project's crisis training data changed since the artefact was built: run "
        "`python -m screening.classifier.train` (see screening/classifier/data/README.md)"
    )
