"""Training data: load NER sources, map their label sets onto one, tokenise with first-subword labels.

A *source* is named by a spec string:

- ``masakhaner2:yor``, ``conll:en``: a corpus of ``$NERXL_DATA_DIR`` (or ``data_dir``);
- a local file or folder: CoNLL (read by :func:`nerxl_data.corpora.read_conll`),
  JSON lines or parquet with ``tokens``/``ner_tags`` columns; a folder holds
  ``train``/``dev``/``test`` files (``dev`` and ``validation`` both become ``validation``);
- anything else: a Hugging Face dataset name, with ``dataset_config_name`` (run_ner.py style).

Every source becomes a :class:`datasets.DatasetDict` whose ``ner_tags`` are string tags mapped
onto the target label set by a :class:`~nerxl_data.schema.TypeMapping`; what was dropped is
counted in a :class:`LabelReport`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from ..corpora import ReadReport, read_conll
from ..errors import ConfigError, InputError, unknown_name
from ..schema import LABEL_SETS, TagRepairs, TypeMapping, label_names, types_of

SPLIT_NAMES = {"train": "train", "dev": "validation", "validation": "validation", "valid": "validation", "test": "test"}

# name -> (folder under the data dir, file pattern, label set); languages are sub-folders.
LOCAL_CORPORA: dict[str, tuple[str, str, str]] = {
    "masakhaner2": ("masakhaner2/{lang}", "{split}.txt", "masakhaner"),
    "conll": ("conll/{lang}", "{split}.tsv", "conll"),
}


def _data_dir(data_dir: str | os.PathLike | None) -> Path:
    value = data_dir or os.environ.get("NERXL_DATA_DIR")
    if not value:
        raise ConfigError("corpus specs like 'masakhaner2:yor' need NERXL_DATA_DIR (or --data-dir)")
    return Path(value)


def _read_file(path: Path, report: ReadReport | None = None) -> datasets.Dataset:
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl"):
        ds = datasets.Dataset.from_json(str(path))
    elif suffix == ".parquet":
        ds = datasets.Dataset.from_parquet(str(path))
    else:
        # The shared CoNLL reader (-DOCSTART- skipped, file + line in errors); invalid IOB2 is
        # repaired as conlleval reads it (a stray I- starts an entity) and counted in ``report``.
        return datasets.Dataset.from_list(list(read_conll(path, policy="repair", report=report)))
    for col in ("tokens", "ner_tags"):
        if col not in ds.column_names:
            raise InputError(f"no {col!r} column (columns: {ds.column_names})", source=str(path))
    return ds


def _read_folder(folder: Path, pattern: str | None = None, report: ReadReport | None = None) -> datasets.DatasetDict:
    splits = {}
    for f in sorted(folder.iterdir()):
        stem = f.name.split(".")[0]
        if stem in SPLIT_NAMES and f.is_file() and (pattern is None or f.name == pattern.format(split=stem)):
            splits[SPLIT_NAMES[stem]] = _read_file(f, report)
    if not splits:
        raise InputError("no train/dev/test files found", source=str(folder))
    return datasets.DatasetDict(splits)


def _tags_as_strings(ds: datasets.DatasetDict) -> datasets.DatasetDict:
    """ClassLabel ids -> tag strings (names from the ClassLabel feature, as run_ner.py does)."""
    out = {}
    for split, d in ds.items():
        feat = d.features["ner_tags"]
        inner = getattr(feat, "feature", None)
        if isinstance(inner, datasets.ClassLabel):
            names = inner.names
            d = d.map(lambda b, names=names: {"ner_tags": [[names[i] for i in t] for t in b["ner_tags"]]}, batched=True,
                      features=datasets.Features({**{k: v for k, v in d.features.items() if k != "ner_tags"},
                                                  "ner_tags": datasets.Sequence(datasets.Value("string"))}))
        out[split] = d.select_columns([c for c in ("id", "tokens", "ner_tags") if c in d.column_names])
    return datasets.DatasetDict(out)


def load_source(
    spec: str,
    *,
    data_dir: str | os.PathLike | None = None,
    dataset_config_name: str | None = None,
    report: ReadReport | None = None,
) -> datasets.DatasetDict:
    """Load one NER source as a DatasetDict with string ``ner_tags``.

    ``report`` (a :class:`~nerxl_data.corpora.ReadReport`) collects what reading local files
    repaired or skipped.

    >>> load_source("masakhaner2:yor")["test"][0]["tokens"][:3]  # doctest: +SKIP
    ['Ìjọba', 'ìpínlẹ̀', 'Ọ̀yọ́']

    Raises:
        ConfigError: an unknown local corpus name; InputError: malformed files.
    """
    name, _, lang = spec.partition(":")
    if name in LOCAL_CORPORA:
        folder_pat, file_pat, _ = LOCAL_CORPORA[name]
        folder = _data_dir(data_dir) / folder_pat.format(lang=lang)
        if not lang or not folder.is_dir():
            base = _data_dir(data_dir) / folder_pat.split("/")[0]
            known = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
            raise unknown_name(f"{name} language", lang, known)
        return _tags_as_strings(_read_folder(folder, file_pat, report))
    path = Path(spec)
    if path.is_dir():
        return _tags_as_strings(_read_folder(path, None, report))
    if path.is_file():
        return _tags_as_strings(datasets.DatasetDict({"train": _read_file(path, report)}))
    # A Hub dataset, loaded by name like run_ner.py (needs network or the HF cache).
    return _tags_as_strings(datasets.load_dataset(spec, dataset_config_name))


def source_types(spec: str, ds: datasets.DatasetDict | None = None) -> list[str]:
    """Entity types of a source: from the known label set of a local corpus, else from its tags."""
    name = spec.partition(":")[0]
    if name in LOCAL_CORPORA:
        return list(LABEL_SETS[LOCAL_CORPORA[name][2]])
    if ds is None:
        return []
    seen: Counter = Counter()
    for d in ds.values():
        for tags in d["ner_tags"]:
            seen.update(tags)
    return types_of(sorted(seen))


@dataclass
class LabelReport:
    """What label mapping did to each source: types it lacks, types and entities dropped."""

    target_types: list[str]
    policy: str
    lacking: dict[str, list[str]] = field(default_factory=dict)  # source -> target types it lacks
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # source -> its types not in target
    dropped: dict[str, Counter] = field(default_factory=dict)  # source -> entities dropped by type
    repairs: dict[str, TagRepairs] = field(default_factory=dict)  # source -> invalid IOB2 repaired

    def add_read_repairs(self, source: str, report: ReadReport) -> None:
        """Count repairs made while reading ``source``'s files (all its splits)."""
        if report.repairs:
            self.repairs.setdefault(source, TagRepairs()).update(report.repairs)

    def lines(self) -> list[str]:
        out = [f"label set: {', '.join(self.target_types)} (missing-type policy: {self.policy})"]
        for src in sorted(set(self.lacking) | set(self.unmapped) | set(self.dropped) | set(self.repairs)):
            parts = []
            if self.lacking.get(src):
                parts.append(f"lacks {', '.join(self.lacking[src])} (never predicted from it)")
            if self.unmapped.get(src):
                parts.append(f"has {', '.join(self.unmapped[src])} not in the target -> {self.policy}")
            if self.dropped.get(src):
                parts.append("dropped entities: " + ", ".join(f"{n} {t}" for t, n in sorted(self.dropped[src].items())))
            if self.repairs.get(src):
                parts.append(f"repaired tags (stray I- starts an entity, as conlleval reads it): {self.repairs[src].summary()}")
            if parts:
                out.append(f"{src}: " + "; ".join(parts))
        return out

    def to_dict(self) -> dict:
        return {"target_types": self.target_types, "policy": self.policy, "lacking": self.lacking,
                "unmapped": self.unmapped, "dropped": {k: dict(v) for k, v in self.dropped.items()},
                "repairs": {k: dict(v.counts) for k, v in self.repairs.items()}}


