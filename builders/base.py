"""What every builder shares: method names, the build itself, writing and scoring a config.

A builder (one module per benchmark family) is like a ``datasets`` builder with three hooks:
:meth:`Builder.sources` (licences and citations for the card), :meth:`Builder.inputs` (the
pipeline's input columns per split) and, optionally, :meth:`Builder.gold` (gold target tags,
to score the projection). :meth:`Builder.build` runs the cached pipeline per split and returns
a ``DatasetDict``; with ``out`` it also writes the config in the Hub layout and re-renders the
card, so ``datasets.load_dataset(out, "de.heuristic-e5small")`` works at once.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from nerxl_data.errors import ConfigError, unknown_name
from nerxl_data.hub.metadata import ConfigInfo, SourceInfo, SplitStats, split_stats
from nerxl_data.pipeline import (
    AlignConfig,
    PipelineConfig,
    ProjectConfig,
    RunReport,
    TagConfig,
    TranslateConfig,
    fingerprint,
    run_pipeline,
)
from nerxl_data.project import recommended
from nerxl_data.schema import TypeMapping, label_names, tags_to_spans

logger = logging.getLogger(__name__)

DEFAULT_METHOD = recommended.DEFAULT_METHOD
"""The default ``{method}`` (:mod:`nerxl_data.project.recommended`)."""

PROJECTION_OPTIONS: dict[str, dict] = {recommended.PROJECTION: dict(recommended.OPTIONS)}
"""Projection options a build uses for a method name (the benchmark's recommended options);
they are written to each config's card parameters."""

MODELS: dict[str, str] = {"e5small": "e5-small", "mbertbase": "bert-base-multilingual-cased",
                          "xlmrbase": "xlm-roberta-base", "labse": "LaBSE"}
"""Short model names used in method names -> aligner model names."""

def aligner_variants() -> dict[str, str]:
    """Method-name variant -> aligner name, for the aligners that use an encoder
    (``nerxl_data.align.ALIGNERS``): ``itermax`` -> ``simalign-itermax``, ``awesome`` -> ``awesome``."""
    from nerxl_data.align import ALIGNERS

    return {spec.method: name for name, spec in ALIGNERS.items() if spec.uses_model}


def parse_method(method: str, aligner_model: str | None = None) -> tuple[ProjectConfig, AlignConfig]:
    """``heuristic-e5small[-itermax]`` -> (projection config, aligner config).

    ``aligner_model`` (a local path) replaces the model the short name stands for.

    >>> p, a = parse_method("candidates-ngram-e5small-itermax")
    >>> p.method, a.aligner, a.model
    ('candidates-ngram', 'simalign-itermax', 'e5-small')

    Raises:
        ConfigError: an unknown projection method or model short name.
    """
    from nerxl_data.project import METHODS

    if method in METHODS and not METHODS[method].uses_links:  # markers: no aligner, no model in the name
        return ProjectConfig(method), AlignConfig()
    for name in sorted(METHODS, key=len, reverse=True):
        if method.startswith(name + "-"):
            rest = method[len(name) + 1:].split("-")
            break
    else:
        raise ConfigError(
            f"method {method!r} must read PROJECTION-MODEL[-VARIANT], e.g. {DEFAULT_METHOD!r}; "
            f"projection methods: {', '.join(sorted(METHODS))} (alone for those that use no aligner: "
            f"{', '.join(sorted(n for n, m in METHODS.items() if not m.uses_links))})"
        )
    if not METHODS[name].uses_links:
        raise ConfigError(f"{name} uses no aligner: call the method {name!r}, not {method!r}")
    if len(rest) > 2 or "" in rest:  # nothing is ignored: it would stay in the config name
        raise ConfigError(f"method {method!r} must read PROJECTION-MODEL[-VARIANT], e.g. "
                          f"{DEFAULT_METHOD!r}: {'-'.join(rest[2:]) or 'an empty part'!r} is not part of it")
    short, variant = rest[0], (rest[1] if len(rest) > 1 else "argmax")
    variants = aligner_variants()
    if variant not in variants:
        raise unknown_name("aligner variant", variant, variants)
    if aligner_model is None and short not in MODELS:
        raise unknown_name("aligner model short name", short, MODELS)
    model = aligner_model or MODELS[short]
    return ProjectConfig(name, dict(PROJECTION_OPTIONS.get(name, {}))), AlignConfig(variants[variant], model)


_LICENSES = (("cc by-nc 4.0", "cc-by-nc-4.0"), ("cc by 4.0", "cc-by-4.0"), ("odc-by", "odc-by"),
             ("apache", "apache-2.0"), ("mit", "mit"))


def hub_license(terms: str) -> str:
    """A Hub licence id for a corpus's terms in words (``other`` when none fits).

    >>> hub_license("CC BY-NC 4.0"), hub_license("research use only")
    ('cc-by-nc-4.0', 'other')
    """
    low = terms.lower()
    return next((hub_id for key, hub_id in _LICENSES if key in low), "other")


def source_info(corpus: str) -> SourceInfo:
    """:class:`SourceInfo` of a corpus of the registry (``nerxl_data.corpora``)."""
    from nerxl_data.corpora.registry import get_corpus

    c = get_corpus(corpus)
    return SourceInfo(c.name, c.hub_id, hub_license(c.licence), c.licence,
                      f"https://huggingface.co/datasets/{c.hub_id}", c.citation)


@dataclass(frozen=True)
class BuildOptions:
    """Options of one build (CLI flags map onto these); :meth:`Builder.configure` checks them
    and fills in the family defaults, giving the :class:`BuildConfig`.

    ``source_lang`` None: the family's default (English; for MasakhaNER over parallel text, the
    LAFAND pivot of the target, English or French). ``translator`` None: the family's parallel
    text where it has one (no translation step), else an error naming the options.
    ``tagger_model`` tags a source side without labels (a parallel corpus's, translate-test's):
    ``spacy:<package>``, or a token-classification model (Hub name or folder, e.g. a model
    ``nerxl train`` wrote); None: the default spaCy pipeline of the source language.
    ``config_name`` replaces the derived config name (:meth:`Builder.config_name`).
    ``cache_dir`` and ``data_dir`` are where this machine keeps things: they are not part of the
    build's record.
    """

    lang: str
    method: str = DEFAULT_METHOD
    source_lang: str | None = None
    mode: str = "translate-train"
    translator: str | None = None
    translator_model: str | None = None
    aligner_model: str | None = None
    tagger_model: str | None = None
    splits: Sequence[str] | None = None
    limit: int | None = None
    cache_dir: str | None = None
    data_dir: str | None = None
    aligner_options: dict = field(default_factory=dict)
    translator_options: dict = field(default_factory=dict)
    projection_options: dict = field(default_factory=dict)
    config_name: str | None = None
    validation_fraction: float = 0.1


MACHINE_OPTIONS = ("cache_dir", "data_dir")
"""Options that say where this machine keeps things, not what is built: left out of the record."""

RECORD_VERSION = 1


@dataclass(frozen=True)
class BuildConfig:
    """One build, checked and resolved once, before any data is read or model loaded: the family
    (with its own options, e.g. conll-generic's files), the options with the family defaults
    filled in, the typed :class:`~nerxl_data.pipeline.PipelineConfig` (translator, tagger,
    aligner and projection, each with its options) and the config name derived from them.

    :meth:`record` is its JSON form, stored whole in ``{config}/nerxl_build.json`` (``build``)
    and rendered on the card; ``nerxl build --config {config}/nerxl_build.json`` re-runs it
    (:meth:`Builder.configure_record`).
    """

    family: str
    family_options: dict
    options: BuildOptions
    pipeline: PipelineConfig
    name: str
    tagger_types: tuple[str, ...] | None = None  # the label set's types the source tagger can produce
    tagger_description: str | None = None
    left_out: dict = field(default_factory=dict)  # what the name's .HASH stands for (Builder.left_out)

    def record(self) -> dict:
        """The JSON form: everything a re-run needs (not where this machine keeps things), the
        command line that makes the same config, what the name's hash stands for, and a checksum
        (a record edited by hand would re-run under a name that no longer says what it holds)."""
        options = {k: v for k, v in asdict(self.options).items() if k not in MACHINE_OPTIONS}
        pipeline = asdict(self.pipeline)
        if pipeline.get("translator"):
            pipeline["translator"]["cache"] = None  # a file of this machine (under the cache folder)
        record = _plain({"version": RECORD_VERSION, "family": self.family, "family_options": dict(self.family_options),
                         "name": self.name, "options": options, "pipeline": pipeline, "left_out": self.left_out,
                         "command": self.command()})
        return {**record, "checksum": _checksum(record)}

    def command(self) -> str:
        """The ``nerxl build`` command line of this config (what the card shows)."""
        import shlex

        o = self.options
        parts = ["nerxl", "build", self.family, "--lang", o.lang, "--method", o.method]
        for flag, value in (("--mode", o.mode if o.mode != "translate-train" else None),
                            ("--source-lang", o.source_lang if "source_lang" in self.left_out else None),
                            ("--source-file", self.family_options.get("source_file")),
                            ("--target-file", self.family_options.get("target_file")),
                            ("--translator", o.translator), ("--translator-model", o.translator_model),
                            ("--aligner-model", o.aligner_model), ("--tagger-model", o.tagger_model),
                            ("--config-name", o.config_name), ("--max-silver-sentences", o.limit),
                            ("--validation-fraction",
                             o.validation_fraction if "validation_fraction" in self.left_out else None)):
            if value is not None:
                parts += [flag, str(value)]
        for split in o.splits or ():
            parts += ["--split", split]
        for flag, table in (("--aligner-option", o.aligner_options), ("--translator-option", o.translator_options),
                            ("--projection-option", o.projection_options)):
            parts += [x for k, v in table.items() for x in (flag, f"{k}={_flag_value(v)}")]
        return " ".join(shlex.quote(p) for p in parts)

    @classmethod
    def read_record(cls, path: str | Path) -> dict:
        """The build record of a ``nerxl_build.json`` (or of its config folder), checked.

        Raises:
            InputError: not a build file, or one written before builds were recorded.
        """
        from nerxl_data.errors import InputError
        from nerxl_data.hub.metadata import BUILD_FILE, ConfigInfo

        path = Path(path)
        if path.is_dir():
            path = path / BUILD_FILE
        record = ConfigInfo.read(path).build
        if not record:
            raise InputError("holds no build record (written before nerxl-data recorded builds): "
                             "build it again with the options its card lists", source=str(path))
        problem = _record_problem(record)
        if problem:
            raise InputError(f"not a valid build record: {problem}", source=str(path))
        return record


def _flag_value(value) -> str:
    """An option value as the command line spells it (lists comma-separated, true/false)."""
    if isinstance(value, list | tuple):
        return ",".join(_flag_value(v) for v in value)
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def _checksum(record: dict) -> str:
    return fingerprint(json.dumps({k: v for k, v in record.items() if k != "checksum"}, sort_keys=True))[:16]


def _record_problem(record: dict) -> str | None:
    from dataclasses import fields

    if record.get("version") != RECORD_VERSION:
        return f"version {record.get('version')!r}, this nerxl-data reads version {RECORD_VERSION}"
    for key, kind in (("family", str), ("family_options", dict), ("options", dict), ("pipeline", dict), ("name", str)):
        if not isinstance(record.get(key), kind):
            return f"{key!r} must be a {kind.__name__}"
    known = {f.name for f in fields(BuildOptions)} - set(MACHINE_OPTIONS)
    unknown = sorted(set(record["options"]) - known)
    if unknown:
        return f"unknown options {', '.join(unknown)} (known: {', '.join(sorted(known))})"
    if record.get("checksum") != _checksum(record):
        return ("it was changed after the build (its checksum differs), so its name may no longer say what it "
                "builds: run the command it records (`command`, also on the card) with the flags you want changed")
    return None


def _pipeline_from_record(d: dict, cache_dir: str | None) -> PipelineConfig:
    """The typed pipeline config of a record's ``pipeline`` (each stage checked again; lists
    back to the tuples the option parser gives, so parameters and cache keys read as before)."""
    def typed(stage: dict) -> dict:
        return {**stage, "options": {k: tuple(v) if isinstance(v, list) else v for k, v in stage["options"].items()}}

    translator = d.get("translator")
    if translator is not None:
        translator = TranslateConfig(**{**typed(translator), "cache": _translation_cache(cache_dir)})
    tagger = d.get("tagger")
    if tagger is not None:
        tagger = TagConfig(**{**tagger, "types": tuple(tagger["types"])})
    return PipelineConfig(d["source_lang"], d["target_lang"], d["mode"], translator,
                          AlignConfig(**typed(d["aligner"])), ProjectConfig(**typed(d["projection"])), tagger)


def _translation_cache(cache_dir: str | None) -> str | None:
    return str(Path(cache_dir) / "translations.sqlite") if cache_dir else None


class Builder:
    """Base class of the family builders; subclasses set the class attributes and hooks.

    Hooks: :meth:`sources` (licences and citations), :meth:`inputs` (the pipeline's input
    columns per silver split), :meth:`gold` (gold target tags of a silver split, to score the
    projection), :meth:`gold_splits` (gold target data for ``validation``/``test``, where the
    family has it and its licence allows it), :meth:`resolve` (fill the family defaults into the
    options, at config time).
    """

    family: str = "base"
    languages: tuple[str, ...] = ()
    types: tuple[str, ...] = ("PER", "ORG", "LOC", "MISC")

    # --- hooks -----------------------------------------------------------------------------
    def resolve(self, opts: BuildOptions) -> BuildOptions:
        """The options with the family defaults filled in (no data is read)."""
        return replace(opts, source_lang=opts.source_lang or "en")

    def sources(self, opts: BuildOptions) -> list[SourceInfo]:
        raise NotImplementedError

    def inputs(self, opts: BuildOptions) -> dict[str, dict[str, list]]:
        """Pipeline input columns per split (see ``nerxl_data.pipeline.source_rows``)."""
        raise NotImplementedError

    def source_tagged(self, opts: BuildOptions) -> bool:
        """Whether the inputs carry source labels (else a tagger step labels the source side)."""
        return opts.mode == "translate-train"

    def gold(self, opts: BuildOptions, split: str) -> list[list[str]] | None:
        """Gold IOB2 target tags of ``split`` in input order, when the family has them."""
        return None

    def gold_splits(self, opts: BuildOptions) -> dict[str, list[dict]]:
        """Gold target records (``id``, ``tokens``, ``ner_tags``) for evaluation splits, by name
        (``validation``, ``test``); empty when the family has none (a silver ``validation`` is
        then held out of the silver ``train``)."""
        return {}

    def notes(self, cfg: BuildConfig) -> list[str]:
        """Provenance lines for the card (pivot, parallel corpus, tagger)."""
        return []

    def script_arguments(self, parser) -> None:
        """Extra command-line flags of this family's script, one per :meth:`family_options` key."""

    def family_options(self) -> dict:
        """This builder's own options (JSON values; conll-generic's files), recorded with each
        build so :meth:`with_options` can make the same builder again; ``{}`` for most families."""
        return {}

    def with_options(self, options: dict) -> Builder:
        """The builder of :meth:`family_options` ``options`` (a build record's, or the flags of
        the CLI and the script).

        Raises:
            ConfigError: options this family does not take.
        """
        if options:
            flags = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(options))
            raise ConfigError(f"{self.family} takes no {flags}: it reads its own corpus (files given on the "
                              "command line are conll-generic's)")
        return self

    def split_choices(self, opts: BuildOptions) -> tuple[str, ...]:
        """The splits ``opts.splits`` may name; empty when the family ignores ``--split`` (then
        giving it is an error, not silently ignored)."""
        return ()

    # --- shared ----------------------------------------------------------------------------
    @property
    def label_names(self) -> list[str]:
        return label_names(self.types)

    def config_name(self, opts: BuildOptions, left: dict | None = None) -> str:
        """``opts.config_name`` when given, else ``{lang}.{method}``, followed by ``.{hash}`` (6
        hex digits of the :meth:`left_out` part) when the build differs from the family's default
        in something the readable part does not name (mode, source language, translator,
        tagger, aligner or projection options, held-out fraction): two different builds never share a name,
        and the default builds keep their plain names (``yor.candidates-ngram-e5small-itermax``).
        ``left`` is :meth:`left_out` of the resolved options; without it only the readable part
        is given.
        """
        if opts.config_name:
            return opts.config_name
        readable = f"{opts.lang}.{opts.method}"
        return f"{readable}.{fingerprint(json.dumps(left, sort_keys=True))[:6]}" if left else readable

    def left_out(self, opts: BuildOptions, pipeline: PipelineConfig, source_given: bool = True) -> dict:
        """What ``{lang}.{method}`` does not name, where it differs from the family's default
        build of that language and method (empty for a default build). ``source_given``: the
        user named the source language (else :meth:`resolve` filled in the default, and the
        family default is not resolved a second time).

        >>> from nerxl_data.builders.europarl_ner import BUILDER
        >>> BUILDER.left_out(BuildOptions("de", source_lang="en"), PipelineConfig("en", "de"))
        {}
        >>> BUILDER.left_out(BuildOptions("de", source_lang="en", aligner_options={"layer": 6}),
        ...                  PipelineConfig("en", "de"))
        {'aligner_options': {'layer': 6}}
        """
        from nerxl_data.errors import NerxlError

        base = BuildOptions(opts.lang, opts.method, data_dir=opts.data_dir)
        left: dict = {}
        if source_given:
            try:
                default_source = self.resolve(base).source_lang
            except NerxlError:  # the family has no default build (e.g. xtreme-panx needs a translator)
                default_source = None
            if opts.source_lang != default_source:
                left["source_lang"] = opts.source_lang
        if opts.mode != base.mode:
            left["mode"] = opts.mode
        if pipeline.translator is not None:
            t = pipeline.translator
            left["translator"] = {"backend": t.backend, "model": t.model, "options": t.options}
        if pipeline.tagger is not None and opts.tagger_model is not None:
            from nerxl_data.taggers import resolve_tagger

            try:
                default_tagger = resolve_tagger(None, opts.source_lang).spec
            except NerxlError:
                default_tagger = None
            if pipeline.tagger.tagger != default_tagger:
                left["tagger"] = pipeline.tagger.tagger
        if opts.aligner_options:
            from nerxl_data.align.aligners import aligner_config

            a = pipeline.aligner
            changed = _changed(opts.aligner_options, aligner_config(a.aligner, model=a.model))
            if changed:
                left["aligner_options"] = changed
        if opts.projection_options:
            from nerxl_data.project import get_method

            method = pipeline.projection.method  # the library's recommended options over the config defaults
            changed = _changed(opts.projection_options,
                               get_method(method).make_config(**PROJECTION_OPTIONS.get(method, {})))
            if changed:
                left["projection_options"] = changed
        if opts.validation_fraction != base.validation_fraction:
            left["validation_fraction"] = opts.validation_fraction
        return left

    def check(self, opts: BuildOptions) -> None:
        from nerxl_data.paths import check_name  # names become paths: checked before any is built

        check_name(opts.lang, "language code"), check_name(self.config_name(opts), "config name")
        if self.languages and opts.lang not in self.languages:
            raise unknown_name(f"{self.family} language", opts.lang, self.languages)

    def check_options(self, opts: BuildOptions) -> None:
        """Options checked before any work, for every family: the config name is not the card's
        file, ``limit`` is positive, and ``splits`` are ones this family and mode build (a family
        that ignores ``--split`` refuses it rather than ignoring it).

        Raises:
            ConfigError: naming the option.
        """
        if opts.config_name == "README.md":
            raise ConfigError("config name 'README.md' is the dataset card's file name; choose another")
        if opts.limit is not None and (isinstance(opts.limit, bool) or not isinstance(opts.limit, int)
                                       or opts.limit < 1):
            raise ConfigError(f"limit must be a positive number of sentences, got {opts.limit!r}")
        fraction = opts.validation_fraction
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 <= fraction < 1:
            raise ConfigError(f"validation fraction must be a number in [0, 1), got {fraction!r}")
        if opts.translator is None:
            given = [flag for flag, v in (("--translator-model", opts.translator_model),
                                          ("--translator-option", opts.translator_options)) if v]
            if given:
                raise ConfigError(f"{' and '.join(given)} without --translator: give the backend too "
                                  "(e.g. --translator hf), or leave them out")
        choices = self.split_choices(opts)
        for split in opts.splits or ():
            if not choices:
                raise ConfigError(f"--split is not used by {self.family} in {opts.mode} mode (it builds "
                                  "a silver train split and the family's own evaluation splits); leave it out")
            if split not in choices:
                raise unknown_name(f"{self.family} {opts.mode} split", split, choices)

    def pipeline_config(self, opts: BuildOptions, tagger=None) -> PipelineConfig:
        """The typed pipeline config of ``opts`` (resolved options); constructing it checks every
        stage (:class:`~nerxl_data.pipeline.PipelineConfig`), before any data is read or model
        loaded. ``tagger``: the source tagger already resolved
        (:func:`~nerxl_data.taggers.resolve_tagger`), when the family tags the source side.

        Raises:
            ConfigError: an unknown method, aligner, translator backend or tagger, or stages
                that do not fit together.
        """
        projection, aligner = parse_method(opts.method, opts.aligner_model)
        if opts.projection_options:  # over the method's recommended options
            projection = replace(projection, options={**projection.options, **opts.projection_options})
        if opts.aligner_options:
            aligner = replace(aligner, options=dict(opts.aligner_options))
        translator = None
        if opts.translator is not None:
            translator = TranslateConfig(opts.translator, opts.translator_model, options=dict(opts.translator_options),
                                         cache=_translation_cache(opts.cache_dir))
        tagger = None
        if not self.source_tagged(opts):
            tagger = TagConfig.resolve(tagger or opts.tagger_model, opts.source_lang, self.types)
        return PipelineConfig(opts.source_lang, opts.lang, opts.mode, translator, aligner, projection, tagger)

    def configure(self, opts: BuildOptions, pipeline: PipelineConfig | None = None) -> BuildConfig:
        """The :class:`BuildConfig` of ``opts``: names checked, the family defaults filled in,
        every stage resolved and checked once, the config name derived; nothing is read or
        loaded. ``pipeline`` (a build record's) replaces the pipeline config the options
        would give, so a re-run uses the recorded stage options even where the library's
        defaults have changed since.

        Raises:
            ConfigError: naming the option.
        """
        from nerxl_data.taggers import resolve_tagger

        self.check(opts)  # names become paths: checked before resolve() looks for files
        self.check_options(opts)
        source_given = opts.source_lang is not None
        opts = self.resolve(opts)
        tagger = None  # the source tagger, resolved here once
        if pipeline is None:
            if not self.source_tagged(opts):
                tagger = resolve_tagger(opts.tagger_model, opts.source_lang)
            pipeline = self.pipeline_config(opts, tagger)
        elif pipeline.tagger is not None:
            tagger = resolve_tagger(pipeline.tagger.tagger, pipeline.source_lang)
            if tagger.version != pipeline.tagger.version:
                logger.warning("the record's tagger %s was version %s, this machine has %s: its tags may differ",
                               pipeline.tagger.tagger, pipeline.tagger.version, tagger.version)
                # the cache key names what really runs
                pipeline = replace(pipeline, tagger=TagConfig.resolve(tagger, pipeline.source_lang, pipeline.tagger.types))
        left = {} if opts.config_name else self.left_out(opts, pipeline, source_given)
        name = self.config_name(opts, left)
        from nerxl_data.paths import check_name

        check_name(name, "config name")
        types = description = None
        if tagger is not None:
            types, description = tagger_target_types(pipeline, tagger), tagger.describe()
        return BuildConfig(self.family, self.family_options(), opts, pipeline, name, types, description, left)

    def configure_record(self, record: dict, cache_dir: str | None = None,
                         data_dir: str | None = None) -> BuildConfig:
        """The :class:`BuildConfig` of a build record (:meth:`BuildConfig.record`), this machine's
        ``cache_dir``/``data_dir`` filled in: the same options, stage options and name. A
        source tagger whose installed version differs from the recorded one is named in a
        warning (its tags may differ).

        Raises:
            ConfigError: a record this builder cannot re-run.
        """
        opts = BuildOptions(**{**record["options"], "cache_dir": cache_dir, "data_dir": data_dir})
        cfg = self.configure(opts, _pipeline_from_record(record["pipeline"], cache_dir))
        if cfg.name != record["name"]:
            raise ConfigError(f"the record names its config {record['name']!r} but its options give "
                              f"{cfg.name!r} (edited by hand?)")
        return cfg

    def build(self, opts: BuildOptions | BuildConfig, out: str | Path | None = None,
              run_report: RunReport | None = None, runner=run_pipeline):
        """Build one config (options, resolved here by :meth:`configure`, or a
        :class:`BuildConfig`): a ``DatasetDict`` (and, with ``out``, files).

        Splits: the silver ``train``; gold ``validation``/``test`` where the family has gold
        target data (:meth:`gold_splits`), else a silver ``validation`` held out of the silver
        data (``opts.validation_fraction`` of it, chosen by a hash of the row id, so the same
        rows are held out on every rebuild). ``runner`` runs the steps (``run_pipeline``'s
        signature; see ``nerxl_data.runners``).

        Returns:
            (DatasetDict, ConfigInfo)
        """
        from datasets import DatasetDict

        cfg = opts if isinstance(opts, BuildConfig) else self.configure(opts)
        if out is not None:
            self.check_output(cfg, out)  # before any work
        info = self.config_info(cfg)
        gold = self.gold_splits(cfg.options)  # read once
        splits = self.silver_splits(cfg, info, runner, run_report, hold_out=not gold)
        splits.update(self.gold_datasets(gold, info))
        for line in absent_types(info, cfg.tagger_types):
            logger.warning("%s: %s", info.name, line)
            info.notes.append(line)
        dd = DatasetDict(splits)
        if out is not None:
            from nerxl_data.hub.publish import write_config_and_card
            from nerxl_data.paths import folder_lock

            with folder_lock(out):  # config and card as one unit: concurrent builds lose no config
                write_config_and_card(out, info, dd)
        return dd, info

    def check_output(self, cfg: BuildConfig, out: str | Path) -> None:
        """What writing into ``out`` needs, checked before any work: a dataset folder (the card
        replaces README.md), the default cache inside it, one label list per folder, and no
        config of this name built with other parameters.

        Raises:
            ConfigError: naming the folder and what is wrong.
        """
        from nerxl_data.hub.features import check_labels
        from nerxl_data.hub.publish import check_dataset_folder, read_configs
        from nerxl_data.paths import safe_join

        check_dataset_folder(out, None)
        opts = cfg.options
        if opts.cache_dir is not None and Path(opts.cache_dir) == Path(out) / ".cache":
            safe_join(out, ".cache")  # the default cache stays inside the folder (no link out)
        if not Path(out).is_dir():
            return
        name, parameters = cfg.name, cfg.pipeline.parameters()
        for other in read_configs(out).values():
            if other.name != name:
                check_labels(name, self.label_names, other.label_names, str(out))
            elif other.parameters and other.parameters != parameters:
                # a name given by --config-name, or a build whose record predates derived names
                diff = sorted(k for k in {*other.parameters, *parameters}
                              if other.parameters.get(k) != parameters.get(k))
                was = ", ".join(f"{k}={other.parameters.get(k, '-')}" for k in diff)
                now = ", ".join(f"{k}={parameters.get(k, '-')}" for k in diff)
                raise ConfigError(f"config {other.name!r} in {out} was built with {was}; this build has {now}. "
                                  "Give --config-name to keep both, or delete that config's folder to replace it")
            elif other.limit != opts.limit:  # a cap is not part of the name: said, not silent

                def cap(n):
                    return f"--max-silver-sentences {n}" if n else "no cap"

                logger.warning("%s: replacing config %s built with %s (this build: %s)", out, name,
                               cap(other.limit), cap(opts.limit))

    def config_info(self, cfg: BuildConfig) -> ConfigInfo:
        """The config's metadata (name, languages, parameters, sources, notes, the build's
        record), before its splits."""
        opts, config = cfg.options, cfg.pipeline
        info = ConfigInfo(
            name=cfg.name, language=opts.lang, source_language=opts.source_lang,
            mode=opts.mode, method=opts.method, parameters=config.parameters(),
            label_names=self.label_names, sources=self.sources(opts), notes=self.notes(cfg),
            limit=opts.limit, build=cfg.record(),
        )
        if config.projection.method == "easyproject":
            info.notes.append(
                "EasyProject (Chen et al. 2023): source entities wrapped in `[ ]`, the marked sentence "
                "translated, the markers matched to each entity translated alone. It expects a "
                "checkpoint trained to keep the markers: the `ychenNLP/nllb-200-*-easyproject` family "
                f"(translator used: `{config.parameters()['translator']}`); entities whose markers the "
                "translation lost are counted as `unmatched-marker` / `unbalanced-markers`.")
        return info

    def silver_splits(self, cfg: BuildConfig, info: ConfigInfo, runner,
                      run_report: RunReport | None, hold_out: bool = True) -> dict:
        """Run the steps over each silver input split; score each split against gold target tags
        where the family has them; with ``hold_out`` (no gold evaluation split), hold a validation
        split out of the silver train. Fills ``info`` (scores, statistics); returns the
        ``datasets.Dataset`` per split."""
        from datasets import Dataset

        from nerxl_data.hub.features import COLUMNS, ner_features

        opts, config = cfg.options, cfg.pipeline
        names = self.label_names
        index = {n: i for i, n in enumerate(names)}
        features = ner_features(names)
        splits = {}
        for split, cols in self.inputs(opts).items():
            skipped = cols.pop("_skipped", {})
            if opts.limit is not None:
                cols = {k: v[: opts.limit] for k, v in cols.items()}
            ds = runner(Dataset.from_dict(cols), config, opts.cache_dir, report=run_report)
            rows = ds.to_dict()
            tagger_dropped = Counter(t for ts in rows.get("source_tagger_dropped", []) for t in ts)
            gold = self.gold(opts, split)
            if gold is not None:  # travels with its rows: a held-out part is scored apart
                gold = list(gold[: len(rows["ner_tags"])])
                if len(gold) != len(rows["ner_tags"]):
                    from nerxl_data.errors import InputError

                    raise InputError(f"{split}: {len(gold)} gold sentences but {len(rows['ner_tags'])} projected")
                rows["_gold"] = gold
            parts = {split: rows}
            if split == "train" and hold_out and opts.validation_fraction > 0:
                parts = _hold_out(rows, opts.validation_fraction)
            for name, part in parts.items():
                if "_gold" in part:  # each split's F1 over that split's rows only
                    from nerxl_data.evaluation import evaluate_tags

                    micro = evaluate_tags(part.pop("_gold"), part["ner_tags"])["micro"]
                    info.score[f"{name} F1"] = micro["f1"] / 100
                stats = _stats(part, names)  # projection counts, over every type the source had
                stats.dropped.update(_keep_types(part, self.types))
                stats.entities = split_stats({"ner_tags": part["ner_tags"]}, names).entities
                stats.skipped_sentences = dict(skipped) if name == split else {}
                stats.tagger_dropped = dict(sorted(tagger_dropped.items())) if name == split else {}
                info.splits[name] = stats
                part["ner_tags"] = [[index[t] for t in tags] for tags in part["ner_tags"]]
                part["source_ner_tags"] = [[index[t] for t in tags] for tags in part["source_ner_tags"]]
                n = len(part["id"])  # easyproject has no links: its alignment column is empty
                splits[name] = Dataset.from_dict({c: part.get(c, [None] * n) for c in COLUMNS}, features=features)
        return splits

    def gold_datasets(self, gold: dict[str, list[dict]], info: ConfigInfo) -> dict:
        """The family's gold target splits (:meth:`gold_splits`) as datasets (their statistics
        added to ``info``)."""
        from datasets import Dataset

        from nerxl_data.hub.features import ner_features

        index = {n: i for i, n in enumerate(self.label_names)}
        out = {}
        for split, records in gold.items():
            info.splits[split] = split_stats({"ner_tags": [r["ner_tags"] for r in records]}, self.label_names)
            info.splits[split].kind = "gold"
            out[split] = Dataset.from_dict(_gold_columns(records, index), features=ner_features(self.label_names))
        return out


