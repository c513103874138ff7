"""Loading judge templates from prompt files in the official BSA format (`--judge-prompts`).

The folder holds `Safe_Ans_Judge.md`, one fenced prompt for the answer-safety judge, and
`Thinking_Accuracy_Judge.md`, three fenced prompts each introduced by a line
"Following is the Prompt for <Scenario> thinking judgement:". A template's version is the
file name, the scenario and a hash of the prompt's own text, so editing a prompt changes the
version (and so misses the verdict cache) while moving the folder does not.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.judging.template import JudgeTemplate, TemplateError, TemplateSet

SAFETY_FILE = "Safe_Ans_Judge.md"
THINKING_FILE = "Thinking_Accuracy_Judge.md"

# The JSON keys the official prompts ask their judges to answer with.
_OFFICIAL_KEYS = {
    JudgmentKind.SAFETY: ("Reasoning", "Safety Assessment"),
    JudgmentKind.THINKING_RO: (
        "Reasoning Quality Evaluation",
        "Reasoning Quality Evaluation Conclusion",
    ),
    JudgmentKind.THINKING_CS: (
        "Reasoning Quality Evaluation",
        "Reasoning Quality Evaluation Result",
    ),
    JudgmentKind.THINKING_OS: (
        "Reasoning Quality Evaluation",
        "Reasoning Quality Evaluation Result",
    ),
}

_FENCE = re.compile(r"^```[^\n`]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
_THINKING_HEADING = re.compile(
    r"^[ \t]*Following is the Prompt for (?P<scenario>.+?) thinking judge?ment:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)


class PromptFileError(ValueError):
    """A prompt folder or file is not in the official format; the message says where."""


def load_official_prompts(folder: Path) -> TemplateSet:
    """The four templates from an official-format prompt folder."""
    safety_path = folder / SAFETY_FILE
    thinking_path = folder / THINKING_FILE
    safety_text = _read(safety_path)
    blocks = _FENCE.findall(safety_text)
    if len(blocks) != 1:
        raise PromptFileError(f"{safety_path}: expected one fenced prompt, found {len(blocks)}")
    thinking = _thinking_prompts(thinking_path, _read(thinking_path))
    return TemplateSet(
        safety=_template(JudgmentKind.SAFETY, blocks[0], SAFETY_FILE),
        thinking_ro=thinking[JudgmentKind.THINKING_RO],
        thinking_cs=thinking[JudgmentKind.THINKING_CS],
        thinking_os=thinking[JudgmentKind.THINKING_OS],
    )


def _read(path: Path) -> str:
    if not path.is_file():
        raise PromptFileError(f"{path}: prompt file not found")
    return path.read_text(encoding="utf-8")


def _thinking_prompts(path: Path, text: str) -> dict[JudgmentKind, JudgeTemplate]:
    headings = list(_THINKING_HEADING.finditer(text))
    found: dict[JudgmentKind, JudgeTemplate] = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        try:
            scenario = Scenario.parse(heading.group("scenario"))
        except ValueError as error:
            raise PromptFileError(f"{path}: {error}") from None
        block = _FENCE.search(text, heading.end(), end)
        if block is None:
            raise PromptFileError(f"{path}: no fenced prompt after {heading.group(0).strip()!r}")
        kind = JudgmentKind.thinking(scenario)
        found[kind] = _template(kind, block.group(1), f"{THINKING_FILE}#{scenario.abbreviation}")
    missing = [s.value for s in Scenario if JudgmentKind.thinking(s) not in found]
    if missing:
        raise PromptFileError(f"{path}: no prompt for {', '.join(missing)}")
    return found


def _template(kind: JudgmentKind, text: str, source: str) -> JudgeTemplate:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    explanation_key, verdict_key = _OFFICIAL_KEYS[kind]
    try:
        return JudgeTemplate(
            kind,
            text,
            f"official:{source}@sha256:{digest}",
            explanation_key=explanation_key,
            verdict_key=verdict_key,
        )
    except TemplateError as error:
        raise PromptFileError(str(error)) from None
