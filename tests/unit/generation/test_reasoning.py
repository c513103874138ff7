"""Reasoning extraction: every form an endpoint uses, split into reasoning and answer.

A message is read by the endpoint (backends/openai_message.py) into a `Choice` and split by
generation (generation/reasoning.py); these tests run both, the path every sample takes.
"""

from collections.abc import Sequence
from typing import Any

import pytest
from bsa_judge.backends.openai_message import ChoiceParts, message_choice
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.generation.reasoning import (
    DEFAULT_TAGS,
    ReasoningSource,
    SplitCompletion,
    sample_status,
    split_choice,
    split_inline_tags,
)


def split_completion(
    content: str | Sequence[Any] | None,
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tags: Sequence[str] = DEFAULT_TAGS,
    opened_by_template: bool = False,
) -> SplitCompletion:
    """One non-streamed message, read and split."""
    choice = message_choice(content, reasoning_content=reasoning_content, reasoning=reasoning)
    return split_choice(choice, tags, opened_by_template=opened_by_template)


def split_parts(parts: ChoiceParts, *, opened_by_template: bool = False) -> SplitCompletion:
    """One streamed choice, assembled, read and split."""
    return split_choice(parts.choice(), opened_by_template=opened_by_template)


INLINE = ReasoningSource.INLINE_TAGS
NONE = ReasoningSource.NONE


# --- separate fields -------------------------------------------------------------------


def test_reasoning_content_field_is_the_reasoning_and_content_the_answer() -> None:
    split = split_completion(
        "  No, I will not help with that.  ", reasoning_content="\n The user asks for X. \n"
    )
    assert split == SplitCompletion(
        "The user asks for X.",
        "No, I will not help with that.",
        ReasoningSource.REASONING_CONTENT_FIELD,
    )


def test_reasoning_field_is_the_reasoning() -> None:
    split = split_completion("Answer.", reasoning="Thinking it over.")
    assert split == SplitCompletion("Thinking it over.", "Answer.", ReasoningSource.REASONING_FIELD)


def test_reasoning_content_wins_over_reasoning_when_both_are_sent() -> None:
    split = split_completion("A.", reasoning_content="from rc", reasoning="from r")
    assert split == SplitCompletion("from rc", "A.", ReasoningSource.REASONING_CONTENT_FIELD)


def test_blank_reasoning_fields_count_as_absent_and_inline_tags_are_tried() -> None:
    split = split_completion("<think>inline</think>A.", reasoning_content="  ", reasoning="")
    assert split == SplitCompletion("inline", "A.", INLINE)


def test_a_field_with_null_content_keeps_an_empty_answer() -> None:
    split = split_completion(None, reasoning_content="Cut off while thinking")
    assert split == SplitCompletion(
        "Cut off while thinking", "", ReasoningSource.REASONING_CONTENT_FIELD
    )


# --- list-valued content ---------------------------------------------------------------


def test_reasoning_parts_of_list_content_are_the_reasoning() -> None:
    content = [
        {"type": "reasoning", "text": "First I check the risk."},
        {"type": "text", "text": "Here is a safe answer."},
    ]
    assert split_completion(content) == SplitCompletion(
        "First I check the risk.", "Here is a safe answer.", ReasoningSource.CONTENT_PARTS
    )


def test_thinking_parts_with_a_thinking_key_are_the_reasoning() -> None:
    content = [
        {"type": "thinking", "thinking": "Step one.", "signature": "abc"},
        {"type": "thinking", "thinking": "Step two."},
        {"type": "text", "text": "Answer."},
    ]
    assert split_completion(content) == SplitCompletion(
        "Step one.\n\nStep two.", "Answer.", ReasoningSource.CONTENT_PARTS
    )


def test_nested_thinking_parts_are_joined() -> None:
    content = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Nested "}, "thought."]},
        {"type": "text", "text": "Answer."},
    ]
    assert split_completion(content) == SplitCompletion(
        "Nested thought.", "Answer.", ReasoningSource.CONTENT_PARTS
    )


def test_list_content_without_reasoning_parts_falls_back_to_inline_tags() -> None:
    content = [{"type": "text", "text": "<think>in a part</think>"}, {"type": "text", "text": "A."}]
    assert split_completion(content) == SplitCompletion("in a part", "A.", INLINE)


def test_list_content_without_any_reasoning_has_none() -> None:
    assert split_completion([{"type": "text", "text": "Just an answer."}]) == SplitCompletion(
        "", "Just an answer.", NONE
    )


