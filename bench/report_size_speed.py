"""How big and how fast is `bsa-judge report` on a full comparison? 10 models x 2,000 items x 5.

    .venv/bin/python bench/report_size_speed.py          # three runs, the fastest kept

Builds one run folder as `bsa-judge run` writes it: verdicts.jsonl (the JSONL export with the
optional judging details: explanations, judge, templates, attempts, cache hits, votes) and
samples.jsonl (reasoning of about 1,500 characters and an answer of about 400 per sample),
for 10 models over the 2,000 items of ../shared/bsa/dataset.csv (k = 5, 100,000 verdicts,
seeded random labels, 1% judge failures). Then times the whole command, in a fresh process
each time (imports included): `bsa-judge report RUN_DIR --dataset ... --output report.html`
with the default 1,000 bootstrap resamples, and reports the page's size and peak RSS.
Targets: under 10 s, under 5 MB. Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import csv
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "bsa" / "dataset.csv"
MODELS = 10
ITEMS = 2000
K = 5
THINKING = {
    "Risk Omission": ("True", "False"),
    "Cognitive Shortcut": ("Fully Covered", "Partially Covered", "Not Covered"),
    "Over Sensitivity": ("Precise Coverage", "Over Sensitive", "Not Covered"),
}
WORDS = ("the", "user", "asks", "about", "a", "risk", "that", "I", "should", "weigh", "first")


def prose(rng: random.Random, characters: int) -> str:
    """Filler text of `characters` characters, from a random place in a long text."""
    start = rng.randrange(len(_TEXT) - characters)
    return _TEXT[start : start + characters]


_TEXT = " ".join(random.Random(1).choice(WORDS) for _ in range(20_000))


def write_run(folder: Path) -> None:
    with DATASET.open(newline="", encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))[:ITEMS]
    rng = random.Random(0)
    with (
        (folder / "verdicts.jsonl").open("w", encoding="utf-8") as verdicts,
        (folder / "samples.jsonl").open("w", encoding="utf-8") as samples,
    ):
        for number in range(MODELS):
            model = f"model-{number:02d}"
            safe_rate, think_rate = 0.55 + 0.04 * number, 0.25 + 0.05 * number
            for item in items:
                scenario = item["dataset_name"]
                correct, *wrong = THINKING[scenario]
                for index in range(K):
                    failed = rng.random() < 0.01
                    row = {
                        "model": model, "item_id": item["id"], "scenario": scenario,
                        "sample_index": index,
                        "safety_label": None if failed else
                        ("Safe" if rng.random() < safe_rate else "Unsafe"),
                        "thinking_label": None if failed else
                        (correct if rng.random() < think_rate else rng.choice(wrong)),
                        "status": "judge_unparseable" if failed else "ok",
                        "label": item["label"], "sample_status": "ok",
                        "safety_explanation": prose(rng, 160),
                        "thinking_explanation": prose(rng, 220),
                        "judge_model": "judge-model", "safety_template": "safety-v1",
                        "thinking_template": "thinking-v1",
                        "safety_attempts": 3 if failed else 1, "thinking_attempts": 1,
                        "cached": rng.random() < 0.1, "votes": [], "agreement": None,
                    }  # fmt: skip
                    verdicts.write(json.dumps(row) + "\n")
                    sample = {
                        "model": model, "item_id": item["id"], "sample_index": index,
                        "reasoning": prose(rng, 1500), "answer": prose(rng, 400), "status": "ok",
                    }  # fmt: skip
                    samples.write(json.dumps(sample) + "\n")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "run"
        folder.mkdir()
        started = time.perf_counter()
        write_run(folder)
        sizes = {
            name: (folder / name).stat().st_size / 1e6
            for name in ("verdicts.jsonl", "samples.jsonl")
        }
        print(f"run folder written in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{name} {size:.1f} MB" for name, size in sizes.items()))  # fmt: skip
        output = Path(scratch) / "report.html"
        command = [sys.executable, "-m", "bsa_judge.cli", "report", str(folder),
                   "--dataset", str(DATASET), "--output", str(output)]  # fmt: skip
        timings, cpu = [], []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            timings.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"python {platform.python_version()}, {platform.machine()}")
        print(f"bsa-judge report, {MODELS} models x {ITEMS} items x {K} samples: "
              f"{', '.join(f'{t:.2f}' for t in timings)} s (fastest {min(timings):.2f} s), "
              f"CPU {', '.join(f'{t:.2f}' for t in cpu)} s, "
              f"page {output.stat().st_size / 1e6:.2f} MB, peak RSS {peak_mb:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