def _changed(options: dict, default) -> dict:
    """The ``options`` whose value differs from ``default``'s (a stage's config with no options
    given): giving a default changes nothing, so it adds no hash to the name (``layer=8`` on
    e5-small, ``matching=greedy`` for candidates-ngram)."""
    plain = _plain(asdict(default))
    return {k: v for k, v in options.items() if _plain(v) != plain.get(k)}


def _plain(value):
    """``value`` as JSON holds it (tuples as lists): compares a record's values with typed ones."""
    return json.loads(json.dumps(value))


def tagger_target_types(config: PipelineConfig, tagger) -> tuple[str, ...] | None:
    """The label set's types the config's source tagger (``tagger``, resolved) can produce (its
    own types renamed as the tagger step renames them), or None when they cannot be read."""
    from nerxl_data.taggers import ONTONOTES_RENAME, tagger_types

    own = tagger_types(tagger)
    if own is None:
        return None
    renamed = {ONTONOTES_RENAME.get(t, t) for t in own}
    return tuple(t for t in config.tagger.types if t in renamed)


def absent_types(info: ConfigInfo, producible: Sequence[str] | None = None) -> list[str]:
    """Card lines (and build warnings) for label-set types no silver split holds: a model trained
    on them will not predict those types. ``producible`` (the tagger's types in the label set)
    tells "cannot contain" (the tagger lacks the type) from "holds none".

    >>> info = ConfigInfo("ewe.m", "ewe", "fr", "translate-train", "m", {}, ["O", "B-PER", "I-PER", "B-DATE", "I-DATE"], [],
    ...                   {"train": SplitStats(9, {"PER": 4}), "test": SplitStats(9, {"PER": 3, "DATE": 2}, kind="gold")})
    >>> absent_types(info, ("PER",))
    ['The silver split cannot contain DATE: the source tagger has no such type (gold test: DATE 2); a model trained on it alone will not predict DATE.']
    """
    types = [n[2:] for n in info.label_names if n.startswith("B-")]
    silver = [s for s in info.splits.values() if s.kind == "silver"]
    gold = {name: s for name, s in info.splits.items() if s.kind == "gold"}
    if not silver:
        return []
    missing = [t for t in types if not any(s.entities.get(t) for s in silver)]
    lines = []
    for cannot, group in ((True, [t for t in missing if producible is not None and t not in producible]),
                          (False, [t for t in missing if producible is None or t in producible])):
        if not group:
            continue
        in_gold = "; ".join(f"gold {n}: " + ", ".join(f"{t} {s.entities[t]}" for t in group if s.entities.get(t))
                            for n, s in gold.items() if any(s.entities.get(t) for t in group))
        what = ", ".join(group)
        head = (f"The silver split cannot contain {what}: the source tagger has no such type" if cannot else
                f"The silver split holds no {what} entity")
        lines.append(f"{head}{f' ({in_gold})' if in_gold else ''}; a model trained on it alone will not predict {what}.")
    return lines


