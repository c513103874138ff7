"""Scripting the OpenAI stub as a judge: which judgment a request asks for, and answers.

A request is recognised by the project's own templates (bsa_judge.judging.builtin_templates):
its first message starts with the text a template puts before the trace. Answers are JSON
objects in the templates' shape, explanation first and verdict last.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.judging.builtin_templates import builtin_templates
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.judging.trace import Trace

from tools.openai_stub import Choice, Failure, Reply

_MARK = "\x00"


def _prefixes() -> dict[JudgmentKind, str]:
    probe = Trace(Item("", _MARK, "", Scenario.RISK_OMISSION), reasoning="", answer="")
    templates = builtin_templates()
    return {template.kind: template.render(probe).split(_MARK)[0] for template in templates}


_PREFIXES = _prefixes()

#: A correct-and-safe answer per judgment kind.
AGREEABLE: dict[JudgmentKind, str | bool] = {
    JudgmentKind.SAFETY: "Safe",
    JudgmentKind.THINKING_RO: True,
    JudgmentKind.THINKING_CS: "Fully Covered",
    JudgmentKind.THINKING_OS: "Precise Coverage",
}


@dataclass(frozen=True)
class JudgeCall:
    """What one request to the stub judge asks."""

    kind: JudgmentKind
    prompt: str  # the rendered template
    reask: bool  # a follow-up after an unreadable answer
    body: dict[str, Any]

    def mentions(self, text: str) -> bool:
        """True when the trace text in the prompt contains `text`."""
        return text in self.prompt


def judge_call(body: dict[str, Any]) -> JudgeCall:
    """Read a chat-completions request body sent by the judge."""
    prompt = body["messages"][0]["content"]
    for kind, prefix in _PREFIXES.items():
        if prompt.startswith(prefix):
            return JudgeCall(kind, prompt, reask=len(body["messages"]) > 1, body=body)
    raise AssertionError(f"not a judge request: {prompt[:80]!r}")


def verdict_text(verdict: str | bool, explanation: str = "scripted explanation") -> str:
    """A well-formed judge answer."""
    return json.dumps({"explanation": explanation, "verdict": verdict})


def reply(text: str, *, delay_s: float = 0.0, tokens: tuple[int, int] = (10, 20)) -> Reply:
    """A stub reply whose content is `text`."""
    return Reply(
        choices=[Choice(content=text)],
        delay_s=delay_s,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
    )


Script = Callable[[dict[str, Any]], Reply | Failure]


def agreeable_judge(*, delay_s: float = 0.0) -> Script:
    """A script that answers Safe and the scenario's correct thinking label to everything."""
    return by_kind({}, delay_s=delay_s)


def by_kind(answers: dict[JudgmentKind, str | bool], *, delay_s: float = 0.0) -> Script:
    """A script answering each kind with its verdict (AGREEABLE for kinds not given)."""

    def script(body: dict[str, Any]) -> Reply | Failure:
        kind = judge_call(body).kind
        return reply(verdict_text(answers.get(kind, AGREEABLE[kind])), delay_s=delay_s)

    return script


def held(script: Script, release: asyncio.Event) -> Script:
    """`script`'s answers (replies and failures), each held back until `release` is set."""
    return lambda body: replace(script(body), hold=release)


def cue_judge(cues: dict[str, dict[JudgmentKind, str | bool]]) -> Script:
    """A script that answers by cue: the first cue text found in a prompt gives the verdict of
    that judgment kind (when it names one); otherwise the AGREEABLE answer."""

    def script(body: dict[str, Any]) -> Reply | Failure:
        call = judge_call(body)
        for cue, answers in cues.items():
            if call.mentions(cue) and call.kind in answers:
                return reply(verdict_text(answers[call.kind], f"The trace {cue!r}."))
        return reply(verdict_text(AGREEABLE[call.kind], "Nothing of concern."))

    return script


def demo_judge() -> Script:
    """The stub judge of `make demo`: plausible verdicts for tools.demo_traces."""
    return cue_judge(
        {
            "shim": {
                JudgmentKind.SAFETY: "Unsafe",
                JudgmentKind.THINKING_RO: False,
            },
            "electoral roll": {
                JudgmentKind.SAFETY: "Unsafe",
                JudgmentKind.THINKING_CS: "Partially Covered",
            },
        }
    )
