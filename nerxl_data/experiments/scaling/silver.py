"""The projection method's training data: the silver configs the MasakhaNER 2.0 builder
publishes (``nerxl build masakhaner2``), built once into ``<out>/silver`` (a Hub-layout folder
``nerxl list`` shows) and read back with ``datasets.load_dataset`` like any user would.
Nothing here projects anything itself."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ...errors import ConfigError
from .config import source_spec
from .store import write_json


class Silver:
    def __init__(self, exp):
        self.exp = exp
        self._sets: dict | None = None
        self._mapped: dict = {}

    @property
    def folder(self) -> Path:
        c = self.exp.cfg
        return Path(c.silver_from) if c.silver_from else self.exp.out / "silver"

    def _meta_path(self, target: str) -> Path:
        return self.folder / ".nerxl-experiment" / f"{target}.json"

    def info(self, target: str) -> dict | None:
        """What the build of ``target``'s silver config recorded (config name, pivot, or why there
        is none); None when it was never built."""
        path = self._meta_path(target)
        return json.loads(path.read_text()) if path.exists() else None

    def sets(self) -> dict:
        """Per target: the builder's silver ``train`` split (string tags), or None."""
        if self._sets is None:
            self._sets = {}
            if "projection" in self.exp.cfg.methods:
                for t in self.exp.targets:
                    self._sets[t] = self._load(t)
        return self._sets

    def _load(self, target: str):
        meta = self.info(target)
        if meta is None:
            if self.exp.cfg.silver_from:
                raise ConfigError(f"{self.folder} holds no silver config for {target} (built by another run)")
            meta = self._build(target)
            write_json(self._meta_path(target), meta)
        if meta.get("config") is None:
            return None
        import datasets

        ds = datasets.load_dataset(str(self.folder), meta["config"], split="train")
        names = ds.features["ner_tags"].feature.names
        return ds.map(lambda b: {"ner_tags": [[names[i] for i in t] for t in b["ner_tags"]]}, batched=True,
                      remove_columns=[c for c in ds.column_names if c not in ("id", "tokens", "ner_tags")],
                      features=datasets.Features({"id": datasets.Value("string"),
                                                  "tokens": datasets.Sequence(datasets.Value("string")),
                                                  "ner_tags": datasets.Sequence(datasets.Value("string"))}))

    def _build(self, target: str) -> dict:
        spec = source_spec(target)
        if not spec.startswith("masakhaner2:"):
            return {"config": None, "why": f"{spec}: no parallel text with a pivot (only MasakhaNER 2.0 targets have LAFAND)"}
        from ...builders.base import BuildOptions
        from ...builders.masakhaner2 import BUILDER

        c = self.exp.cfg
        opts = BuildOptions(lang=target, limit=c.max_silver, data_dir=self.exp.data_dir, aligner_model=c.aligner_model,
                            aligner_options={"layer": c.align_layer} if c.align_layer is not None else {},
                            cache_dir=str(self.folder / ".cache"))
        t0 = time.time()
        try:
            _, info = BUILDER.build(opts, self.folder)
        except ConfigError as exc:
            return {"config": None, "why": str(exc).split(";")[0]}
        return {"config": info.name, "source_language": info.source_language, "method": info.method,
                "limit": c.max_silver, "notes": list(info.notes), "seconds": round(time.time() - t0, 1)}

    def mapped(self, target: str):
        """``target``'s silver set on the run's label set (ClassLabel ids), or None."""
        if target not in self._mapped:
            ds = self.sets().get(target)
            if ds is None:
                self._mapped[target] = None
            else:
                import datasets

                from ...train.data import map_labels

                data = self.exp.data()
                mapped, names, _ = map_labels({"silver": datasets.DatasetDict({"train": ds})}, data["types"], "drop")
                if names != data["names"]:
                    raise ConfigError(f"the silver labels {names} differ from the run's {data['names']}")
                self._mapped[target] = mapped["silver"]["train"]
        return self._mapped[target]

    def stats(self, target: str) -> dict:
        silver = self.mapped(target)
        names = self.exp.data()["names"]
        o = names.index("O")
        n_tok = sum(len(t) for t in silver["tokens"])
        n_ent = sum(sum(1 for t in tags if names[t].startswith("B-")) for tags in silver["ner_tags"])
        return {"sentences": len(silver), "with_entity": sum(any(t != o for t in tags) for tags in silver["ner_tags"]),
                "entities": n_ent, "entities_per_100_tokens": round(100 * n_ent / max(n_tok, 1), 2)}