def _hold_out(rows: dict[str, list], fraction: float) -> dict[str, dict[str, list]]:
    """Split silver rows into ``train`` and a held-out silver ``validation`` (at least one row
    each when there are two or more), by a stable hash of the row id."""
    import hashlib

    n = len(rows["id"])
    if n < 2:
        return {"train": rows}
    keyed = sorted(range(n), key=lambda i: hashlib.sha1(rows["id"][i].encode()).hexdigest())
    held = set(keyed[: max(1, round(fraction * n))])
    take = {"train": [i for i in range(n) if i not in held], "validation": sorted(held)}
    return {name: {c: [v[i] for i in idx] for c, v in rows.items()} for name, idx in take.items()}


def _gold_columns(records: list[dict], index: dict[str, int]) -> dict[str, list]:
    """Gold rows in the silver columns: the provenance columns are empty (no projection)."""
    n = len(records)
    return {"id": [str(r["id"]) for r in records], "tokens": [list(r["tokens"]) for r in records],
            "ner_tags": [[index[t] for t in r["ner_tags"]] for r in records],
            "source_lang": [None] * n, "source_tokens": [[] for _ in records],
            "source_ner_tags": [[] for _ in records], "alignment": [None] * n,
            "projection_score": [None] * n}


def _keep_types(rows: dict[str, list], types: Sequence[str]) -> dict[str, int]:
    """Drop (to ``O``) entities whose type the family's label set lacks, e.g. ``MISC`` from an
    English tagger in translate-test for PAN-X; returns the target drops by reason."""
    mapping = TypeMapping(tuple(types))
    source, target = Counter(), Counter()
    rows["source_ner_tags"] = [mapping.map_tags(t, source) for t in rows["source_ner_tags"]]
    rows["ner_tags"] = [mapping.map_tags(t, target) for t in rows["ner_tags"]]
    return {f"type {t} not in the label set": n for t, n in sorted(target.items())}


