"""Training data: load NER sources, map their label sets onto one, tokenise with first-subword labels.

A *source* is named by a spec string:

- ``NAME:LANG``: a corpus of the registry (:mod:`nerxl_data.corpora.registry`:
  ``masakhaner2:yor``, ``conll2003:en``, ``conll2002:es``, ``europarl-ner:de``), read from
  ``$NERXL_DATA_DIR`` (or ``data_dir``) when it has local files, else from the Hub by name;
- a folder in the Hub layout (what ``nerxl build`` and ``nerxl publish --to`` write: a README
  with ``configs:``, ``{config}/{split}-*.parquet``) with ``dataset_config_name``, loaded by
  ``datasets.load_dataset(folder, config)`` exactly as ``run_ner.py`` loads it;
- a local file or a folder of ``train``/``dev``/``test`` files: CoNLL (read by
  :func:`nerxl_data.corpora.read_conll`), JSON lines or parquet with ``tokens``/``ner_tags``
  columns (``dev`` and ``validation`` both become ``validation``);
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
import numpy as np

from ..corpora import ReadReport, read_path
from ..errors import ConfigError, InputError
from ..schema import LABEL_SETS, TagRepairs, TypeMapping, label_names, types_of

SPLIT_NAMES = {"train": "train", "dev": "validation", "validation": "validation", "valid": "validation", "test": "test"}


def _read_file(path: Path, report: ReadReport | None = None) -> datasets.Dataset:
    """A CoNLL, JSON lines or parquet file through the project's one reader (``read_path``:
    file and line in errors, integer tags without label names refused, ClassLabel ids named);
    invalid IOB2 is repaired as conlleval reads it (a stray I- starts an entity) and counted in
    ``report``."""
    return datasets.Dataset.from_list(list(read_path(path, policy="repair", report=report)))


def is_hub_layout(folder: Path) -> bool:
    """Whether ``folder`` is a dataset repository layout (``load_dataset(folder, config)``): a
    README with ``configs:``, or config sub-folders holding parquet files."""
    readme = folder / "README.md"
    if readme.is_file() and "configs:" in readme.read_text(encoding="utf-8", errors="replace")[:20000]:
        return True
    return any(folder.glob("*/*.parquet"))


def _read_folder(folder: Path, report: ReadReport | None = None) -> datasets.DatasetDict:
    splits = {}
    for f in sorted(folder.iterdir()):
        stem = f.name.split(".")[0].split("-")[0]
        if stem in SPLIT_NAMES and f.is_file():
            splits[SPLIT_NAMES[stem]] = _read_file(f, report)
    if not splits:
        raise InputError("no train/dev/test files and no dataset configs (README configs: or "
                         "CONFIG/SPLIT-*.parquet) found", source=str(folder))
    return datasets.DatasetDict(splits)


def _load_dataset(path: str, config: str | None, columns: tuple[str | None, str | None] = (None, None),
                  **kwargs) -> datasets.DatasetDict:
    """``datasets.load_dataset(path, config, **kwargs)`` with its config errors as one line;
    ``columns`` (run_ner.py's ``text_column_name``, ``label_column_name``) are renamed to
    ``tokens`` and ``ner_tags``."""
    try:
        ds = datasets.load_dataset(path, config, **kwargs)
    except ValueError as exc:  # a missing or unknown config name
        msg = str(exc).splitlines()[0]
        if "config" in msg.lower():
            raise ConfigError(f"{path}: {msg} (give the config: --dataset-config / --dataset_config_name)") from None
        raise
    for column, standard in zip(columns, ("tokens", "ner_tags"), strict=True):
        if column is None or column == standard:
            continue
        for split, d in ds.items():
            if column not in d.column_names:
                raise ConfigError(f"{path}: split {split} has no column {column!r} (columns: {', '.join(d.column_names)})")
            ds[split] = d.remove_columns([c for c in (standard,) if c in d.column_names]).rename_column(column, standard)
    return ds


def _registry_source(spec: str, data_dir, report: ReadReport | None) -> datasets.DatasetDict:
    from ..corpora.registry import load_corpus, parse_corpus_ref

    info, _ = parse_corpus_ref(spec, data_dir)
    if info.parallel:
        raise ConfigError(f"{spec} is parallel text, not NER data; name an NER corpus")
    splits = {}
    for split in info.splits:
        try:
            rows = list(load_corpus(spec, split, data_dir=data_dir, policy="repair", report=report))
        except InputError:
            if split == "train" or not splits:
                raise
            continue  # a corpus with fewer local splits (europarl-ner has test only)
        splits[split] = datasets.Dataset.from_list(rows)
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
    text_column_name: str | None = None,
    label_column_name: str | None = None,
    cache_dir: str | None = None,
    token: str | None = None,
) -> datasets.DatasetDict:
    """Load one NER source as a DatasetDict with string ``ner_tags``.

    ``report`` (a :class:`~nerxl_data.corpora.ReadReport`) collects what reading local files
    repaired or skipped. run_ner.py's ``text_column_name``/``label_column_name`` (renamed to
    ``tokens``/``ner_tags``), ``cache_dir`` and ``token`` apply to what ``datasets.load_dataset``
    reads (a Hub-layout folder, a Hub dataset); a registry corpus or a local file is read by the
    project's readers, whose columns are ``tokens``/``ner_tags``: another column name is refused.

    >>> load_source("masakhaner2:yor")["test"][0]["tokens"][:3]  # doctest: +SKIP
    ['Ìjọba', 'ìpínlẹ̀', 'Ọ̀yọ́']
    >>> load_source("build/masakhaner2", dataset_config_name="yor.candidates-ngram-e5small-itermax")  # doctest: +SKIP

    Raises:
        ConfigError: an unknown corpus, language or config; InputError: malformed files.
    """
    from ..corpora.registry import CORPORA

    columns = (text_column_name, label_column_name)
    hub = {k: v for k, v in (("cache_dir", cache_dir), ("token", token)) if v is not None}

    def own_reader() -> None:
        for given, standard in zip(columns, ("tokens", "ner_tags"), strict=True):
            if given is not None and given != standard:
                raise ConfigError(f"{spec} is read by nerxl's reader, whose columns are tokens/ner_tags: "
                                  f"--text_column_name/--label_column_name apply to Hub datasets and Hub-layout folders")

    name, sep, _ = spec.partition(":")
    if sep and name in CORPORA:
        own_reader()
        return _tags_as_strings(_registry_source(spec, data_dir, report))
    path = Path(spec)
    if path.is_dir():
        if is_hub_layout(path):
            return _tags_as_strings(_load_dataset(str(path), dataset_config_name, columns, **hub))
        own_reader()
        return _tags_as_strings(_read_folder(path, report))
    if path.is_file():
        own_reader()
        return _tags_as_strings(datasets.DatasetDict({"train": _read_file(path, report)}))
    if sep and "/" not in spec:
        from ..errors import unknown_name

        raise unknown_name("corpus", name, CORPORA)
    # A Hub dataset, loaded by name like run_ner.py (needs network or the HF cache).
    return _tags_as_strings(_load_dataset(spec, dataset_config_name, columns, **hub))


def source_types(spec: str, ds: datasets.DatasetDict | None = None) -> list[str]:
    """Entity types of a source: the registry corpus's label set, else those its tags use."""
    from ..corpora.registry import CORPORA

    name, sep, _ = spec.partition(":")
    if sep and name in CORPORA and CORPORA[name].label_set:
        return list(LABEL_SETS[CORPORA[name].label_set])
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

    @classmethod
    def from_dict(cls, d: dict) -> LabelReport:
        """The inverse of :meth:`to_dict` (what ``label_report.json`` and ``train_ner`` hold)."""
        return cls(d["target_types"], d["policy"], dict(d.get("lacking", {})), dict(d.get("unmapped", {})),
                   {k: Counter(v) for k, v in d.get("dropped", {}).items()},
                   {k: TagRepairs(Counter(v)) for k, v in d.get("repairs", {}).items()})

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


