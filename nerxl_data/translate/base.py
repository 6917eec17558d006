"""The translator contract: ``translate_batch(texts, src_lang, tgt_lang) -> list[str]``.

:class:`Translator` does what every backend shares: empty lines pass through as empty
translations, repeated sentences are translated once, the persistent cache is consulted first,
the rest is sorted by length and cut into batches, and each batch is committed to the cache as
soon as it is translated. A backend only implements :meth:`Translator._translate` over one batch
of non-empty, distinct texts, and :meth:`Translator.cache_spec`.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import regex

from .cache import TranslationCache
from .langs import iso639_3

logger = logging.getLogger(__name__)

# Hand-written on purpose: the aligner needs a deterministic, language-neutral word split (words,
# numbers with inner punctuation, and each other symbol alone); no tokenizer in our dependencies
# does that without a per-language model. The `regex` module's \w includes combining marks, so
# Yoruba tone marks (decomposed) stay inside their word; `re`'s does not.
_WORD = regex.compile(r"\w+(?:[-'’.,]\w+)*|[^\w\s]")


def word_tokenize(text: str) -> list[str]:
    """Split ``text`` into words and punctuation marks (what the aligners take).

    >>> word_tokenize("O Parlamento reuniu-se em Bruxelas, 3.5 vezes.")
    ['O', 'Parlamento', 'reuniu-se', 'em', 'Bruxelas', ',', '3.5', 'vezes', '.']
    """
    return _WORD.findall(text)


@dataclass
class TranslationStats:
    """What a translator did, summed over its calls."""

    sentences: int = 0
    empty: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    translated: int = 0
    truncated: int = 0
    seconds: float = 0.0

    @property
    def sentences_per_second(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.sentences} sentences in {self.seconds:.1f}s "
            f"({self.sentences_per_second:.1f} sent/s); translated {self.translated}, "
            f"cache hits {self.cache_hits}, misses {self.cache_misses}, empty {self.empty}, "
            f"truncated {self.truncated}"
        )


class Translator(ABC):
    """Base class of all backends; a context manager that frees its model on exit.

    Args:
        batch_size: sentences per model call (and per cache commit).
        cache: a cache file path (opened here, one namespace per language pair) or ``None``.
        sort_by_length: translate the missing sentences in order of length (less padding).
    """

    name: str = "base"

    def __init__(
        self,
        *,
        batch_size: int = 16,
        cache: str | Path | None = None,
        sort_by_length: bool = True,
    ) -> None:
        self.batch_size = max(1, int(batch_size))
        self.cache_path = cache
        self.sort_by_length = sort_by_length
        self.stats = TranslationStats()
        self._caches: dict[tuple[str, str], TranslationCache] = {}

    # --- to implement ------------------------------------------------------------------------
    @abstractmethod
    def _translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        """Translate one batch of non-empty, distinct texts."""

    @abstractmethod
    def cache_spec(self) -> dict[str, Any]:
        """What translations depend on (model, revision, parameters), for the cache key."""

    def check_languages(self, src_lang: str, tgt_lang: str) -> None:
        """Raise :class:`~nerxl_data.errors.ConfigError` if the pair is not supported."""
        return None  # every pair, unless a backend says otherwise

    def close(self) -> None:
        for cache in self._caches.values():
            cache.close()
        self._caches.clear()

    # --- shared ------------------------------------------------------------------------------
    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cache(self, src_lang: str, tgt_lang: str) -> TranslationCache | None:
        if self.cache_path is None:
            return None
        if (src_lang, tgt_lang) not in self._caches:
            # "en", "eng" and "eng_Latn" are one language: one cache namespace
            src, tgt = iso639_3(src_lang), iso639_3(tgt_lang)
            spec = {"backend": self.name, **self.cache_spec(), "src": src, "tgt": tgt}
            self._caches[src_lang, tgt_lang] = TranslationCache(self.cache_path, spec)
        return self._caches[src_lang, tgt_lang]

    @overload
    def translate_batch(
        self,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        tokenize: Literal[False] = False,
        progress: Callable[[int], object] | None = None,
    ) -> list[str]: ...

    @overload
    def translate_batch(
        self,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        tokenize: Literal[True],
        progress: Callable[[int], object] | None = None,
    ) -> list[list[str]]: ...

    def translate_batch(self, texts, src_lang, tgt_lang, *, tokenize=False, progress=None):
        """Translate ``texts`` from ``src_lang`` to ``tgt_lang`` (ISO 639-1/639-3 codes).

        Args:
            texts: sentences; empty or blank ones come back as ``""``.
            tokenize: return each translation as words (:func:`word_tokenize`).
            progress: called with the number of sentences done after each batch (e.g.
                ``tqdm.update``).

        Returns:
            one translation per text, in order.

        Raises:
            ConfigError: an unknown or unsupported language.
        """
        start = time.perf_counter()
        self.check_languages(src_lang, tgt_lang)
        texts = [t.strip() for t in texts]
        out: dict[str, str] = {"": ""}
        todo = list(dict.fromkeys(t for t in texts if t))  # distinct, first-seen order
        cache = self._cache(src_lang, tgt_lang)
        if cache is not None:
            hits_before, misses_before = cache.hits, cache.misses
            out.update(cache.lookup(todo))
            self.stats.cache_hits += cache.hits - hits_before
            self.stats.cache_misses += cache.misses - misses_before
            todo = [t for t in todo if t not in out]
        counts = Counter(texts)
        if progress is not None:
            progress(len(texts) - sum(counts[t] for t in todo))
        if self.sort_by_length:
            todo.sort(key=len, reverse=True)
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            translations = self._translate(batch, src_lang, tgt_lang)
            done = dict(zip(batch, translations, strict=True))
            if cache is not None:
                cache.store(done)
            out.update(done)
            self.stats.translated += len(batch)
            if progress is not None:
                progress(sum(counts[t] for t in batch))
        self.stats.sentences += len(texts)
        self.stats.empty += sum(1 for t in texts if not t)
        self.stats.seconds += time.perf_counter() - start
        result = [out[t] for t in texts]
        return [word_tokenize(t) for t in result] if tokenize else result
