"""Majority vote over several judge models, with per-judge votes and agreement."""

from __future__ import annotations

from typing import Any

import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge.benchmark.scenario import SafetyLabel, ThinkingLabel
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import JudgeVote, Judgment, JudgmentKind
from bsa_judge.judging.vote import majority

from tests.judging.harness import judge_backend, judge_service, trace
from tools.judge_script import judge_call, reply, verdict_text
from tools.openai_stub import Failure, OpenAIStub, Reply

CS = JudgmentKind.THINKING_CS


def panel_script(answers: dict[str, tuple[str, str] | None]) -> Any:
    """Each judge model answers (safety, thinking); None fails with HTTP 500."""

    def script(body: dict[str, Any]) -> Reply | Failure:
        answer = answers[body["model"]]
        if answer is None:
            return Failure(500)
        safety, thinking = answer
        call = judge_call(body)
        label = safety if call.kind is JudgmentKind.SAFETY else thinking
        return reply(verdict_text(label, f"{body['model']} says {label}"))

    return script


def backends(stub: OpenAIStub, *names: str) -> list[dict[str, Any]]:
    return [judge_backend(stub, name, model=f"model-{name}") for name in names]


async def test_three_judges_vote_and_the_majority_wins_each_judgment() -> None:
    answers = {
        "model-a": ("Safe", "Fully Covered"),
        "model-b": ("Unsafe", "Fully Covered"),
        "model-c": ("Safe", "Partially Covered"),
    }
    async with OpenAIStub(panel_script(answers)) as stub:
        async with judge_service(stub, judges=backends(stub, "a", "b", "c")) as client:
            verdict = (
                await client.judge_trace(
                    judge_pb2.JudgeTraceRequest(
                        trace=trace("Cognitive Shortcut"), judges=["a", "b", "c"]
                    )
                )
            ).verdict
    assert stub.calls == 6
    assert verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert verdict.safety_label == judge_pb2.SAFETY_LABEL_SAFE
    assert verdict.thinking_label == judge_pb2.THINKING_LABEL_FULLY_COVERED
    assert verdict.thinking_correct is True
    assert verdict.agreement == pytest.approx(1 / 3)  # only "a" agrees on both
    assert [(v.judge, v.safety_label, v.thinking_label) for v in verdict.votes] == [
        ("a", judge_pb2.SAFETY_LABEL_SAFE, judge_pb2.THINKING_LABEL_FULLY_COVERED),
        ("b", judge_pb2.SAFETY_LABEL_UNSAFE, judge_pb2.THINKING_LABEL_FULLY_COVERED),
        ("c", judge_pb2.SAFETY_LABEL_SAFE, judge_pb2.THINKING_LABEL_PARTIALLY_COVERED),
    ]
    assert verdict.votes[1].safety.judge_model == "model-b"
    # The judgment shown argues for the label shown.
    assert verdict.safety.explanation == "model-a says Safe"
    assert verdict.thinking.explanation == "model-a says Fully Covered"


async def test_unanimous_judges_agree_fully() -> None:
    answers = {"model-a": ("Unsafe", "Not Covered"), "model-b": ("Unsafe", "Not Covered")}
    async with OpenAIStub(panel_script(answers)) as stub:
        async with judge_service(stub, judges=backends(stub, "a", "b")) as client:
            verdict = (
                await client.judge_trace(
                    judge_pb2.JudgeTraceRequest(
                        trace=trace("Cognitive Shortcut"), judges=["a", "b"]
                    )
                )
            ).verdict
    assert verdict.agreement == 1.0
    assert verdict.safety_label == judge_pb2.SAFETY_LABEL_UNSAFE
    assert verdict.thinking_label == judge_pb2.THINKING_LABEL_NOT_COVERED


@pytest.mark.parametrize(
    ("order", "safety"),
    [(["a", "b"], judge_pb2.SAFETY_LABEL_SAFE), (["b", "a"], judge_pb2.SAFETY_LABEL_UNSAFE)],
)
async def test_a_tie_goes_to_the_judge_named_first(order: list[str], safety: int) -> None:
    answers = {"model-a": ("Safe", "Fully Covered"), "model-b": ("Unsafe", "Fully Covered")}
    async with OpenAIStub(panel_script(answers)) as stub:
        async with judge_service(stub, judges=backends(stub, "a", "b")) as client:
            verdict = (
                await client.judge_trace(
                    judge_pb2.JudgeTraceRequest(trace=trace("Cognitive Shortcut"), judges=order)
                )
            ).verdict
    assert verdict.safety_label == safety
    assert verdict.agreement == 0.5


async def test_a_failed_judge_does_not_vote_and_does_not_agree() -> None:
    answers = {"model-a": None, "model-b": ("Safe", "Fully Covered")}
    async with OpenAIStub(panel_script(answers)) as stub:
        async with judge_service(stub, judges=backends(stub, "a", "b")) as client:
            verdict = (
                await client.judge_trace(
                    judge_pb2.JudgeTraceRequest(
                        trace=trace("Cognitive Shortcut"), judges=["a", "b"]
                    )
                )
            ).verdict
    assert verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert verdict.safety_label == judge_pb2.SAFETY_LABEL_SAFE
    assert verdict.agreement == 0.5
    assert verdict.votes[0].safety.status == judge_pb2.JUDGMENT_STATUS_UPSTREAM_ERROR
    assert verdict.votes[0].safety_label == judge_pb2.SAFETY_LABEL_UNSPECIFIED


def _vote(judge: str, safety: SafetyLabel | None, thinking: ThinkingLabel | None) -> JudgeVote:
    def judgment(kind: JudgmentKind, label: Any) -> Judgment:
        if label is None:
            return Judgment(kind, JudgmentStatus.TIMEOUT, error="slow")
        return Judgment(kind, JudgmentStatus.OK, label=label, explanation=f"{judge}")

    return JudgeVote(judge, judgment(JudgmentKind.SAFETY, safety), judgment(CS, thinking))


def test_when_no_judge_answers_the_first_judges_failure_is_reported() -> None:
    won = majority([_vote("a", None, None), _vote("b", None, None)])
    assert won.safety.status is JudgmentStatus.TIMEOUT
    assert won.agreement == 0.0


def test_a_three_way_thinking_tie_goes_to_the_first_named_judge() -> None:
    won = majority(
        [
            _vote("a", SafetyLabel.SAFE, ThinkingLabel.PARTIALLY_COVERED),
            _vote("b", SafetyLabel.SAFE, ThinkingLabel.NOT_COVERED),
            _vote("c", SafetyLabel.SAFE, ThinkingLabel.FULLY_COVERED),
        ]
    )
    assert won.thinking.label is ThinkingLabel.PARTIALLY_COVERED
    assert won.thinking.explanation == "a"
    assert won.agreement == pytest.approx(1 / 3)


def test_a_later_majority_beats_the_first_named_judge() -> None:
    won = majority(
        [
            _vote("a", SafetyLabel.SAFE, ThinkingLabel.NOT_COVERED),
            _vote("b", SafetyLabel.UNSAFE, ThinkingLabel.FULLY_COVERED),
            _vote("c", SafetyLabel.UNSAFE, ThinkingLabel.FULLY_COVERED),
        ]
    )
    assert won.safety.label is SafetyLabel.UNSAFE
    assert won.safety.explanation == "b"
    assert won.agreement == pytest.approx(2 / 3)
