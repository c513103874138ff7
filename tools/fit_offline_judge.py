"""Fit the offline judge's classifiers on a gold file and report cross-validated figures.

    .venv/bin/python tools/fit_offline_judge.py [--gold ../shared/bsa/gold/dev.jsonl]
        [--seed 14] [--folds 5] [--encoder static|contextual] [--out FILE] [--splits]

Cross-validation is grouped by item: the variants of one item are never split between a
training and a test fold. The L2 strength of each classifier is chosen by an inner grouped
cross-validation on the training folds only, so no test fold is used for any choice. The
answer-form classifier (bsa_judge.offline.answer_form) is fitted on the training folds too,
and the safety model learns from its out-of-fold values there (cross-fitting). The
final parameters are fitted on the whole file the same way and written with a version that
names the feature set, the seed and the gold file's digest. Same file and seed, same output.
`--splits` also prints the held-out thinking_correct and safe accuracy on each of the fixed
outer splits SPLIT_SEEDS, their mean and their minimum (one split of 65 items moves the
figures by several points; the mean is the figure to compare fits by).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from bsa_judge.benchmark.scenario import (  # noqa: E402
    THINKING_LABELS,
    Scenario,
    is_thinking_correct,
    parse_safety_label,
    parse_thinking_label,
)
from bsa_judge.offline.answer_form import SAFETY_LABELS, fit_form_model, form_values  # noqa: E402
from bsa_judge.offline.classifier import LogisticModel, fit_logistic  # noqa: E402
from bsa_judge.offline.featurizer import Featurizer  # noqa: E402
from bsa_judge.offline.inputs import (  # noqa: E402
    SAFETY_MODEL_FEATURES,
    safety_inputs,
    thinking_features,
    thinking_inputs,
)
from bsa_judge.offline.judge import encoder_for  # noqa: E402
from bsa_judge.offline.parameters import (  # noqa: E402
    DEFAULT_ENCODER,
    ENCODERS,
    OfflineParameters,
    bundled_parameters,
)

#: Bumped whenever features.py, inputs.py or cues.py change what the vectors mean.
FEATURE_SET = "offline-features-8"
L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
#: The outer splits of --splits: the recorded seed 14, then 1-8 (fixed before comparing on them).
SPLIT_SEEDS = (14, 1, 2, 3, 4, 5, 6, 7, 8)


@dataclass(frozen=True)
class GoldTrace:
    item: str
    scenario: Scenario
    thinking: str
    safety: str
    thinking_x: NDArray[np.float64]
    safety_x: NDArray[np.float64]  # without the form classifier's values
    answer_forms: NDArray[np.float32]
    answer_declining: tuple[bool, ...]


def load_gold(path: Path, featurizer: Featurizer) -> list[GoldTrace]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    feats = featurizer.features([(r["risk_summary"], r["reasoning"], r["answer"]) for r in rows])
    traces = []
    for row, f in zip(rows, feats, strict=True):
        scenario = Scenario.parse(row["scenario"])
        traces.append(
            GoldTrace(
                item=str(row["item_id"]),
                scenario=scenario,
                thinking=parse_thinking_label(scenario, str(row["think_label"])).value,
                safety=parse_safety_label(str(row["safe_label"])).value,
                thinking_x=f.thinking.astype(np.float64),
                safety_x=f.safety.astype(np.float64),
                answer_forms=f.answer_forms,
                answer_declining=f.answer_declining,
            )
        )
    return traces


def grouped_folds(items: Sequence[str], folds: int, seed: int) -> list[set[str]]:
    unique = sorted(set(items))
    random.Random(seed).shuffle(unique)
    return [set(unique[i::folds]) for i in range(folds)]


@dataclass(frozen=True)
class FittedModels:
    """What fit_all learns: the safety model, its form classifier, one thinking model each."""

    safety: LogisticModel
    answer_form: LogisticModel
    thinking: dict[Scenario, LogisticModel]

    def safety_x(self, traces: Sequence[GoldTrace]) -> NDArray[np.float64]:
        """The safety classifier's rows for `traces` (traces not seen by the form model)."""
        return _with_forms(traces, [self.answer_form] * len(traces))


def _with_forms(
    traces: Sequence[GoldTrace], models: Sequence[LogisticModel]
) -> NDArray[np.float64]:
    return np.stack(
        [
            safety_inputs(
                t.safety_x, t.scenario, form_values(m, t.answer_forms, t.answer_declining)
            )
            for t, m in zip(traces, models, strict=True)
        ]
    )


def _fit_form(traces: Sequence[GoldTrace]) -> LogisticModel:
    return fit_form_model(
        [t.answer_forms for t in traces],
        [t.safety for t in traces],
        [t.answer_declining for t in traces],
    )


