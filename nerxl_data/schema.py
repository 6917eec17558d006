"""The NER data model: records, spans, links, tag schemes and label sets.

One record type flows through the whole toolkit, the row of a Hugging Face dataset::

    {"id": "12", "tokens": ["Angela", "Merkel", "spoke"], "ner_tags": ["B-PER", "I-PER", "O"]}

``ner_tags`` are strings (IOB2 unless said otherwise) or ``ClassLabel`` ids. Entities are
:class:`Span` objects over token indices (``end`` exclusive), word alignments are :class:`Link`
objects (source word, target word, score).

Tag schemes are hand-written here because seqeval only *reads* schemes (it has no IOB1/BIOES
writer and no repair policy); the conversions are small and need exact error positions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from .errors import ConfigError, TagError, unknown_name

Scheme = Literal["IOB1", "IOB2", "BIOES"]
SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
Policy = Literal["strict", "repair"]
MissingTypePolicy = Literal["drop", "keep", "error"]


class NerExample(TypedDict):
    """One sentence: the record type every reader yields and every writer takes."""

    id: str
    tokens: list[str]
    ner_tags: list[str]


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """An entity over tokens ``start`` .. ``end - 1`` with type ``label``."""

    start: int
    end: int
    label: str

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """A word alignment link: source word ``src`` to target word ``tgt`` with a ``score``."""

    src: int
    tgt: int
    score: float = 1.0


@dataclass
class TagRepairs:
    """Counts of repairs made under the ``repair`` policy, by kind (e.g. ``stray I-`` )."""

    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] += n

    def update(self, other: TagRepairs) -> None:
        self.counts.update(other.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items())) or "none"


_PREFIXES: dict[str, str] = {"IOB1": "IB", "IOB2": "IB", "BIOES": "BIES"}
POLICIES: tuple[str, ...] = ("strict", "repair")


def _check_names(scheme: str, policy: str = "strict") -> None:
    if scheme not in _PREFIXES:
        raise unknown_name("tag scheme", scheme, SCHEMES)
    if policy not in POLICIES:
        raise unknown_name("tag policy", policy, POLICIES)


def _tag_error(token: int, message: str) -> TagError:
    """A :class:`TagError` that also carries the 0-based ``token`` index, so that readers can
    turn it into a file line number."""
    err = TagError(f"token {token}: {message}")
    err.token = token  # type: ignore[attr-defined]
    return err


def split_tag(tag: str, scheme: Scheme = "IOB2") -> tuple[str, str | None]:
    """Split ``B-PER`` into ``("B", "PER")`` and ``O`` into ``("O", None)``.

    Raises:
        TagError: empty tag, no type, or a prefix the scheme does not have.
    """
    if tag == "O":
        return "O", None
    if len(tag) < 3 or tag[1] != "-" or not tag[2:]:
        raise TagError(f"malformed tag {tag!r} (expected 'O' or PREFIX-TYPE, e.g. 'B-PER')")
    prefix = tag[0]
    if prefix not in _PREFIXES[scheme]:
        raise TagError(
            f"malformed tag {tag!r}: prefix {prefix!r} is not one of {scheme}'s "
            f"({', '.join(_PREFIXES[scheme])})"
        )
    return prefix, tag[2:]


def tags_to_spans(
    tags: Sequence[str],
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    repairs: TagRepairs | None = None,
) -> list[Span]:
    """Decode a tag sequence into entity spans.

    Under ``strict`` an invalid sequence raises; under ``repair`` a stray continuation
    (``I-X`` after ``O`` or after another type, ``E-X`` with no open entity) starts a new entity,
    an unterminated BIOES entity is closed, and each repair is counted in ``repairs``.

    >>> tags_to_spans(["B-PER", "I-PER", "O", "B-LOC"])
    [Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC')]

    Raises:
        TagError: under ``strict``, naming the token index and the problem.
    """
    _check_names(scheme, policy)
    spans: list[Span] = []
    start: int | None = None
    label: str | None = None

    def close(end: int) -> None:
        nonlocal start, label
        if start is not None:
            spans.append(Span(start, end, label))  # type: ignore[arg-type]
        start, label = None, None

    def stray(i: int, kind: str) -> None:
        if policy == "strict":
            prev = repr(tags[i - 1]) if i else "none (sentence start)"
            at = repr(tags[i]) if i < len(tags) else "end of sentence"
            err = _tag_error(min(i, len(tags) - 1), f"{kind}: {at} after {prev}")
            err.repairable = True  # type: ignore[attr-defined]  # the repair policy fixes it
            raise err
        if repairs is not None:
            repairs.add(kind)

    for i, tag in enumerate(tags):
        try:
            prefix, typ = split_tag(tag, scheme)
        except TagError as exc:
            raise _tag_error(i, exc.message) from None
        if prefix == "O":
            if scheme == "BIOES" and start is not None:
                stray(i, "unterminated BIOES entity")
            close(i)
        elif prefix == "B":
            if scheme == "BIOES" and start is not None:
                stray(i, "unterminated BIOES entity")
            close(i)
            start, label = i, typ
        elif prefix == "I":
            if start is not None and label == typ:
                continue
            if scheme == "IOB1":
                close(i)
                start, label = i, typ
                continue
            if start is not None and scheme == "BIOES":
                stray(i, "unterminated BIOES entity")
            stray(i, "I- continuation across types" if start is not None else "stray I- tag")
            close(i)
            start, label = i, typ
        elif prefix == "E":
            if start is not None and label == typ:
                close(i + 1)
                continue
            if start is not None:
                stray(i, "unterminated BIOES entity")
            stray(i, "stray E- tag")
            close(i)
            spans.append(Span(i, i + 1, typ))  # type: ignore[arg-type]
        elif prefix == "S":
            if start is not None:
                stray(i, "unterminated BIOES entity")
            close(i)
            spans.append(Span(i, i + 1, typ))  # type: ignore[arg-type]
    if start is not None and scheme == "BIOES":
        stray(len(tags), "unterminated BIOES entity")
    close(len(tags))
    return spans


def spans_to_tags(spans: Iterable[Span], length: int, scheme: Scheme = "IOB2") -> list[str]:
    """Encode spans over a sentence of ``length`` tokens as tags.

    >>> spans_to_tags([Span(0, 2, "PER")], 3, "BIOES")
    ['B-PER', 'E-PER', 'O']

    Raises:
        TagError: spans overlap or fall outside the sentence.
    """
    _check_names(scheme)
    tags = ["O"] * length
    prev: Span | None = None
    for span in sorted(spans):
        if span.start < 0 or span.end > length or span.start >= span.end:
            raise TagError(f"span {span} does not fit a sentence of {length} tokens")
        if prev is not None and prev.end > span.start:
            raise TagError(f"spans {prev} and {span} overlap")
        n = span.end - span.start
        if scheme == "BIOES":
            if n == 1:
                tags[span.start] = f"S-{span.label}"
            else:
                tags[span.start] = f"B-{span.label}"
                for j in range(span.start + 1, span.end - 1):
                    tags[j] = f"I-{span.label}"
                tags[span.end - 1] = f"E-{span.label}"
        else:
            # IOB1 only uses B- for an entity that directly follows one of the same type.
            adjacent_same = prev is not None and prev.end == span.start and prev.label == span.label
            first = "B" if scheme == "IOB2" or adjacent_same else "I"
            tags[span.start] = f"{first}-{span.label}"
            for j in range(span.start + 1, span.end):
                tags[j] = f"I-{span.label}"
        prev = span
    return tags


def convert_tags(
    tags: Sequence[str],
    source: Scheme,
    target: Scheme,
    policy: Policy = "strict",
    repairs: TagRepairs | None = None,
) -> list[str]:
    """Convert a tag sequence between IOB1, IOB2 and BIOES (lossless on valid input).

    >>> convert_tags(["I-PER", "I-PER", "B-PER"], "IOB1", "BIOES")
    ['B-PER', 'E-PER', 'S-PER']
    """
    return spans_to_tags(tags_to_spans(tags, source, policy, repairs), len(tags), target)


def validate_tags(
    tags: Sequence[str],
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    repairs: TagRepairs | None = None,
    types: Collection[str] | None = None,
) -> list[str]:
    """Return ``tags`` if valid; under ``repair`` return the repaired sequence (repairs counted).

    With ``types``, a tag whose entity type is not among them is an unknown tag (always an error:
    repairing it would mean guessing).

    >>> validate_tags(["O", "I-PER"], policy="repair")
    ['O', 'B-PER']

    Raises:
        TagError: a malformed or unknown tag, or (under ``strict``) an invalid sequence; the
            error's ``token`` attribute is the 0-based index of the offending tag.
    """
    if types is not None:
        allowed = set(types)
        for i, tag in enumerate(tags):
            if tag != "O" and tag[2:] not in allowed:
                raise _tag_error(
                    i, f"unknown tag {tag!r} (known types: {', '.join(sorted(allowed))})"
                )
    local = TagRepairs()
    spans = tags_to_spans(tags, scheme, policy, local)
    if repairs is not None:
        repairs.update(local)
    return spans_to_tags(spans, len(tags), scheme) if local else list(tags)


# --- label sets of the known corpora and mapping between them --------------------------------

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "conll": ("PER", "ORG", "LOC", "MISC"),
    "masakhaner": ("PER", "ORG", "LOC", "DATE"),
    "wikiann": ("PER", "ORG", "LOC"),
}
"""Entity types of each known label set, in the order their ClassLabel names use."""


def label_names(types: Sequence[str], scheme: Scheme = "IOB2") -> list[str]:
    """ClassLabel names for entity ``types``: ``O`` first, then each type's prefixes.

    >>> label_names(["PER", "LOC"])
    ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
    """
    prefixes = "BIES" if scheme == "BIOES" else "BI"
    return ["O"] + [f"{p}-{t}" for t in types for p in prefixes]


def types_of(names: Iterable[str]) -> list[str]:
    """Entity types named in a list of tags or ClassLabel names, in first-seen order."""
    seen: dict[str, None] = {}
    for name in names:
        if name != "O":
            seen.setdefault(name[2:], None)
    return list(seen)


@dataclass(frozen=True)
class TypeMapping:
    """Maps entity types of a source label set onto a target label set.

    Args:
        target_types: the types the target has.
        rename: explicit renames, e.g. ``{"PERSON": "PER", "GPE": "LOC"}``.
        missing: what to do with a source type the target lacks: ``drop`` (to ``O``),
            ``keep`` (as is), or ``error``.
    """

    target_types: tuple[str, ...]
    rename: Mapping[str, str] = field(default_factory=dict)
    missing: MissingTypePolicy = "drop"

    def __post_init__(self) -> None:
        if self.missing not in ("drop", "keep", "error"):
            raise unknown_name("missing-type policy", self.missing, ("drop", "keep", "error"))

    def map_type(self, typ: str) -> str | None:
        """The target type of ``typ``, or None when it is dropped."""
        typ = self.rename.get(typ, typ)
        if typ in self.target_types or self.missing == "keep":
            return typ
        if self.missing == "error":
            raise ConfigError(
                f"entity type {typ!r} is not in the target label set {list(self.target_types)} "
                "(choose missing='drop' or 'keep', or add a rename)"
            )
        return None

    def map_spans(self, spans: Iterable[Span], dropped: Counter | None = None) -> list[Span]:
        out = []
        for s in spans:
            t = self.map_type(s.label)
            if t is None:
                if dropped is not None:
                    dropped[s.label] += 1
            else:
                out.append(Span(s.start, s.end, t))
        return out

    def map_tags(
        self,
        tags: Sequence[str],
        dropped: Counter | None = None,
        policy: Policy = "strict",
        repairs: TagRepairs | None = None,
    ) -> list[str]:
        """Map an IOB2 tag sequence; dropped entities are counted by type in ``dropped``.

        >>> TypeMapping(("PER", "LOC")).map_tags(["B-PER", "B-MISC", "I-MISC"])
        ['B-PER', 'O', 'O']
        """
        spans = tags_to_spans(tags, "IOB2", policy, repairs)
        return spans_to_tags(self.map_spans(spans, dropped), len(tags))

    def lacking(self, source_types: Iterable[str]) -> list[str]:
        """Source types that have no counterpart in the target (stated in reports)."""
        return [t for t in source_types if self.rename.get(t, t) not in self.target_types]
