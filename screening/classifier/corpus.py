"""The labelled messages of the learned crisis screen: what it trains on, and what it never does.

Sources:

* ``tests/data/crisis/<lang>.yml``: the project's labelled crisis cases, the
  ``cases`` (tuning) split only, with their categories. The ``held_out``
  split is never trained on: any training message whose normalised text
  equals a held-out one is dropped.
* public labelled sets, kept outside the repository (fetched data is never
  committed): ``$CRISIS_SCREEN_PUBLIC_DATA``, by default
  ``.data/crisis-screen/*.jsonl`` in the checkout, ignored by git (see
  ``screening/classifier/data/README.md`` for sources and licences), one
  ``{"text", "label", "lang", "source"}`` object per line, label
  ``1`` crisis (all of them self-harm) or ``0`` not. One everyday message in
  five (chosen by a CRC-32 of its text, so the split is stable) is kept out of
  training and used by ``screening.evaluate`` to measure false crises on
  everyday requests.
* ``screening/classifier/data/authored/<lang>.yml``: messages written for this
  project: crisis messages under ``crisis_<category>`` (or ``crisis``,
  category not recorded), hard negatives under ``not_crisis`` and ordinary
  patient messages under ``everyday``.
* ``data/nlu/<lang>/*.yml``: the bot's own training examples of every intent
  that is not about distress, crisis or a clinical question, as everyday
  non-crisis messages in the bot's languages. They are the only large
  everyday sample in Spanish, Vietnamese and Chinese. They are not part of
  the project digest, so an NLU edit does not make the committed artefact
  stale; the bot's held-out NLU sets (``tests/data/nlu``) are never trained
  on and measure false crises on everyday messages per language.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from languages.detection import nlu_examples
from screening.categories import CrisisCategory
from screening.classifier.features import normalise

REPO_ROOT = Path(__file__).resolve().parents[2]
CRISIS_CASES_DIR = REPO_ROOT / "tests" / "data" / "crisis"
PUBLIC_DATA_DIR = Path(
    os.environ.get("CRISIS_SCREEN_PUBLIC_DATA") or REPO_ROOT / ".data" / "crisis-screen"
)
AUTHORED_DIR = Path(__file__).resolve().parent / "data" / "authored"
BOT_NLU_DIR = REPO_ROOT / "data" / "nlu"
BOT_NLU_HELD_OUT_DIR = REPO_ROOT / "tests" / "data" / "nlu"
# intents whose examples may be (or be close to) crisis language: never used as negatives
NOT_EVERYDAY_INTENTS = frozenset({"express_crisis", "express_distress", "clinical_question"})
EVERYDAY_KEY = "everyday"
NOT_CRISIS_KEY = "not_crisis"
TUNING_SPLIT_KEY = "cases"
HELD_OUT_SPLIT_KEY = "held_out"
NONE_LABEL = "none"
CRISIS_CATEGORIES = frozenset(c.value for c in CrisisCategory)
UNKNOWN_CATEGORY = ""
PUBLIC_CRISIS_CATEGORY = "suicide_self_harm"
EVERYDAY_SOURCES = frozenset({"slurp_devel", "hwu64"})
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
EVERYDAY_EVALUATION_SHARE = 5


@dataclass(frozen=True)
class Example:
    """One labelled message.

    Attributes:
        category: A ``CrisisCategory`` value, ``"none"``, or ``""`` for a
            crisis whose category was not recorded.
    """

    text: str
    crisis: bool
    lang: str
    source: str
    category: str = UNKNOWN_CATEGORY
    everyday: bool = False


def _crisis_files(directory: Path, key: str) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        lang = str(data["language"])
        examples.extend(
            Example(str(item["text"]), str(item["label"]) != NONE_LABEL, lang, "project_cases", str(item["label"]))
            for item in data.get(key) or []
        )
    return examples


def project_cases(directory: Path = CRISIS_CASES_DIR) -> list[Example]:
    """The tuning split of the project's labelled crisis cases."""
    return _crisis_files(directory, TUNING_SPLIT_KEY)


