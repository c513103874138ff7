"""The entry points reach the service through the application layer and nothing deeper.

The rule, read from each file's `import` statements with `ast` (every one: top level, inside
functions and under `if TYPE_CHECKING`, since a lazy import is still a dependency):

- The entry points are the gRPC servicer (server/bsa_judge/service/servicer.py), the CLI
  commands (server/bsa_judge/commands/*.py) and the demo (tools/demo.py).
- Of our own modules they may import the application layer (`bsa_judge.app` and below), the
  converters between the wire and the core (`bsa_judge.service.convert_*`), the settings
  (`bsa_judge.settings`) and the CLI's own argument helpers (`bsa_judge.commands.*`).
- Anything that is not ours is allowed: the standard library and the third-party libraries an
  entry point translates or renders with (argparse, rich, structlog, grpc, the protobuf
  stubs `bsa.judge.v1`). The one exception is the client SDK, `bsa_judge_client`, for the
  servicer and the commands: a command that works against a running server does it through
  a use case of `bsa_judge.app.remote`. The demo may use the SDK: it plays a team calling the
  server.
- A few named modules more, each because it is part of the entry point's own edge, neither a
  use case nor a component (see `EDGE`): the servicer's stream draining at shutdown; for
  `serve`, the gRPC server it starts (the brief keeps server assembly in the edge), the
  serving process's garbage-collector tuning and its log format, and with `workers` > 1
  the supervisor's /metrics endpoint summing the workers' metrics; for `metrics`, the writers
  that turn a MetricsReport into CSV, JSON, a terminal table or a PNG (its output
  converters); for the demo, the illustrative dataset shipped in the package (a data file)
  and its own stub and sample traces in tools/.

The application layer keeps the other side of the bargain: outside `bsa_judge.app.remote`
(the CLI's client-side use cases, which speak to servers through the SDK) it imports nothing
of gRPC, the protobuf stubs, the SDK, the service edge or the commands, so the use cases the
servicer calls are transport-neutral.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "bsa_judge"

ENTRY_POINTS = sorted(
    [
        PACKAGE / "service" / "servicer.py",
        *(PACKAGE / "commands").glob("*.py"),
        ROOT / "tools" / "demo.py",
    ]
)

#: Our own modules every entry point may import (each with everything below it).
LAYERS = ("bsa_judge.app", "bsa_judge.settings", "bsa_judge.commands")
#: Modules of ours besides LAYERS and the converters that one entry point may import, and why.
EDGE: dict[str, dict[str, str]] = {
    "service/servicer.py": {
        "bsa_judge.service.draining": "stops reading request streams at shutdown",
    },
    "commands/serve.py": {
        "bsa_judge.service.server": "the gRPC server serve starts",
        "bsa_judge.service.gc_tuning": "the serving process's garbage collector",
        "bsa_judge.logs": "the serving process's log format",
    },
    "commands/serve_workers.py": {
        "bsa_judge.logs": "each worker process's log format",
        "bsa_judge.service.prometheus_endpoint": "the supervisor's /metrics endpoint",
        "bsa_judge.service.prometheus_multiprocess": "the workers' metrics, summed",
    },
    "commands/metrics.py": {
        "bsa_judge.metrics.records": "writes a MetricsReport as CSV or JSON",
        "bsa_judge.metrics.terminal": "writes a MetricsReport as a terminal table",
        "bsa_judge.metrics.plot": "draws a MetricsReport as a PNG",
    },
    "tools/demo.py": {
        "bsa_judge.benchmark.examples": "the illustrative dataset file shipped in the package",
        "tools.demo_traces": "the demo's sample traces",
        "tools.openai_stub": "the demo's stub model",
        "bsa_judge_client": "the demo plays a team calling the server through the SDK",
    },
}
#: What is ours: anything else is the standard library or a third-party library.
OURS = ("bsa_judge", "bsa_judge_client", "tools", "tests")
#: What the transport-neutral application layer may not import.
NOT_IN_APP = (
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "grpc_status",
    "google.rpc",
    "bsa.judge",
    "bsa_judge_client",
    "bsa_judge.service",
    "bsa_judge.commands",
    "bsa_judge.app.remote",
)


def _within(module: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def imports(path: Path) -> list[tuple[int, list[str]]]:
    """(line, the modules an import statement may bring in) for every import of `path`.

    `from a.b import c` may import the module a.b.c or the name c of a.b: both are listed,
    and the statement passes when either does.
    """
    found: list[tuple[int, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            assert node.module is not None
            found.extend(
                (node.lineno, [node.module, f"{node.module}.{alias.name}"]) for alias in node.names
            )
    return sorted(found, key=lambda statement: statement[0])


def _allowed_in_entry_point(module: str, edge: dict[str, str], sdk_allowed: bool) -> bool:
    if not _within(module, OURS):
        return True
    if _within(module, list(edge)):
        return True
    if _within(module, ("bsa_judge_client",)):
        return sdk_allowed
    if _within(module, LAYERS):
        return True
    return module.startswith("bsa_judge.service.convert_")


def _unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE if path.is_relative_to(PACKAGE) else ROOT))


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=_name)
def test_entry_point_imports_only_the_application_layer_converters_and_settings(
    path: Path,
) -> None:
    edge = EDGE.get(_name(path), {})
    sdk_allowed = "bsa_judge_client" in edge
    offending = _unique(
        f"line {line}: {candidates[0]}"
        for line, candidates in imports(path)
        if not any(_allowed_in_entry_point(m, edge, sdk_allowed) for m in candidates)
    )
    assert not offending, f"{_name(path)} reaches past the application layer:\n" + "\n".join(
        offending
    )


def test_every_entry_point_is_checked() -> None:
    names = [_name(path) for path in ENTRY_POINTS]
    assert "service/servicer.py" in names
    assert "tools/demo.py" in names
    assert {"commands/calibrate.py", "commands/db.py", "commands/report.py"} <= set(names)
    assert {"commands/run.py", "commands/serve.py", "commands/metrics.py"} <= set(names)
    assert set(EDGE) <= set(names)  # no exception names a file that is gone


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (PACKAGE / "app").rglob("*.py") if "remote" not in p.parts),
    ids=_name,
)
def test_the_service_use_cases_know_nothing_of_the_transport(path: Path) -> None:
    offending = _unique(
        f"line {line}: {candidates[0]}"
        for line, candidates in imports(path)
        if all(_within(m, NOT_IN_APP) for m in candidates)
    )
    assert not offending, f"{_name(path)} depends on the transport:\n" + "\n".join(offending)


def test_the_rule_reads_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "entry.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from bsa_judge.service import convert_runs, draining\n"
        "if TYPE_CHECKING:\n"
        "    from bsa_judge.runs.store import RunStore\n"
        "def run() -> None:\n"
        "    import bsa_judge.app.bootstrap\n"
        "    from bsa_judge.driver.command import drive\n"
    )
    assert imports(source) == [
        (1, ["typing", "typing.TYPE_CHECKING"]),
        (2, ["bsa_judge.service", "bsa_judge.service.convert_runs"]),
        (2, ["bsa_judge.service", "bsa_judge.service.draining"]),
        (4, ["bsa_judge.runs.store", "bsa_judge.runs.store.RunStore"]),
        (6, ["bsa_judge.app.bootstrap"]),
        (7, ["bsa_judge.driver.command", "bsa_judge.driver.command.drive"]),
    ]
    allowed = [
        any(_allowed_in_entry_point(m, {}, False) for m in candidates)
        for _, candidates in imports(source)
    ]
    assert allowed == [True, True, False, False, True, False]
