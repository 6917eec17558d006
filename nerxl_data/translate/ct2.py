"""The ``ctranslate2`` backend: the ``hf`` models converted to CTranslate2 (fast CPU/GPU inference).

The Hugging Face checkpoint is converted once (``ctranslate2.converters.TransformersConverter``)
into a folder keyed by model and revision, and reused; ``compute_type`` picks int8, float16,
bfloat16, ... at load time. Tokenisation, language codes and truncation are the ``hf`` backend's
(same tokenizer), so greedy outputs match it. ``pip install 'nerxl-data[ctranslate2]'``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, require, unknown_name
from ..paths import cache_root, filled_once
from .base import Translator
from .hf import (
    HFConfig,
    LanguageCodes,
    detect_family,
    load_tokenizer,
    model_revision,
    model_sources,
)

logger = logging.getLogger(__name__)

COMPUTE_TYPES = ("default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
                 "int16", "float16", "bfloat16", "float32")  # fmt: skip


@dataclass
class CT2Config(HFConfig):
    """``hf`` options (``dtype`` unused) plus CTranslate2's.

    Args:
        compute_type: ``default`` keeps the converted weights' type; ``int8``, ``float16``, ...
        converted_dir: where converted models are kept (default ``$NERXL_CACHE/ct2`` or
            ``~/.cache/nerxl/ct2``); one sub-folder per model and revision.
        threads: CPU threads per translation (``intra_threads``); 0 lets CTranslate2 choose.
    """

    compute_type: str = "default"
    converted_dir: str | None = None
    threads: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compute_type not in COMPUTE_TYPES:
            raise unknown_name("compute type", self.compute_type, COMPUTE_TYPES)


def convert(model: str, revision: str | None, root: Path, key: str, source: str | None = None) -> Path:
    """Convert ``model`` (read from ``source``, its :func:`~nerxl_data.translate.hf.model_sources`, when given) to
    CTranslate2 under ``root`` once; return the folder.

    The conversion writes to a temporary folder renamed at the end (:func:`~nerxl_data.paths.filled_once`),
    so an interrupted one is redone, never half-used.
    """
    ct2 = require("ctranslate2", "ctranslate2", "The ctranslate2 backend")
    name = Path(model).name if Path(model).is_dir() else model.replace("/", "--")
    digest = hashlib.sha256(f"{model}|{key}".encode()).hexdigest()[:12]
    target = root / f"{name}-{digest}"
    if (target / "model.bin").is_file():
        return target
    logger.info("converting %s to CTranslate2 in %s", model, target)
    with filled_once(target, lambda p: (p / "model.bin").is_file()) as tmp:
        ct2.converters.TransformersConverter(source or model, revision=revision).convert(str(tmp), force=True)
    return target


class CT2Translator(LanguageCodes, Translator):
    """Translate with CTranslate2; same tokenizer, language codes and options as ``hf``.

    >>> with CT2Translator(CT2Config("facebook/nllb-200-distilled-600M",  # doctest: +SKIP
    ...                               compute_type="int8")) as t:
    ...     t.translate_batch(["The cat sat."], "en", "de")
    ['Die Katze saß.']
    """

    name = "ctranslate2"

    def __init__(self, config: CT2Config, *, cache: str | Path | None = None) -> None:
        super().__init__(batch_size=config.batch_size, cache=cache)
        ct2 = require("ctranslate2", "ctranslate2", "The ctranslate2 backend")
        from transformers import AutoConfig

        self.config = config
        source, tokenizer_source = model_sources(config)
        self.tokenizer = load_tokenizer(config, tokenizer_source)
        hf_config = AutoConfig.from_pretrained(source, revision=config.revision)
        self.family = config.family or detect_family(self.tokenizer, hf_config.model_type)
        self.revision = model_revision(config, hf_config, source)
        root = Path(
            config.converted_dir
            or cache_root() / "ct2"
        )
        self.path = convert(config.model, config.revision, root, str(self.revision), source)
        self.device = config.device or ("cuda" if ct2.get_cuda_device_count() > 0 else "cpu")
        try:
            self.model = ct2.Translator(
                str(self.path),
                device=self.device,
                compute_type=config.compute_type,
                intra_threads=config.threads,
            )
        except ValueError as exc:  # e.g. float16 on a CPU without support
            raise ConfigError(f"ctranslate2 cannot load {config.model}: {exc}") from exc

    def cache_spec(self) -> dict[str, Any]:
        params = asdict(self.config)
        for volatile in ("batch_size", "device", "revision", "converted_dir", "threads", "dtype"):
            params.pop(volatile)
        params["compute_type"] = self.model.compute_type
        return {"model": self.config.model, "revision": self.revision, "params": params}

    def _translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        texts, forced = self.prepare(texts, src_lang, tgt_lang)
        self.count_truncated(texts)
        ids = self.tokenizer(texts, truncation=True, max_length=self.config.max_input_tokens)
        source = [self.tokenizer.convert_ids_to_tokens(x) for x in ids["input_ids"]]
        results = self.model.translate_batch(
            source,
            target_prefix=[[forced]] * len(source) if forced else None,
            beam_size=self.config.num_beams,
            # CTranslate2 counts the target prefix in the length, like generate's forced BOS
            max_decoding_length=self.config.max_new_tokens,
            min_decoding_length=self.config.min_new_tokens or 1,
            max_input_length=0,  # already truncated above, by the tokenizer
        )
        out = []
        for r in results:
            ids = self.tokenizer.convert_tokens_to_ids(r.hypotheses[0])
            out.append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
        return out

    def close(self) -> None:
        super().close()
        self.model = None
