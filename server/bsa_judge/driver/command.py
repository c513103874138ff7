"""`bsa-judge run` from options to exit code: load and select the items, read the traces,
create the run, evaluate, write the outputs, print the figures."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import grpc
from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.dataset import DatasetError, load_items
from bsa_judge.benchmark.item import Item
from bsa_judge.driver.evaluation import RunClient, RunPlan, RunResults, create_run, evaluate
from bsa_judge.driver.outputs import OutputFiles, SampleLog, write_outputs
from bsa_judge.driver.progress import Counts, ProgressView
from bsa_judge.driver.selection import (
    Selection,
    Shard,
    items_digest,
    missing_ids,
    select_items,
    shard_items,
)
from bsa_judge.driver.traces import SubmittedSample, TracesError, read_traces
from bsa_judge.metrics.report import MetricsOptions

_COMPLETE = 0
_INCOMPLETE = 1
#: Statuses of CreateRun that mean the run cannot be created as asked: bad input.
_REFUSED = frozenset({grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT})


class RunInputError(Exception):
    """Input the run cannot start from; the message names the file and row."""


@dataclass(frozen=True)
class RunOptions:
    """The options of one `bsa-judge run`."""

    server: str
    dataset: Path
    k: int
    model: str | None = None
    traces: Path | None = None
    traces_model: str | None = None
    run_id: str = ""
    output: Path | None = None
    judge: str = ""
    safety_rules: bool = False
    selection: Selection = field(default_factory=Selection)
    ids_file: Path | None = None
    token: str | None = None
    tls_ca: Path | None = None
    max_in_flight: int = 32

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, token: str | None) -> RunOptions:
        """Options from the parsed command line; RunInputError for a bad --shard or --ids."""
        try:
            shard = Shard.parse(args.shard)
        except ValueError as error:
            raise RunInputError(f"--shard: {error}") from None
        ids = _read_ids(args.ids) if args.ids is not None else None
        return cls(
            server=args.server,
            dataset=args.dataset,
            k=args.k,
            model=args.model,
            traces=args.traces,
            traces_model=args.traces_model,
            run_id=args.run_id,
            output=args.output,
            judge=args.judge,
            safety_rules=args.safety_rules,
            selection=Selection(
                scenarios=tuple(args.scenario or ()),
                ids=ids,
                sample=args.sample,
                seed=args.seed,
                limit=args.limit,
                shard=shard,
            ),
            ids_file=args.ids,
            token=token,
            tls_ca=args.tls_ca,
            max_in_flight=args.max_in_flight,
        )

    @property
    def model_name(self) -> str:
        """The model under test, or the model the traces came from."""
        if self.model:
            return self.model
        assert self.traces is not None
        return self.traces_model or self.traces.stem


def drive(options: RunOptions) -> int:
    """Run against the server of `options`, through the client SDK."""
    from bsa_judge_client import JudgeClient, Tls
    from bsa_judge_client.connection import LoadBalancing

    tls = Tls.from_files(ca=options.tls_ca) if options.tls_ca is not None else None
    # A dns:/// target names every pod of a headless Service: spread the items over them.
    balancing: LoadBalancing = "round_robin" if options.server.startswith("dns:") else "pick_first"
    with JudgeClient(
        options.server, tls=tls, token=options.token, load_balancing=balancing
    ) as client:
        return execute(options, client)


def execute(
    options: RunOptions,
    client: RunClient,
    log: TextIO = sys.stderr,
    out: TextIO = sys.stdout,
) -> int:
    """The run, through `client`: progress and problems to `log`, the figures to `out`.

    Returns the exit code; raises RunInputError for bad input.
    """
    dataset = _dataset_items(options)
    selected = _selected_items(options, dataset)
    submitted = _submitted_samples(options, dataset, selected) if options.traces else None
    if options.selection.shard.count > 1 and not options.run_id:
        raise RunInputError("--shard needs --run-id: every shard must write the same run")
    try:
        run_id = create_run(client, options.run_id, _settings(options, selected))
    except grpc.RpcError as error:
        if error.code() in _REFUSED:
            raise RunInputError(f"run {options.run_id or '(new)'}: {error.details()}") from None
        raise
    plan = RunPlan(
        run_id=run_id,
        k=options.k,
        items=shard_items(selected, options.selection.shard),
        submitted=submitted,
    )
    log.write(f"run {run_id}: {len(plan.items)} items, k={options.k}\n")
    if not options.run_id:
        log.write(f"to resume, run the same command with --run-id {run_id}\n")
    files = OutputFiles(options.output or Path("runs") / run_id)
    with SampleLog(files) as samples:
        try:
            results = _evaluate(client, plan, options, log, samples)
        except grpc.RpcError as error:
            log.write(f"run {run_id}: the server ended the run: {error.code().name}: "
                      f"{error.details()}\n")  # fmt: skip
            return _INCOMPLETE
        verdicts = samples.finish(plan.items)
    report = write_outputs(
        files, plan.items, verdicts, MetricsOptions(k=options.k, bootstrap_resamples=0)
    )
    if report is not None:
        from rich.console import Console

        from bsa_judge.metrics.terminal import render

        render(report, Console(file=out))
    log.write(f"outputs: {files.folder}\n")
    return _exit_code(plan, results, log)


def _evaluate(
    client: RunClient, plan: RunPlan, options: RunOptions, log: TextIO, samples: SampleLog
) -> RunResults:
    counts = Counts(len(plan.items), sum(len(plan.expected_indices(i)) for i in plan.items))
    received: dict[str, int] = {}
    with ProgressView(counts, log) as view:

        def show(response: judge_pb2.EvaluateItemsResponse) -> None:
            if response.error:
                view.update(response, item_done=False)
                return
            samples.add(response)
            received[response.item_id] = received.get(response.item_id, 0) + 1
            expected = plan.expected_indices_of(response.item_id)
            view.update(response, item_done=received[response.item_id] == len(expected))

        return evaluate(
            client,
            plan,
            on_response=show,
            on_retry=lambda error, pause: view.note(
                f"stream broke ({error.code().name}); sending the pending items again in "
                f"{pause:.0f}s"
            ),
            max_in_flight=options.max_in_flight,
        )


def _exit_code(plan: RunPlan, results: RunResults, log: TextIO) -> int:
    incomplete = [item for item in plan.items if not results.is_complete(plan, item)]
    for item in incomplete[:20]:
        if item.id in results.item_errors:
            why = results.item_errors[item.id]
        elif not plan.expected_indices(item):
            why = "no samples in the traces file"
        else:
            why = "samples missing"
        log.write(f"item {item.id}: incomplete: {why}\n")
    if incomplete:
        log.write(f"{len(incomplete)} of {len(plan.items)} items incomplete\n")
        return _INCOMPLETE
    return _COMPLETE


def _dataset_items(options: RunOptions) -> list[Item]:
    try:
        return load_items(options.dataset)
    except DatasetError as error:
        raise RunInputError(str(error)) from None
    except OSError as error:
        raise RunInputError(f"{options.dataset}: {error.strerror or error}") from None


def _selected_items(options: RunOptions, items: list[Item]) -> list[Item]:
    selection = options.selection
    if selection.ids is not None:
        unknown = missing_ids(items, selection.ids)
        if unknown:
            raise RunInputError(
                f"{options.ids_file}: id {unknown[0]!r} is not in {options.dataset}"
            )
    selected = select_items(items, selection)
    if not selected:
        raise RunInputError(
            f"{options.dataset}: no item matches the selection ({selection.describe()})"
        )
    return selected


def _submitted_samples(
    options: RunOptions, dataset: list[Item], selected: list[Item]
) -> dict[str, list[SubmittedSample]]:
    assert options.traces is not None
    try:
        samples = read_traces(options.traces)
    except TracesError as error:
        raise RunInputError(str(error)) from None
    except OSError as error:
        raise RunInputError(f"{options.traces}: {error.strerror or error}") from None
    known = {item.id for item in dataset}
    for item_id, of_item in samples.items():
        for sample in of_item:
            if item_id not in known:
                raise RunInputError(
                    f"{options.traces}: {sample.where}: item {item_id!r} is not in "
                    f"{options.dataset}"
                )
            if sample.sample_index >= options.k:
                raise RunInputError(
                    f"{options.traces}: {sample.where}: sample index {sample.sample_index} "
                    f"is not below k={options.k}"
                )
    wanted = {item.id for item in selected}
    return {item_id: s for item_id, s in samples.items() if item_id in wanted}


def _settings(options: RunOptions, selected: list[Item]) -> dict[str, object]:
    selection = options.selection
    settings: dict[str, object] = {
        "model": options.model_name,
        "selection": {
            "dataset": options.dataset.name,
            "description": selection.describe(),
            "item_count": len(selected),
            "items_digest": items_digest(selected),
        },
        "k": options.k,
        "safety_rules": options.safety_rules,
        "judge": options.judge,
        "sample_source": "SAMPLE_SOURCE_GENERATED"
        if options.traces is None
        else "SAMPLE_SOURCE_SUBMITTED",
    }
    return settings


def _read_ids(path: Path) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise RunInputError(f"{path}: {error.strerror or error}") from None
    return tuple(line.strip() for line in lines if line.strip())
