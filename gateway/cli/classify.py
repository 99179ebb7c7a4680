"""``linkage classify``: triage caller utterances offline (one text, or JSON lines on stdin)."""

from __future__ import annotations

import json
import sys

import click

from gateway.cli._common import emit_json, get_config
from gateway.triage import Classifier, LexiconError, TriageResult, load_classifier


def _load(ctx: click.Context, lexicon: str | None) -> Classifier:
    config = get_config(ctx)
    try:
        if lexicon:
            return load_classifier(lexicon, config.agency_codes(), config.gateway.triage.review_below)
        return Classifier.from_config(config)
    except LexiconError as exc:
        for line in exc.errors:
            click.echo(f"lexicon error: {line}", err=True)
        sys.exit(2)


def explain(result: TriageResult) -> str:
    """A readable account of one decision, for people at a terminal."""
    where = result.route + (f" → {result.agency}" if result.agency else "")
    lines = [
        f"route:        {where}",
        f"confidence:   {result.confidence:.2f}   urgency: {result.urgency}   "
        f"danger: {'yes' if result.danger else 'no'}",
        f"category:     {result.category or '-'} / {result.subcategory or '-'}",
        f"request type: {result.request_type}",
    ]
    if result.joint_agencies:
        lines.append(f"joint:        {', '.join(result.joint_agencies)}")
    if result.linked_routes:
        lines.append(f"linked desks: {', '.join(result.linked_routes)}")
    lines.append(f"why:          {result.reason}")
    lines.append(f"normalised:   {result.normalised}")
    for m in result.matched:
        notes = [n for n, on in (("negated", m.negated), ("past", m.past), ("hypothetical", m.hypothetical),
                                 ("homophone", m.homophone)) if on]
        shown = m.surface if m.surface == m.term else f"{m.surface} (≈{m.term})"
        extra = f"  [{', '.join(notes)}]" if notes else ""
        lines.append(f"  {m.start:>3}-{m.end:<3} {shown} → {m.target} ×{m.weight:g}  {m.key}{extra}")
    return "\n".join(lines)


@click.command("classify")
@click.argument("text", required=False)
@click.option("--jsonl", is_flag=True,
              help='Read {"id", "text"} JSON lines on stdin, write one answer per line.')
@click.option("--json", "as_json", is_flag=True, help="Print the result of TEXT as JSON.")
@click.option("--lexicon", type=click.Path(dir_okay=False), default=None,
              help="Lexicon to use instead of the one in gateway.yaml.")
@click.pass_context
def classify(ctx: click.Context, text: str | None, jsonl: bool, as_json: bool, lexicon: str | None) -> None:
    """Route caller words to a desk, the 12345 hotline and an agency, or review."""
    if not jsonl and text is None:
        raise click.UsageError('give TEXT (e.g. linkage classify "路灯坏了三天了") or --jsonl')
    clf = _load(ctx, lexicon)
    if not jsonl:
        result = clf.classify(text or "")
        if as_json:
            emit_json(result.to_dict())
        else:
            click.echo(explain(result))
        return
    out = sys.stdout
    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        row: object = None
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError('expected an object with a string "text"')
            result = clf.classify(row["text"])
        except ValueError as exc:  # UnicodeError (a lone surrogate in the text) is a ValueError
            # A bad line is answered (review, with the error) and reported, never dropped.
            bad += 1
            click.echo(f"stdin line {n}: {exc}", err=True)
            ident = row.get("id") if isinstance(row, dict) else None
            error = {"id": ident, "line": n, "error": str(exc), "route": "review", "agency": None}
            out.write(json.dumps(error, ensure_ascii=False) + "\n")
            continue
        answer = {"id": row.get("id"), **result.to_dict()}  # type: ignore[union-attr]
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(classify)