def b_to_i_label(label_names: Sequence[str]) -> list[int]:
    """Each label id -> the id a word's later subwords get under ``label_all_tokens``: ``B-X``
    becomes ``I-X`` (when the label set has it), every other label stays (run_ner.py's mapping).

    >>> b_to_i_label(["O", "B-PER", "I-PER", "B-MISC"])
    [0, 2, 2, 3]
    """
    index = {name: i for i, name in enumerate(label_names)}
    return [index.get("I-" + name[2:], i) if name.startswith("B-") else i for i, name in enumerate(label_names)]


def tokenize_and_align_labels(
    batch: dict,
    tokenizer,
    *,
    max_length: int | None = 128,
    label_all_tokens: bool = False,
    label_names: Sequence[str] | None = None,
    label_column: str = "ner_tags",
    padding: bool | str = False,
) -> dict:
    """Tokenise pre-split words; label the first subword of each word, -100 elsewhere (run_ner.py).

    With ``label_all_tokens`` a word's later subwords are labelled too, ``B-X`` as ``I-X``
    (:func:`b_to_i_label`, as run_ner.py does: a ``B-`` on every subword would read as one
    entity per subword); that needs ``label_names``.

    ``padding="max_length"`` pads every sentence to ``max_length`` (run_ner.py's
    ``--pad_to_max_length``; padding positions are labelled -100). Works with
    ``datasets.map(batched=True)``. Needs a fast tokenizer (``word_ids``).

    Raises:
        ConfigError: ``label_all_tokens`` without ``label_names``.
    """
    if label_all_tokens and label_names is None:
        from ..errors import ConfigError

        raise ConfigError("label_all_tokens needs the label names (B-X is relabelled I-X on later subwords)")
    later = b_to_i_label(label_names) if label_all_tokens else None
    enc = tokenizer(batch["tokens"], truncation=True, max_length=max_length, is_split_into_words=True, padding=padding)
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
                row.append(later[tags[w]] if later is not None else -100)
            prev = w
        labels.append(row)
    enc["labels"] = labels
    return enc


def first_subword_positions(word_ids: Sequence[int | None], n_words: int) -> np.ndarray:
    """The position of each word's first subword in a tokenised sentence (``word_ids`` of a fast
    tokenizer's encoding); -1 for a word with no subword there (cut off by ``max_length``).

    >>> first_subword_positions([None, 0, 0, 1, None], 3).tolist()
    [1, 3, -1]
    """
    first = np.full(n_words, -1, dtype=np.int64)
    prev = None
    for pos, w in enumerate(word_ids):
        if w is not None and w != prev:
            first[w] = pos
        prev = w
    return first


def first_subword_mask(word_ids: Sequence[int | None]) -> list[int]:
    """Positions that start a word (1) vs special tokens and continuation subwords (0)."""
    prev = None
    out = []
    for w in word_ids:
        out.append(int(w is not None and w != prev))
        prev = w
    return out
