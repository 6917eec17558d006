"""The ``hf`` backend: any Hugging Face seq2seq translation model (NLLB-200, M2M100, Marian).

The model family decides how languages are given: NLLB takes FLORES-200 codes (``src_lang`` on
the tokenizer, the target as ``forced_bos_token_id``), M2M100 the same with ISO 639-1 codes,
Marian/opus-mt models are one language pair each (a multi-target one gets a ``>>xxx<<`` prefix).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, unknown_name
from ..paths import folder_fingerprint
from . import langs
from .base import Translator

logger = logging.getLogger(__name__)

FAMILIES = ("nllb", "m2m100", "marian", "generic")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class HFConfig:
    """Options of the ``hf`` backend.

    Args:
        model: a Hub name (``facebook/nllb-200-distilled-600M``) or a local folder.
        revision: a Hub revision (branch, tag, commit); part of the cache key.
        tokenizer: load the tokenizer from here instead of ``model``.
        family: ``nllb``, ``m2m100``, ``marian`` or ``generic``; ``None`` detects it.
        batch_size: sentences per ``generate`` call (and per cache commit).
        num_beams: beam size (1 = greedy).
        max_input_tokens: longer sentences are truncated, with a warning, and counted.
        max_new_tokens, min_new_tokens: output length bounds (equal values fix the length, for
            benchmarks).
        dtype: ``auto`` is bfloat16 (or float16) on CUDA, float32 on CPU.
        device: ``cuda``, ``cpu``, ...; ``None`` takes CUDA when present.
    """

    model: str
    revision: str | None = None
    tokenizer: str | None = None
    family: Literal["nllb", "m2m100", "marian", "generic"] | None = None
    batch_size: int = 16
    num_beams: int = 4
    max_input_tokens: int = 256
    max_new_tokens: int = 256
    min_new_tokens: int | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: str | None = None

    def __post_init__(self) -> None:
        if self.family is not None and self.family not in FAMILIES:
            raise unknown_name("model family", self.family, FAMILIES)
        if self.dtype not in DTYPES:
            raise unknown_name("dtype", self.dtype, DTYPES)
        for name in ("batch_size", "num_beams", "max_input_tokens", "max_new_tokens"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")


def detect_family(tokenizer: Any, model_type: str) -> str:
    """``nllb`` if the tokenizer knows FLORES-200 codes, else from the model type."""
    unk = tokenizer.unk_token_id
    if tokenizer.convert_tokens_to_ids("eng_Latn") not in (None, unk):
        return "nllb"
    if model_type == "m2m_100":
        return "m2m100"
    if model_type == "marian":
        return "marian"
    return "generic"


def model_sources(config: HFConfig) -> tuple[str, str]:
    """Where the model and its tokenizer load from now: a local path, the Hub name, or (the Hub
    unreachable) the cached snapshot. Not local, not cached and offline raises at once
    (transformers would retry for about 50 s and fail with a library message); the pipeline
    calls this at config time, before any work.

    Raises:
        HubUnreachableError: naming the model (or tokenizer) that cannot be loaded.
    """
    from ..hubio import resolve_repo

    model = resolve_repo(config.model, "model", "translation model", revision=config.revision)
    return model, (resolve_repo(config.tokenizer, "model", "tokenizer") if config.tokenizer else model)


def load_tokenizer(config: HFConfig, source: str) -> Any:
    """The tokenizer of ``config`` from ``source`` (:func:`model_sources`)."""
    from transformers import AutoTokenizer

    revision = None if config.tokenizer else config.revision
    try:
        return AutoTokenizer.from_pretrained(source, revision=revision)
    except (OSError, TypeError, ValueError) as exc:  # no or broken tokenizer files
        hint = (
            "; pass tokenizer=... (EasyProject checkpoints use the original NLLB tokenizer)"
            if Path(source).is_dir()
            else ""
        )
        reason = " ".join(str(exc).split())  # one line
        raise ConfigError(
            f"cannot load a tokenizer from {source!r} ({type(exc).__name__}: {reason}){hint}"
        ) from exc


def model_revision(config: HFConfig, model_config: Any = None, source: str | None = None) -> str | None:
    """The revision for the cache key: as given, a local folder's fingerprint, the cached
    snapshot's commit (loaded offline from ``source``), or the Hub commit."""
    if config.revision:
        return config.revision
    local = Path(config.model)
    if local.is_dir():
        return folder_fingerprint(local)
    if source is not None and source != config.model:  # .../snapshots/<commit>
        return Path(source).name
    return getattr(model_config, "_commit_hash", None)


