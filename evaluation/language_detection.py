"""Language identification of a first message with no locale: accuracy per language and confusions.

Sets (``language: <code>`` and ``messages: [...]`` YAML files):

- ``tests/data/language_detection/*.yml``: the project's own short messages, used while tuning;
- ``tests/data/language_detection/heldout/*.yml``: everyday English and Spanish written for
  evaluation only (partly contaminated: words were later added after seeing its errors);
- ``tests/data/language_detection/heldout2/*.yml``: everyday English, Spanish, Vietnamese and Chinese
  in chat register, committed before the word lists were rebuilt and never used to choose words,
  lists or weights.

Outside corpora can be added as JSON lines with ``--jsonl PATH:LANG`` (a ``text`` field per line),
e.g. HWU64 or SLURP kept outside the repository. Run alone with
``python -m evaluation.language_detection``; ``make eval`` prints the same tables.
"""

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import yaml

from languages import LanguageCatalog, LanguageResolver
from languages.detection import WORD

PROJECT_DIR = Path(__file__).resolve().parent.parent
DETECTION_DIR = PROJECT_DIR / "tests" / "data" / "language_detection"
HELD_OUT_SETS = {
    "first held-out everyday sets (partly contaminated)": DETECTION_DIR / "heldout",
    "second held-out everyday sets (never tuned on)": DETECTION_DIR / "heldout2",
}
SHORT_WORDS = 5
TARGET_ANY_LENGTH = 0.99
TARGET_SHORT = 0.97


@dataclass
class LanguageScore:
    language: str
    right: int = 0
    total: int = 0
    short_right: int = 0
    short_total: int = 0
    confusions: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)

    def add(self, text: str, got: str) -> None:
        short = len(WORD.findall(text)) <= SHORT_WORDS
        hit = got == self.language
        self.total += 1
        self.right += hit
        self.short_total += short
        self.short_right += short and hit
        self.confusions[got] += 1
        if not hit:
            self.misses.append((text, got))


def yaml_set(path: Path) -> tuple[str, list[str]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(document["language"]), [str(message) for message in document["messages"]]


def jsonl_set(path: Path, language: str) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [str(json.loads(line)["text"]) for line in lines if line.strip()]


def score(
    resolver: LanguageResolver, sets: Iterable[tuple[str, list[str]]]
) -> dict[str, LanguageScore]:
    scores: dict[str, LanguageScore] = {}
    for language, messages in sets:
        entry = scores.setdefault(language, LanguageScore(language))
        for message in messages:
            entry.add(message, resolver.resolve(message, None, None).language)
    return scores


def _percent(right: int, total: int) -> str:
    return f"{right / total:.1%}" if total else "-"


def report(title: str, scores: dict[str, LanguageScore], show_errors: bool = False) -> list[str]:
    lines = [title, f"{'language':<10}{'messages':>10}{'accuracy':>10}{'<=5 words':>11}{'accuracy':>10}"]
    for entry in scores.values():
        lines.append(
            f"{entry.language:<10}{entry.total:>10}{_percent(entry.right, entry.total):>10}"
            f"{entry.short_total:>11}{_percent(entry.short_right, entry.short_total):>10}"
        )
    predicted = sorted({got for entry in scores.values() for got in entry.confusions})
    lines.append("confusion matrix (rows: true language, columns: resolved language)")
    lines.append(" " * 10 + "".join(f"{code:>6}" for code in predicted))
    for entry in scores.values():
        lines.append(f"{entry.language:<10}" + "".join(f"{entry.confusions.get(code, 0):>6}" for code in predicted))
    if show_errors:
        for entry in scores.values():
            for text, got in entry.misses:
                lines.append(f"    {entry.language} {text!r} -> {got}")
    return lines


def tuning_sets() -> list[tuple[str, list[str]]]:
    return [yaml_set(path) for path in sorted(DETECTION_DIR.glob("*.yml"))]


def held_out_sets(directory: Path) -> list[tuple[str, list[str]]]:
    return [yaml_set(path) for path in sorted(directory.glob("*.yml"))]


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jsonl", action="append", default=[], metavar="PATH:LANG",
                        help="an outside corpus, one JSON object with a 'text' field per line")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    resolver = LanguageResolver(LanguageCatalog.load())
    print("\n".join(report(
        "Language detection, project short-message sets (tuning), first message, no locale",
        score(resolver, tuning_sets()), args.show_errors,
    )))
    for title, directory in HELD_OUT_SETS.items():
        print()
        print("\n".join(report(
            f"Language detection, {title} (targets: >= {TARGET_ANY_LENGTH:.0%} any length, "
            f">= {TARGET_SHORT:.0%} on <= {SHORT_WORDS} words)",
            score(resolver, held_out_sets(directory)), args.show_errors,
        )))
    for spec in args.jsonl:
        path, _, language = spec.rpartition(":")
        print()
        print("\n".join(report(
            f"Language detection, {Path(path).name} ({language})",
            score(resolver, [(language, jsonl_set(Path(path), language))]), args.show_errors,
        )))


if __name__ == "__main__":
    main()
