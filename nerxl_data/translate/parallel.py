"""The ``parallel`` backend: an existing human translation stands in for a model.

Given a parallel corpus (LAFAND-MT line-aligned ``.src``/``.tgt`` files, or two sentence-aligned
CoNLL files such as Europarl-NER's ``en.conll`` and ``de.conll``), each source sentence
"translates" to its human target side, so alignment and projection run on real parallel text.
Sentences are matched by their whitespace- and Unicode-normalised (NFC) text: the same sentence
typed on two systems may be NFC on one side and NFD on the other; such matches are counted and
reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, InputError, unknown_name
from . import langs
from .base import Translator

logger = logging.getLogger(__name__)

FORMATS = ("lines", "conll")


def _norm(text: str) -> str:
    from ..corpora._io import nfc

    return nfc(" ".join(text.split()))


def _is_nfc(text: str) -> bool:
    import unicodedata

    return unicodedata.is_normalized("NFC", text)


@dataclass
class ParallelConfig:
    """Options of the ``parallel`` backend.

    Args:
        source, target: the two sides (line i of one is line/sentence i of the other).
        format: ``lines`` (one sentence a line) or ``conll`` (tokens joined by spaces);
            ``None`` takes ``conll`` for ``.conll``/``.tsv`` files (compressed or not).
        src_lang, tgt_lang: when given, a request for another pair is an error.
        model: unused (accepted so that ``get_translator("parallel", model)`` reads like the
            others); when given it must be ``None``.
    """

    source: str
    target: str
    format: Literal["lines", "conll"] | None = None
    src_lang: str | None = None
    tgt_lang: str | None = None
    model: str | None = None
    batch_size: int = 1024

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise unknown_name("parallel format", self.format, FORMATS)


def _read_side(path: str, fmt: str) -> list[str]:
    if fmt == "conll":
        from ..corpora.conll import read_conll

        return [" ".join(ex["tokens"]) for ex in read_conll(path, policy="repair")]
    from ..corpora._io import read_text

    return read_text(path)  # compressed or not; a BOM is no text; a bad byte names its line


class ParallelTranslator(Translator):
    """Look up each source sentence's human translation.

    >>> t = ParallelTranslator(ParallelConfig("x.src", "x.tgt"))  # doctest: +SKIP
    >>> t.translate_batch(["Good morning."], "en", "sw")  # doctest: +SKIP
    ['Habari za asubuhi.']

    Raises:
        InputError: the sides differ in length, or a requested sentence is not in the source side.
    """

    name = "parallel"

    def __init__(self, config: ParallelConfig, *, cache: str | Path | None = None) -> None:
        super().__init__(batch_size=config.batch_size, cache=cache, sort_by_length=False)
        self.config = config
        from ..corpora._io import format_suffix

        fmt = config.format or ("conll" if format_suffix(config.source) in (".conll", ".tsv") else "lines")
        src, tgt = _read_side(config.source, fmt), _read_side(config.target, fmt)
        if len(src) != len(tgt):
            raise InputError(
                f"{len(src)} sentences but {config.target} has {len(tgt)}", source=config.source
            )
        self.table: dict[str, str] = {}
        self.source_nfc: dict[str, bool] = {}  # whether the source side's sentence was NFC
        self.conflicts = 0
        self.normalised = 0  # sentences matched only after NFC (input and source side differ)
        for s, t in zip(src, tgt, strict=True):
            key = _norm(s)
            if not key:
                continue
            if key in self.table and self.table[key] != t.strip():
                self.conflicts += 1  # same source, another translation: the first one is kept
                continue
            if key not in self.table:
                self.table[key], self.source_nfc[key] = t.strip(), _is_nfc(s)
        if self.conflicts:
            logger.warning(
                "%s: %d repeated source sentences with another translation (first kept)",
                config.source,
                self.conflicts,
            )

    def cache_spec(self) -> dict[str, Any]:
        return {"model": f"{self.config.source}|{self.config.target}", "revision": None}

    def check_languages(self, src_lang: str, tgt_lang: str) -> None:
        for asked, have, side in (
            (src_lang, self.config.src_lang, "source"),
            (tgt_lang, self.config.tgt_lang, "target"),
        ):
            code = langs.iso639_3(asked)
            if have is not None and code != langs.iso639_3(have):
                raise ConfigError(f"the parallel {side} side is {have!r}, not {asked!r}")

    def _translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        out = []
        for text in texts:
            key = _norm(text)
            found = self.table.get(key)
            if found is None:
                raise InputError(
                    f"no human translation for {text[:80]!r}: not in the source side",
                    source=self.config.source,
                )
            if _is_nfc(text) != self.source_nfc[key]:
                self.normalised += 1
            out.append(found)
        return out

    def close(self) -> None:
        if self.normalised:
            logger.warning("%s: %d sentence(s) matched the source side only after Unicode normalisation "
                           "(NFC and NFD forms of the same text); check that the input and this file are "
                           "the same text", self.config.source, self.normalised)
            self.normalised = 0
        super().close()
