"""The training corpus of the learned crisis screen (training side only).

Three kinds of source, all in the repository:

* ``tests/data/crisis/<lang>.yml``: the project's labelled crisis cases, the
  ``cases`` (tuning) split only. The ``held_out`` split is never read here.
* ``data/nlu/<lang>/*.yml``: the bot's NLU examples; intent ``express_crisis``
  is a crisis, every other intent (greetings, billing, refills, distress
  without crisis ...) is not. The held-out NLU sets under ``tests/data/nlu``
  are not read.
* ``screening/classifier/data/*.jsonl``: public labelled sets (see the README
  there), one ``{"text", "label", "lang", "source"}`` object per line, label
  ``1`` crisis or ``0`` not.
* ``screening/classifier/data/authored/<lang>.yml``: messages written for this
  project (lists under keys starting ``crisis`` and the list ``not_crisis``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRISIS_CASES_DIR = REPO_ROOT / "tests" / "data" / "crisis"
NLU_DIR = REPO_ROOT / "data" / "nlu"
PUBLIC_DATA_DIR = Path(__file__).resolve().parent / "data"
AUTHORED_DIR = PUBLIC_DATA_DIR / "authored"
NOT_CRISIS_KEY = "not_crisis"
TUNING_SPLIT_KEY = "cases"
CRISIS_INTENT = "express_crisis"
NONE_LABEL = "none"
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One labelled training message."""

    text: str
    crisis: bool
    lang: str
    source: str
    kind: str = ""


def project_cases(directory: Path = CRISIS_CASES_DIR) -> list[Example]:
    """The tuning split of the project's labelled crisis cases."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        lang = str(data["language"])
        examples.extend(
            Example(str(item["text"]), str(item["label"]) != NONE_LABEL, lang, "project_cases", str(item["kind"]))
            for item in data.get(TUNING_SPLIT_KEY) or []
        )
    return examples


def _nlu_lines(block: str) -> Iterable[str]:
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- "):
            yield _ENTITY_MARKUP.sub(r"\1", line[2:].strip())


def project_nlu(directory: Path = NLU_DIR) -> list[Example]:
    """The bot's NLU training examples, labelled crisis iff intent ``express_crisis``."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*/*.yml")):
        lang = path.parent.name
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            intent = item.get("intent")
            if not intent:
                continue
            examples.extend(
                Example(text, intent == CRISIS_INTENT, lang, "project_nlu", intent)
                for text in _nlu_lines(str(item.get("examples", "")))
            )
    return examples


def public_sets(directory: Path = PUBLIC_DATA_DIR) -> list[Example]:
    """The committed public labelled sets."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                examples.append(
                    Example(
                        str(item["text"]),
                        bool(int(item["label"])),
                        str(item["lang"]),
                        str(item["source"]),
                        str(item.get("kind", "")),
                    )
                )
    return examples


def authored(directory: Path = AUTHORED_DIR) -> list[Example]:
    """Messages written for this project, per language."""
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        lang = str(data["language"])
        for key, items in data.items():
            if key == NOT_CRISIS_KEY or key.startswith("crisis"):
                examples.extend(Example(str(text), key != NOT_CRISIS_KEY, lang, "authored", key) for text in items)
    return examples


def training_corpus() -> list[Example]:
    """Every training example, deduplicated on (normalised-free) text and label, in a stable order."""
    seen: set[tuple[str, bool]] = set()
    corpus = []
    for example in [*project_cases(), *project_nlu(), *public_sets(), *authored()]:
        key = (example.text.strip(), example.crisis)
        if example.text.strip() and key not in seen:
            seen.add(key)
            corpus.append(example)
    return corpus


def digest(examples: Iterable[Example], config: dict[str, object]) -> str:
    """SHA-256 of the training examples and the training configuration."""
    hasher = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for example in examples:
        hasher.update(json.dumps([example.text, example.crisis, example.lang, example.source]).encode())
    return hasher.hexdigest()