def map_labels(
    sources: dict[str, datasets.DatasetDict],
    target_types: Sequence[str],
    policy: str = "drop",
    rename: dict[str, str] | None = None,
    types: dict[str, Iterable[str]] | None = None,
) -> tuple[dict[str, datasets.DatasetDict], list[str], LabelReport]:
    """Map every source's tags onto ``target_types`` (a :class:`TypeMapping` per policy).

    Returns the mapped sources (``ner_tags`` as ClassLabel ids of one shared label list), the
    label names, and the report. Under ``keep`` the label list grows by the kept types.

    Raises:
        ConfigError: under ``error``, a source type the target lacks.
    """
    mapping = TypeMapping(tuple(target_types), rename=rename or {}, missing=policy)  # type: ignore[arg-type]
    report = LabelReport(list(target_types), policy)
    all_types = list(target_types)
    for spec, ds in sources.items():
        src_types = list((types or {}).get(spec) or source_types(spec, ds))
        unmapped = mapping.lacking(src_types)
        if unmapped:
            report.unmapped[spec] = unmapped
            if policy == "error":
                mapping.map_type(unmapped[0])  # raises ConfigError naming the type
            if policy == "keep":
                all_types += [t for t in unmapped if t not in all_types]
        mapped_src = {mapping.map_type(t) for t in src_types if mapping.rename.get(t, t) in target_types}
        lacking = [t for t in target_types if t not in mapped_src]
        if lacking:
            report.lacking[spec] = lacking
    names = label_names(all_types)
    index = {n: i for i, n in enumerate(names)}
    features = datasets.Features({
        "id": datasets.Value("string"),
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
    })
    out = {}
    for spec, ds in sources.items():
        dropped: Counter = Counter()
        repairs = TagRepairs()

        def fn(batch, dropped=dropped, repairs=repairs):
            return {"ner_tags": [[index[t] for t in mapping.map_tags(tags, dropped, "repair", repairs)] for tags in batch["ner_tags"]]}

        splits = {}
        for split, d in ds.items():
            if "id" not in d.column_names:
                d = d.add_column("id", [str(i) for i in range(len(d))])
            d = d.select_columns(["id", "tokens", "ner_tags"])
            # Not cached: the counter must see every row (and the mapping is cheap).
            splits[split] = d.map(fn, batched=True, features=features, load_from_cache_file=False)
        if dropped:
            report.dropped[spec] = dropped
        if repairs:
            report.repairs[spec] = repairs
        out[spec] = datasets.DatasetDict(splits)
    return out, names, report