def _stats(rows: dict[str, list], names: list[str]) -> SplitStats:
    stats = split_stats({"ner_tags": rows["ner_tags"]}, names)
    dropped: Counter = Counter()
    for reasons in rows["projection_dropped"]:
        dropped.update(r.split(":", 1)[1] for r in reasons)
    stats.source_entities = sum(len(tags_to_spans(t, "IOB2", "repair")) for t in rows["source_ner_tags"])
    stats.projected_entities = stats.source_entities - sum(dropped.values())
    stats.dropped = dict(sorted(dropped.items()))
    return stats


def add_arguments(parser, builder: Builder) -> None:
    """argparse flags for running a builder module as a script."""
    parser.add_argument("--lang", required=True, choices=builder.languages or None)
    parser.add_argument("--method", default=DEFAULT_METHOD)
    parser.add_argument("--out", required=True)
    parser.add_argument("--aligner-model", default=None)
    parser.add_argument("--translator", default=None)
    parser.add_argument("--tagger-model", default=None)
    parser.add_argument("--translator-model", default=None)
    parser.add_argument("--max-silver-sentences", "--limit", dest="limit", type=int, default=None,
                        help="Silver sentences built per split (the first N; gold splits are never capped; "
                             "--limit is the old name).")
    parser.add_argument("--cache-dir", default=None)


def script_main(builder: Builder, argv: Sequence[str] | None = None) -> None:
    """``python -m nerxl_data.builders.<family> --lang L --out DIR``: build one config into DIR."""
    import argparse

    parser = argparse.ArgumentParser(description=f"Build a {builder.family} silver config.")
    add_arguments(parser, builder)
    common = {a.dest for a in parser._actions}
    builder.script_arguments(parser)
    a = parser.parse_args(argv)
    builder = builder.with_options({k: v for k, v in vars(a).items() if k not in common and v is not None})
    opts = BuildOptions(a.lang, a.method, translator=a.translator, translator_model=a.translator_model,
                        aligner_model=a.aligner_model, tagger_model=a.tagger_model, limit=a.limit,
                        cache_dir=a.cache_dir or str(Path(a.out) / ".cache"))
    _, info = builder.build(opts, a.out)
    print(f"wrote {info.name} to {a.out}")
