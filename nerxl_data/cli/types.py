"""Checked click parameter types: numbers are validated when the command line is parsed, before
any data is read or model loaded (``--limit -5``, ``--batch-size 0``, ``--lr nan``)."""

from __future__ import annotations

import math

import click

POSITIVE = click.IntRange(min=1)
"""An integer >= 1 (batch sizes, beams, limits)."""

COUNT = click.IntRange(min=0)
"""An integer >= 0 (0 means none or all, as the option's help says)."""


class FiniteFloat(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf`` (which compare false
    with every bound, so a plain range lets them through)."""

    name = "finite float"

    def convert(self, value, param, ctx):
        rv = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(rv, param, ctx)


POSITIVE_FLOAT = FiniteFloat(min=0, min_open=True)
"""A finite number > 0 (learning rates, epochs)."""


def cap_option(name: str, dest: str, *, old: tuple[str, ...] = (), aliases: tuple[str, ...] = (), **kwargs):
    """A click option that caps a number of sentences, named ``--max-WHICH-sentences`` (WHICH says
    which sentences: ``train``, ``eval``, ``test``, ``silver``, ``unlabeled``), with the option's
    earlier spellings ``old`` still accepted: hidden from ``--help``, and when used they print one
    ``Warning:`` line naming ``name``. Giving both spellings is a usage error. ``aliases`` are
    other spellings of the same option, shown and without a warning (run_ner.py's
    ``--max_train_samples`` for ``nerxl train``).

    >>> @click.command()
    ... @cap_option("--max-silver-sentences", "limit", old=("--limit",), type=POSITIVE)
    ... def build(limit):
    ...     click.echo(limit)
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(build, ["--limit", "5"]).output
    'Warning: --limit is an old name of --max-silver-sentences; use that\\n5\\n'
    """
    from click.core import ParameterSource

    key = f"nerxl.cap-alias.{dest}"

    def take_alias(ctx: click.Context, param: click.Parameter, value):
        if key not in ctx.meta:
            return value
        spelled, alias_value = ctx.meta[key]
        if ctx.get_parameter_source(dest) == ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{spelled} is an old name of {name}: give only {name}", ctx)
        ctx.set_parameter_source(dest, ParameterSource.COMMANDLINE)  # as if given by its name
        return alias_value

    def store_alias(ctx: click.Context, param: click.Parameter, value):
        if value is None or ctx.get_parameter_source(param.name) != ParameterSource.COMMANDLINE:
            return
        if ctx.get_parameter_source(dest) == ParameterSource.COMMANDLINE:  # the new name came first
            raise click.UsageError(f"{param.opts[0]} is an old name of {name}: give only {name}", ctx)
        click.echo(f"Warning: {param.opts[0]} is an old name of {name}; use that", err=True)
        ctx.meta[key] = (param.opts[0], value)

    def decorator(f):
        for i, spelling in enumerate(old):
            f = click.option(spelling, f"_{dest}_old{i}", type=kwargs.get("type"), default=None, hidden=True,
                             expose_value=False, callback=store_alias)(f)
        return click.option(name, *aliases, dest, callback=take_alias, **kwargs)(f)

    return decorator
