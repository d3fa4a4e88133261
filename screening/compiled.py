"""The crisis patterns compiled to plain data, and the on-disk cache of it.

Compiling ``screening/patterns/*.yml`` into Matcher token patterns
(:mod:`screening.compiler`) takes seconds: YAML parsing, tokenising every
literal with spaCy, expanding alternations into tens of thousands of token
patterns. Its result is plain data (:class:`CompiledScreen`), so it is stored
as JSON under ``.data/compiled-crisis-patterns/<key>.json`` and later processes read it
in milliseconds, without importing spaCy. The key is a SHA-256 digest of
everything the result depends on: the bytes of every pattern file, the source
of the modules that compile them, and the Python and spaCy versions. A change
to any of them makes a new key, so a stale cache is never read; a file that
does not parse, or that names another key, is compiled afresh and replaced.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from screening.patterns import NegationRules, PatternFileError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CACHE_DIR = Path(__file__).resolve().parent.parent / ".data" / "compiled-crisis-patterns"
_COMPILING_MODULES = ("compiled.py", "compiler.py", "patterns.py", "normalise.py", "textscan.py", "spacy_api.py")
"""The sources the compiled patterns depend on (besides the pattern files): part of the cache key."""

TokenSpec = dict[str, Any]


@dataclass
class CompiledGroup:
    """The token patterns that share one anchor group, and how far they reach around an anchor.

    Attributes:
        patterns: ``(matcher key, token specs)``, in the order they are added to the Matcher;
            read from the cache still packed (JSON, deflated, base85: they are nine tenths of
            the compiled data), unpacked by :meth:`token_patterns` when the group's Matcher is
            built (most groups never are: their anchor never occurs).
        companions: Words of which one must also occur near the anchor for any pattern of
            the group to match; ``None`` when some pattern needs no second word.
    """

    patterns: list[tuple[str, list[TokenSpec]]] | str = field(default_factory=list)
    before: int = 0
    after: int = 0
    companions: set[str] | None = field(default_factory=set)

    def add(self, key: str, specs: list[TokenSpec], reach: tuple[int, int], companions: set[str] | None) -> None:
        self.token_patterns().append((key, specs))
        self.before, self.after = max(self.before, reach[0]), max(self.after, reach[1])
        if self.companions is not None:
            self.companions = None if companions is None else self.companions | companions

    def token_patterns(self) -> list[tuple[str, list[TokenSpec]]]:
        if isinstance(self.patterns, str):
            unpacked = json.loads(zlib.decompress(base64.b85decode(self.patterns)))
            self.patterns = [(key, specs) for key, specs in unpacked]
        return self.patterns

    def to_json(self) -> dict[str, Any]:
        patterns = self.patterns
        if not isinstance(patterns, str):
            patterns = base64.b85encode(zlib.compress(_dumps(patterns).encode(), 9)).decode("ascii")
        companions = None if self.companions is None else sorted(self.companions)
        return {"patterns": patterns, "before": self.before, "after": self.after, "companions": companions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompiledGroup:
        companions = data["companions"]
        return cls(str(data["patterns"]), data["before"], data["after"],
                   None if companions is None else set(companions))


@dataclass
class CompiledLanguage:
    """One language's screen as plain data (see :class:`screening.language.LanguageScreen`).

    Attributes:
        characters: Whether the tokenizer makes one token per character.
        norms: ``(word, norm)`` lexeme norms to set, in order (spelling variants, clitic forms).
        rules: ``(matcher key, category value, negatable)``.
        anchors: Anchor word -> indexes into ``groups`` (``exclusion_anchors``: into ``exclusion_groups``).
        reach: Surface form of an anchor -> tokens a window must reach before and after it.
        window_reach: The most tokens any pattern, exclusion and negation look-back reach.
        word_anchors: Anchors found by word lookup; ``prefilter_words`` by regular expression.
    """

    language: str
    spacy_lang: str
    characters: bool
    norms: list[tuple[str, str]]
    rules: list[tuple[str, str, bool]]
    groups: list[CompiledGroup]
    anchors: dict[str, list[int]]
    exclusion_groups: list[CompiledGroup]
    exclusion_anchors: dict[str, list[int]]
    exclusion_reach: int
    reach: dict[str, tuple[int, int]]
    window_reach: int
    word_anchors: list[str]
    prefilter_words: list[str]
    prefilter_left_boundary: bool
    fillers: list[str]
    joins: list[str]
    negation: NegationRules

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["groups"] = [group.to_json() for group in self.groups]
        data["exclusion_groups"] = [group.to_json() for group in self.exclusion_groups]
        negation = self.negation
        data["negation"] = {"window": negation.window, "cues": sorted(negation.cues),
                            "pseudo": negation.pseudo, "breaks": sorted(negation.breaks)}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompiledLanguage:
        negation = data["negation"]
        plain = {name: data[name] for name in ("language", "spacy_lang", "characters", "anchors", "exclusion_anchors",
                                               "exclusion_reach", "window_reach", "word_anchors", "prefilter_words",
                                               "prefilter_left_boundary", "fillers", "joins")}
        return cls(
            **plain,
            norms=[(word, norm) for word, norm in data["norms"]],
            rules=[(key, category, negatable) for key, category, negatable in data["rules"]],
            groups=[CompiledGroup.from_json(group) for group in data["groups"]],
            exclusion_groups=[CompiledGroup.from_json(group) for group in data["exclusion_groups"]],
            reach={word: (before, after) for word, (before, after) in data["reach"].items()},
            negation=NegationRules(negation["window"], frozenset(negation["cues"]),
                                   tuple(tuple(phrase) for phrase in negation["pseudo"]),
                                   frozenset(negation["breaks"])),
        )


@dataclass
class CompiledScreen:
    """Every language's compiled patterns and the character folds shared by all of them."""

    char_map: dict[str, str]
    languages: list[CompiledLanguage]

    def to_json(self) -> dict[str, Any]:
        return {"char_map": self.char_map, "languages": [language.to_json() for language in self.languages]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompiledScreen:
        return cls(dict(data["char_map"]), [CompiledLanguage.from_json(language) for language in data["languages"]])


def cache_key(pattern_dir: Path) -> str:
    """SHA-256 of the pattern files, the compiling modules' source, and the Python and spaCy versions."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    parts: list[tuple[str, bytes]] = [
        ("format", str(FORMAT_VERSION).encode()),
        ("python", sys.version.encode()),
        ("spacy", _spacy_version_file()),
    ]
    parts += [(f"module:{name}", (here / name).read_bytes()) for name in _COMPILING_MODULES]
    parts += [(f"patterns:{path.name}", path.read_bytes()) for path in sorted(pattern_dir.glob("*.yml"))]
    for name, content in parts:
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def _spacy_version_file() -> bytes:
    """spaCy's ``about.py`` (its version), read without importing spaCy (``importlib.metadata`` alone cost more)."""
    spec = find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        raise PatternFileError("spaCy is not installed: the crisis patterns cannot be compiled")
    return (Path(next(iter(spec.submodule_search_locations))) / "about.py").read_bytes()


def load_compiled(pattern_dir: Path, cache_dir: Path | None) -> CompiledScreen:
    """The compiled patterns of ``pattern_dir``: from the cache when it holds them, else compiled (and stored).

    Args:
        pattern_dir: Directory holding ``<lang>.yml`` pattern files.
        cache_dir: Where compiled patterns are kept, or ``None`` to compile without a cache.

    Raises:
        PatternFileError: If there is no pattern file or one is malformed.
    """
    if cache_dir is None:
        return _compile(pattern_dir)
    key = cache_key(pattern_dir)
    path = cache_dir / f"{key}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return CompiledScreen.from_json(stored["screen"])
        logger.warning("crisis_screen.cache_mismatch: %s names another key; compiling afresh", path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        logger.warning("crisis_screen.cache_unreadable: %s; compiling afresh", path, exc_info=True)
    compiled = _compile(pattern_dir)
    _store(path, {"key": key, "screen": compiled.to_json()})
    return compiled


def _compile(pattern_dir: Path) -> CompiledScreen:
    from screening.compiler import compile_screen  # imports spaCy: only when there is something to compile

    if not any(pattern_dir.glob("*.yml")):
        raise PatternFileError(f"no pattern files in {pattern_dir}")
    return compile_screen(pattern_dir)


def _store(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (processes starting side by side may compile at once); a read-only place is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(_dumps(data))
        os.replace(tmp.name, path)
    except OSError:
        logger.warning("crisis_screen.cache_not_written: %s; the next process compiles again", path, exc_info=True)


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