def held_out_texts(directory: Path = CRISIS_CASES_DIR) -> frozenset[str]:
    """Normalised texts of the held-out split: never trained on."""
    return frozenset(normalise(e.text) for e in _crisis_files(directory, HELD_OUT_SPLIT_KEY))


def public_sets(directory: Path = PUBLIC_DATA_DIR) -> list[Example]:
    """Every message of the public labelled sets (training and evaluation parts)."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(
            f"no public crisis-screen data in {directory}: set CRISIS_SCREEN_PUBLIC_DATA "
            "(see screening/classifier/data/README.md)"
        )
    examples: list[Example] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                crisis = bool(int(item["label"]))
                category = PUBLIC_CRISIS_CATEGORY if crisis else NONE_LABEL
                source = str(item["source"])
                everyday = source in EVERYDAY_SOURCES
                examples.append(Example(str(item["text"]), crisis, str(item["lang"]), source, category, everyday))
    return examples


def authored(directory: Path = AUTHORED_DIR) -> list[Example]:
    """Messages written for this project, per language."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        lang = str(data["language"])
        for key, items in data.items():
            if key in (NOT_CRISIS_KEY, EVERYDAY_KEY):
                everyday = key == EVERYDAY_KEY
                examples.extend(Example(str(text), False, lang, "authored", NONE_LABEL, everyday) for text in items)
            elif key.startswith("crisis"):
                category = key.removeprefix("crisis").removeprefix("_")
                if category not in CRISIS_CATEGORIES:
                    category = UNKNOWN_CATEGORY
                examples.extend(Example(str(text), True, lang, "authored", category) for text in items)
    return examples


def bot_nlu_examples(directory: Path = BOT_NLU_DIR) -> list[Example]:
    """The bot's own NLU examples of everyday intents (``data/nlu/<lang>/*.yml`` or, for the
    held-out sets, ``tests/data/nlu/<lang>.yml``), entity annotations removed."""
    examples: list[Example] = []
    for path in sorted([*directory.glob("*/*.yml"), *directory.glob("*.yml")]):
        lang = path.parent.name if path.parent != directory else path.stem
        for annotated, intent in nlu_examples(path):
            text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", annotated).strip()
            if text and intent not in NOT_EVERYDAY_INTENTS:
                examples.append(Example(text, False, lang, f"bot_nlu:{intent}", NONE_LABEL, True))
    return examples


def project_examples() -> list[Example]:
    """The project's own labelled training messages (crisis cases and authored messages): what
    the committed artefact's ``project_digest`` covers."""
    return [*project_cases(), *authored()]


def is_everyday_evaluation(example: Example) -> bool:
    """Whether a public everyday request belongs to the evaluation fifth (never trained on)."""
    return example.source in EVERYDAY_SOURCES and zlib.crc32(example.text.encode()) % EVERYDAY_EVALUATION_SHARE == 0


def everyday_evaluation() -> list[Example]:
    """The everyday requests kept out of training, for measuring false crises."""
    return [e for e in public_sets() if is_everyday_evaluation(e)]


def training_corpus(public: list[Example] | None = None) -> list[Example]:
    """Every training example, deduplicated on text and label, in a stable order, without any
    message of the held-out crisis cases or of the bot's held-out NLU sets.

    ``public``: the public sets (read from ``PUBLIC_DATA_DIR`` when None).
    """
    excluded = held_out_texts() | {normalise(e.text) for e in bot_nlu_examples(BOT_NLU_HELD_OUT_DIR)}
    seen: set[tuple[str, bool]] = set()
    corpus = []
    sources = [*project_cases(), *(public_sets() if public is None else public), *authored(), *bot_nlu_examples()]
    for example in sources:
        key = (example.text.strip(), example.crisis)
        if not key[0] or key in seen or is_everyday_evaluation(example) or normalise(example.text) in excluded:
            continue
        seen.add(key)
        corpus.append(example)
    return corpus


def digest(examples: Iterable[Example], config: dict[str, object]) -> str:
    """SHA-256 of the training examples and the training configuration."""
    hasher = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for example in examples:
        fields = [example.text, example.crisis, example.lang, example.source, example.category]
        hasher.update(json.dumps(fields).encode())
    return hasher.hexdigest()
