"""The ``easyproject`` backend: mark-then-translate (Chen et al., 2023, "EasyProject").

Each source entity is wrapped in ``[`` ``]``, the marked sentence is translated by an NLLB model
fine-tuned to keep the markers (``ychenNLP/nllb-200-*-easyproject``; its tokenizer is the original
NLLB one, loaded from that checkpoint), and each entity is also translated alone, for the
matching step of projection (:func:`extract_marked` recovers the marked target strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..schema import Span
from .base import Translator
from .hf import HFConfig, HFTranslator

# EasyProject checkpoint -> the NLLB checkpoint whose tokenizer it must use.
EASYPROJECT_TOKENIZERS = {
    "ychenNLP/nllb-200-distilled-600M-easyproject": "facebook/nllb-200-distilled-600M",
    "ychenNLP/nllb-200-distilled-1.3B-easyproject": "facebook/nllb-200-distilled-1.3B",
    "ychenNLP/nllb-200-3.3b-easyproject": "facebook/nllb-200-3.3B",
}


def mark_entities(
    tokens: Sequence[str], spans: Sequence[Span], open_: str = "[", close: str = "]"
) -> str:
    """Join ``tokens`` with spaces, wrapping each span in markers.

    >>> mark_entities(["I", "met", "John", "Smith", "in", "Paris", "."],
    ...               [Span(2, 4, "PER"), Span(5, 6, "LOC")])
    'I met [John Smith] in [Paris] .'

    Raises:
        InputError: overlapping spans, or a span outside the sentence.
    """
    words = list(tokens)
    ordered = sorted(spans)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.overlaps(b):
            raise InputError(f"overlapping entities {a} and {b} cannot both be marked")
    for span in ordered:
        if not 0 <= span.start < span.end <= len(words):
            raise InputError(f"entity {span} is outside a sentence of {len(words)} tokens")
        words[span.start] = open_ + words[span.start]
        words[span.end - 1] = words[span.end - 1] + close
    return " ".join(words)


def extract_marked(text: str, open_: str = "[", close: str = "]") -> tuple[str, list[str]]:
    """Remove the markers from a translation; return the clean text and the marked strings.

    Unbalanced markers are removed and not counted as entities.

    >>> extract_marked("Ich traf [John Smith] in [Paris].")
    ('Ich traf John Smith in Paris.', ['John Smith', 'Paris'])
    """
    pattern = re.compile(
        re.escape(open_) + r"\s*([^" + re.escape(open_ + close) + r"]*?)\s*" + re.escape(close)
    )
    entities = [m.group(1) for m in pattern.finditer(text)]
    clean = pattern.sub(lambda m: m.group(1), text)
    clean = clean.replace(open_, "").replace(close, "")
    return " ".join(clean.split()), entities


@dataclass
class MarkedTranslation:
    """One sentence through mark-then-translate."""

    source: str  # the marked source sentence
    translation: str  # the marked translation, as the model wrote it
    entities: list[str] = field(default_factory=list)  # source entity strings, in order
    entity_translations: list[str] = field(default_factory=list)  # each translated alone


@dataclass
class EasyProjectConfig(HFConfig):
    """``hf`` options with an EasyProject checkpoint; the tokenizer defaults to the original NLLB
    one. The markers are ``[ ]``, the ones those checkpoints were trained to keep and the ones
    :mod:`nerxl_data.project.easyproject` reads back (no option: a marker the projection
    does not read would drop every entity)."""

    model: str = "ychenNLP/nllb-200-distilled-600M-easyproject"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tokenizer is None:
            self.tokenizer = EASYPROJECT_TOKENIZERS.get(self.model)


class EasyProjectTranslator(HFTranslator):
    """An EasyProject checkpoint; :meth:`translate_batch` takes sentences already marked
    (:func:`translate_marked` marks them).

    >>> with EasyProjectTranslator(EasyProjectConfig()) as t:  # doctest: +SKIP
    ...     translate_marked(t, [["I", "met", "John", "."]], [[Span(2, 3, "PER")]], "en", "de")
    [MarkedTranslation(source='I met [John] .', translation='Ich traf [John].', ...)]
    """

    name = "easyproject"
    config: EasyProjectConfig

    def __init__(self, config: EasyProjectConfig, *, cache: str | Path | None = None) -> None:
        super().__init__(config, cache=cache)

    def cache_spec(self) -> dict[str, Any]:
        spec = super().cache_spec()
        spec["tokenizer"] = self.config.tokenizer
        return spec


def translate_marked(
    translator: Translator,
    tokens: Sequence[Sequence[str]],
    spans: Sequence[Sequence[Span]],
    src_lang: str,
    tgt_lang: str,
    *,
    progress: Callable[[int], object] | None = None,
) -> list[MarkedTranslation]:
    """Mark-then-translate with any translator (an EasyProject model keeps the markers best).

    Each distinct entity string is translated once, alone, for the matching step.
    """
    marked = [mark_entities(t, s) for t, s in zip(tokens, spans, strict=True)]
    entities = [
        [" ".join(t[sp.start : sp.end]) for sp in sorted(s)]
        for t, s in zip(tokens, spans, strict=True)
    ]
    translations = translator.translate_batch(marked, src_lang, tgt_lang, progress=progress)
    unique = list(dict.fromkeys(e for ents in entities for e in ents))
    alone = dict(zip(unique, translator.translate_batch(unique, src_lang, tgt_lang), strict=True))
    return [
        MarkedTranslation(m, tr, ents, [alone[e] for e in ents])
        for m, tr, ents in zip(marked, translations, entities, strict=True)
    ]
