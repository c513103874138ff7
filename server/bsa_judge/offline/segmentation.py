"""Cutting text into the units the offline judge compares: risk points and sentences."""

from __future__ import annotations

import re

# "Query A: ..." / "Query B: ..." parts of Cognitive Shortcut risk summaries.
_QUERY_PART = re.compile(r"(?:^|\s)Query\s+[A-Z]\s*[:：]\s*", re.IGNORECASE)
# A sentence ends at . ! ? (and closing quotes) before white space, or at a line break.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+|\n+")
# "1." or "2)" alone: a list marker cut off from its item.
_LIST_MARKER = re.compile(r"\d{1,2}[.)]")
# Clauses of a long risk sentence: split at "; " and at ", which/while/and thus ..." joints.
_CLAUSE_JOINT = re.compile(r";\s+|,\s+(?=(?:which|while|and thus|thereby|potentially)\b)")
_MIN_CLAUSE_WORDS = 6


def split_sentences(text: str) -> list[str]:
    """The non-empty sentences of `text`, in order, stripped; a list item keeps its number."""
    sentences: list[str] = []
    pending = ""
    for part in _SENTENCE_END.split(text):
        piece = part.strip() if part else ""
        if not piece:
            continue
        if _LIST_MARKER.fullmatch(piece):
            pending = f"{pending} {piece}".strip()
            continue
        sentences.append(f"{pending} {piece}".strip())
        pending = ""
    if pending:
        sentences.append(pending)
    return sentences


def split_risk_points(risk_summary: str) -> list[str]:
    """The separate risks a `risk_summary` names, in order.

    Cognitive Shortcut summaries list their two risks as "Query A: ..." and "Query B: ...";
    those parts are the points. Otherwise each sentence is a point, and a long sentence is cut
    into clauses where a clause of its own names something new (at "; " or ", which ...").
    A summary with no text gives no points.
    """
    text = risk_summary.strip()
    if not text:
        return []
    parts = [p.strip() for p in _QUERY_PART.split(text) if p.strip()]
    if len(parts) > 1 or _QUERY_PART.match(text):
        return parts
    points: list[str] = []
    for sentence in split_sentences(text):
        clauses = [c.strip(" ,;") for c in _CLAUSE_JOINT.split(sentence) if c.strip(" ,;")]
        if all(len(c.split()) >= _MIN_CLAUSE_WORDS for c in clauses):
            points.extend(clauses)
        else:
            points.append(sentence)
    return points
