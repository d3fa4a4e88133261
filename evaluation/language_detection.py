"""Language identification of a first message with no locale: accuracy per language and confusions.

Every set is either for **tuning** (its errors may be read, and words, lists and weights chosen on
them) or **measure-only** (only its figures and confusion matrix are ever printed: ``--show-errors``
lists the misses of tuning sets and never of a measure-only one).

Tuning:

- ``tests/data/language_detection/*.yml``: the project's short messages;
- ``tests/data/language_detection/everyday1/`` (en, es) and ``everyday2/`` (en, es, vi, zh): everyday
  messages in chat register, held out until the branch ``langid-targets`` read their misses;
- ``tests/data/crisis/<lang>.yml``, the ``cases`` split only (the ``held_out`` split is reserved for the
  crisis screen): labelled patient messages in every language of ``languages/``;
- ``--tuning-jsonl PATH:LANG``: an outside corpus already used to build a word list (HWU64, the
  source of ``languages/lexicons/en-hwu64.txt``);
- ``.data/langid-tuning/<name>-<lang>.txt``: outside corpora built for tuning and kept outside the
  repository (the ACTIV-ES tuning films, ``evaluation/outside_corpora.py``; the XLM-T Portuguese and French
  tweets of the train and val splits; HWU64; the Spanish train and English eval splits of the Multilingual
  Task-Oriented Dialog requests and the train split of the EmoEvent tweets; two thirds of the Bot Framework
  chit-chat scenarios and general-command intents; two thirds of the Leyzer intents and of the chat-bot NLU
  projects), whole and first 2-5 words.

Measure-only:

- ``.data/langid-measure/<name>-<lang>.txt``: outside corpora built for measuring, kept outside the
  repository (XLM-T tweets: English and Spanish, and the test split of Portuguese and French; the ACTIV-ES
  held-out films; the test splits of the Multilingual Task-Oriented Dialog requests and of the EmoEvent tweets;
  the held-out third of the Bot Framework chit-chat scenarios and general-command intents, of the Leyzer
  intents and of the chat-bot NLU projects), whole and first 2-5 words;
- ``tests/data/language_detection/heldout3/``: public sentences from sources never tuned on (see that
  directory's README);
- ``screening/classifier/data/authored/<lang>.yml``: patient messages in the eleven routed languages,
  written blind for the crisis screen and never used for language identification;
- ``--jsonl PATH:LANG`` (a ``text`` field per line) and ``--lines PATH:LANG`` (a message per line, such
  as tweets: their ``@user`` mentions and links are dropped, no patient's words): outside corpora kept
  outside the repository (see ``tests/data/language_detection/README.md`` for the ones measured);
  ``--first-words`` measures as well, as short messages, the first two to five words of each of their
  messages (how many, by CRC-32 of the text).

Run alone with ``python -m evaluation.language_detection``; ``make eval`` prints the same tables.
"""

import argparse
import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import yaml

from languages import LanguageCatalog, LanguageResolver
from languages.detection import WORD

PROJECT_DIR = Path(__file__).resolve().parent.parent
DETECTION_DIR = PROJECT_DIR / "tests" / "data" / "language_detection"
CRISIS_CASES_DIR = PROJECT_DIR / "tests" / "data" / "crisis"
AUTHORED_DIR = PROJECT_DIR / "screening" / "classifier" / "data" / "authored"
TUNING_SETS = {
    "first everyday sets (held out until langid-targets)": DETECTION_DIR / "everyday1",
    "second everyday sets (held out until langid-targets)": DETECTION_DIR / "everyday2",
}
HELD_OUT_SETS = {"third held-out sets, public sources never tuned on": DETECTION_DIR / "heldout3"}
OUTSIDE_TUNING_DIR = PROJECT_DIR / ".data" / "langid-tuning"
OUTSIDE_MEASURE_DIR = PROJECT_DIR / ".data" / "langid-measure"
"""Outside corpora built outside the repository (``<name>-<lang>.txt``, a message a line; see
``tests/data/language_detection/README.md``): scored by ``make eval`` whenever they are there."""
NOT_PATIENT_WORDS = re.compile(r"(?:^|\s)(?:@\S+|https?\S*|www\.\S+)")
"""Mentions and links of an outside corpus of posts (``@user``, ``http``): no patient writes them."""
SHORT_WORDS = 5
TARGET_ANY_LENGTH = 0.99
TARGET_SHORT = 0.97
TARGETS = f"targets en, es: >= {TARGET_ANY_LENGTH:.0%} any length, >= {TARGET_SHORT:.0%} on <= {SHORT_WORDS} words"

LabelledSet = tuple[str, list[str]]


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


def yaml_set(path: Path) -> LabelledSet:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(document["language"]), [str(message) for message in document["messages"]]


