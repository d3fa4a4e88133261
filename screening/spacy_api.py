"""The parts of spaCy the crisis screen uses, imported without TensorFlow.

spaCy imports thinc, and ``thinc.compat`` tries ``import tensorflow`` to offer
its TensorFlow wrappers. TensorFlow is installed (Rasa needs it), so every
process that only screens text paid about 4 s and a few hundred MB for it.
The screen uses blank tokenizers and ``Matcher`` only, never a thinc model, so
spaCy is imported here with ``tensorflow`` marked absent for the duration of
the import; thinc then records that it has no TensorFlow, and a later
``import tensorflow`` (Rasa's) works as usual. When TensorFlow is already
loaded (inside the Rasa server) nothing is hidden: it costs nothing there.

Every module of the screen imports spaCy through this one, and only when it
needs spaCy: a screen whose compiled patterns are cached (:mod:`screening.
compiled`) starts without it and imports it in a background thread
(:class:`screening.language.LanguageScreen`). So the hiding is a finder that
refuses ``tensorflow`` to the importing thread alone: another thread that
imports TensorFlow at the same moment gets it.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType

_TENSORFLOW = "tensorflow"


class _TensorflowHidden(importlib.abc.MetaPathFinder):
    """Refuses ``tensorflow`` (and its submodules) to one thread."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if threading.get_ident() == self.thread and fullname.split(".", 1)[0] == _TENSORFLOW:
            raise ModuleNotFoundError(f"{fullname} is hidden while spaCy is imported", name=fullname)
        return None


@contextmanager
def _tensorflow_hidden() -> Iterator[None]:
    """Make ``import tensorflow`` fail in this thread inside the block unless it is already imported."""
    if _TENSORFLOW in sys.modules:
        yield
        return
    finder = _TensorflowHidden()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


with _tensorflow_hidden():
    import spacy
    from spacy.attrs import NORM
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc


_RULE_TOKENIZER = {"@tokenizers": "spacy.Tokenizer.v1"}


def blank_pipeline(lang: str) -> Language:
    """A blank spaCy pipeline whose tokenizer has no special-case rules.

    Special cases (``dont`` -> ``do nt``, ``cannot`` -> ``can not``) are
    written for raw text; the screen tokenises already-normalised text and
    its patterns are tokenised the same way, so they are left out. A language
    with spaCy's rule tokenizer gets the one ``spacy.blank`` would make
    (``spacy.Tokenizer.v1``: the language's prefix, suffix and infix rules),
    built directly: resolving the pipeline's config and loading the special
    cases only to drop them was most of the cost. Others (Chinese character
    segmentation) come from ``spacy.blank``.
    """
    language_class = spacy.util.get_lang_class(lang)
    if language_class.default_config["nlp"]["tokenizer"] != _RULE_TOKENIZER:
        return spacy.blank(lang)
    return language_class(create_tokenizer=_rule_tokenizer)


def _rule_tokenizer(nlp: Language) -> Tokenizer:
    """``spacy.Tokenizer.v1`` without the special cases (``tokenizer_exceptions``)."""
    defaults = nlp.Defaults
    util = spacy.util
    return Tokenizer(
        nlp.vocab,
        rules={},
        prefix_search=util.compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
        suffix_search=util.compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
        infix_finditer=util.compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


__all__ = ["NORM", "Doc", "Language", "Matcher", "blank_pipeline"]
