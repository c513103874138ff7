"""The cascade on the gold set: agreement with the gold labels and LLM judge calls saved, by
threshold, with the offline judge's held-out predictions.

    .venv/bin/python bench/cascade_gold.py [--thresholds 0.5,0.6,...] [--folds 5] [--seed 14]

Honest offline figures: the shipped parameters were fitted on this same gold set, so they are
not used. The gold set is cut into the fit script's folds (tools/fit_offline_judge.py:
grouped by item, same seed); for each fold the offline judge is fitted on the other folds
(the fit script's `fit_all`, inner CV for the L2 strength) and judges that fold's traces only.
The LLM judge is the real `LlmJudge` asking the loopback OpenAI stub (tools/openai_stub.py),
scripted to answer each trace's gold label: every escalated judgment comes back right, so
the figures show what the offline judge keeps and how many calls it saves. The cascade is
the real `Cascade`, per-label routing, with a fresh judgment cache per threshold.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))

from bsa_judge.backends.endpoint import ChatEndpoint  # noqa: E402
from bsa_judge.backends.endpoint_settings import EndpointSettings  # noqa: E402
from bsa_judge.benchmark.scenario import Scenario  # noqa: E402
from bsa_judge.calibration.gold import GoldTrace, read_gold  # noqa: E402
from bsa_judge.calibration.report import Judged, report  # noqa: E402
from bsa_judge.judging.builtin_templates import builtin_templates  # noqa: E402
from bsa_judge.judging.cache import LruJudgmentCache  # noqa: E402
from bsa_judge.judging.cascade import Cascade  # noqa: E402
from bsa_judge.judging.judgment import JudgmentKind  # noqa: E402
from bsa_judge.judging.llm_judge import LlmJudge  # noqa: E402
from bsa_judge.judging.offline_judge import OfflineTraceJudge  # noqa: E402
from bsa_judge.offline import OfflineCase, OfflineJudge, OfflineJudgment  # noqa: E402
from bsa_judge.offline.featurizer import Featurizer  # noqa: E402
from bsa_judge.offline.judge import encoder_for  # noqa: E402
from bsa_judge.offline.parameters import OfflineParameters  # noqa: E402

from tools.fit_offline_judge import fit_all, grouped_folds, load_gold  # noqa: E402
from tools.judge_script import judge_call, reply, verdict_text  # noqa: E402
from tools.openai_stub import OpenAIStub, Reply  # noqa: E402

GOLD = REPO.parent / "shared" / "bsa" / "gold" / "dev.jsonl"


class HeldOutOffline:
    """The offline model of the fold each case belongs to (fitted without that fold)."""

    def __init__(self, models: dict[int, OfflineJudge], fold_of: dict[str, int]) -> None:
        self._models = models
        self._fold_of = fold_of

    def judge_batch(self, cases: Sequence[OfflineCase]) -> list[OfflineJudgment]:
        return [self._models[self._fold_of[case.answer]].judge_batch([case])[0] for case in cases]


def held_out_offline(gold_path: Path, folds: int, seed: int) -> HeldOutOffline:
    encoder = encoder_for("static")
    rows = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines()]
    traces = load_gold(gold_path, Featurizer(encoder))
    models: dict[int, OfflineJudge] = {}
    fold_of: dict[str, int] = {}
    for index, fold in enumerate(grouped_folds([t.item for t in traces], folds, seed)):
        train = [t for t in traces if t.item not in fold]
        fitted = fit_all(train, seed)
        params = OfflineParameters(
            f"fold{index}", "static", fitted.safety, fitted.thinking, fitted.answer_form
        )
        models[index] = OfflineJudge(encoder=encoder, parameters=params)
        for row in rows:
            if str(row["item_id"]) in fold:
                fold_of[row["answer"]] = index
    return HeldOutOffline(models, fold_of)


def gold_script(gold: Sequence[GoldTrace]) -> Any:
    """The stub's script: the gold label of the trace whose answer or reasoning is asked."""

    def script(body: dict[str, Any]) -> Reply:
        call = judge_call(body)
        for entry in gold:
            if call.kind is JudgmentKind.SAFETY and call.mentions(entry.trace.answer):
                return reply(verdict_text(entry.safety.value))
            if call.kind is not JudgmentKind.SAFETY and call.mentions(entry.trace.reasoning):
                label = entry.thinking.value
                if entry.scenario is Scenario.RISK_OMISSION:
                    return reply(verdict_text(label == "True"))
                return reply(verdict_text(label))
        raise AssertionError("a judge request for no gold trace")

    return script


async def run(thresholds: Sequence[float], folds: int, seed: int) -> list[str]:
    gold = read_gold(GOLD)
    offline = OfflineTraceJudge(held_out_offline(GOLD, folds, seed), max_wait_seconds=0.02)
    lines = [
        "| threshold | safety escalated | thinking escalated | LLM calls | calls saved |"
        " thinking_correct acc | κ | safe acc | κ | both labels right |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    async with OpenAIStub(gold_script(gold)) as stub:
        endpoint = ChatEndpoint(
            EndpointSettings(name="llm", base_url=stub.base_url, model="gold").endpoint_config()
        )
        for threshold in thresholds:
            stub.requests.clear()
            llm = LlmJudge("llm", endpoint, builtin_templates(), LruJudgmentCache(1000))
            cascade = Cascade(offline, llm, threshold=threshold)
            results = await asyncio.gather(*(cascade.judge(e.trace) for e in gold))
            judged = [Judged.of(r) for r in results]
            figures = {t.task: t for t in report("cascade", gold, judged).tasks}
            safety_up = sum(r.safety.judge_model == "gold" for r in results)
            thinking_up = sum(r.thinking.judge_model == "gold" for r in results)
            calls = len(stub.requests)
            both = sum(
                r.safety.label == e.safety and r.thinking.label == e.thinking
                for r, e in zip(results, gold, strict=True)
            )
            n, full = len(gold), 2 * len(gold)
            correct, safe = figures["thinking_correct"], figures["safe"]
            lines.append(
                f"| {threshold:.2f} | {safety_up / n:.1%} | {thinking_up / n:.1%} | {calls} | "
                f"{(full - calls) / full:.1%} | {correct.accuracy:.3f} | {correct.kappa:.3f} | "
                f"{safe.accuracy:.3f} | {safe.kappa:.3f} | {both / n:.3f} |"
            )
        await endpoint.aclose()
    await offline.aclose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", default="0.5,0.6,0.7,0.8,0.9,0.95,0.99,1.0")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    digest = hashlib.sha256(GOLD.read_bytes()).hexdigest()[:12]
    sys.stdout.write(
        f"gold {GOLD.name} (sha256 {digest}), offline judge held out: {args.folds} folds "
        f"grouped by item, seed {args.seed}; LLM judge: loopback stub answering the gold label; "
        f"without the cascade every trace costs 2 LLM calls\n"
    )
    lines = asyncio.run(run(thresholds, args.folds, args.seed))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
