"""Splitting a completion into its hidden reasoning and its final answer.

Endpoints hand reasoning back in one of several forms, and each is recognised here:

- a separate message field, `reasoning_content` (DeepSeek, vLLM reasoning parsers) or
  `reasoning` (newer vLLM, OpenRouter);
- a list-valued content whose parts are typed "reasoning" or "thinking";
- inline tags in the content, `<think>...</think>` or any configured tag name, including
  the two broken shapes real models produce: the opening tag missing (the chat template
  already emitted it, so the content starts inside the reasoning) and the closing tag
  missing (generation was cut off inside the reasoning).

When the chat template itself emits the opening tag (Qwen3, DeepSeek-R1), a completion cut
off before `</think>` carries no tag at all. Nothing in the text says so, so the backend
declares it (`opened_by_template`): then content without any tag is all reasoning and the
answer is empty. That does not apply when the endpoint sent a reasoning field, even an
empty one: it separates the reasoning itself, and the content is the answer.

Streamed completions are accumulated delta by delta (`CompletionParts`) and split once
complete, so a tag cut across two chunks is still found. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeGuard

from bsa_judge.benchmark.status import SampleStatus

#: The tag name used when a backend configures none.
DEFAULT_TAGS: tuple[str, ...] = ("think",)

# Part types of list-valued content that carry reasoning rather than answer text.
_REASONING_PART_TYPES = frozenset({"reasoning", "thinking", "reasoning_content"})
# Keys under which a content part keeps its text, in the order they are tried.
_PART_TEXT_KEYS = ("text", "thinking", "reasoning", "content", "summary")


class ReasoningSource(StrEnum):
    """Where the reasoning of a completion was found."""

    REASONING_CONTENT_FIELD = "reasoning_content_field"
    REASONING_FIELD = "reasoning_field"
    CONTENT_PARTS = "content_parts"
    INLINE_TAGS = "inline_tags"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class SplitCompletion:
    """A completion's reasoning and answer, both trimmed, and where the reasoning came from."""

    reasoning: str
    answer: str
    source: ReasoningSource


def split_completion(
    content: str | Sequence[Any] | None,
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tags: Sequence[str] = DEFAULT_TAGS,
    opened_by_template: bool = False,
) -> SplitCompletion:
    """Split one completion message into reasoning and answer.

    A separate field wins over the content: `reasoning_content`, then `reasoning`; the
    content is then the answer as it stands. Otherwise reasoning parts of a list-valued
    content, otherwise inline tags. An empty or blank reasoning counts as none
    (source NONE), and the answer is always kept. `opened_by_template`: the chat template
    opened the reasoning block, so content without any tag is reasoning; ignored when a
    reasoning field was sent (not None), since the endpoint then separates reasoning itself.
    """
    answer_text, part_reasoning = _content_text(content)
    for text, source in (
        (reasoning_content, ReasoningSource.REASONING_CONTENT_FIELD),
        (reasoning, ReasoningSource.REASONING_FIELD),
    ):
        if text and text.strip():
            return SplitCompletion(text.strip(), answer_text.strip(), source)
    if part_reasoning.strip():
        return SplitCompletion(
            part_reasoning.strip(), answer_text.strip(), ReasoningSource.CONTENT_PARTS
        )
    field_sent = reasoning_content is not None or reasoning is not None
    return split_inline_tags(
        answer_text, tags, opened_by_template=opened_by_template and not field_sent
    )


def split_inline_tags(
    text: str, tags: Sequence[str] = DEFAULT_TAGS, *, opened_by_template: bool = False
) -> SplitCompletion:
    """Split content that carries its reasoning between tags such as `<think>...</think>`.

    - Every `<tag>...</tag>` block is reasoning (several blocks are joined by a blank line);
      the rest is the answer.
    - A closing tag before any opening tag means the chat template emitted the opening tag:
      everything before it is reasoning.
    - An opening tag never closed means generation stopped inside the reasoning: everything
      after it is reasoning.
    - With `opened_by_template` (the chat template emitted the opening tag), text without
      any tag is all reasoning: generation stopped before closing the template's block.
      Text with tags splits as above.
    Tag names match any of `tags`, ignoring case and inner spaces (`< / Think >`). A stray
    closing tag after the first tag is dropped.
    """
    pattern = _tag_pattern(tuple(tags))
    if opened_by_template and pattern.search(text) is None:
        reasoning_only = text.strip()
        source = ReasoningSource.INLINE_TAGS if reasoning_only else ReasoningSource.NONE
        return SplitCompletion(reasoning_only, "", source)
    reasoning: list[str] = []
    answer: list[str] = []
    position = 0
    first_tag = True
    while (tag := pattern.search(text, position)) is not None:
        closing, name = bool(tag.group("slash")), tag.group("name").casefold()
        if closing:
            # Without an opening tag, only the first tag can close the template's block.
            (reasoning if first_tag else answer).append(text[position : tag.start()])
            position = tag.end()
        else:
            answer.append(text[position : tag.start()])
            end = _closing_tag(pattern, text, tag.end(), name)
            if end is None:  # cut off inside the reasoning
                reasoning.append(text[tag.end() :])
                position = len(text)
                break
            reasoning.append(text[tag.end() : end.start()])
            position = end.end()
        first_tag = False
    answer.append(text[position:])
    reasoning_text = "\n\n".join(part.strip() for part in reasoning if part.strip())
    answer_text = "\n\n".join(part.strip() for part in answer if part.strip())
    source = ReasoningSource.INLINE_TAGS if reasoning_text else ReasoningSource.NONE
    return SplitCompletion(reasoning_text, answer_text, source)


def sample_status(finish_reason: str | None, split: SplitCompletion) -> SampleStatus:
    """TRUNCATED when the model stopped on length, NO_REASONING without reasoning, else OK."""
    if finish_reason == "length":
        return SampleStatus.TRUNCATED
    if not split.reasoning:
        return SampleStatus.NO_REASONING
    return SampleStatus.OK


@dataclass
class CompletionParts:
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

    def split(
        self, tags: Sequence[str] = DEFAULT_TAGS, *, opened_by_template: bool = False
    ) -> SplitCompletion:
        """The accumulated completion, split like a non-streamed one."""
        content: str | list[Any] = "".join(self.content)
        if self.reasoning_parts:
            content = [{"type": "reasoning", "text": "".join(self.reasoning_parts)}, content]
        return split_completion(
            content,
            reasoning_content="".join(self.reasoning_content) or None,
            reasoning="".join(self.reasoning) or None,
            tags=tags,
            opened_by_template=opened_by_template and not self.reasoning_field_sent,
        )


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


@lru_cache(maxsize=64)
def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(tag.strip()) for tag in tags if tag.strip())
    if not names:
        return re.compile(r"(?!)")  # no tag names: nothing is a tag
    return re.compile(rf"<\s*(?P<slash>/)?\s*(?P<name>{names})\s*>", re.IGNORECASE)


def _closing_tag(
    pattern: re.Pattern[str], text: str, start: int, name: str
) -> re.Match[str] | None:
    """The first closing tag named `name` at or after `start`."""
    position = start
    while (tag := pattern.search(text, position)) is not None:
        if tag.group("slash") and tag.group("name").casefold() == name:
            return tag
        position = tag.end()
    return None
