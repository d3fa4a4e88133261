"""Crisis-language screen run on every patient message.

Design:

* All languages share one normalisation (:mod:`screening.normalise`); the
  normalised text is tokenised by each language's blank spaCy tokenizer
  (no pipeline components) and run through one ``Matcher`` per language
  built from ``screening/patterns/<lang>.yml``.
* A cheap prefilter (one trie-shaped regular expression of anchor words per
  language) skips tokenisation entirely for the vast majority of messages;
  on long messages only windows around its hits are tokenised, and each
  anchor's matcher runs only on a span around the anchor
  (:mod:`screening.language`, :mod:`screening.textscan`).
* Fillers (``fucking``, ``ya``) are deleted and contractions typed apart
  (``i m``) joined, on both the message and the patterns, so an intensifier
  inside a phrase does not break it.
* Languages screened: the requested one, then always English and Spanish
  (patients code-switch), and every language when the requested one is not
  supported (a wrong language guess must never hide a crisis).
* Negation rule: patterns are either *absolute* or *negatable*. Absolute
  patterns carry their own negation or cannot be negated (``dont want to
  live``, ``cant go on``, ``no quiero vivir``, ``not breathing``,
  ``不想活``). A negatable match (``suicidal``, ``kill myself``, ``chest
  pain``) is dropped only when a negation cue (``not``, ``never``, ``no``,
  ``dont`` ...) occurs within ``window`` tokens before it in the same clause
  (punctuation and words such as ``but`` end the clause), and that cue does
  not belong to a pseudo-negation (``not sure``, ``never felt``, ``no me
  soporto``, ``mas que nunca``). ``cant`` is deliberately not a cue
  (``I can't stop thinking about killing myself``).
* Exclusions (idioms, informational and third-party uses) suppress any hit
  they overlap: ``dying to`` cancels ``im dying``, ``想死你`` cancels ``想死``.
* Learned screen: when no rule fires, the classifier of
  :mod:`screening.classifier` (hashed n-grams, logistic regression, plain
  NumPy) scores the whole message, in whatever language; a crisis if it
  reaches its threshold. Its finding names the category model's best guess,
  the highest-scoring segment (cut to ``EVIDENCE_CHARS``) as evidence, and
  ``source="classifier"``. Rules run first because they are exact about the
  category and the evidence; the classifier only adds recall.
* Start-up: the patterns are compiled once per content and cached on disk
  (:mod:`screening.compiled`); a screen reads that in milliseconds and builds
  no Matcher until a message holds one of its anchor words. spaCy (over a
  second to import) is loaded by a background thread, which then builds
  every language's tokenizer, so the screen is constructed without it and a
  first message does not wait for it; a message that comes sooner waits only
  for the language it needs.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path

from screening.categories import CLASSIFIER, CrisisCategory, CrisisFinding
from screening.classifier import DEFAULT_ARTEFACT, CrisisClassifier
from screening.compiled import CACHE_DIR, load_compiled
from screening.language import LanguageScreen
from screening.normalise import Normaliser
from screening.patterns import PATTERN_DIR
from screening.textscan import TextIndex

__all__ = ["CrisisCategory", "CrisisFinding", "CrisisScreen"]

EVIDENCE_CHARS = 200

logger = logging.getLogger(__name__)

_LIVE_SCREENS: weakref.WeakSet[CrisisScreen] = weakref.WeakSet()


def _before_fork() -> None:
    """Fork only between steps: Rasa's Sanic forks its workers (``SANIC_WORKERS``) after the channels built
    their screen. A child inherits no threads, so a preparation cut off mid-way (a lock held, spaCy half
    imported) would hang it at its first message; the fork waits for preparation and for every screen's locks."""
    for screen in list(_LIVE_SCREENS):
        screen.wait_prepared()
        screen.hold_locks()


def _after_fork() -> None:
    for screen in list(_LIVE_SCREENS):
        screen.release_locks()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)


def _base_language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-", 1)[0]


