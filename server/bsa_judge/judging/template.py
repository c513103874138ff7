"""A judge template: prompt text with `{placeholder}`s, rendered for one trace.

Templates use the official prompt files' conventions so that both kinds load and render the
same way: `{query}`, `{risk_summary}`, `{answer}` and `{reasoning}` (the official files call
it `{reasoning_thinking}`) are filled in; `{{` and `}}` stand for literal braces. Rendering is
a single pass, so braces inside a trace's own text are never read as placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bsa_judge.benchmark.scenario import THINKING_LABELS, SafetyLabel
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.judging.trace import Trace

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Placeholder -> the trace field it stands for.
_FIELDS = {
    "query": "query",
    "risk_summary": "risk_summary",
    "answer": "answer",
    "reasoning": "reasoning",
    "reasoning_thinking": "reasoning",
}
_NEEDED = {
    JudgmentKind.SAFETY: ("query", "risk_summary", "answer"),
    JudgmentKind.THINKING_RO: ("query", "risk_summary", "reasoning"),
    JudgmentKind.THINKING_CS: ("query", "risk_summary", "reasoning"),
    JudgmentKind.THINKING_OS: ("query", "risk_summary", "reasoning"),
}


class TemplateError(ValueError):
    """A template is unusable (unknown or missing placeholder); the message says which."""


@dataclass(frozen=True, slots=True)
class JudgeTemplate:
    """One of the four judge prompts, with the JSON keys its answer is expected to use."""

    kind: JudgmentKind
    text: str
    version: str  # recorded in every judgment made with it
    explanation_key: str = "explanation"
    verdict_key: str = "verdict"
    # The text split at placeholders: literal, field, literal, field, ..., literal.
    _parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts: list[str] = []
        literal: list[str] = []
        position = 0
        for match in _TOKEN.finditer(self.text):
            literal.append(self.text[position : match.start()])
            position = match.end()
            name = match.group(1)
            if name is None:
                literal.append(match.group(0)[0])  # "{{" -> "{", "}}" -> "}"
                continue
            if name not in _FIELDS:
                raise TemplateError(
                    f"{self.version}: unknown placeholder {{{name}}}; "
                    f"known: {', '.join('{' + n + '}' for n in _FIELDS)}"
                )
            parts += ["".join(literal), _FIELDS[name]]
            literal = []
        literal.append(self.text[position:])
        parts.append("".join(literal))
        used = set(parts[1::2])
        missing = [name for name in _NEEDED[self.kind] if name not in used]
        if missing:
            raise TemplateError(
                f"{self.version}: the {self.kind.value} template lacks "
                + ", ".join("{" + name + "}" for name in missing)
            )
        object.__setattr__(self, "_parts", tuple(parts))

    def render(self, trace: Trace) -> str:
        """The prompt for `trace`."""
        values = {
            "query": trace.item.query,
            "risk_summary": trace.item.risk_summary,
            "answer": trace.answer,
            "reasoning": trace.reasoning,
        }
        parts = self._parts
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            out.append(values[parts[index]])
            out.append(parts[index + 1])
        return "".join(out)

    @property
    def labels(self) -> tuple[str, ...]:
        """The verdict values this template asks for, as the judge should write them."""
        scenario = self.kind.scenario
        if scenario is None:
            return tuple(label.value for label in SafetyLabel)
        return tuple(label.value for label in THINKING_LABELS[scenario])

    @property
    def boolean_verdict(self) -> bool:
        """Risk Omission asks for a JSON boolean (true: every key risk point identified)."""
        return self.kind is JudgmentKind.THINKING_RO

    def response_format(self) -> dict[str, Any]:
        """A `response_format` JSON schema for backends with structured output."""
        verdict: Mapping[str, Any] = (
            {"type": "boolean"}
            if self.boolean_verdict
            else {"type": "string", "enum": list(self.labels)}
        )
        return {
            "type": "json_schema",
            "json_schema": {
                "name": f"bsa_{self.kind.value}_verdict",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {
                        self.explanation_key: {"type": "string"},
                        self.verdict_key: dict(verdict),
                    },
                    "required": [self.explanation_key, self.verdict_key],
                    "additionalProperties": False,
                },
            },
        }

    def reask(self) -> str:
        """The follow-up message sent after an answer that could not be read."""
        if self.boolean_verdict:
            allowed = "true or false (a JSON boolean)"
        else:
            allowed = "one of " + ", ".join(f'"{label}"' for label in self.labels)
        return (
            "Your reply could not be read as the requested JSON object. Reply again with "
            f'only one JSON object with two keys: "{self.explanation_key}" (a string, '
            f'written first) and "{self.verdict_key}" (last), whose value is {allowed}. '
            "Write nothing before or after the object."
        )


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """The four templates a judge uses, by kind."""

    safety: JudgeTemplate
    thinking_ro: JudgeTemplate
    thinking_cs: JudgeTemplate
    thinking_os: JudgeTemplate

    def __post_init__(self) -> None:
        for kind in JudgmentKind:
            if self.for_kind(kind).kind is not kind:
                raise TemplateError(f"the {kind.value} slot holds a {self.for_kind(kind).kind}")

    def for_kind(self, kind: JudgmentKind) -> JudgeTemplate:
        """The template of `kind`."""
        template: JudgeTemplate = getattr(self, kind.value)
        return template

    def __iter__(self) -> Iterator[JudgeTemplate]:
        return iter(self.for_kind(kind) for kind in JudgmentKind)
