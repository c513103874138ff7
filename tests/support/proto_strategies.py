"""Hypothesis strategies for any protobuf message, built from its descriptor: every field set
or left unset, strings from `names` or arbitrary text, numbers over their whole range (enums
include numbers no member has), nested messages a few levels deep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

_INTEGERS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _small_or_any(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-3, 70).filter(lambda n: low <= n <= high), st.integers(low, high))


def _scalar(field: FieldDescriptor, names: Sequence[str]) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.one_of(st.sampled_from(names), st.text(max_size=40)) if names else st.text()
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=40)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        width = 32 if field.type == FieldDescriptor.TYPE_FLOAT else 64
        return st.floats(width=width)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.integers(-2, len(field.enum_type.values) + 2)
    return _small_or_any(*_INTEGERS[field.type])


def messages(
    descriptor: Descriptor, message_class: type[Message], names: Sequence[str] = (), depth: int = 3
) -> st.SearchStrategy[Message]:
    """Messages of `message_class` (whose descriptor is `descriptor`)."""
    return st.builds(
        lambda values: _filled(message_class(), values), _values(descriptor, names, depth)
    )


def _values(
    descriptor: Descriptor, names: Sequence[str], depth: int
) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth == 0 or field.message_type.GetOptions().map_entry:
                continue
            value: st.SearchStrategy[Any] = _values(field.message_type, names, depth - 1)
        else:
            value = _scalar(field, names)
        repeated = field.is_repeated
        fields[field.name] = st.lists(value, max_size=3) if repeated else value
    return st.fixed_dictionaries({}, optional=fields)


def _filled(message: Message, values: dict[str, Any]) -> Message:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.is_repeated:
            container = getattr(message, name)
            for item in value:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    _filled(container.add(), item)
                else:
                    container.append(item)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _filled(getattr(message, name), value)
            getattr(message, name).SetInParent()
        else:
            setattr(message, name, value)
    return message
