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

from nerxl_data.builders.base import Builder, BuildOptions, script_main, source_info
from nerxl_data.pipeline import source_rows, target_rows
from nerxl_data.schema import LABEL_SETS


class XtremePanx(Builder):
    family = "xtreme-panx"
    types = LABEL_SETS["wikiann"]
    default_translator = "hf"

    @property
    def languages(self) -> tuple[str, ...]:  # type: ignore[override]
        from nerxl_data.corpora.registry import get_corpus

        return tuple(lang for lang in get_corpus("xtreme-panx").languages if lang != "en")

    def sources(self, opts: BuildOptions):
        return [source_info("xtreme-panx")]

    def _read(self, lang: str, opts: BuildOptions, split: str) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        records = load_corpus(f"xtreme-panx:{lang}", split, data_dir=opts.data_dir, policy="repair")
        return list(itertools.islice(records, opts.limit))

    def inputs(self, opts: BuildOptions):
        splits = opts.splits or ["train"]
        if opts.mode == "translate-test":
            return {s: target_rows(self._read(opts.lang, opts, s), opts.source_lang) for s in splits}
        return {s: source_rows(self._read(opts.source_lang, opts, s), opts.source_lang) for s in splits}

    def gold(self, opts: BuildOptions, split: str):
        if opts.mode != "translate-test":
            return None
        return [r["ner_tags"] for r in self._read(opts.lang, opts, split)]


BUILDER = XtremePanx()

if __name__ == "__main__":
    script_main(BUILDER)
