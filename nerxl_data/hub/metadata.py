"""Build metadata of one config: what was projected from what, how, and with what result.

Stored next to the parquet files as ``{config}/nerxl_build.json``; the card and ``nerxl list`` are
rendered from it, so publishing one config never needs to read another config's data.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError, excerpt
from ..schema import tags_to_spans

BUILD_FILE = "nerxl_build.json"


@dataclass
class SourceInfo:
    """A source corpus: its name, Hub id (for ``source_datasets``), licence and citation.

    ``license`` is a Hub licence id (``cc-by-nc-4.0``, ``other``, ``unknown``); ``terms`` is the
    licence or terms of use in words, as the corpus states them.
    """

    name: str
    hub_id: str | None = None
    license: str = "unknown"
    terms: str | None = None
    url: str | None = None
    citation: str | None = None


@dataclass
class SplitStats:
    """Counts of one split: sentences, target entities per type, and how projection went.

    ``projection_rate`` is projected source entities / source entities (``None`` when the split
    has no source entities); ``dropped`` counts entities not projected, by reason;
    ``tagger_dropped`` counts the source tagger's entities whose type the label set lacks (by
    type; never projected). ``kind`` is ``silver`` (projected labels) or ``gold`` (human labels
    of the target corpus, for evaluation). ``num_bytes``: the split's Arrow size as ``datasets``
    counts it (the card's ``dataset_info``), set when the split is written.
    """

    sentences: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    source_entities: int = 0
    projected_entities: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    skipped_sentences: dict[str, int] = field(default_factory=dict)
    tagger_dropped: dict[str, int] = field(default_factory=dict)
    kind: str = "silver"
    num_bytes: int = 0  # the split's Arrow size as datasets counts it (set when written; 0: not known)

    @property
    def projection_rate(self) -> float | None:
        return self.projected_entities / self.source_entities if self.source_entities else None


@dataclass
class ConfigInfo:
    """Everything the card says about one config (``{lang}.{method}``)."""

    name: str
    language: str
    source_language: str
    mode: str
    method: str
    parameters: dict
    label_names: list[str]
    sources: list[SourceInfo]
    splits: dict[str, SplitStats] = field(default_factory=dict)
    score: dict[str, float] = field(default_factory=dict)
    fingerprint: str = ""  # sha256 of the config's data files, set when they are written
    notes: list[str] = field(default_factory=list)  # provenance lines for the card (pivot, tagger, ...)
    limit: int | None = None  # --max-silver-sentences: silver sentences capped at the first N (gold splits are whole)
    build: dict = field(default_factory=dict)  # the build's whole typed config (BuildConfig.record): re-runnable

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict, source: str = "<dict>") -> ConfigInfo:
        """A :class:`ConfigInfo` from its JSON form, every field checked (type, range, no
        control characters in names): the file may come from a remote repo, and its strings are
        printed and rendered into the card.

        Raises:
            InputError: naming the file and the field.
        """
        if not isinstance(d, dict):
            raise InputError(f"not a nerxl build file: a JSON object was expected, got "
                             f"{type(d).__name__}", source=source)
        try:
            d = dict(d)
            if not isinstance(d.get("sources", []), list) or not isinstance(d.get("splits", {}), dict):
                raise TypeError("'sources' must be a list and 'splits' an object")
            d["sources"] = [SourceInfo(**s) for s in d.get("sources", [])]
            d["splits"] = {k: SplitStats(**v) for k, v in d.get("splits", {}).items()}
            info = cls(**d)
        except TypeError as exc:
            raise InputError(f"not a nerxl build file: {exc}", source=source) from None
        problem = info.problem()
        if problem:
            raise InputError(f"not a valid nerxl build file: {problem}", source=source)
        return info

    def problem(self) -> str | None:
        """What is wrong with the field types and values, or None."""
        def text(value, name, lines=False, optional=False):
            if value is None and optional:
                return None
            if not isinstance(value, str):
                return f"{name} must be a string, got {type(value).__name__}"
            bad = next((c for c in value if (ord(c) < 32 and not (lines and c in "\n\t")) or ord(c) == 127), None)
            return f"{name} holds the control character {bad!r}" if bad is not None else None

        def count(value, name):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            return None if ok else f"{name} must be a count (an integer >= 0), got {excerpt(repr(value), 40)}"

        checks = [text(getattr(self, k), k) for k in ("name", "language", "source_language", "mode", "method")]
        checks.append(text(self.fingerprint, "fingerprint"))
        if not isinstance(self.parameters, dict):
            checks.append(f"parameters must be an object, got {type(self.parameters).__name__}")
        if not isinstance(self.label_names, list) or not self.label_names:
            checks.append(f"label_names must be a non-empty list, got {excerpt(repr(self.label_names), 40)}")
        else:
            checks += [text(n, "a label name") for n in self.label_names]
        if not isinstance(self.build, dict):
            checks.append(f"build must be an object, got {type(self.build).__name__}")
        elif self.build:  # the card prints its family and command
            checks += [text(self.build.get("family"), "build.family"),
                       text(self.build.get("command"), "build.command", optional=True)]
        if not isinstance(self.notes, list):
            checks.append("notes must be a list")
        else:
            checks += [text(n, "a note", lines=True) for n in self.notes]
        if not isinstance(self.score, dict):
            checks.append("score must be an object")
        else:
            for k, v in self.score.items():
                checks.append(text(k, "a score name"))
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    checks.append(f"score {excerpt(str(k), 40)} must be a number, got {excerpt(repr(v), 40)}")
        for src in self.sources:
            checks += [text(src.name, "a source name"), text(src.hub_id, "a source hub_id", optional=True),
                       text(src.license, "a source license"), text(src.url, "a source url", optional=True),
                       text(src.terms, "a source's terms", lines=True, optional=True),
                       text(src.citation, "a source citation", lines=True, optional=True)]
        for split, st in self.splits.items():
            checks.append(text(split, "a split name"))
            checks += [count(getattr(st, k), f"{split}.{k}")
                       for k in ("sentences", "source_entities", "projected_entities", "num_bytes")]
            if st.kind not in ("silver", "gold"):
                checks.append(f"{split}.kind must be silver or gold, got {excerpt(repr(st.kind), 40)}")
            for k in ("entities", "dropped", "skipped_sentences", "tagger_dropped"):
                table = getattr(st, k)
                if not isinstance(table, dict):
                    checks.append(f"{split}.{k} must be an object")
                    continue
                for key, n in table.items():
                    checks += [text(key, f"a key of {split}.{k}"), count(n, f"{split}.{k}[{key!r}]")]
        return next((c for c in checks if c), None)

    @classmethod
    def read(cls, path: str | Path) -> ConfigInfo:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read build metadata: {exc}", source=str(path)) from None
        except UnicodeDecodeError:
            raise InputError(f"not a {BUILD_FILE} (JSON text): its bytes are not UTF-8", source=str(path)) from None
        return cls.from_dict(data, str(path))

    def write(self, folder: str | Path) -> Path:
        path = Path(folder) / BUILD_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def split_stats(rows: dict[str, list], label_names: list[str], report=None) -> SplitStats:
    """Statistics of one split from its columns (``ner_tags`` as ids or strings).

    ``report`` (a projection report with ``source_entities``, ``projected``, ``dropped``) fills
    the projection counts; without it they are counted from ``source_ner_tags``/``ner_tags``.

    >>> s = split_stats({"ner_tags": [[1, 2, 0]], "source_ner_tags": [[1, 2]]}, ["O", "B-PER", "I-PER"])
    >>> (s.sentences, s.entities, s.source_entities, s.projected_entities)
    (1, {'PER': 1}, 1, 1)
    """
    def as_str(tags):
        return [label_names[t] if isinstance(t, int) else t for t in tags]

    entities: Counter = Counter()
    for tags in rows["ner_tags"]:
        entities.update(s.label for s in tags_to_spans(as_str(tags), "IOB2", "repair"))
    stats = SplitStats(sentences=len(rows["ner_tags"]), entities=dict(sorted(entities.items())))
    if report is not None:
        stats.source_entities = int(report.source_entities)
        stats.projected_entities = int(report.projected)
        stats.dropped = dict(sorted(Counter(report.dropped).items()))
    elif "source_ner_tags" in rows:
        stats.source_entities = sum(
            len(tags_to_spans(as_str(t), "IOB2", "repair")) for t in rows["source_ner_tags"]
        )
        stats.projected_entities = sum(entities.values())
    return stats