def cap(ds: datasets.Dataset, n: int | None, seed: int = 0) -> datasets.Dataset:
    """The first ``n`` rows after a seeded shuffle (all rows when ``n`` is None or larger)."""
    if n is None or n >= len(ds):
        return ds
    return ds.shuffle(seed=seed).select(range(n))


def tokenize_and_align_labels(
    batch: dict,
    tokenizer,
    *,
    max_length: int | None = 128,
    label_all_tokens: bool = False,
    label_column: str = "ner_tags",
) -> dict:
    """Tokenise pre-split words; label the first subword of each word, -100 elsewhere (run_ner.py).

    Works with ``datasets.map(batched=True)``. Needs a fast tokenizer (``word_ids``).
    """
    enc = tokenizer(batch["tokens"], truncation=True, max_length=max_length, is_split_into_words=True)
    if label_column not in batch:
        return enc
    labels = []
    for i, tags in enumerate(batch[label_column]):
        prev = None
        row = []
        for w in enc.word_ids(batch_index=i):
            if w is None:
                row.append(-100)
            elif w != prev:
                row.append(tags[w])
            else:
                row.append(tags[w] if label_all_tokens else -100)
            prev = w
        labels.append(row)
    enc["labels"] = labels
    return enc


def first_subword_mask(word_ids: Sequence[int | None]) -> list[int]:
    """Positions that start a word (1) vs special tokens and continuation subwords (0)."""
    prev = None
    out = []
    for w in word_ids:
        out.append(int(w is not None and w != prev))
        prev = w
    return out