# --- inline tags -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "<think>\nThe request is risky.\n</think>\n\nI cannot help.",
            SplitCompletion("The request is risky.", "I cannot help.", INLINE),
            id="complete-block",
        ),
        pytest.param(
            "The template opened the tag.\n</think>\n\nI cannot help.",
            SplitCompletion("The template opened the tag.", "I cannot help.", INLINE),
            id="opening-tag-missing",
        ),
        pytest.param(
            "<think>\nStill thinking when the tokens ran o",
            SplitCompletion("Still thinking when the tokens ran o", "", INLINE),
            id="closing-tag-missing",
        ),
        pytest.param(
            "<THINK >Shouted tags.</ Think>Answer.",
            SplitCompletion("Shouted tags.", "Answer.", INLINE),
            id="case-and-spaces-in-tags",
        ),
        pytest.param(
            "<think>one</think>Middle.<think>two</think>End.",
            SplitCompletion("one\n\ntwo", "Middle.\n\nEnd.", INLINE),
            id="two-blocks",
        ),
        pytest.param(
            "Preface. <think>why</think> Answer.",
            SplitCompletion("why", "Preface.\n\nAnswer.", INLINE),
            id="text-before-the-block-is-answer",
        ),
        pytest.param(
            "<think>\n\n</think>\n\nAnswer without thought.",
            SplitCompletion("", "Answer without thought.", NONE),
            id="empty-block-is-no-reasoning",
        ),
        pytest.param(
            "Plain answer, no tags.",
            SplitCompletion("", "Plain answer, no tags.", NONE),
            id="no-tags",
        ),
        pytest.param(
            "<think>a</think>Answer.</think>",
            SplitCompletion("a", "Answer.", INLINE),
            id="stray-closing-tag-dropped",
        ),
        pytest.param("", SplitCompletion("", "", NONE), id="empty"),
    ],
)
def test_inline_think_tags(content: str, expected: SplitCompletion) -> None:
    assert split_completion(content) == expected


def test_other_tag_names_are_configurable() -> None:
    text = "<thinking>Hmm.</thinking>Answer."
    assert split_inline_tags(text, ["thinking", "reasoning"]) == SplitCompletion(
        "Hmm.", "Answer.", INLINE
    )
    assert split_inline_tags("<reasoning>R</reasoning>A", ["thinking", "reasoning"]) == (
        SplitCompletion("R", "A", INLINE)
    )
    # With only "thinking" configured, <think> is ordinary text.
    assert split_inline_tags("<think>x</think>A", ["thinking"]) == SplitCompletion(
        "", "<think>x</think>A", NONE
    )


def test_a_block_closes_only_on_its_own_tag_name() -> None:
    text = "<thinking>uses </reasoning> inside</thinking>Answer."
    assert split_inline_tags(text, ["thinking", "reasoning"]) == SplitCompletion(
        "uses </reasoning> inside", "Answer.", INLINE
    )


def test_no_configured_tag_names_means_no_inline_reasoning() -> None:
    assert split_inline_tags("<think>x</think>A", []) == SplitCompletion(
        "", "<think>x</think>A", NONE
    )


# --- opening tag emitted by the chat template (declared per backend) -------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "The user wants a lock picked. I should not help with bre",
            SplitCompletion("The user wants a lock picked. I should not help with bre", "", INLINE),
            id="cut-off-before-the-closing-tag-is-all-reasoning",
        ),
        pytest.param(
            "Reasoning.\n</think>\n\nAnswer.",
            SplitCompletion("Reasoning.", "Answer.", INLINE),
            id="closing-tag-splits-as-without-the-setting",
        ),
        pytest.param(
            "<think>Reasoning.</think>Answer.",
            SplitCompletion("Reasoning.", "Answer.", INLINE),
            id="a-whole-block-splits-as-without-the-setting",
        ),
        pytest.param(
            "\n\n</think>\n\nAnswer.",
            SplitCompletion("", "Answer.", NONE),
            id="empty-reasoning-before-the-closing-tag-is-no-reasoning",
        ),
        pytest.param("  \n ", SplitCompletion("", "", NONE), id="blank-is-no-reasoning"),
        pytest.param(None, SplitCompletion("", "", NONE), id="null-content-is-no-reasoning"),
    ],
)
def test_with_the_opening_tag_in_the_template(
    content: str | None, expected: SplitCompletion
) -> None:
    assert split_completion(content, opened_by_template=True) == expected


def test_without_the_setting_tagless_content_stays_the_answer() -> None:
    assert split_completion("Cut off in the reasoning") == SplitCompletion(
        "", "Cut off in the reasoning", NONE
    )


def test_the_template_setting_uses_the_configured_tag_names() -> None:
    assert split_inline_tags(
        "Thinking.</reasoning>Answer.", ["reasoning"], opened_by_template=True
    ) == SplitCompletion("Thinking.", "Answer.", INLINE)
    # <think> is not a configured tag here, so the whole text is reasoning.
    assert split_inline_tags(
        "Thinking.</think>Answer.", ["reasoning"], opened_by_template=True
    ) == SplitCompletion("Thinking.</think>Answer.", "", INLINE)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"reasoning_content": "From the field."},
            SplitCompletion("From the field.", "Answer.", ReasoningSource.REASONING_CONTENT_FIELD),
            id="reasoning_content",
        ),
        pytest.param(
            {"reasoning": "From the field."},
            SplitCompletion("From the field.", "Answer.", ReasoningSource.REASONING_FIELD),
            id="reasoning",
        ),
        # A blank field still means the endpoint separates reasoning: the content is the answer.
        pytest.param(
            {"reasoning_content": ""}, SplitCompletion("", "Answer.", NONE), id="empty-field"
        ),
        pytest.param({"reasoning": " "}, SplitCompletion("", "Answer.", NONE), id="blank-field"),
    ],
)
def test_a_reasoning_field_overrides_the_template_setting(
    fields: dict[str, str], expected: SplitCompletion
) -> None:
    assert split_completion("Answer.", opened_by_template=True, **fields) == expected