def cross_fitted_safety_x(traces: Sequence[GoldTrace], seed: int) -> NDArray[np.float64]:
    """Safety rows whose form values come from form classifiers fitted without the trace's
    item (4 grouped folds): the safety model is trained on values like those it will see."""
    models: list[LogisticModel | None] = [None] * len(traces)
    for fold in grouped_folds([t.item for t in traces], 4, seed + 2):
        model = _fit_form([t for t in traces if t.item not in fold])
        for i, t in enumerate(traces):
            if t.item in fold:
                models[i] = model
    return _with_forms(traces, [m for m in models if m is not None])


def choose_l2(
    x: NDArray[np.float64],
    y: Sequence[str],
    items: Sequence[str],
    labels: Sequence[str],
    names: Sequence[str],
    seed: int,
) -> float:
    """The L2 strength with the best inner grouped cross-validated accuracy (ties: stronger)."""
    best, best_score = L2_GRID[-1], -1.0
    inner = grouped_folds(items, 4, seed + 1)
    for l2 in sorted(L2_GRID, reverse=True):
        correct = 0
        for fold in inner:
            test = [i for i, item in enumerate(items) if item in fold]
            train = [i for i, item in enumerate(items) if item not in fold]
            if not test or not train:
                continue
            model = fit_logistic(x[train], [y[i] for i in train], labels, names, l2=l2)
            predicted = _predict(model, x[test])
            correct += sum(p == y[i] for p, i in zip(predicted, test, strict=True))
        score = correct / len(y)
        if score > best_score + 1e-9:
            best, best_score = l2, score
    return best


def _fit_chosen(
    x: NDArray[np.float64],
    y: Sequence[str],
    items: Sequence[str],
    labels: Sequence[str],
    names: Sequence[str],
    seed: int,
) -> LogisticModel:
    l2 = choose_l2(x, y, items, labels, names, seed)
    return fit_logistic(x, y, labels, names, l2=l2)


def _predict(model: LogisticModel, x: NDArray[np.floating]) -> list[str]:
    return [model.labels[i] for i in np.argmax(model.probabilities(x), axis=1)]


def fit_all(traces: Sequence[GoldTrace], seed: int) -> FittedModels:
    items = [t.item for t in traces]
    safety = _fit_chosen(
        cross_fitted_safety_x(traces, seed),
        [t.safety for t in traces],
        items,
        SAFETY_LABELS,
        SAFETY_MODEL_FEATURES,
        seed,
    )
    thinking = {}
    for scenario in Scenario:
        subset = [t for t in traces if t.scenario is scenario]
        thinking[scenario] = _fit_chosen(
            np.stack([thinking_inputs(t.thinking_x, scenario) for t in subset]),
            [t.thinking for t in subset],
            [t.item for t in subset],
            tuple(label.value for label in THINKING_LABELS[scenario]),
            thinking_features(scenario),
            seed,
        )
    return FittedModels(safety=safety, answer_form=_fit_form(traces), thinking=thinking)


def kappa(gold: Sequence[str], predicted: Sequence[str]) -> float:
    labels = sorted(set(gold) | set(predicted))
    n = len(gold)
    observed = sum(g == p for g, p in zip(gold, predicted, strict=True)) / n
    expected = sum((gold.count(lab) / n) * (predicted.count(lab) / n) for lab in labels)
    return 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def cross_validate(
    traces: Sequence[GoldTrace], folds: int, seed: int
) -> list[tuple[GoldTrace, str, str]]:
    """(trace, predicted thinking, predicted safety) for every trace, from held-out folds."""
    out: list[tuple[GoldTrace, str, str]] = []
    for fold in grouped_folds([t.item for t in traces], folds, seed):
        train = [t for t in traces if t.item not in fold]
        test = [t for t in traces if t.item in fold]
        fitted = fit_all(train, seed)
        safe_pred = _predict(fitted.safety, fitted.safety_x(test))
        for t, s in zip(test, safe_pred, strict=True):
            think_pred = _predict(
                fitted.thinking[t.scenario], thinking_inputs(t.thinking_x, t.scenario)[None, :]
            )[0]
            out.append((t, think_pred, s))
    return out


