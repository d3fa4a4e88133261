"""Loading and compiling the per-language crisis pattern files.

Each ``screening/patterns/<lang>.yml`` is pure data; this module turns it into
spaCy ``Matcher`` token patterns. The pattern mini-language:

* words are literals; they are normalised (see :mod:`screening.normalise`)
  and split with the language's tokenizer, so ``kill myself`` and Chinese
  ``自杀`` (two character tokens) are both plain literals;
* ``(a|b c)`` is an alternation; ``(a|b c)?`` or an empty branch ``(a|)``
  makes it optional; groups nest. A group of single words becomes one token
  choice, others are expanded into one token pattern per combination;
* ``{NAME}`` is replaced by the file's ``macros.NAME`` text before parsing;
* ``*`` is a gap of 0 to ``gap`` non-punctuation tokens;
* ``_`` is exactly one non-punctuation token;
* ``$`` is the end of a clause: a punctuation token (every message is given a
  trailing ``.`` so the end of the message counts);
* ``##`` is a number from 10 to 999 (``took 30 of my tablets``);
* ``#`` is one digit, for tokenizers that split numbers into characters
  (``# # 알`` = 10 to 99 pills in Korean).

File layout (all keys but ``language`` optional)::

    language: en
    spacy_lang: en          # blank pipeline used for tokenising
    gap: 3
    char_map: {traditional: "...", simplified: "..."}   # or {from: "...", to: "..."}
    spelling: {variant: canonical}
    fillers: [fucking, really]   # words deleted on both sides before matching
    joins: ["i m", "don t"]      # two words typed apart, joined before matching
    clitics: {prefixes: [...], min_length: 3}  # prefixed forms match the bare word
    common_words: [can, need]    # never chosen as a pattern's anchor if another word is
    macros: {NAME: "(a|b)"}
    negation: {window: 3, cues: [...], pseudo: [...], breaks: [...]}
    categories:
      <category value>:
        negatable: [...]    # dropped if a negation cue shortly precedes
        absolute: [...]     # never dropped for negation
    exclusions: [...]       # idioms/informational uses; suppress overlapping hits
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PATTERN_DIR = Path(__file__).with_name("patterns")

_DSL_TOKEN = re.compile(r"\)\?|\(|\)|\||[^\s()|]+")
_MACRO = re.compile(r"\{([A-Z_]+)\}")
GAP, ANY, END, NUMBER, DIGIT = "*", "_", "$", "##", "#"
SPECIALS = frozenset({GAP, ANY, END, NUMBER, DIGIT})


class PatternFileError(ValueError):
    """A pattern file is malformed."""


@dataclass(frozen=True)
class NegationRules:
    """How negation cancels a negatable match (see ``CrisisScreen``).

    Attributes:
        window: How many tokens before the match are searched for a cue.
        cues: Token norms that negate (``not``, ``never``, ``no`` ...).
        pseudo: Token sequences starting with a cue that do not negate
            (``not sure``, ``never felt``).
        breaks: Token norms that end the search (``but``); punctuation always
            ends it.
    """

    window: int = 3
    cues: frozenset[str] = frozenset()
    pseudo: tuple[tuple[str, ...], ...] = ()
    breaks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PatternFile:
    """The raw, validated content of one ``<lang>.yml`` file."""

    language: str
    spacy_lang: str
    gap: int
    char_map: dict[str, str]
    spelling: dict[str, str]
    macros: dict[str, str]
    negation: dict[str, Any]
    categories: dict[str, dict[str, list[str]]]
    exclusions: list[str] = field(default_factory=list)
    fillers: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    clitic_prefixes: list[str] = field(default_factory=list)
    clitic_min_length: int = 3
    common_words: list[str] = field(default_factory=list)


def load_pattern_file(path: Path) -> PatternFile:
    """Read and validate one pattern file.

    Args:
        path: Path to ``<lang>.yml``.

    Returns:
        The parsed file.

    Raises:
        PatternFileError: If a required key is missing or malformed.
    """
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise PatternFileError(f"{path}: needs a top-level 'language' string")
    char_map_data = data.get("char_map") or {}
    source = "".join(str(char_map_data.get("traditional", char_map_data.get("from", ""))).split())
    target = "".join(str(char_map_data.get("simplified", char_map_data.get("to", ""))).split())
    if len(source) != len(target):
        raise PatternFileError(f"{path}: char_map strings differ in length")
    categories = data.get("categories") or {}
    for name, groups in categories.items():
        if not isinstance(groups, dict) or set(groups) - {"negatable", "absolute"}:
            raise PatternFileError(f"{path}: category {name!r} needs negatable/absolute lists")
    return PatternFile(
        language=data["language"],
        spacy_lang=str(data.get("spacy_lang", data["language"])),
        gap=int(data.get("gap", 3)),
        char_map=dict(zip(source, target, strict=True)),
        spelling={str(k): str(v) for k, v in (data.get("spelling") or {}).items()},
        macros={str(k): str(v) for k, v in (data.get("macros") or {}).items()},
        negation=dict(data.get("negation") or {}),
        categories={
            str(name): {kind: [str(p) for p in groups.get(kind) or []] for kind in ("negatable", "absolute")}
            for name, groups in categories.items()
        },
        exclusions=[str(p) for p in data.get("exclusions") or []],
        fillers=[str(w) for w in data.get("fillers") or []],
        joins=[str(j) for j in data.get("joins") or []],
        clitic_prefixes=[str(p) for p in (data.get("clitics") or {}).get("prefixes") or []],
        clitic_min_length=int((data.get("clitics") or {}).get("min_length", 3)),
        common_words=[str(w) for w in data.get("common_words") or []],
    )


def discover_pattern_files(directory: Path = PATTERN_DIR) -> dict[str, PatternFile]:
    """Load every ``*.yml`` pattern file in ``directory``, keyed by language."""
    files = (load_pattern_file(path) for path in sorted(directory.glob("*.yml")))
    return {pattern_file.language: pattern_file for pattern_file in files}


def substitute_macros(pattern: str, macros: Mapping[str, str]) -> str:
    """Replace ``{NAME}`` references, recursively, by their macro text.

    Raises:
        PatternFileError: On an unknown macro name.
    """
    for _ in range(10):
        if not _MACRO.search(pattern):
            if "{" in pattern or "}" in pattern:
                raise PatternFileError(f"macro names are A-Z and _ only; unresolved braces in {pattern!r}")
            return pattern
        try:
            pattern = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
        except KeyError as error:
            raise PatternFileError(f"unknown macro {error} in {pattern!r}") from None
    raise PatternFileError(f"macros nest too deeply in {pattern!r}")


Element = tuple[str, ...]
"""One position of an expanded pattern: alternative words ("" = optional)."""


def _is_word_choice(sequence: tuple[Element, ...]) -> bool:
    return len(sequence) <= 1 and all(word not in SPECIALS for element in sequence for word in element)


def expand(pattern: str) -> list[tuple[Element, ...]]:
    """Expand alternation groups into the sequences of elements they describe.

    A group whose branches are all single words (or empty) stays one element
    (one token choice, compiled to ``{"NORM": {"IN": [...]}}``); other groups
    are expanded into one sequence per branch, combined by product.

    Args:
        pattern: A pattern with macros already substituted.

    Returns:
        The sequences; each element is a tuple of alternative words, with
        ``""`` marking the element optional.

    Raises:
        PatternFileError: On unbalanced parentheses.
    """
    tokens = _DSL_TOKEN.findall(pattern)
    position = 0

    def parse_sequence() -> list[tuple[Element, ...]]:
        nonlocal position
        results: list[tuple[Element, ...]] = [()]
        while position < len(tokens) and tokens[position] not in ("|", ")", ")?"):
            item = tokens[position]
            position += 1
            options = parse_alternation() if item == "(" else [((item,),)]
            results = [left + right for left, right in itertools.product(results, options)]
        return results

    def parse_alternation() -> list[tuple[Element, ...]]:
        nonlocal position
        options = parse_sequence()
        while position < len(tokens) and tokens[position] == "|":
            position += 1
            options += parse_sequence()
        if position >= len(tokens) or tokens[position] not in (")", ")?"):
            raise PatternFileError(f"unbalanced '(' in {pattern!r}")
        if tokens[position] == ")?":
            options.append(())
        position += 1
        if all(_is_word_choice(option) for option in options):
            words = [word for option in options for word in (option[0] if option else ("",))]
            return [(tuple(dict.fromkeys(words)),)]
        return options

    expanded = parse_sequence()
    if position != len(tokens):
        raise PatternFileError(f"unbalanced ')' in {pattern!r}")
    return list(dict.fromkeys(expanded))


def iter_expanded(patterns: list[str], macros: Mapping[str, str]) -> Iterator[tuple[Element, ...]]:
    """Substitute macros in and expand each pattern of a list."""
    for pattern in patterns:
        yield from expand(substitute_macros(pattern, macros))