class CrisisScreen:
    """Screens patient messages for crisis language in several languages.

    Construct once, then call :meth:`screen` for every message, from any
    thread. A process needs one (see ``connectors.gate_services``).
    """

    def __init__(
        self,
        pattern_dir: Path = PATTERN_DIR,
        always: Iterable[str] = ("en", "es"),
        classifier: Path | None = DEFAULT_ARTEFACT,
        cache_dir: Path | None = CACHE_DIR,
        prepare_in_background: bool = True,
    ) -> None:
        """Load the compiled patterns (compiling them if the cache lacks them) and the classifier.

        Args:
            pattern_dir: Directory holding ``<lang>.yml`` pattern files.
            always: Languages screened on every message, whatever its
                language (patients code-switch).
            classifier: The learned screen's artefact, or ``None`` for the
                rules alone (evaluation and rule tests).
            cache_dir: Where compiled patterns are cached (by content), or
                ``None`` to compile them here without a cache.
            prepare_in_background: Start a thread that imports spaCy and
                builds every language's tokenizer now; without it, the
                first message that needs a language builds it.

        Raises:
            PatternFileError: If there is no pattern file or one is malformed.
        """
        compiled = load_compiled(pattern_dir, cache_dir)
        self._normaliser = Normaliser(compiled.char_map)
        self._screens = {language.language: LanguageScreen(language) for language in compiled.languages}
        always_screened = tuple(lang for lang in always if lang in self._screens)
        self._orders = {lang: tuple(dict.fromkeys((lang, *always_screened))) for lang in self._screens}
        self._all_languages = tuple(dict.fromkeys((*always_screened, *self._screens)))
        self._classifier = CrisisClassifier.load(classifier) if classifier is not None else None
        self._preparing: threading.Thread | None = None
        self._prepared = False
        _LIVE_SCREENS.add(self)
        if prepare_in_background:
            self._preparing = threading.Thread(target=self._prepare, name="crisis-screen-prepare", daemon=True)
            self._preparing.start()

    def _prepare(self) -> None:
        """Build every language's tokenizer, the always-screened languages first."""
        try:
            for lang in self._all_languages:
                self._screens[lang].prepare()
        except Exception:
            logger.exception("crisis_screen.prepare_failed: the first message of each language builds it instead")

    def hold_locks(self) -> None:
        for screen in self._screens.values():
            screen.lock.acquire()

    def release_locks(self) -> None:
        for screen in self._screens.values():
            screen.lock.release()

    def wait_prepared(self, timeout: float | None = None) -> bool:
        """Wait for the background preparation; whether every language's tokenizer is built."""
        if self._preparing is not None:
            self._preparing.join(timeout)
        return all(screen.prepared for screen in self._screens.values())

    @property
    def prepared(self) -> bool:
        """Whether every language's tokenizer is built: no message waits for one."""
        if not self._prepared:
            self._prepared = all(screen.prepared for screen in self._screens.values())
        return self._prepared

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with a pattern file, e.g. ``("en", "es", "vi", "zh")``."""
        return tuple(self._screens)

    def screen(self, text: str, language: str) -> CrisisFinding | None:
        """Screen one message.

        Args:
            text: The patient's message, as typed.
            language: Its detected or chosen language (``"es"``, ``"zh-TW"``
                ...); unknown or unsupported codes screen with every
                language's patterns.

        Returns:
            The first crisis the rules find, else the classifier's, or ``None``.
        """
        normalised = self._normaliser.normalise(text)
        if not normalised:
            return None
        index = TextIndex(normalised)
        base = _base_language(language)
        for lang in self._orders.get(base, self._all_languages):
            hit = self._screens[lang].find(normalised, index)
            if hit is not None:
                start, end, category = hit
                _, starts, ends = self._normaliser.normalise_with_offsets(text, limit=end)
                return CrisisFinding(category, text[starts[start] : ends[end - 1]], lang)
        if self._classifier is None:
            return None
        verdict = self._classifier.assess(text)
        if verdict is None:
            return None
        evidence = verdict.segment.strip()[:EVIDENCE_CHARS].strip()
        return CrisisFinding(CrisisCategory(verdict.category), evidence, base or "und", CLASSIFIER)