class LanguageCodes:
    """Language handling shared by the seq2seq backends (needs ``tokenizer``, ``family``,
    ``config``): NLLB/M2M100 language tokens, Marian ``>>xxx<<`` prefixes, truncation counts."""

    tokenizer: Any
    family: str
    config: HFConfig
    stats: Any

    def _lang_token(self, code: str) -> str:
        token = langs.backend_code(code, self.family)
        if self.family == "m2m100":
            token = self.tokenizer.lang_code_to_token[token]
        if self.tokenizer.convert_tokens_to_ids(token) in (None, self.tokenizer.unk_token_id):
            raise ConfigError(
                f"Model {self.config.model} has no language token {token!r} for {code!r}"
            )
        return token

    def check_languages(self, src_lang: str, tgt_lang: str) -> None:
        if self.family in ("nllb", "m2m100"):
            self._lang_token(src_lang)
            self._lang_token(tgt_lang)
        else:
            langs.iso639_3(src_lang)
            langs.iso639_3(tgt_lang)

    def _marian_prefix(self, tgt_lang: str) -> str:
        lang = langs.language(tgt_lang)
        for code in (lang.iso3, lang.iso1):
            token = f">>{code}<<"
            if code and self.tokenizer.convert_tokens_to_ids(token) not in (
                None,
                self.tokenizer.unk_token_id,
            ):
                return token + " "
        return ""

    def prepare(
        self, texts: list[str], src_lang: str, tgt_lang: str
    ) -> tuple[list[str], str | None]:
        """Set the tokenizer's source language; return the texts (with a Marian prefix where
        needed) and the target language token to force first (``None`` if none)."""
        if self.family in ("nllb", "m2m100"):
            # NLLB tokenizers take the FLORES code, M2M100 ones the ISO code (``en``, not ``__en__``)
            self.tokenizer.src_lang = langs.backend_code(src_lang, self.family)
            return texts, self._lang_token(tgt_lang)
        if self.family == "marian":
            prefix = self._marian_prefix(tgt_lang)
            return [prefix + t for t in texts], None
        return texts, None

    def count_truncated(self, texts: list[str]) -> None:
        """Count (and warn about) texts longer than ``max_input_tokens``."""
        limit = self.config.max_input_tokens
        lengths = [len(ids) for ids in self.tokenizer(texts)["input_ids"]]
        long = [n for n in lengths if n > limit]
        if long:
            self.stats.truncated += len(long)
            logger.warning(
                "%d sentence(s) longer than %d tokens truncated (longest: %d tokens)",
                len(long),
                limit,
                max(long),
            )


class HFTranslator(LanguageCodes, Translator):
    """Translate with a Hugging Face seq2seq model; a context manager that frees it on exit.

    >>> with HFTranslator(HFConfig("facebook/nllb-200-distilled-600M")) as t:  # doctest: +SKIP
    ...     t.translate_batch(["The cat sat."], "en", "de")
    ['Die Katze saß.']
    """

    name = "hf"

    def __init__(self, config: HFConfig, *, cache: str | Path | None = None) -> None:
        super().__init__(batch_size=config.batch_size, cache=cache)
        import torch
        from transformers import AutoModelForSeq2SeqLM

        self.config = config
        self._torch = torch
        self.device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = config.dtype
        if dtype == "auto":
            if self.device.startswith("cuda"):
                dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
            else:
                dtype = "float32"
        self.dtype = dtype
        source, tokenizer_source = model_sources(config)
        self.tokenizer = load_tokenizer(config, tokenizer_source)
        import transformers

        # transformers < 4.56 names the argument torch_dtype (we support >= 4.45)
        major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
        dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        self.model = AutoModelForSeq2SeqLM.from_pretrained(
            source, revision=config.revision, **{dtype_arg: getattr(torch, dtype)}
        )
        self.model.to(self.device).eval()
        self.family = config.family or detect_family(self.tokenizer, self.model.config.model_type)
        self.revision = model_revision(config, self.model.config, source)

    def cache_spec(self) -> dict[str, Any]:
        params = asdict(self.config)
        for volatile in ("batch_size", "device", "revision"):  # do not change the output
            params.pop(volatile)
        params["dtype"] = self.dtype
        return {"model": self.config.model, "revision": self.revision, "params": params}

    def _translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        gen: dict[str, Any] = {
            "num_beams": self.config.num_beams,
            "max_new_tokens": self.config.max_new_tokens,
        }
        if self.config.min_new_tokens is not None:
            gen["min_new_tokens"] = self.config.min_new_tokens
        texts, forced = self.prepare(texts, src_lang, tgt_lang)
        if forced is not None:
            gen["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(forced)
        self.count_truncated(texts)
        enc = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.config.max_input_tokens,
            padding=True,
            return_tensors="pt",
        ).to(self.device)
        with self._torch.inference_mode():
            out = self.model.generate(**enc, **gen)
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def close(self) -> None:
        super().close()
        if getattr(self, "model", None) is not None:
            self.model = None
            if self.device.startswith("cuda"):
                self._torch.cuda.empty_cache()