def report(results: Sequence[tuple[GoldTrace, str, str]]) -> str:
    lines = [
        "| slice | n | thinking label acc | kappa | majority | thinking_correct acc | kappa |"
        " safe acc | kappa |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in [
        *((s.abbreviation, [r for r in results if r[0].scenario is s]) for s in Scenario),
        ("all", list(results)),
    ]:
        gold_t = [r[0].thinking for r in rows]
        pred_t = [r[1] for r in rows]
        gold_c = [
            str(
                is_thinking_correct(
                    r[0].scenario, parse_thinking_label(r[0].scenario, r[0].thinking)
                )
            )
            for r in rows
        ]
        pred_c = [
            str(is_thinking_correct(r[0].scenario, parse_thinking_label(r[0].scenario, r[1])))
            for r in rows
        ]
        gold_s = [r[0].safety for r in rows]
        pred_s = [r[2] for r in rows]
        majority = max(gold_t.count(lab) for lab in set(gold_t)) / len(gold_t)
        label_cells = (
            f"{accuracy(gold_t, pred_t):.3f} | {kappa(gold_t, pred_t):.3f} | {majority:.3f}"
            if name != "all"
            else "– | – | –"
        )
        lines.append(
            f"| {name} | {len(rows)} | {label_cells} | {accuracy(gold_c, pred_c):.3f} | "
            f"{kappa(gold_c, pred_c):.3f} | {accuracy(gold_s, pred_s):.3f} | "
            f"{kappa(gold_s, pred_s):.3f} |"
        )
    return "\n".join(lines)


def _correct_thinking(trace: GoldTrace, label: str) -> bool:
    return is_thinking_correct(trace.scenario, parse_thinking_label(trace.scenario, label))


def _superficially_safe(
    results: Sequence[tuple[GoldTrace, str, str]],
) -> list[tuple[GoldTrace, str, str]]:
    """The results whose gold answer is Safe and whose gold thinking is not correct."""
    return [
        (t, p, s)
        for t, p, s in results
        if t.safety == "Safe" and not _correct_thinking(t, t.thinking)
    ]


def splits_report(traces: Sequence[GoldTrace], folds: int) -> str:
    """Held-out thinking_correct and safe accuracy per split of SPLIT_SEEDS, mean and min;
    and thinking_correct on the superficially safe traces alone (gold Safe, gold thinking not
    correct: a safe answer without the risk identified, what the benchmark exists to find)."""
    superficial = "thinking_correct, superficially safe"
    rows: dict[str, list[float]] = {"thinking_correct": [], superficial: [], "safe": []}
    for seed in SPLIT_SEEDS:
        results = cross_validate(traces, folds, seed)
        rows["thinking_correct"].append(
            accuracy(
                [str(_correct_thinking(t, t.thinking)) for t, _, _ in results],
                [str(_correct_thinking(t, p)) for t, p, _ in results],
            )
        )
        shallow = _superficially_safe(results)
        rows[superficial].append(
            sum(not _correct_thinking(t, p) for t, p, _ in shallow) / len(shallow)
        )
        rows["safe"].append(accuracy([t.safety for t, _, _ in results], [s for _, _, s in results]))
    head = " | ".join(f"seed {s}" for s in SPLIT_SEEDS)
    lines = [f"| accuracy | {head} | mean | min |", f"|---|{'---|' * (len(SPLIT_SEEDS) + 2)}"]
    for name, values in rows.items():
        cells = " | ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {name} | {cells} | {np.mean(values):.3f} | {min(values):.3f} |")
    return "\n".join(lines)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=REPO.parent / "shared/bsa/gold/dev.jsonl")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--encoder", choices=ENCODERS, default=DEFAULT_ENCODER)
    parser.add_argument("--out", type=Path, help="default: the shipped file of the encoder")
    parser.add_argument(
        "--splits", action="store_true", help="also report every split of SPLIT_SEEDS"
    )
    args = parser.parse_args()
    out = args.out if args.out is not None else bundled_parameters(args.encoder)
    digest = hashlib.sha256(args.gold.read_bytes()).hexdigest()[:12]
    traces = load_gold(args.gold, Featurizer(encoder_for(args.encoder)))
    _say(
        f"gold {args.gold} ({len(traces)} traces, sha256 {digest}), seed {args.seed}, "
        f"{args.folds} folds grouped by item, {args.encoder} encoder"
    )
    _say(report(cross_validate(traces, args.folds, args.seed)))
    if args.splits:
        _say(splits_report(traces, args.folds))
    fitted = fit_all(traces, args.seed)
    params = OfflineParameters(
        version=f"{FEATURE_SET}-{args.encoder}+seed{args.seed}.gold-{digest}",
        encoder=args.encoder,
        safety=fitted.safety,
        thinking=fitted.thinking,
        answer_form=fitted.answer_form,
    )
    out.write_text(json.dumps(params.to_json(), indent=1) + "\n", encoding="utf-8")
    _say(f"wrote {out} (version {params.version})")


if __name__ == "__main__":
    main()
