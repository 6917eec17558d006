"""XTREME PAN-X (WikiANN) languages: English PAN-X training data translated and projected
(PER, ORG, LOC).

- ``translate-train`` (default): English PAN-X/WikiANN training sentences translated into the
  target (``--translator hf --translator-model <NLLB path>``), entities projected.
- ``translate-test``: the target's PAN-X sentences translated into English, tagged by an English
  NER model (``--tagger-model``), projected back, and scored against PAN-X gold.

    nerxl build xtreme-panx --lang sw --translator hf --translator-model /models/nllb-600M
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from nerxl_data.builders.base import BuildConfig, Builder, BuildOptions, script_main, source_info
from nerxl_data.errors import ConfigError
from nerxl_data.pipeline import source_rows, target_rows
from nerxl_data.schema import LABEL_SETS


class XtremePanx(Builder):
    family = "xtreme-panx"
    types = LABEL_SETS["wikiann"]

    @property
    def languages(self) -> tuple[str, ...]:  # type: ignore[override]
        from nerxl_data.corpora.registry import get_corpus

        return tuple(lang for lang in get_corpus("xtreme-panx").languages if lang != "en")

    def resolve(self, opts: BuildOptions) -> BuildOptions:
        if opts.translator is None:
            raise ConfigError(
                "xtreme-panx has no parallel text to build from: give a translator (--translator hf "
                "--translator-model facebook/nllb-200-distilled-600M), with --mode translate-test "
                "also a --tagger-model"
            )
        return replace(opts, source_lang=opts.source_lang or "en")

    def source_tagged(self, opts: BuildOptions) -> bool:
        return opts.mode == "translate-train"

    def sources(self, opts: BuildOptions):
        return [source_info("xtreme-panx")]

    def notes(self, cfg: BuildConfig):
        return [f"Gold `validation` and `test` splits: PAN-X.{cfg.options.lang} of XTREME (ODC-BY / Wikipedia "
                "terms, as distributed with XTREME); the silver `train` split is machine-labelled."]

    def gold_splits(self, opts: BuildOptions):
        silver = set(opts.splits or ["train"]) if opts.mode == "translate-test" else {"train"}
        return {s: self._read(opts.lang, opts, s, limit=None) for s in ("validation", "test") if s not in silver}

    def _read(self, lang: str, opts: BuildOptions, split: str, limit: int | None = -1) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        records = load_corpus(f"xtreme-panx:{lang}", split, data_dir=opts.data_dir, policy="repair")
        return list(itertools.islice(records, opts.limit if limit == -1 else limit))

    def inputs(self, opts: BuildOptions):
        if opts.mode == "translate-test":
            return {s: target_rows(self._read(opts.lang, opts, s), opts.source_lang) for s in opts.splits or ["train"]}
        return {"train": source_rows(self._read(opts.source_lang, opts, "train"), opts.source_lang)}

    def gold(self, opts: BuildOptions, split: str):
        if opts.mode != "translate-test":
            return None
        return [r["ner_tags"] for r in self._read(opts.lang, opts, split)]

    def split_choices(self, opts: BuildOptions) -> tuple[str, ...]:
        return ("train", "validation", "test") if opts.mode == "translate-test" else ()


BUILDER = XtremePanx()

if __name__ == "__main__":
    script_main(BUILDER)
