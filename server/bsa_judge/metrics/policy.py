"""How items with fewer than k usable samples are scored."""

from __future__ import annotations

from enum import StrEnum


class MissingSamplePolicy(StrEnum):
    """What a missing or unusable sample (failed generation, unreadable judge output) counts as.

    On a complete run (every item with k usable samples) all three give the same figures.
    """

    #: The default. @1 figures average each item over its usable samples (an item with none is
    #: left out of @1); for @k a missing or unusable sample is a failure.
    COUNT_USABLE_FOR_AT_1 = "count_usable_for_at_1"
    #: A missing or unusable sample is a failure for @1 and @k alike (the official script's
    #: behaviour when rows are missing, but with the data's item counts as denominators).
    COUNT_AS_FAILURE = "count_as_failure"
    #: Items with fewer than k usable samples are left out of every figure.
    DROP_INCOMPLETE_ITEMS = "drop_incomplete_items"

    @classmethod
    def parse(cls, text: str) -> MissingSamplePolicy:
        """Read a policy from its value, ignoring case; dashes stand for underscores."""
        key = text.strip().casefold().replace("-", "_")
        for policy in cls:
            if key == policy.value:
                return policy
        accepted = ", ".join(p.value.replace("_", "-") for p in cls)
        raise ValueError(f"unknown missing-sample policy {text!r}; expected one of: {accepted}")
