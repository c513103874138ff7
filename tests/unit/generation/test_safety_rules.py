"""Safety-rules mode: our own rules by default, or an official-format file; rules per category."""

from pathlib import Path

import pytest
from bsa_judge.benchmark.dataset import load_items
from bsa_judge.benchmark.item import PRIMARY_CATEGORIES
from bsa_judge.generation.safety_rules import (
    SafetyRule,
    SafetyRulesError,
    load_safety_rules,
    parse_safety_rules,
    rules_for_label,
    system_prompt,
)

SHARED_BSA = Path(__file__).resolve().parents[3] / ".." / "shared" / "bsa"
OFFICIAL_RULES = SHARED_BSA / "prompts" / "Safe_Rules.md"

RULES = """
Any text before the first section is ignored.

# Risk Category: Rumors

**Risk Facts**: Made-up claims.
More about them on a second line.

**Response strategy**: Point to sources.

## risk category:  Child Pornography
**Risk Facts** Sexual content about minors.
**RESPONSE STRATEGY**: Refuse and report.
"""


def test_the_built_in_rules_cover_the_nine_categories_in_their_own_words() -> None:
    rules = load_safety_rules()
    assert [rule.category for rule in rules] == list(PRIMARY_CATEGORIES)
    assert all(rule.risk_facts and rule.response_strategy for rule in rules)


def test_a_rules_file_is_read_section_by_section() -> None:
    assert parse_safety_rules(RULES) == (
        SafetyRule(
            "Rumors", "Made-up claims.\nMore about them on a second line.", "Point to sources."
        ),
        SafetyRule("Child Pornography", "Sexual content about minors.", "Refuse and report."),
    )


@pytest.mark.parametrize("rules_file", [None, OFFICIAL_RULES], ids=["built-in", "official"])
def test_every_dataset_label_chooses_one_rule_per_primary_category(
    rules_file: Path | None,
) -> None:
    rules = load_safety_rules(rules_file)
    assert len(rules) == 9
    for item in load_items(SHARED_BSA / "dataset.csv"):
        chosen = rules_for_label(rules, item.label)
        assert len(chosen) == len(item.primary_categories), item.label


def test_the_official_rules_file_matches_its_own_spellings() -> None:
    rules = load_safety_rules(OFFICIAL_RULES)
    # The official file spells one heading "Offensive and Prejudice" and files pornography
    # under its secondary category; both still match the dataset's labels.
    assert rules_for_label(rules, "Offense and Prejudice-Abuse and Hate Speech")[0].category == (
        "Offensive and Prejudice"
    )
    assert rules_for_label(rules, "Pornography-Child Pornography")[0].category == (
        "Child Pornography"
    )


def test_a_cognitive_shortcut_label_chooses_the_rules_of_both_queries() -> None:
    rules = load_safety_rules()
    label = "Query A: Rumors-Rumors with Negative Impact\nQuery B: Pornography-Child Pornography"
    assert [rule.category for rule in rules_for_label(rules, label)] == ["Rumors", "Pornography"]


@pytest.mark.parametrize("label", ["", "Unknown Category-Whatever"])
def test_without_a_known_category_every_rule_is_carried(label: str) -> None:
    rules = load_safety_rules()
    assert rules_for_label(rules, label) == rules


def test_the_system_prompt_carries_the_chosen_rules_in_the_file_format() -> None:
    rules = parse_safety_rules(RULES)
    prompt = system_prompt(rules, "Rumors-Rumors with Negative Impact")
    assert prompt.endswith(
        "\n\n# Risk Category: Rumors\n\n"
        "**Risk Facts**: Made-up claims.\nMore about them on a second line.\n\n"
        "**Response strategy**: Point to sources."
    )
    assert "Child Pornography" not in prompt
    assert prompt.startswith("Before you answer, check the user's request")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no sections here", "no '# Risk Category: <name>' section found"),
        ("# Risk Category: X\n**Risk Facts**: f\n", "risk category 'X': missing Response strategy"),
        (
            "# Risk Category: Y\n\n",
            "risk category 'Y': missing Risk Facts and Response strategy",
        ),
    ],
)
def test_a_malformed_rules_file_names_the_section(text: str, message: str) -> None:
    with pytest.raises(SafetyRulesError, match=message):
        parse_safety_rules(text, source="rules.md")


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SafetyRulesError, match=r"safety rules file .*absent\.md: No such file"):
        load_safety_rules(tmp_path / "absent.md")
