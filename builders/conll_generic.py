"""Any CoNLL source and target: the builder for corpora the registry does not know.

- With ``--target-file`` (a CoNLL file sentence-aligned with the source; its tags, if any, are
  used only to score): the human translation is the target (no translator).
- Without it, ``--translator``/``--translator-model`` translate the source.

The label set is the first known one (CoNLL, MasakhaNER, WikiANN) that covers the source file's
entity types, else the file's types in first-seen order, unless ``types`` is given.

    nerxl build conll-generic --lang de --source-file en.conll --target-file de.conll --out build/
"""

from __future__ import annotations

from pathlib import Path

from nerxl_data.builders.base import Builder, BuildOptions, script_main
from nerxl_data.errors import ConfigError
from nerxl_data.hub.metadata import SourceInfo
from nerxl_data.pipeline import source_rows
from nerxl_data.schema import LABEL_SETS, types_of


class ConllGeneric(Builder):
    family = "conll-generic"
    languages = ()  # any

    def __init__(self, source_file: str | None = None, target_file: str | None = None,
                 types: tuple[str, ...] | None = None, license: str = "unknown",
                 citation: str | None = None) -> None:
        self.source_file, self.target_file = source_file, target_file
        self.license, self.citation = license, citation
        self._types = types

    def script_arguments(self, parser) -> None:
        parser.add_argument("--source-file", required=True, help="CoNLL file of the source language")
        parser.add_argument("--target-file", default=None, help="its sentence-aligned translation (CoNLL)")

    def family_options(self) -> dict:
        """The files (as absolute paths: a re-run may start elsewhere), the label set and terms."""
        def absolute(f):
            return str(Path(f).resolve()) if f is not None else None

        return {"source_file": absolute(self.source_file), "target_file": absolute(self.target_file),
                "types": list(self.types) if self.source_file is not None or self._types else None,
                "license": self.license, "citation": self.citation}

    def with_options(self, options: dict) -> ConllGeneric:
        known = {"source_file", "target_file", "types", "license", "citation"}
        if set(options) - known:
            raise ConfigError(f"conll-generic takes the family options {', '.join(sorted(known))}, "
                              f"not {', '.join(sorted(set(options) - known))}")
        types = options.get("types", self._types)
        return ConllGeneric(options.get("source_file", self.source_file), options.get("target_file", self.target_file),
                            tuple(types) if types else None, options.get("license", self.license),
                            options.get("citation", self.citation))

    def _read(self, path: str) -> list[dict]:
        from nerxl_data.corpora.conll import read_conll

        return list(read_conll(path, policy="repair"))

    @property
    def types(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._types is None:
            if self.source_file is None:
                raise ConfigError("conll-generic needs a source file (--source-file)")
            found = types_of(t for r in self._read(self.source_file) for t in r["ner_tags"])
            # A known label set that covers the file keeps one label order across languages.
            known = [t for t in LABEL_SETS.values() if set(found) <= set(t)]
            self._types = tuple(known[0]) if known else tuple(found)
        return self._types

    def sources(self, opts: BuildOptions):
        files = [self.source_file] + ([self.target_file] if self.target_file else [])
        return [SourceInfo(Path(f).name, None, self.license, None, None, self.citation) for f in files]

    def inputs(self, opts: BuildOptions):
        if self.source_file is None:
            raise ConfigError("conll-generic needs a source file (--source-file)")
        src = self._read(self.source_file)
        if self.target_file is None:
            if opts.translator is None:
                raise ConfigError("without --target-file, conll-generic needs a translator (--translator hf)")
            return {"train": source_rows(src, opts.source_lang)}
        tgt = self._read(self.target_file)
        return {"train": source_rows(src, opts.source_lang, [r["tokens"] for r in tgt])}

    def gold(self, opts: BuildOptions, split: str):
        if self.target_file is None:
            return None
        tags = [r["ner_tags"] for r in self._read(self.target_file)]
        return tags if any(t != "O" for s in tags for t in s) else None


BUILDER = ConllGeneric()

if __name__ == "__main__":
    script_main(BUILDER)