def jsonl_set(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [str(json.loads(line)["text"]) for line in lines if line.strip()]


def score(resolver: LanguageResolver, sets: Iterable[LabelledSet]) -> dict[str, LanguageScore]:
    scores: dict[str, LanguageScore] = {}
    for language, messages in sets:
        entry = scores.setdefault(language, LanguageScore(language))
        for message in messages:
            entry.add(message, resolver.resolve(message, None, None).language)
    return dict(sorted(scores.items()))


def _percent(right: int, total: int) -> str:
    return f"{right / total:.1%}" if total else "-"


def report(title: str, scores: dict[str, LanguageScore], show_errors: bool = False) -> list[str]:
    """Accuracy per language, on all messages and on short ones, and the confusion matrix; the misses
    only when asked (tuning sets only)."""
    lines = [title, f"{'language':<10}{'messages':>10}{'accuracy':>10}{'<=5 words':>11}{'accuracy':>10}"]
    for entry in scores.values():
        lines.append(
            f"{entry.language:<10}{entry.total:>10}{_percent(entry.right, entry.total):>10}"
            f"{entry.short_total:>11}{_percent(entry.short_right, entry.short_total):>10}"
        )
    predicted = sorted({got for entry in scores.values() for got in entry.confusions} | set(scores))
    lines.append("confusion matrix (rows: true language, columns: resolved language)")
    lines.append(" " * 10 + "".join(f"{code:>6}" for code in predicted))
    for entry in scores.values():
        lines.append(f"{entry.language:<10}" + "".join(f"{entry.confusions.get(code, 0):>6}" for code in predicted))
    if show_errors:
        for entry in scores.values():
            for text, got in entry.misses:
                lines.append(f"    {entry.language} {text!r} -> {got}")
    return lines


def project_sets(directory: Path = DETECTION_DIR) -> list[LabelledSet]:
    return [yaml_set(path) for path in sorted(directory.glob("*.yml"))]


def crisis_case_sets(directory: Path = CRISIS_CASES_DIR) -> list[LabelledSet]:
    """The ``cases`` (tuning) split of each language's labelled crisis texts."""
    sets = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        sets.append((str(document["language"]), [str(case["text"]) for case in document.get("cases") or []]))
    return sets


def authored_sets(directory: Path = AUTHORED_DIR) -> list[LabelledSet]:
    """Every message of each language's authored file, whatever its label."""
    sets = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        messages = [str(text) for value in document.values() if isinstance(value, list) for text in value]
        sets.append((str(document["language"]), messages))
    return sets


def lines_set(path: Path) -> list[str]:
    """One message a line, without mentions and links; empty lines and repeats left out."""
    messages = (NOT_PATIENT_WORDS.sub(" ", line).strip() for line in path.read_text(encoding="utf-8").splitlines())
    return list(dict.fromkeys(message for message in messages if WORD.search(message)))


def first_words(messages: list[str]) -> list[str]:
    """The first two to five words of each message long enough (how many: CRC-32 of the message)."""
    shortened = []
    for message in messages:
        words = message.split()
        count = 2 + zlib.crc32(message.encode("utf-8")) % 4
        if len(words) >= count:
            shortened.append(" ".join(words[:count]))
    return shortened


def built_outside_sets(directory: Path) -> list[tuple[str, LabelledSet]]:
    """Each ``<name>-<lang>.txt`` of a directory of outside corpora, by file name; none when it is absent."""
    return [(path.name, (path.stem.rpartition("-")[2], lines_set(path))) for path in sorted(directory.glob("*-*.txt"))]


def _spec(spec: str, reader: Callable[[Path], list[str]]) -> LabelledSet:
    path, _, language = spec.rpartition(":")
    return language, reader(Path(path))


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tuning-jsonl", action="append", default=[], metavar="PATH:LANG",
                        help="an outside corpus used for tuning, one JSON object with a 'text' field per line")
    parser.add_argument("--jsonl", action="append", default=[], metavar="PATH:LANG",
                        help="an outside measure-only corpus, one JSON object with a 'text' field per line")
    parser.add_argument("--lines", action="append", default=[], metavar="PATH:LANG",
                        help="an outside measure-only corpus, one message per line (mentions and links dropped)")
    parser.add_argument("--first-words", action="store_true",
                        help="measure the first 2-5 words of each message of --jsonl and --lines corpora too")
    parser.add_argument("--show-errors", action="store_true", help="list the misses of the tuning sets")
    args = parser.parse_args(argv)
    resolver = LanguageResolver(LanguageCatalog.load())
    tuning: list[tuple[str, list[LabelledSet]]] = [
        ("project short-message sets", project_sets()),
        *((title, project_sets(directory)) for title, directory in TUNING_SETS.items()),
        ("crisis labelled cases, tuning split", crisis_case_sets()),
        *((f"{Path(spec.rpartition(':')[0]).name}", [_spec(spec, jsonl_set)]) for spec in args.tuning_jsonl),
        *((f"{name}, whole messages", [labelled]) for name, labelled in built_outside_sets(OUTSIDE_TUNING_DIR)),
        *(
            (f"{name}, first 2-5 words of each message", [(labelled[0], first_words(labelled[1]))])
            for name, labelled in built_outside_sets(OUTSIDE_TUNING_DIR)
        ),
    ]
    built = built_outside_sets(OUTSIDE_MEASURE_DIR)
    outside = [
        *built,
        *((Path(spec.rpartition(":")[0]).name, _spec(spec, jsonl_set)) for spec in args.jsonl),
        *((Path(spec.rpartition(":")[0]).name, _spec(spec, lines_set)) for spec in args.lines),
    ]
    measured: list[tuple[str, list[LabelledSet]]] = [
        *((title, project_sets(directory)) for title, directory in HELD_OUT_SETS.items()),
        ("authored patient messages, eleven languages", authored_sets()),
        *((name, [labelled]) for name, labelled in outside),
        *(
            (f"{name}, first 2-5 words of each message", [(labelled[0], first_words(labelled[1]))])
            for name, labelled in (outside if args.first_words else built)
        ),
    ]
    blocks = [
        report(f"Language detection, TUNING: {title}; first message, no locale", score(resolver, sets),
               args.show_errors)
        for title, sets in tuning
    ] + [
        report(f"Language detection, MEASURE-ONLY: {title} ({TARGETS})", score(resolver, sets))
        for title, sets in measured
    ]
    print("\n\n".join("\n".join(block) for block in blocks))


if __name__ == "__main__":
    main()
