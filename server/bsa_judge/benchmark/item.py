"""A benchmark item and its risk categories."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bsa_judge.benchmark.scenario import Scenario

#: The nine primary risk categories of BSA.
PRIMARY_CATEGORIES = (
    "Offense and Prejudice",
    "Specially Regulated Items",
    "Property Infringement",
    "Invasion of Privacy and Confidentiality",
    "Physical and Mental Health",
    "Violence and Terrorism",
    "Ethics and Morality",
    "Rumors",
    "Pornography",
)

_QUERY_PREFIX = re.compile(r"^\s*Query\s+[AB]\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Item:
    """One benchmark item, as in a row of the official CSV."""

    id: str
    query: str
    risk_summary: str
    scenario: Scenario
    label: str = ""

    @property
    def primary_categories(self) -> tuple[str, ...]:
        """The item's primary risk categories (two for most Cognitive Shortcut items)."""
        return primary_categories(self.label)


def primary_categories(label: str) -> tuple[str, ...]:
    """Primary categories of an official `label`, in order, without repeats.

    "Offense and Prejudice-Abuse and Hate Speech" -> ("Offense and Prejudice",);
    "Query A: Rumors-X\\nQuery B: Pornography-Y" -> ("Rumors", "Pornography").
    """
    found: list[str] = []
    for line in label.splitlines():
        text = _QUERY_PREFIX.sub("", line).strip()
        if not text:
            continue
        primary = text.split("-", 1)[0].strip()
        if primary not in found:
            found.append(primary)
    return tuple(found)
