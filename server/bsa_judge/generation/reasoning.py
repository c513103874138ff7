"""Splitting a completion into its hidden reasoning and its final answer.

Endpoints hand reasoning back in one of several forms. A separate message field or reasoning
content parts are read by the endpoint (backends/openai_message.py) into the `Choice`'s
`reasoning`; what is left is recognised here:

- inline tags in the content, `<think>...</think>` or any configured tag name, including
  the two broken shapes real models produce: the opening tag missing (the chat template
  already emitted it, so the content starts inside the reasoning) and the closing tag
  missing (generation was cut off inside the reasoning).

When the chat template itself emits the opening tag (Qwen3, DeepSeek-R1), a completion cut
off before `</think>` carries no tag at all. Nothing in the text says so, so the backend
declares it (`opened_by_template`): then content without any tag is all reasoning and the
answer is empty. That does not apply when the endpoint sent a reasoning field, even an
empty one: it separates the reasoning itself, and the content is the answer.

Streamed completions are assembled by the endpoint and split once complete, so a tag cut
across two chunks is still found. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.chat.model import Choice, ReasoningSource

__all__ = [
    "DEFAULT_TAGS",
    "ReasoningSource",
    "SplitCompletion",
    "sample_status",
    "split_choice",
    "split_inline_tags",
]

#: The tag name used when a backend configures none.
DEFAULT_TAGS: tuple[str, ...] = ("think",)


@dataclass(frozen=True, slots=True)
class SplitCompletion:
    """A completion's reasoning and answer, both trimmed, and where the reasoning came from."""

    reasoning: str
    answer: str
    source: ReasoningSource


def split_choice(
    choice: Choice, tags: Sequence[str] = DEFAULT_TAGS, *, opened_by_template: bool = False
) -> SplitCompletion:
    """Split one choice into reasoning and answer.

    Reasoning the endpoint sent apart (a reasoning field, reasoning content parts) wins, and
    the text is then the answer as it stands; otherwise inline tags. An empty or blank
    reasoning counts as none (source NONE), and the answer is always kept.
    `opened_by_template`: the chat template opened the reasoning block, so text without any
    tag is reasoning; ignored when a reasoning field was sent (even empty), since the
    endpoint then separates reasoning itself.
    """
    if choice.reasoning_source is not ReasoningSource.NONE and choice.reasoning.strip():
        return SplitCompletion(
            choice.reasoning.strip(), choice.text.strip(), choice.reasoning_source
        )
    return split_inline_tags(
        choice.text,
        tags,
        opened_by_template=opened_by_template and not choice.reasoning_field_sent,
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
