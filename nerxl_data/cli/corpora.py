"""`nerxl corpora list|show` and `nerxl stats`: thin commands over :mod:`nerxl_data.corpora`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..corpora import ReadReport, corpus_stats, get_corpus, load_corpus, read_path
from ..corpora.registry import CORPORA
from ..errors import ConfigError
from ..schema import POLICIES, SCHEMES


@click.group("corpora")
def corpora() -> None:
    """Known corpora: Hub ids, splits, label sets, licences, local layout."""


@corpora.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(as_json: bool) -> None:
    """List the known corpora."""
    if as_json:
        click.echo(json.dumps({n: c.hub_id for n, c in CORPORA.items()}, indent=2))
        return
    width = max(len(n) for n in CORPORA)
    for name, info in CORPORA.items():
        labels = "/".join(info.types) if info.types else "parallel text"
        click.echo(f"{name:<{width}}  {info.hub_id:<28} {labels:<20} {info.description}")


@corpora.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show_cmd(name: str, as_json: bool) -> None:
    """Show everything the registry knows about corpus NAME."""
    info = get_corpus(name)
    fields = {
        "name": info.name,
        "description": info.description,
        "hub_id": info.hub_id,
        "hub_config": info.hub_config,
        "splits": list(info.splits),
        "label_set": info.label_set,
        "entity_types": list(info.types),
        "licence": info.licence,
        "citation": info.citation,
        "languages": list(info.languages),
        "local_path": f"$NERXL_DATA_DIR/{info.local_path}" if info.local_path else None,
        "local_splits": dict(info.local_splits),
        "local_languages": list(info.local_languages),
        "hub_languages": list(info.hub_languages or info.languages),
    }
    if as_json:
        click.echo(json.dumps(fields, indent=2, ensure_ascii=False))
        return
    for key, value in fields.items():
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k} -> {v}" for k, v in value.items()) or "-"
        click.echo(f"{key + ':':<17}{value if value is not None else '-'}")


@click.command("stats")
@click.argument("source")
@click.option("--split", default=None, help="Split of a known corpus (default: all splits).")
@click.option("--scheme", type=click.Choice(SCHEMES), default="IOB2", show_default=True,
              help="Tag scheme of a file given by path.")
@click.option("--policy", type=click.Choice(POLICIES), default="strict", show_default=True,
              help="strict: stop at an invalid tag sequence; repair: fix it and count it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def stats_cmd(source: str, split: str | None, scheme: str, policy: str, as_json: bool) -> None:
    """Sentences, tokens and entities per type of SOURCE: a file (CoNLL, JSONL or parquet) or a
    known corpus NAME:LANG (read from $NERXL_DATA_DIR when set, else from the Hub)."""
    report = ReadReport()
    if Path(source).exists():
        if split is not None:
            raise ConfigError("--split applies to a corpus name, not to a file path")
        records = read_path(source, scheme=scheme, policy=policy, report=report)
    else:
        if ":" not in source and source not in CORPORA:
            raise ConfigError(f"{source!r} is neither an existing file nor a corpus NAME:LANG")
        if get_corpus(source.partition(":")[0]).parallel:
            raise ConfigError(f"{source!r} is parallel text; stats counts NER corpora")
        records = load_corpus(source, split, policy=policy, report=report)
    stats = corpus_stats(records)
    result = stats.to_dict()
    if report.repairs:
        result["repairs"] = dict(report.repairs.counts)
    if report.skipped:
        result["skipped"] = dict(report.skipped)
    if as_json:
        click.echo(json.dumps({"source": source, "split": split, **result}, indent=2))
        return
    click.echo(f"{source}" + (f" [{split}]" if split else ""))
    click.echo(stats.table())
    for key in ("repairs", "skipped"):
        if key in result:
            click.echo(f"{key}: " + ", ".join(f"{n} {k}" for k, n in result[key].items()))


commands = [corpora, stats_cmd]
