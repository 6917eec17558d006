"""Where a run keeps its models: one key per trained model, formatted here only, and the
``done.json`` record a rerun reads back instead of training again."""

from __future__ import annotations

import json
from pathlib import Path

from ...paths import write_text_atomic


def direct_key(langs, seed: int, n: int | None) -> str:
    """A model trained on the union of ``langs`` (``n`` sentences each; None: the cap)."""
    return f"direct/{'+'.join(sorted(langs))}-n{n or 'all'}-s{seed}"


def in_language_key(target: str, seed: int, whole: bool) -> str:
    """The in-language model: the target's own direct model, or one on its whole train split."""
    return f"in-language/{target}-whole-s{seed}" if whole else direct_key([target], seed, None)


def student_key(target: str, langs, weighting: str, seed: int, n: int | None) -> str:
    return f"student/{target}/{'+'.join(sorted(langs))}-{weighting}-n{n or 'all'}-s{seed}"


def projection_key(target: str, seed: int) -> str:
    return f"projection/{target}-s{seed}"


def weighting_of(method: str, langs) -> str:
    """A student's teacher weighting: one teacher is always ``uniform``."""
    return "uniform" if len(langs) == 1 else method.split("-", 1)[1]


class Store:
    """``<out>/models/<key>/done.json`` records and the teachers' saved outputs."""

    def __init__(self, out: Path):
        self.root = Path(out) / "models"

    def dir(self, key: str) -> Path:
        return self.root / key

    def read(self, key: str) -> dict | None:
        p = self.dir(key) / "done.json"
        return json.loads(p.read_text()) if p.exists() else None

    def write(self, key: str, record: dict) -> None:
        """Atomically: a half-written record never looks finished."""
        path = self.dir(key) / "done.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(record, indent=1))

    def probs_path(self, teacher_key: str, target: str) -> Path:
        return self.root.parent / "probs" / f"{teacher_key.replace('/', '_')}@{target}.npz"


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(obj, indent=1))
