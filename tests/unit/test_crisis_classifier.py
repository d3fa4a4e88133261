"""Tests for the learned crisis screen (screening/classifier/)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from screening.classifier import DEFAULT_ARTEFACT, CrisisClassifier
from screening.classifier.corpus import digest, training_corpus
from screening.classifier.features import feature_counts, normalise, segments
from screening.classifier.train import Config, save, train

REPO_ROOT = Path(__file__).resolve().parents[2]

CLEAR_CRISES = [
    ("en", "I want to kill myself"),
    ("en", "i really dont want to be alive anymore"),
    ("en", "I took all my pills"),
    ("en", "I have been cutting myself again"),
    ("en", "everyone would be better off if i was dead"),
    ("en", "i just want to go to sleep and never wake up"),
    ("es", "ya no quiero vivir"),
    ("es", "me quiero matar"),
    ("es", "me tome todas las pastillas"),
    ("zh", "我不想活了"),
    ("vi", "tôi muốn tự tử"),
    ("fr", "je veux mourir"),
    ("pt", "quero me matar"),
]

HARD_NEGATIVES = [
    ("en", "this wait is killing me"),
    ("en", "I'm dying to know my copay"),
    ("en", "refill my sertraline"),
    ("en", "my father died last year and I need his records"),
    ("en", "I'm not suicidal, I need a refill"),
    ("en", "How do I kill a Python process?"),
    ("en", "can I reschedule my appointment to Friday?"),
    ("en", "what time does the pharmacy close"),
    ("es", "me muero de risa"),
    ("es", "necesito resurtir mi receta"),
]


@pytest.fixture(scope="module")
def classifier() -> CrisisClassifier:
    return CrisisClassifier.load()


@pytest.mark.parametrize(("lang", "text"), CLEAR_CRISES)
def test_clear_crisis_scores_above_threshold(classifier: CrisisClassifier, lang: str, text: str) -> None:
    assert classifier.is_crisis(text), f"{lang}: {text!r} scored {classifier.score(text):.3f}"


@pytest.mark.parametrize(("lang", "text"), HARD_NEGATIVES)
def test_hard_negative_scores_below_threshold(classifier: CrisisClassifier, lang: str, text: str) -> None:
    assert not classifier.is_crisis(text), f"{lang}: {text!r} scored {classifier.score(text):.3f}"


def test_crisis_sentence_inside_a_long_benign_message_is_not_diluted(classifier: CrisisClassifier) -> None:
    benign = "Hi, I need to reschedule my appointment on Tuesday and ask about my copay for the imaging center. "
    assert not classifier.is_crisis(benign * 3)
    assert classifier.is_crisis(benign * 3 + "Honestly I want to kill myself.")


def test_scores_are_probabilities_and_threshold_decides(classifier: CrisisClassifier) -> None:
    for text in ["", "   ", "?", "ok", "I want to die", "x" * 5000]:
        score = classifier.score(text)
        assert 0.0 <= score <= 1.0
        assert classifier.is_crisis(text) == (score >= classifier.threshold)
    assert 0.0 < classifier.threshold < 1.0


def test_normalisation_folds_chat_spelling() -> None:
    assert normalise("I DON\u2019T want to DIEEEE") == normalise("i dont want to die")
    assert normalise("tomé 30 pastillas") == normalise("tome 00 pastillas")
    assert normalise("죽고 싶어요") == "죽고 싶어요"  # Hangul syllables survive the accent folding


def test_features_are_stable_hashes() -> None:
    # CRC-32, not Python's salted hash(): the same in every process
    assert feature_counts("i want to die") == feature_counts("I want to die")
    assert feature_counts("我想死") and all(0 <= b < 1 << 20 for b in feature_counts("我想死"))


def test_segments_split_long_messages() -> None:
    assert segments("hello there") == ["hello there"]
    parts = segments("First sentence here. Second sentence here! Third one here?")
    assert parts[0] == "First sentence here. Second sentence here! Third one here?"
    assert "Second sentence here!" in parts
    long = " ".join(f"w{i}" for i in range(40))
    assert len(segments(long)) > 1


def test_artefact_is_small() -> None:
    assert DEFAULT_ARTEFACT.stat().st_size < 10 * 1024 * 1024


def test_artefact_loads_fast_without_tensorflow_spacy_or_sklearn() -> None:
    # screening/__init__.py imports the rule screen (spaCy, hence TensorFlow); the classifier must
    # not need it, so the child process registers a bare `screening` package and imports only
    # screening.classifier.
    script = textwrap.dedent(
        f"""
        import json, sys, time, types
        start = time.perf_counter()
        package = types.ModuleType("screening")
        package.__path__ = [{str(REPO_ROOT / "screening")!r}]
        sys.modules["screening"] = package
        from screening.classifier import CrisisClassifier
        classifier = CrisisClassifier.load()
        loaded = time.perf_counter() - start
        classifier.score("I want to die")
        heavy = sorted(m for m in ("tensorflow", "spacy", "thinc", "sklearn", "scipy", "torch") if m in sys.modules)
        print(json.dumps({{"seconds": loaded, "heavy": heavy}}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["seconds"] < 1.0


def test_committed_artefact_was_built_from_the_committed_data(classifier: CrisisClassifier) -> None:
    config = Config()
    assert config.as_dict() == classifier.meta["config"], "the training defaults changed: retrain"
    assert digest(training_corpus(), config.as_dict()) == classifier.meta["digest"], (
        "the training data changed since the artefact was built: run `python -m screening.classifier.train`"
    )


def test_training_script_rebuilds_the_committed_artefact(classifier: CrisisClassifier, tmp_path: Path) -> None:
    arrays, meta = train(Config(), verbose=False)
    path = tmp_path / "rebuilt.npz"
    save(str(path), arrays, meta)
    rebuilt = CrisisClassifier.load(path)
    assert rebuilt.meta["digest"] == classifier.meta["digest"]
    assert rebuilt.threshold == pytest.approx(classifier.threshold, abs=1e-6)
    probes = [text for _, text in CLEAR_CRISES + HARD_NEGATIVES]
    assert np.allclose([rebuilt.score(t) for t in probes], [classifier.score(t) for t in probes], atol=1e-5)
