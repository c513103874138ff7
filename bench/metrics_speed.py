"""How fast are the metrics? Verdict tables of 100k, 1M and 10M rows, and 1M rows from a CSV.

    .venv/bin/python bench/metrics_speed.py            # every measurement, ~1-2 minutes
    .venv/bin/python bench/metrics_speed.py --quick    # 100k and 1M rows only
    .venv/bin/python bench/metrics_speed.py --write-csv v1m.csv   # the 1M-row CSV, then exit
    .venv/bin/python bench/metrics_speed.py --cli-rounds 3 --csv v1m.csv --baseline /work/main/.venv

Tables look like real runs: the benchmark's 2,000 items (600 RO, 1,200 CS, 200 OS, labels
spread over the nine categories), k = 5, as many models as the size needs (10 per 100k rows),
seeded random verdicts, every sample with an explicit index (the duplicate check runs).
Each size runs in a fresh process so that its peak RSS is its own; each measurement runs three
times and the fastest is kept. Timed: validation and
tally plus every figure (`metrics_for`), without resampling and, for 40k and 1M rows, with
1,000 bootstrap resamples. End to end: an official-format CSV of 1M rows read, checked and
scored in a fresh process (imports included), and the `bsa-judge metrics` command on it,
without intervals and with its default ones (1,000 resamples).
`--cli-rounds N` times `bsa-judge metrics CSV [--bootstrap 0] --format csv --output /dev/null`
N times, interleaved with the same commands of the `--baseline` virtualenv's bsa-judge: CPU
(user + system of the child), wall and the load average before each run.
Results go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ITEMS = 2000
K = 5
SCENARIO_ITEMS = (("Risk Omission", 600), ("Cognitive Shortcut", 1200), ("Over Sensitivity", 200))
THINKING = {
    "Risk Omission": ("True", "False"),
    "Cognitive Shortcut": ("Fully Covered", "Partially Covered", "Not Covered"),
    "Over Sensitivity": ("Precise Coverage", "Over Sensitive", "Not Covered"),
}
CATEGORIES = (
    "Offense and Prejudice",
    "Specially Regulated Items",
    "Property Infringement",
    "Invasion of Privacy and Confidentiality",
    "Physical and Mental Health",
    "Violence and Terrorism",
    "Ethics and Morality",
    "Rumors",
    "Pornography",
)
REPO = Path(__file__).resolve().parents[1]


def verdict_table(rows: int, seed: int = 0) -> object:
    """ScoredSampleColumns of `rows` judged samples (a multiple of 10,000), built with numpy."""
    from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns

    rng = np.random.default_rng(seed)
    models = rows // (ITEMS * K)
    scenario_of_item = np.repeat(np.arange(3, dtype=np.int32), [n for _, n in SCENARIO_ITEMS])
    per_row_item = np.tile(np.repeat(np.arange(ITEMS, dtype=np.int32), K), models)
    scenario = scenario_of_item[per_row_item]
    thinking_values = tuple(dict.fromkeys(v for labels in THINKING.values() for v in labels))
    choice = rng.integers(0, 6, size=rows, dtype=np.int32)
    thinking = np.empty(rows, dtype=np.int32)
    for index, (name, _) in enumerate(SCENARIO_ITEMS):
        codes = np.array([thinking_values.index(v) for v in THINKING[name]], dtype=np.int32)
        mask = scenario == index
        thinking[mask] = codes[choice[mask] % len(codes)]
    labels = tuple(
        f"Query A: {CATEGORIES[i % 9]}-X\nQuery B: {CATEGORIES[(i + 4) % 9]}-Y"
        if scenario_of_item[i] == 1
        else f"{CATEGORIES[i % 9]}-X"
        for i in range(ITEMS)
    )
    return ScoredSampleColumns(
        model=Factorized(
            np.repeat(np.arange(models, dtype=np.int32), ITEMS * K),
            tuple(f"model-{m:04d}" for m in range(models)),
        ),
        item_id=Factorized(per_row_item, tuple(f"{i:032x}" for i in range(ITEMS))),
        scenario=Factorized(scenario, tuple(name for name, _ in SCENARIO_ITEMS)),
        safety_label=Factorized((rng.random(rows) < 0.6).astype(np.int32), ("Unsafe", "Safe")),
        thinking_label=Factorized(thinking, thinking_values),
        sample_index=np.tile(np.arange(K, dtype=np.int64), rows // K),
        has_sample_index=np.ones(rows, dtype=np.bool_),
        label=Factorized(per_row_item, labels),
    )


def measure_one(rows: int, resamples: int) -> dict[str, float]:
    """In this process: build a table, score it; seconds and peak RSS."""
    from bsa_judge.metrics.compute import metrics_for
    from bsa_judge.metrics.report import MetricsOptions

    columns = verdict_table(rows)
    start = time.perf_counter()
    report = metrics_for(columns, MetricsOptions(k=K, bootstrap_resamples=resamples))  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    assert len(report.models) == rows // (ITEMS * K)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": rows, "resamples": resamples, "seconds": seconds, "peak_rss_mb": peak_mb}


def write_official_csv(path: Path, rows: int) -> None:
    """An official-format CSV of `rows` samples (written with pyarrow: quick to make)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    columns = verdict_table(rows)

    def texts(column: object) -> pa.Array:
        return pa.DictionaryArray.from_arrays(column.codes, column.values).cast(pa.string())  # type: ignore[attr-defined]

    table = pa.table(
        {
            "model_name": texts(columns.model),  # type: ignore[attr-defined]
            "id": texts(columns.item_id),  # type: ignore[attr-defined]
            "dataset_name": texts(columns.scenario),  # type: ignore[attr-defined]
            "Safe_Ans_Check": texts(columns.safety_label),  # type: ignore[attr-defined]
            "Thk_Acc_Judge": texts(columns.thinking_label),  # type: ignore[attr-defined]
        }
    )
    pa_csv.write_csv(table, path, write_options=pa_csv.WriteOptions(quoting_style="needed"))


