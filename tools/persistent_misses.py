"""Which gold traces the shipped offline safety model gets wrong on most outer splits.

    flock /tmp/bench.lock .venv/bin/python tools/persistent_misses.py
        [--gold ../shared/bsa/gold/dev.jsonl] [--folds 5] [--encoder static|contextual]
        [--min-wrong 1]

Runs the shipped pipeline (tools/fit_offline_judge.fit_all: cross-fitted form classifier,
inner CV for L2) held out on each of the nine outer splits SPLIT_SEEDS, and prints one row
per trace wrong on at least `--min-wrong` splits: how many of the 9 splits it was
misclassified on, its item and variant, scenario, gold safe label, the mean held-out
P(Unsafe), and which answer cues fired (refusal, blanket, redirection, compliance matches,
list lines, declining sentences of all). It prints to the terminal only: the rows name the
cue matches (a few words each), never the answer's text, and are not to be pasted into the
project. Reading these misses is selection on the dev set; see bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))

from bsa_judge.offline import cues  # noqa: E402
from bsa_judge.offline.answer_form import declines  # noqa: E402
from bsa_judge.offline.features import LIST_LINE  # noqa: E402
from bsa_judge.offline.featurizer import Featurizer  # noqa: E402
from bsa_judge.offline.judge import encoder_for  # noqa: E402
from bsa_judge.offline.parameters import DEFAULT_ENCODER, ENCODERS  # noqa: E402
from bsa_judge.offline.segmentation import split_sentences  # noqa: E402

from tools.fit_offline_judge import (  # noqa: E402
    SPLIT_SEEDS,
    fit_all,
    grouped_folds,
    load_gold,
)


def _matches(pattern: re.Pattern[str], text: str) -> str:
    found = [m.group(0).strip().lower() for m in pattern.finditer(text)]
    return ",".join(f"{k}x{n}" if n > 1 else k for k, n in Counter(found).items()) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=REPO.parent / "shared/bsa/gold/dev.jsonl")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--encoder", choices=ENCODERS, default=DEFAULT_ENCODER)
    parser.add_argument("--min-wrong", type=int, default=1)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line]
    traces = load_gold(args.gold, Featurizer(encoder_for(args.encoder)))
    index = {id(t): i for i, t in enumerate(traces)}
    unsafe = np.zeros((len(SPLIT_SEEDS), len(traces)))
    for s, seed in enumerate(SPLIT_SEEDS):
        for fold in grouped_folds([t.item for t in traces], args.folds, seed):
            fitted = fit_all([t for t in traces if t.item not in fold], seed)
            test = [t for t in traces if t.item in fold]
            column = fitted.safety.labels.index("Unsafe")
            p = fitted.safety.probabilities(fitted.safety_x(test))[:, column]
            for t, value in zip(test, p, strict=True):
                unsafe[s, index[id(t)]] = value
    gold_unsafe = np.array([t.safety == "Unsafe" for t in traces])
    wrong = ((unsafe >= 0.5) != gold_unsafe[None, :]).sum(axis=0)
    accuracy = 1.0 - ((unsafe >= 0.5) != gold_unsafe[None, :]).mean(axis=1)
    sys.stdout.write(
        "safe accuracy per split: "
        + " ".join(f"{seed}:{a:.3f}" for seed, a in zip(SPLIT_SEEDS, accuracy, strict=True))
        + f"  mean {accuracy.mean():.3f}\n"
    )
    histogram = Counter(int(w) for w in wrong)
    sys.stdout.write(
        "traces by splits wrong: "
        + " ".join(f"{k}/9:{histogram[k]}" for k in range(len(SPLIT_SEEDS) + 1))
        + f"  (>=7/9: {int((wrong >= 7).sum())})\n"
    )
    order = sorted(range(len(traces)), key=lambda i: (-wrong[i], traces[i].item))
    for i in order:
        if wrong[i] < args.min_wrong:
            continue
        row, answer = rows[i], rows[i]["answer"]
        sentences = split_sentences(answer)
        sys.stdout.write(
            f"{wrong[i]}/9 item {row['item_id']} v{row['variant']} {row['scenario']} "
            f"gold {row['safe_label']} p_unsafe {unsafe[:, i].mean():.2f} | "
            f"refusal {_matches(cues.REFUSAL, answer)} | blanket {_matches(cues.BLANKET, answer)}"
            f" | redirect {_matches(cues.REDIRECTION, answer)}"
            f" | comply {_matches(cues.COMPLIANCE, answer)}"
            f" | lists {len(LIST_LINE.findall(answer))}"
            f" | declining {sum(declines(x) for x in sentences)}/{len(sentences)}\n"
        )


if __name__ == "__main__":
    main()
