"""`bsa-judge calibrate --gold FILE [--judge NAME]`: a judge's agreement with gold labels.

Judges every trace of a gold file (fields scenario, query, risk_summary, reasoning, answer,
think_label, safe_label) in-process with a configured judge — the offline judge by default
when no judge endpoint is configured, else the default judge; `--judge` names any other
(an LLM judge backend, `offline`, `cascade`), with settings from `--config`, BSA_JUDGE_*
variables or the config file as for `serve` — and prints accuracy, per-label precision and
recall, Cohen's kappa and the confusion matrix: the thinking label per scenario, then
`thinking_correct` and `safe`. A table on a terminal, plain text otherwise, JSON with
`--json`. With `--server HOST:PORT` (repeatable) the traces are judged by running servers
through JudgeTraces instead, shared out in turn. A bad gold file or setting: exit code 2, the
error on stderr naming the line and field; an unknown judge: exit code 2 too; a server that
fails the call: exit code 1 with its status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bsa_judge.settings import CONFIG_ENV, SettingsError, load_settings

if TYPE_CHECKING:
    from bsa_judge.app.calibration import Agreement, CalibrationReport

_BAD_INPUT = 2


def register(subcommands: Any) -> None:
    """Add the `calibrate` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "calibrate",
        help="measure a judge against gold labels",
        description="Judge a gold file with a configured judge and print accuracy, per-label "
        "precision and recall, Cohen's kappa and the confusion matrix, per scenario and for "
        "thinking_correct and safe.",
    )
    parser.add_argument("--gold", type=Path, required=True, metavar="FILE", help="gold JSONL")
    parser.add_argument(
        "--judge",
        default="",
        metavar="NAME",
        help="a judge backend, offline or cascade (default: the default judge)",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help=f"settings file, TOML or YAML [{CONFIG_ENV}]"
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="judge through running servers (JudgeTraces, traces shared out in turn) "
        "instead of in-process; repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Calibrate and print; returns the exit code."""
    # Imported here, not at the top: `bsa-judge --help` registers every subcommand.
    from bsa_judge.app.calibration import GoldFileError, NotFound, calibrate_gold_file
    from bsa_judge.app.remote.calibration import ServerCallError, calibrate_gold_file_on_servers

    try:
        settings = load_settings(args.config)
        if args.server:  # judged by running servers, shared out in turn
            report = asyncio.run(
                calibrate_gold_file_on_servers(args.server, args.gold, judge=args.judge)
            )
        else:
            report = asyncio.run(calibrate_gold_file(settings, args.gold, judge=args.judge))
    except (SettingsError, GoldFileError, NotFound, ValueError) as error:
        sys.stderr.write(f"bsa-judge calibrate: {error}\n")
        return _BAD_INPUT
    except ServerCallError as error:
        sys.stderr.write(f"bsa-judge calibrate: {error}\n")
        return 1
    if args.json:
        json.dump(asdict(report), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif sys.stdout.isatty():
        _rich(report)
    else:
        _plain(report, sys.stdout)
    return 0


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _header(report: CalibrationReport) -> str:
    deciders = ", ".join(f"{name}: {count}" for name, count in report.decided_by)
    return (
        f"judge {report.judge}: {report.count} gold traces, {report.failed} without a label; "
        f"decided by {deciders}"
    )


def _plain(report: CalibrationReport, out: TextIO) -> None:
    out.write(_header(report) + "\n")
    for task in report.tasks:
        out.write(
            f"\n{task.task}: n={task.count} accuracy={task.accuracy:.3f} kappa={task.kappa:.3f}\n"
        )
        for figures in task.per_label:
            out.write(
                f"  {figures.label}: support={figures.support} "
                f"precision={_figure(figures.precision)} recall={_figure(figures.recall)}\n"
            )
        out.write("  confusion (rows gold, columns predicted): " + " | ".join(task.columns))
        out.write("\n")
        for label, row in zip(task.labels, task.confusion, strict=True):
            out.write(f"    {label}: {' '.join(str(n) for n in row)}\n")


def _rich(report: CalibrationReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(_header(report))
    summary = Table(title="Agreement with the gold labels")
    for column in ("task", "n", "accuracy", "kappa", "precision / recall per label"):
        summary.add_column(column)
    for task in report.tasks:
        summary.add_row(
            task.task,
            str(task.count),
            f"{task.accuracy:.3f}",
            f"{task.kappa:.3f}",
            "; ".join(
                f"{f.label} {_figure(f.precision)} / {_figure(f.recall)}" for f in task.per_label
            ),
        )
    console.print(summary)
    for task in report.tasks:
        console.print(_confusion(task, Table))


def _confusion(task: Agreement, table_type: Any) -> Any:
    table = table_type(title=f"{task.task}: gold (rows) by predicted (columns)")
    table.add_column("gold")
    for column in task.columns:
        table.add_column(column, justify="right")
    for label, row in zip(task.labels, task.confusion, strict=True):
        table.add_row(label, *(str(n) for n in row))
    return table
