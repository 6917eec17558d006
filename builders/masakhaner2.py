"""MasakhaNER 2.0 languages: silver data for African languages (PER, ORG, LOC, DATE).

- ``translate-train`` (default): CoNLL-2003 English training sentences machine-translated into
  the target (``--translator hf --translator-model <NLLB path>``); the English gold entities are
  projected onto the translation. English ``MISC`` has no MasakhaNER type and is dropped
  (counted in the card); ``DATE`` is never produced from CoNLL-2003.
- ``translate-test``: MasakhaNER's own target sentences translated into English, tagged by an
  English NER model (``--tagger-model``), labels projected back; scored against MasakhaNER gold.

    nerxl build masakhaner2 --lang yor --translator hf --translator-model /models/nllb-600M
"""

from __future__ import annotations

import itertools

from nerxl_data.builders.base import Builder, BuildOptions, script_main, source_info
from nerxl_data.pipeline import source_rows, target_rows
from nerxl_data.schema import LABEL_SETS, TypeMapping


class MasakhaNer2(Builder):
    family = "masakhaner2"
    types = LABEL_SETS["masakhaner"]
    default_translator = "hf"

    @property
    def languages(self) -> tuple[str, ...]:  # type: ignore[override]
        from nerxl_data.corpora.registry import get_corpus

        return get_corpus("masakhaner2").languages

    def sources(self, opts: BuildOptions):
        if opts.mode == "translate-test":
            return [source_info("masakhaner2")]
        return [source_info("conll2003"), source_info("masakhaner2")]

    def _source(self, opts: BuildOptions, split: str) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        mapping = TypeMapping(self.types)  # CoNLL MISC has no MasakhaNER type: dropped
        records = load_corpus(f"conll2003:{opts.source_lang}", split, data_dir=opts.data_dir, policy="repair")
        return [{**r, "ner_tags": mapping.map_tags(r["ner_tags"])}
                for r in itertools.islice(records, opts.limit)]

    def _target(self, opts: BuildOptions, split: str) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        records = load_corpus(f"masakhaner2:{opts.lang}", split, data_dir=opts.data_dir, policy="repair")
        return list(itertools.islice(records, opts.limit))

    def inputs(self, opts: BuildOptions):
        splits = opts.splits or ["train"]
        if opts.mode == "translate-test":
            return {s: target_rows(self._target(opts, s), opts.source_lang) for s in splits}
        return {s: source_rows(self._source(opts, s), opts.source_lang) for s in splits}

    def gold(self, opts: BuildOptions, split: str):
        if opts.mode != "translate-test":
            return None
        return [r["ner_tags"] for r in self._target(opts, split)]


BUILDER = MasakhaNer2()

if __name__ == "__main__":
    script_main(BUILDER)
