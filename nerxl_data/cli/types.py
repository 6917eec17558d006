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
