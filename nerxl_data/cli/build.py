"""``nerxl build|publish|list|demo``: thin commands over the builders and :mod:`nerxl_data.hub`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .types import POSITIVE, cap_option


def _builder(family: str):
    from ..builders import FAMILIES

    return FAMILIES.load(family)


@click.command("build")
@click.argument("family", required=False)
@click.option("--config", "record", type=click.Path(exists=True), default=None,
              help="Re-run a recorded build: a config's nerxl_build.json (or its folder); FAMILY and the "
                   "build flags are then taken from it (only --out, --cache-dir, --backend, --address apply).")
@click.option("--lang", default=None, help="Target language code (required unless --config).")
@click.option("--method", default=None,
              help="PROJECTION-MODEL[-VARIANT], e.g. heuristic-e5small (default: best on Europarl).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder in the Hub layout (default: build/FAMILY).")
@click.option("--mode", type=click.Choice(["translate-train", "translate-test"]), default="translate-train",
              show_default=True,
              help="translate-train: source sentences (or the family's parallel text) projected onto the target, "
                   "silver training data; translate-test: the target's own sentences translated into the source "
                   "language, tagged there and the labels projected back (needs a translator).")
@click.option("--source-lang", default=None,
              help="Source language (default: en; for MasakhaNER parallel text, its LAFAND pivot).")
@click.option("--translator", default=None,
              help="Translation backend, e.g. hf (default: none: the family's parallel text).")
@click.option("--translator-model", default=None, help="Translation model name or path.")
@click.option("--aligner-model", default=None, help="Local encoder path replacing the method's model.")
@click.option("--tagger-model", default=None,
              help="Source-side tagger: spacy:<package> or a token-classification model (name or "
                   "folder); default: the source language's spaCy pipeline.")
@click.option("--aligner-option", "aligner_options", multiple=True, metavar="KEY=VALUE",
              help="An aligner option (e.g. layer=6, token_type=word); repeatable.")
@click.option("--translator-option", "translator_options", multiple=True, metavar="KEY=VALUE",
              help="A translator backend option (e.g. num_beams=1, max_new_tokens=64); repeatable.")
@click.option("--projection-option", "projection_options", multiple=True, metavar="KEY=VALUE",
              help="A projection option over the method's defaults (e.g. matching=ilp, scorers=links,surface); repeatable.")
@click.option("--config-name", default=None,
              help="Config name (default: LANG.METHOD, plus .HASH when the build differs from the family's "
                   "default in what the name does not say: mode, source language, translator, tagger, aligner options).")
@click.option("--split", "splits", multiple=True, help="Splits to build (family default).")
@cap_option("--max-silver-sentences", "limit", old=("--limit",), type=POSITIVE, default=None, metavar="N",
            help="Project only the first N sentences of each silver split (gold validation/test splits are not "
                 "capped: they stay whole); recorded in nerxl_build.json and on the card.")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True), default=None, metavar="F",
              help="Families without gold evaluation splits: the share of silver sentences held out as the silver "
                   "validation split, by a hash of the row id (default 0.1; 0: none).")
@click.option("--cache-dir", default=None, help="Step cache (default: OUT/.cache); reruns resume.")
@click.option("--source-file", default=None, help="conll-generic: source CoNLL file.")
@click.option("--target-file", default=None, help="conll-generic: sentence-aligned target CoNLL file.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Run the steps in this process, or on Ray (extra 'ray'; see README 'Scaling out').")
@click.option("--address", default=None,
              help="Ray cluster HEAD:PORT (from `ray start --head`); default: a local Ray.")
def build_cmd(family, record, lang, method, out, mode, source_lang, translator, translator_model,
              aligner_model, tagger_model, aligner_options, translator_options, projection_options,
              config_name, splits, limit, validation_fraction, cache_dir, source_file, target_file, backend,
              address) -> None:
    """Build the silver config LANG.METHOD of FAMILY (europarl-ner, masakhaner2, xtreme-panx,
    conll-generic, demo) into a Hub-layout folder; or, with --config, re-run a recorded build."""
    from ..builders.base import DEFAULT_METHOD, BuildConfig, BuildOptions
    from ..errors import ConfigError

    if record is not None:
        given = [flag for flag, value in (("FAMILY", family), ("--lang", lang), ("--method", method),
                 ("--mode", mode if mode != "translate-train" else None), ("--source-lang", source_lang),
                 ("--translator", translator), ("--translator-model", translator_model),
                 ("--aligner-model", aligner_model), ("--tagger-model", tagger_model),
                 ("--aligner-option", aligner_options or None), ("--translator-option", translator_options or None),
                 ("--projection-option", projection_options or None),
                 ("--config-name", config_name), ("--split", splits or None), ("--max-silver-sentences", limit),
                 ("--validation-fraction", validation_fraction),
                 ("--source-file", source_file), ("--target-file", target_file)) if value is not None]
        if given:
            raise ConfigError(f"--config re-runs the recorded build as it was: leave out {', '.join(given)}")
        rec = BuildConfig.read_record(record)
        builder = _builder(rec["family"]).with_options(rec["family_options"])
        out = Path(out or Path("build") / rec["family"])
        opts = builder.configure_record(rec, cache_dir or str(out / ".cache"))
    else:
        if family is None or lang is None:
            missing = "argument 'FAMILY'" if family is None else "option '--lang'"
            raise click.UsageError(f"Missing {missing} (or give --config CONFIG/nerxl_build.json to re-run a build)")
        own = {k: v for k, v in (("source_file", source_file), ("target_file", target_file)) if v is not None}
        builder = _builder(family).with_options(own)  # a flag another family does not take is an error
        out = Path(out or Path("build") / family)
        from ..builders.base import parse_method
        from ..options import parse_pairs
        from .project import parse_options

        method = method or DEFAULT_METHOD
        projection = parse_options(parse_method(method, aligner_model)[0].method, projection_options) if projection_options else {}
        opts = BuildOptions(
            lang, method, source_lang, mode, translator, translator_model,
            aligner_model, tagger_model, list(splits) or None, limit, cache_dir or str(out / ".cache"),
            aligner_options=parse_pairs(aligner_options, "--aligner-option"),
            translator_options=parse_pairs(translator_options, "--translator-option"),
            projection_options=projection, config_name=config_name,
            **({} if validation_fraction is None else {"validation_fraction": validation_fraction}),
        )
    from ..pipeline import RunReport
    from ..runners import get_runner

    report = RunReport()
    with get_runner(backend, address) as runner:
        _, info = builder.build(opts, out, run_report=report, runner=runner)
    if report.computed or report.cached:
        click.echo(f"steps (per shard): {report.format()}")
    for split, s in info.splits.items():
        ents = ", ".join(f"{t} {n}" for t, n in s.entities.items()) or "no entities"
        line = f"{info.name} {split} ({s.kind}): {s.sentences} sentences, {ents}"
        if s.kind == "silver":
            rate = f"{100 * s.projection_rate:.1f}%" if s.projection_rate is not None else "n/a"
            line += f"; projection rate {rate}"
            dropped = {**s.dropped, **s.skipped_sentences}
            if dropped:
                line += "; not projected: " + ", ".join(f"{k} {n}" for k, n in dropped.items())
            if s.tagger_dropped:  # never source entities of the label set: counted apart
                line += "; tagger types outside the label set: " + ", ".join(
                    f"{t} {n}" for t, n in s.tagger_dropped.items())
        click.echo(line)
    for k, v in info.score.items():
        click.echo(f"{info.name} {k}: {100 * v:.1f}")
    left = info.build.get("left_out")
    if left:
        what = ", ".join(f"{k} {json.dumps(v)}" for k, v in left.items())
        click.echo(f"{info.name}: .{info.name.rsplit('.', 1)[-1]} is a hash of what {info.language}.{info.method} "
                   f"leaves out (the family default differs): {what}")
    click.echo(f'datasets.load_dataset("{out}", "{info.name}")')


@click.command("publish")
@click.argument("build_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--repo", default=None, help="Hub dataset repo ORG/NAME (token from HF_TOKEN or `hf auth login`).")
@click.option("--to", "to", type=click.Path(file_okay=False), default=None, help="A local folder instead.")
@click.option("--config", "configs", multiple=True, help="Only these configs (default: all in BUILD_DIR).")
@click.option("--private", is_flag=True, help="Create the Hub repo private.")
@click.option("--force", is_flag=True, help="--to a non-empty folder, or --repo a repo with files, that is "
                                             "not a nerxl dataset.")
@click.option("--default-config", default=None,
              help="Make this config the one load_dataset(repo) loads (default: the repo's default stays; "
                   "the first published config, for a new repo).")
def publish_cmd(build_dir, repo, to, configs, private, force, default_config) -> None:
    """Publish the configs of BUILD_DIR to the Hub (--repo) or to a local folder (--to)."""
    from ..errors import ConfigError
    from ..hub.publish import publish_hub, publish_local

    if (repo is None) == (to is None):
        raise ConfigError("give exactly one of --repo ORG/NAME and --to DIR")
    if to is not None:
        names = publish_local(build_dir, to, configs or None, force=force, default=default_config)
        click.echo(f"published {', '.join(names)} to {to}")
        return
    r = publish_hub(build_dir, repo, configs or None, private=private, default=default_config, force=force)
    state = f"commit {r.commit}" if r.changed else f"nothing changed (still at {r.commit})"
    click.echo(f"published {', '.join(r.configs)} to {repo}: {state}")


@click.command("list")
@click.argument("target")
def list_cmd(target) -> None:
    """Configs of a Hub dataset repo ORG/NAME or a local folder, with their statistics."""
    from ..hub.publish import list_configs

    infos = list_configs(target)
    if not infos:
        click.echo(f"{target}: no nerxl configs")
    for name, info in infos.items():
        for split, s in info.splits.items():
            ents = ", ".join(f"{t} {n}" for t, n in s.entities.items()) or "none"
            rate = f"{100 * s.projection_rate:.1f}%" if s.projection_rate is not None else "n/a"
            score = "".join(f", {k} {100 * v:.1f}" for k, v in info.score.items() if k.startswith(split))
            rate = f", projection rate {rate}" if s.kind == "silver" else ""
            click.echo(f"{name}  {split} ({s.kind}): {s.sentences} sentences, entities {ents}{rate}{score}")


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="nerxl-demo", show_default=True)
@click.option("--method", default=None, help="Projection method (default: best on Europarl).")
@click.option("--aligner-model", default=None, help="A local encoder instead of the built-in e5-small.")
def demo_cmd(out, method, aligner_model) -> None:
    """Build the bundled en -> de, es sample offline, score it, and write a loadable folder."""
    from ..builders.base import DEFAULT_METHOD
    from ..builders.demo import run_demo

    r = run_demo(out, method or DEFAULT_METHOD, aligner_model=aligner_model, echo=click.echo)
    click.echo(f"wrote {', '.join(c.name for c in r.configs)} with a dataset card to {out}/")
    click.echo("load it with:")
    click.echo(f"  {r.load_line()}")


commands = [build_cmd, publish_cmd, list_cmd, demo_cmd]
