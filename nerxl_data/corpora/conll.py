"""CoNLL column files: one token a line, columns separated by a tab or spaces, a blank line
between sentences, ``-DOCSTART-`` lines between documents (skipped and counted).

Hand-written rather than ``datasets``' CoNLL builders: those are Hub scripts (not loadable since
datasets 4) and report neither line numbers nor repairs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from ..errors import InputError, TagError, excerpt
from ..schema import NerExample, Policy, Scheme, convert_tags, validate_tags
from ._io import ReadReport, bad_token, check_file, read_lines

DOCSTART = "-DOCSTART-"


def read_conll(
    path: str | Path,
    *,
    token_col: int = 0,
    tag_col: int = -1,
    sep: str | None = None,
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    types: Collection[str] | None = None,
    encoding_fallback: str | None = "latin-1",
    report: ReadReport | None = None,
) -> Iterator[NerExample]:
    """Stream the sentences of a CoNLL file as records with IOB2 string tags.

    Args:
        path: the file.
        token_col, tag_col: which columns hold the token and the tag (negative counts from the end).
        sep: column separator; ``None`` splits on a tab when the line has one, else on whitespace.
        scheme: the file's tag scheme; tags are converted to IOB2.
        policy: ``strict`` raises on an invalid tag sequence; ``repair`` fixes it and counts it.
        types: the entity types allowed (e.g. ``LABEL_SETS["conll"]``); others are unknown tags.
        encoding_fallback: how to decode a line that is not UTF-8 (reported); ``None`` raises.
        report: filled with counts (sentences, skipped lines, repairs, fallback lines).

    Record ids are the 0-based sentence index in the file, as strings.

    >>> from nerxl_data.resources import demo_path
    >>> next(read_conll(demo_path("en")))["ner_tags"][:3]
    ['B-PER', 'I-PER', 'O']

    Raises:
        InputError: naming file and line: a wrong column count, an empty token or tag, a
            malformed or unknown tag, an invalid sequence (``strict``), undecodable bytes (no
            fallback), an empty file, a directory or missing file.
    """
    path = check_file(path)
    report = report if report is not None else ReadReport()
    mark = report.mark()
    source = str(path)
    tokens: list[str] = []
    tags: list[str] = []
    lines: list[int] = []
    ncols: int | None = None
    ncols_line = 0

    def finish() -> NerExample:
        try:
            fixed = validate_tags(tags, scheme, policy, report.repairs, types)
            if scheme != "IOB2":
                fixed = convert_tags(fixed, scheme, "IOB2")
        except TagError as exc:
            line = lines[getattr(exc, "token", 0)]
            raise InputError(exc.message.split(": ", 1)[-1] + (scheme_hint(tags, scheme) or policy_hint(exc)),
                             source=source, line=line) from None
        example: NerExample = {"id": str(report.sentences), "tokens": tokens, "ner_tags": fixed}
        report.sentences += 1
        return example

    for lineno, line in read_lines(path, report, encoding_fallback, expect="CoNLL columns"):
        if not line.strip():
            if tokens:
                yield finish()
                tokens, tags, lines = [], [], []
            continue
        cols = line.split("\t" if "\t" in line else None) if sep is None else line.split(sep)
        if cols[0].strip() == DOCSTART:
            report.skip("-DOCSTART- line")
            continue
        if ncols is None:
            ncols, ncols_line = len(cols), lineno
            if ncols < 2:
                raise InputError(
                    f"found 1 column in {excerpt(line)}; need a token and a tag column "
                    f"(separator: {'tab or whitespace' if sep is None else repr(sep)})",
                    source=source, line=lineno,
                )
        elif len(cols) != ncols:
            raise InputError(
                f"wrong column count: {len(cols)} columns in {excerpt(line)}, "
                f"but {ncols} on line {ncols_line}",
                source=source, line=lineno,
            )
        try:
            token, tag = cols[token_col].strip(), cols[tag_col].strip()
        except IndexError:
            raise InputError(
                f"no column {token_col} or {tag_col} in a line of {ncols} columns",
                source=source, line=lineno,
            ) from None
        if not token:
            raise InputError(f"empty token in {excerpt(line)}", source=source, line=lineno)
        if not tag:
            raise InputError(f"empty tag in {excerpt(line)}", source=source, line=lineno)
        problem = bad_token(token)
        if problem:
            raise InputError(f"token {excerpt(token, 40)} {problem}", source=source, line=lineno)
        tokens.append(token)
        tags.append(tag)
        lines.append(lineno)
    if tokens:
        yield finish()
    if report.sentences == 0:
        what = "only -DOCSTART- lines" if report.skipped else "nothing but blank lines or nothing"
        raise InputError(f"empty file: no sentences ({what})", source=source)
    report.warn(source, encoding_fallback, since=mark)


def scheme_hint(tags: list[str], scheme: str) -> str:
    """A hint when tags read as ``scheme`` look like another scheme (``S-``/``E-`` as IOB2).

    >>> scheme_hint(["S-PER", "O"], "IOB2")
    ' (the tags look like BIOES: pass --scheme BIOES)'
    """
    prefixes = {t.split("-", 1)[0] for t in tags if "-" in t}
    if scheme != "BIOES" and prefixes & {"S", "E"}:
        return " (the tags look like BIOES: pass --scheme BIOES)"
    if scheme == "IOB2" and prefixes == {"I"}:
        return " (the tags look like IOB1: pass --scheme IOB1)"
    return ""


def policy_hint(exc: Exception) -> str:
    """A hint when the ``repair`` policy would fix the invalid sequence ``exc`` reports (a stray
    ``I-`` tag, as in MasakhaNER 2.0's hau test file; builds and training read corpora with it).

    >>> from nerxl_data.schema import validate_tags
    >>> try:
    ...     validate_tags(["O", "I-ORG"], "IOB2", "strict")
    ... except Exception as exc:
    ...     print(policy_hint(exc))
     (pass --policy repair to fix and count such sequences, as nerxl build and train do)
    """
    if getattr(exc, "repairable", False):
        return " (pass --policy repair to fix and count such sequences, as nerxl build and train do)"
    return ""


def write_conll(
    examples: Iterable[NerExample],
    path: str | Path,
    *,
    sep: str = "\t",
    label_names: list[str] | None = None,
) -> int:
    """Write records as ``token<sep>tag`` lines, a blank line after each sentence.

    ``label_names`` turns ClassLabel ids back into tag strings. Returns the number of sentences.

    Raises:
        InputError: a record whose tokens and tags differ in length, a record without tokens,
            or a token containing the separator (it could not be read back).
    """
    from ..paths import atomic_write

    n = 0
    path = Path(path)
    with atomic_write(path) as f:
        for n, ex in enumerate(examples, 1):
            tags = ex["ner_tags"]
            if label_names is not None:
                tags = [label_names[t] if isinstance(t, int) else t for t in tags]
            if len(tags) != len(ex["tokens"]):
                raise InputError(
                    f"{len(ex['tokens'])} tokens but {len(tags)} tags", source=str(path), row=n - 1
                )
            if not ex["tokens"]:  # a bare blank line: every later sentence would shift by one
                raise InputError("a sentence without tokens cannot be written as CoNLL",
                                 source=str(path), row=n - 1)
            for token, tag in zip(ex["tokens"], tags, strict=True):
                if sep in token or bad_token(token):
                    raise InputError(
                        f"token {excerpt(str(token), 40)} contains the separator {sep!r}, "
                        "whitespace or a NUL byte, or is empty",
                        source=str(path), row=n - 1,
                    )
                f.write(f"{token}{sep}{tag}\n")
            f.write("\n")
    return n
