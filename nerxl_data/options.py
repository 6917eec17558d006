"""Typed ``KEY=VALUE`` options of config dataclasses (aligners, projection methods).

One reader of a value (``64`` -> 64, ``0.5`` -> 0.5, ``true``/``false``/``none``, else the text)
and one check that a value fits its field, from the field's default or, when the default is
None, its annotation (``max_length: int | None``), so every option is checked before any model
loads, whichever way it came in (CLI ``--option``, ``-o``, or an ``aligner@key=value`` spec).
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable
from dataclasses import MISSING, fields
from typing import Any

KINDS = {bool: "true or false", int: "an integer", float: "a number", tuple: "a comma-separated list"}


def parse_value(text: str) -> Any:
    """``"64"`` -> 64, ``"1e-3"`` -> 0.001, ``"true"`` -> True, ``"none"`` -> None, else ``text``.

    ``nan`` and ``inf`` stay text: no option takes them (a NaN threshold would turn a filter off
    silently), so a numeric option given one is refused by :func:`fits`.

    >>> parse_value("64"), parse_value("0.5"), parse_value("nan"), parse_value("2020-01-01")
    (64, 0.5, 'nan', '2020-01-01')
    """
    for cast in (int, float):
        try:
            value = cast(text)
        except ValueError:
            continue
        return value if math.isfinite(value) else text
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def parse_pairs(items: Iterable[str], flag: str = "--option", config_cls: type | None = None,
                what: str = "") -> dict[str, Any]:
    """``("threshold=0.01", "token-type=word")`` -> ``{"threshold": 0.01, "token_type": "word"}``:
    the ``KEY=VALUE`` options of every command (values by :func:`parse_value`; no YAML).

    With ``config_cls`` (a config dataclass; ``what`` names it in errors, e.g. ``method 'hull'``)
    each key must be one of its fields, a value of a tuple field (or any value with a comma) is a
    comma-separated list, and each value must fit its field (:func:`fits`).

    >>> from nerxl_data.project.candidates import CandidatesConfig
    >>> parse_pairs(["scorers=links,surface", "max-ngram=4"], config_cls=CandidatesConfig)
    {'scorers': ('links', 'surface'), 'max_ngram': 4}

    Raises:
        ConfigError: an item without ``=`` or without a key; with ``config_cls``, an unknown key
            or a value that does not fit.
    """
    from .errors import ConfigError, excerpt

    known = {f.name: f.default for f in fields(config_cls)} if config_cls is not None else None
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not sep or not key:
            raise ConfigError(f"{flag} {excerpt(item, 60)} is not KEY=VALUE")
        if known is None:
            out[key] = parse_value(value)
            continue
        if key not in known:
            raise ConfigError(f"{what or config_cls.__name__} has no option {key!r}; options: {', '.join(sorted(known))}")
        kind = option_kind(config_cls, key)
        if kind is tuple or "," in value:
            out[key] = tuple(parse_value(v.strip()) for v in value.split(",") if v.strip())
        else:
            out[key] = parse_value(value)
        if not fits(out[key], kind):  # -o max_gap=abc: refused before anything loads
            default = "" if known[key] in (MISSING, None) else f" (default {known[key]!r})"
            raise ConfigError(f"option {key!r} of {what or config_cls.__name__} takes {KINDS[kind]}{default}, "
                              f"got {excerpt(str(out[key]), 40)}")
    return out


def option_kind(config_cls: type, key: str) -> type | None:
    """``bool``, ``int``, ``float`` or ``tuple`` for field ``key`` of ``config_cls``; None when
    its values are not checked (text, paths, mixed types)."""
    field = next(f for f in fields(config_cls) if f.name == key)
    if field.default is not MISSING and field.default is not None:
        kind = type(field.default)
    else:
        try:
            hint = typing.get_type_hints(config_cls)[key]
        except NameError:  # an annotation naming a type imported only for type checkers
            return None
        kinds = [typing.get_origin(a) or a for a in (typing.get_args(hint) or (hint,)) if a is not type(None)]
        kind = kinds[0] if len(kinds) == 1 else None
    return kind if kind in KINDS else None


def fits(value: Any, kind: type | None) -> bool:
    """Whether ``value`` is a valid value of ``kind`` (None always is: the field's own check decides)."""
    if kind is None or value is None:
        return True
    if kind is bool:
        return isinstance(value, bool)
    if kind is tuple:
        return isinstance(value, tuple)
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, int | float if kind is float else int) and not isinstance(value, bool)
