"""The projection report: what was projected, what was dropped and why, per entity type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..schema import Span
from .base import DROP_REASONS, Projection


@dataclass
class ProjectionReport:
    """Counts over many projected sentences; ``update`` after each one.

    >>> from nerxl_data.project.base import Dropped, ScoredSpan
    >>> r = ProjectionReport()
    >>> r.update([Span(0, 1, "PER"), Span(2, 3, "LOC")],
    ...          Projection([ScoredSpan(Span(0, 1, "PER"), 0.5, 0)], [Dropped(1, "no-links")]))
    >>> r.to_dict()["dropped"], r.to_dict()["mean_score"]
    ({'no-links': 1}, 0.5)
    """

    sentences: int = 0
    source_entities: int = 0
    projected: int = 0  # source entities with at least one target span
    target_spans: int = 0
    score_sum: float = 0.0
    dropped: Counter = field(default_factory=Counter)
    per_type: dict[str, Counter] = field(default_factory=dict)

    def update(self, src_spans: Sequence[Span], projection: Projection) -> None:
        """Count one sentence: its source entities and their projection."""
        self.sentences += 1
        self.source_entities += len(src_spans)
        done = {s.source for s in projection.spans}
        self.projected += len(done)
        self.target_spans += len(projection.spans)
        self.score_sum += sum(s.score for s in projection.spans)
        for k, span in enumerate(src_spans):
            c = self.per_type.setdefault(span.label, Counter())
            c["source"] += 1
            if k in done:
                c["projected"] += 1
        for d in projection.dropped:
            self.dropped[d.reason] += 1
            self.per_type.setdefault(src_spans[d.source].label, Counter())[f"dropped:{d.reason}"] += 1

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.target_spans if self.target_spans else 0.0

    def to_dict(self) -> dict:
        return {
            "sentences": self.sentences,
            "source_entities": self.source_entities,
            "projected": self.projected,
            "target_spans": self.target_spans,
            "dropped": dict(sorted(self.dropped.items())),
            "mean_score": round(self.mean_score, 4),
            "per_type": {t: dict(sorted(c.items())) for t, c in sorted(self.per_type.items())},
        }

    def format(self) -> str:
        """A plain-text table: one row per entity type, then the totals."""
        reasons = [r for r in DROP_REASONS if self.dropped.get(r)] + sorted(
            r for r in self.dropped if r not in DROP_REASONS
        )
        head = ["type", "source", "projected", "%"] + reasons
        rows = []
        for t, c in sorted(self.per_type.items()):
            pct = 100 * c["projected"] / c["source"] if c["source"] else 0.0
            rows.append([t, c["source"], c["projected"], f"{pct:.1f}"] + [c[f"dropped:{r}"] for r in reasons])
        pct = 100 * self.projected / self.source_entities if self.source_entities else 0.0
        rows.append(["all", self.source_entities, self.projected, f"{pct:.1f}"] + [self.dropped[r] for r in reasons])
        cells = [head] + [[str(x) for x in r] for r in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
        lines = ["  ".join(x.rjust(w) if i else x.ljust(w) for i, (x, w) in enumerate(zip(r, widths, strict=False))) for r in cells]
        lines.append(f"{self.sentences} sentences, {self.target_spans} target spans, mean score {self.mean_score:.3f}")
        return "\n".join(lines)
