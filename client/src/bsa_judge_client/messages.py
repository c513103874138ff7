"""Requests as generated messages or plain dicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)


def as_message(value: M | Mapping[str, Any], message_type: type[M]) -> M:
    """`value` itself if it is a `message_type`, else the message parsed from a dict.

    Dict keys are the proto field names (`risk_summary`; the JSON names such as
    `riskSummary` work too) and enums are their names (`"SCENARIO_RISK_OMISSION"`) or
    numbers. An unknown key raises `google.protobuf.json_format.ParseError`.
    """
    if isinstance(value, message_type):
        return value
    if isinstance(value, Mapping):
        return json_format.ParseDict(dict(value), message_type())
    raise TypeError(
        f"expected {message_type.DESCRIPTOR.full_name} or a dict, got {type(value).__name__}"
    )
