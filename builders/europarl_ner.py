"""Europarl-NER: English gold entities projected onto the human German/Spanish/Italian side.

The one parallel corpus with gold entities on both sides, so every config carries its projection
F1 against the target's gold labels. Without a translator the target words are Europarl's own;
the gold target labels are on the same sentences as the silver ``train``, so they only score the
projection, and a silver ``validation`` is held out of it.

    python -m nerxl_data.builders.europarl_ner --lang de --out build/   # or: nerxl build europarl-ner --lang de
"""

from __future__ import annotations

from nerxl_data.builders.base import Builder, BuildOptions, script_main, source_info
from nerxl_data.pipeline import source_rows


class EuroparlNer(Builder):
    family = "europarl-ner"
    languages = ("de", "es", "it")
    types = ("PER", "ORG", "LOC", "MISC")

    def _read(self, lang: str, opts: BuildOptions) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        return list(load_corpus(f"europarl-ner:{lang}", "test", data_dir=opts.data_dir, policy="repair"))

    def sources(self, opts: BuildOptions):
        return [source_info("europarl-ner")]

    def inputs(self, opts: BuildOptions) -> dict[str, dict[str, list]]:
        src = self._read(opts.source_lang, opts)
        if opts.translator is not None:
            return {"train": source_rows(src, opts.source_lang)}
        tgt = self._read(opts.lang, opts)
        return {"train": source_rows(src, opts.source_lang, [r["tokens"] for r in tgt])}

    def gold(self, opts: BuildOptions, split: str):
        if opts.translator is not None:
            return None  # a machine translation has no gold labels
        return [r["ner_tags"] for r in self._read(opts.lang, opts)]


BUILDER = EuroparlNer()

if __name__ == "__main__":
    script_main(BUILDER)
