"""Gold files: traces with the labels a judge should give them, one JSON object a line.

Fields: scenario, query, risk_summary, reasoning, answer, think_label, safe_label; item_id
is optional (each line is its own item without it). A line that cannot be read is an error
naming the line and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import (
    SafetyLabel,
    Scenario,
    ThinkingLabel,
    parse_safety_label,
    parse_thinking_label,
)
from bsa_judge.judging.trace import Trace

_TEXT_FIELDS = ("query", "risk_summary", "reasoning", "answer")


class GoldFileError(ValueError):
    """A gold file that cannot be read, naming the line and field."""


@dataclass(frozen=True, slots=True)
class GoldTrace:
    """One gold-labelled trace."""

    trace: Trace
    thinking: ThinkingLabel
    safety: SafetyLabel

    @property
    def scenario(self) -> Scenario:
        """The trace's scenario."""
        return self.trace.item.scenario


def read_gold(path: Path) -> list[GoldTrace]:
    """Every trace of the gold file at `path`; raises GoldFileError naming what is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise GoldFileError(f"gold file {path}: {error.strerror or error}") from error
    gold = [
        _gold_trace(line, f"{path}:{number}")
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not gold:
        raise GoldFileError(f"gold file {path}: no traces")
    return gold


def _gold_trace(line: str, where: str) -> GoldTrace:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise GoldFileError(f"{where}: not JSON ({error.msg})") from error
    if not isinstance(row, dict):
        raise GoldFileError(f"{where}: not a JSON object")
    for name in (*_TEXT_FIELDS, "scenario", "think_label", "safe_label"):
        if not isinstance(row.get(name), str):
            raise GoldFileError(f"{where}: field {name!r} is missing or not a string")
    try:
        scenario = Scenario.parse(row["scenario"])
    except ValueError as error:
        raise GoldFileError(f"{where}: field 'scenario': {error}") from error
    try:
        thinking = parse_thinking_label(scenario, row["think_label"])
    except ValueError as error:
        raise GoldFileError(f"{where}: field 'think_label': {error}") from error
    try:
        safety = parse_safety_label(row["safe_label"])
    except ValueError as error:
        raise GoldFileError(f"{where}: field 'safe_label': {error}") from error
    item = Item(
        str(row.get("item_id") or where),
        row["query"],
        row["risk_summary"],
        scenario,
    )
    return GoldTrace(
        Trace(item, reasoning=row["reasoning"], answer=row["answer"]), thinking, safety
    )