def end_to_end(path: Path) -> dict[str, float]:
    """A fresh process reads, checks and scores the CSV (imports included)."""
    script = (
        "import time, resource; t = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from bsa_judge.app.scoring import score_files\n"
        "from bsa_judge.metrics.report import MetricsOptions\n"
        f"report = score_files([Path({str(path)!r})], MetricsOptions(k={K}))\n"
        "import json; print(json.dumps({'seconds': time.perf_counter() - t, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output)
    result["process_seconds"] = time.perf_counter() - started
    command = [str(Path(sys.executable).with_name("bsa-judge")), "metrics", str(path)]
    quiet = ["--format", "csv", "--output", "/dev/null"]
    for name, extra in (("cli_seconds", ["--bootstrap", "0"]), ("cli_default_seconds", [])):
        started = time.perf_counter()
        subprocess.run([*command, *extra, *quiet], check=True)
        result[name] = time.perf_counter() - started
    return result


def cli_run(bsa_judge: Path, path: Path, extra: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one `bsa-judge metrics` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    quiet = ["--format", "csv", "--output", os.devnull]
    subprocess.run([str(bsa_judge), "metrics", str(path), *extra, *quiet], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def cli_rounds(path: Path, baseline: Path, rounds: int) -> None:
    """Interleaved rounds: baseline then this checkout, without and with intervals."""
    commands = {"baseline": baseline / "bin" / "bsa-judge", "this": REPO / ".venv/bin/bsa-judge"}
    print("| round | bsa-judge | intervals | CPU (s) | wall (s) | load average (1 min) |")
    print("|---:|---|---|---:|---:|---:|")
    for round_number in range(1, rounds + 1):
        for name, command in commands.items():
            for label, extra in (("none", ["--bootstrap", "0"]), ("default", [])):
                load = os.getloadavg()[0]
                cpu, wall = cli_run(command, path, extra)
                print(
                    f"| {round_number} | {name} | {label} | {cpu:.2f} | {wall:.2f} | {load:.2f} |",
                    flush=True,
                )


def child(rows: int, resamples: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--one", str(rows), "--resamples", str(resamples)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def best_of(repeat: int, measure: Callable[[], dict[str, float]]) -> dict[str, float]:
    """The fastest of `repeat` runs (the machine is shared: the others only add noise)."""
    return min((measure() for _ in range(repeat)), key=lambda result: result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k and 1M rows only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--write-csv", type=Path, metavar="CSV", help="write the 1M-row CSV")
    parser.add_argument("--cli-rounds", type=int, metavar="N", help="time the CLI on --csv")
    parser.add_argument("--csv", type=Path, help="the official CSV --cli-rounds reads")
    parser.add_argument(
        "--baseline", type=Path, metavar="VENV", help="virtualenv --cli-rounds compares with"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--resamples", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.resamples)))
        return
    if args.write_csv:
        write_official_csv(args.write_csv, 1_000_000)
        return
    if args.cli_rounds:
        if args.csv is None or args.baseline is None:
            parser.error("--cli-rounds needs --csv and --baseline")
        cli_rounds(args.csv, args.baseline, args.cli_rounds)
        return

    sizes = [100_000, 1_000_000] if args.quick else [100_000, 1_000_000, 10_000_000]
    print(
        f"# metrics_speed, {time.strftime('%Y-%m-%d')}, {platform.platform()}, "
        f"{platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    print("| rows | models | resamples | seconds | µs per row | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    # Resampling costs per model and group, not per row: 4 models (a typical comparison) too.
    for rows, resamples in [*((n, 0) for n in sizes), (40_000, 1000), (1_000_000, 1000)]:
        result = best_of(args.repeat, lambda: child(rows, resamples))  # noqa: B023
        print(
            f"| {rows:,} | {rows // (ITEMS * K):,} | {resamples:,} | {result['seconds']:.3f} | "
            f"{1e6 * result['seconds'] / rows:.3f} | {result['peak_rss_mb']:.0f} |"
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "verdicts_1m.csv"
        write_official_csv(path, 1_000_000)
        size_mb = path.stat().st_size / 1e6
        result = best_of(args.repeat, lambda: end_to_end(path))
    print()
    print(f"1,000,000-row official CSV ({size_mb:.0f} MB), end to end, no resampling:")
    print(
        f"- read + check + score, imports included (fresh process): {result['seconds']:.3f} s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB; whole process {result['process_seconds']:.3f} s"
    )
    print(f"- `bsa-judge metrics FILE --bootstrap 0 --format csv`: {result['cli_seconds']:.3f} s")
    print(
        f"- `bsa-judge metrics FILE --format csv` (default: 1,000 resamples): "
        f"{result['cli_default_seconds']:.3f} s"
    )


if __name__ == "__main__":
    main()
