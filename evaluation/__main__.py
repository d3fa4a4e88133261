"""Prints intent macro-F1 per language on the held-out sets and language-detection accuracy.

Held-out NLU sets: ``tests/data/nlu/<lang>.yml`` (never used for training). The
predictions digest (SHA-256 over every held-out text, its predicted intent and
confidence to six places) is the same for two models trained on the same inputs,
on any machine: compare it to check that training is reproducible.
Language detection (``evaluation/language_detection.py``): tuning sets and measure-only sets in every
language of ``languages/``, resolved as a first message with no client locale, per language, on
five words or fewer, with a confusion matrix; ``--show-errors`` lists the misses of tuning sets only.
"""

import argparse
import asyncio
import hashlib
import logging
import os
from pathlib import Path

import structlog
from sklearn.metrics import f1_score

from evaluation import language_detection
from languages.detection import nlu_examples
from stack.model import training_record

PROJECT_DIR = Path(__file__).resolve().parent.parent
NLU_TEST_DIR = PROJECT_DIR / "tests" / "data" / "nlu"
MACRO_F1_TARGET = 0.95


async def intent_scores(model: Path) -> tuple[dict[str, tuple[float, int, list[tuple[str, str, str]]]], str]:
    """Macro-F1, example count and errors per language, and the digest of every prediction."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    scores = {}
    digest = hashlib.sha256()
    for path in sorted(NLU_TEST_DIR.glob("*.yml")):
        examples = nlu_examples(path)
        predicted = []
        for text, _ in examples:
            intent = (await agent.parse_message(text))["intent"]
            predicted.append(intent["name"])
            digest.update(f"{text}\0{intent['name']}\0{intent['confidence']:.6f}\n".encode())
        expected = [intent for _, intent in examples]
        errors = [(text, want, got) for (text, want), got in zip(examples, predicted, strict=True) if want != got]
        macro = f1_score(expected, predicted, average="macro", labels=sorted(set(expected)), zero_division=0)
        scores[path.stem] = (float(macro), len(examples), errors)
    return scores, digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    print(f"Intent macro-F1 on held-out sets (target >= {MACRO_F1_TARGET:.2f})")
    print(f"{'language':<10}{'examples':>10}{'macro-F1':>10}{'errors':>8}")
    scores, predictions_digest = asyncio.run(intent_scores(args.model))
    for language, (macro, count, errors) in scores.items():
        print(f"{language:<10}{count:>10}{macro:>10.3f}{len(errors):>8}")
        if args.show_errors:
            for text, want, got in errors:
                print(f"    {text!r}: expected {want}, got {got}")
    print(f"predictions digest: {predictions_digest} (model {args.model.name})")
    record = training_record(args.model)
    if record:
        print(f"training time: {record['training_seconds']:.0f} s on {record['cpu_count']:.0f} cores")

    print()
    language_detection.main(["--show-errors"] if args.show_errors else [])


if __name__ == "__main__":
    main()
