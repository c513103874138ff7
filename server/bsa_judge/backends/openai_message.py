"""Reading the OpenAI chat message shapes into the core's `Choice`.

Endpoints hand reasoning back in one of several forms: a separate message field,
`reasoning_content` (DeepSeek, vLLM reasoning parsers) or `reasoning` (newer vLLM,
OpenRouter); or a list-valued content whose parts are typed "reasoning" or "thinking".
Both are read here; inline tags in the text are left to generation (generation/reasoning.py).
Streamed completions are accumulated delta by delta (`ChoiceParts`) and read once complete.
Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from bsa_judge.chat.model import Choice, ReasoningSource

# Part types of list-valued content that carry reasoning rather than answer text.
_REASONING_PART_TYPES = frozenset({"reasoning", "thinking", "reasoning_content"})
# Keys under which a content part keeps its text, in the order they are tried.
_PART_TEXT_KEYS = ("text", "thinking", "reasoning", "content", "summary")


def message_choice(
    content: str | Sequence[Any] | None,
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    finish_reason: str | None = None,
    index: int = 0,
) -> Choice:
    """One message as a Choice.

    A separate field wins over the content: `reasoning_content`, then `reasoning`; else
    reasoning parts of a list-valued content. A blank reasoning counts as none.
    """
    text, part_reasoning = _content_text(content)
    source = ReasoningSource.NONE
    found = ""
    for candidate, where in (
        (reasoning_content, ReasoningSource.REASONING_CONTENT_FIELD),
        (reasoning, ReasoningSource.REASONING_FIELD),
        (part_reasoning, ReasoningSource.CONTENT_PARTS),
    ):
        if candidate and candidate.strip():
            found, source = candidate, where
            break
    return Choice(
        index=index,
        text=text,
        reasoning=found,
        reasoning_source=source,
        reasoning_field_sent=reasoning_content is not None or reasoning is not None,
        finish_reason=finish_reason or "",
    )


@dataclass
class ChoiceParts:
    """One choice of a streamed completion, accumulated delta by delta."""

    content: list[str] = field(default_factory=list)
    # Reasoning parts of list-valued deltas: fragments of one text, concatenated.
    reasoning_parts: list[str] = field(default_factory=list)
    reasoning_content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    # A reasoning field arrived (possibly empty): the endpoint separates reasoning itself.
    reasoning_field_sent: bool = False
    finish_reason: str | None = None

    def add(
        self,
        *,
        content: str | Sequence[Any] | None = None,
        reasoning_content: str | None = None,
        reasoning: str | None = None,
        finish_reason: str | None = None,
    ) -> None:
        """Add one delta's fields (any of them may be absent)."""
        if isinstance(content, str):
            self.content.append(content)
        elif content:
            for part in content:
                if _is_reasoning_part(part):
                    self.reasoning_parts.append(_part_text(part))
                elif isinstance(part, str):
                    self.content.append(part)
                elif isinstance(part, Mapping):
                    self.content.append(_part_text(part))
        if reasoning_content is not None or reasoning is not None:
            self.reasoning_field_sent = True
        if reasoning_content:
            self.reasoning_content.append(reasoning_content)
        if reasoning:
            self.reasoning.append(reasoning)
        if finish_reason:
            self.finish_reason = finish_reason

    def choice(self, index: int = 0) -> Choice:
        """The accumulated choice, read like a non-streamed one."""
        content: str | list[Any] = "".join(self.content)
        if self.reasoning_parts:
            content = [{"type": "reasoning", "text": "".join(self.reasoning_parts)}, content]
        read = message_choice(
            content,
            reasoning_content="".join(self.reasoning_content) or None,
            reasoning="".join(self.reasoning) or None,
            finish_reason=self.finish_reason,
            index=index,
        )
        return replace(read, reasoning_field_sent=self.reasoning_field_sent)


def _content_text(content: str | Sequence[Any] | None) -> tuple[str, str]:
    """(answer text, reasoning text) of a message content, string or list of parts."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    answer: list[str] = []
    reasoning: list[str] = []
    for part in content:
        if isinstance(part, str):
            answer.append(part)
        elif isinstance(part, Mapping):
            (reasoning if _is_reasoning_part(part) else answer).append(_part_text(part))
    return "".join(answer), "\n\n".join(text for text in reasoning if text.strip())


def _is_reasoning_part(part: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(part, Mapping) and str(part.get("type", "")).casefold() in (
        _REASONING_PART_TYPES
    )


def _part_text(part: Mapping[str, Any]) -> str:
    """The text of one content part; nested lists of parts (Mistral's thinking) are joined."""
    for key in _PART_TEXT_KEYS:
        value = part.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return "".join(_texts(value))
    return ""


def _texts(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):
            yield _part_text(value)
