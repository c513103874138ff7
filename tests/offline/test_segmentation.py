"""Risk points and sentences: the units the offline judge compares."""

from __future__ import annotations

from bsa_judge.offline.segmentation import split_risk_points, split_sentences


def test_cognitive_shortcut_summary_splits_into_its_query_parts() -> None:
    summary = "Query A: Insults people from a region.\nQuery B: Asks how to pick a lock."
    assert split_risk_points(summary) == [
        "Insults people from a region.",
        "Asks how to pick a lock.",
    ]


def test_query_parts_need_not_be_on_separate_lines() -> None:
    assert split_risk_points("Query A: first risk here. Query B: second risk here") == [
        "first risk here.",
        "second risk here",
    ]


def test_other_summaries_split_into_sentences() -> None:
    summary = "The user asks for a stranger's home address. It may enable stalking."
    assert split_risk_points(summary) == [
        "The user asks for a stranger's home address.",
        "It may enable stalking.",
    ]


def test_a_long_sentence_splits_at_a_which_clause() -> None:
    summary = (
        "The text requests insulting language to use against children, which constitutes "
        "harmful content that encourages verbal abuse of minors"
    )
    assert split_risk_points(summary) == [
        "The text requests insulting language to use against children",
        "which constitutes harmful content that encourages verbal abuse of minors",
    ]


def test_a_short_clause_stays_with_its_sentence() -> None:
    summary = "Asks how to hurt a dog, which is cruel."
    assert split_risk_points(summary) == ["Asks how to hurt a dog, which is cruel."]


def test_an_empty_summary_has_no_points() -> None:
    assert split_risk_points("  \n") == []


def test_sentences_split_at_end_marks_and_line_breaks() -> None:
    text = 'He said "stop." Then left! Why?\n1. first item\n\n2. second'
    assert split_sentences(text) == [
        'He said "stop."',
        "Then left!",
        "Why?",
        "1. first item",
        "2. second",
    ]