def test_reasoning_parts_override_the_template_setting() -> None:
    content = [{"type": "thinking", "thinking": "R."}, {"type": "text", "text": "A."}]
    assert split_completion(content, opened_by_template=True) == SplitCompletion(
        "R.", "A.", ReasoningSource.CONTENT_PARTS
    )


def test_streamed_tagless_content_with_the_template_setting_is_reasoning() -> None:
    parts = ChoiceParts()
    for piece in ["Okay, the user ", "asks about locks. ", "I need to"]:
        parts.add(content=piece)
    parts.add(finish_reason="length")
    split = split_parts(parts, opened_by_template=True)
    assert split == SplitCompletion("Okay, the user asks about locks. I need to", "", INLINE)
    assert sample_status(parts.finish_reason, split) is SampleStatus.TRUNCATED


def test_streamed_closing_tag_with_the_template_setting_splits() -> None:
    parts = ChoiceParts()
    for piece in ["Reason", "ing.</th", "ink>Ans", "wer."]:
        parts.add(content=piece)
    assert split_parts(parts, opened_by_template=True) == SplitCompletion(
        "Reasoning.", "Answer.", INLINE
    )


def test_a_streamed_empty_reasoning_field_overrides_the_template_setting() -> None:
    parts = ChoiceParts()
    parts.add(content="", reasoning_content="")
    parts.add(content="Answer.")
    assert split_parts(parts, opened_by_template=True) == SplitCompletion("", "Answer.", NONE)


# --- streamed deltas -------------------------------------------------------------------


def test_streamed_inline_tags_split_across_chunks_are_found() -> None:
    parts = ChoiceParts()
    for piece in ["<th", "ink>Reas", "oning.</thi", "nk>\n\nAns", "wer."]:
        parts.add(content=piece)
    parts.add(finish_reason="stop")
    assert split_parts(parts) == SplitCompletion("Reasoning.", "Answer.", INLINE)
    assert parts.finish_reason == "stop"


def test_streamed_reasoning_content_deltas_are_accumulated() -> None:
    parts = ChoiceParts()
    parts.add(content="", reasoning_content="Let me ")
    parts.add(reasoning_content="think.")
    parts.add(content="Done.")
    assert split_parts(parts) == SplitCompletion(
        "Let me think.", "Done.", ReasoningSource.REASONING_CONTENT_FIELD
    )


def test_streamed_reasoning_deltas_are_accumulated() -> None:
    parts = ChoiceParts()
    parts.add(reasoning="A ")
    parts.add(reasoning="thought.", content=None)
    parts.add(content="Answer.")
    assert split_parts(parts) == SplitCompletion(
        "A thought.", "Answer.", ReasoningSource.REASONING_FIELD
    )


def test_streamed_list_content_parts_keep_their_order() -> None:
    parts = ChoiceParts()
    parts.add(content=[{"type": "thinking", "thinking": "Think "}])
    parts.add(content=[{"type": "thinking", "thinking": "more."}])
    parts.add(content="Ans")
    parts.add(content=[{"type": "text", "text": "wer."}])
    assert split_parts(parts) == SplitCompletion(
        "Think more.", "Answer.", ReasoningSource.CONTENT_PARTS
    )


def test_a_delta_without_any_field_changes_nothing() -> None:
    parts = ChoiceParts()
    parts.add()
    assert split_parts(parts) == SplitCompletion("", "", NONE)
    assert parts.finish_reason is None


# --- sample status ---------------------------------------------------------------------


def test_length_finish_is_truncated_even_with_reasoning() -> None:
    split = split_completion("<think>cut off")
    assert sample_status("length", split) is SampleStatus.TRUNCATED


def test_no_reasoning_is_its_own_status_and_keeps_the_answer() -> None:
    split = split_completion("Just an answer.")
    assert sample_status("stop", split) is SampleStatus.NO_REASONING
    assert split.answer == "Just an answer."


def test_template_opened_reasoning_cut_off_on_length_is_truncated() -> None:
    split = split_completion("Still reasoning when the budget ran o", opened_by_template=True)
    assert sample_status("length", split) is SampleStatus.TRUNCATED
    assert (split.reasoning, split.answer) == ("Still reasoning when the budget ran o", "")


def test_template_opened_blank_content_has_no_reasoning() -> None:
    split = split_completion("", opened_by_template=True)
    assert sample_status("stop", split) is SampleStatus.NO_REASONING


def test_reasoning_and_a_normal_stop_is_ok() -> None:
    split = split_completion("A.", reasoning_content="R.")
    assert sample_status("stop", split) is SampleStatus.OK
    assert sample_status(None, split) is SampleStatus.OK
