"""The README's report screenshot (docs/report.png): a real report of the demo's traces.

    .venv/bin/python tools/report_example.py [OUTPUT_DIR]

The demo's sample traces (tools.demo_traces.py) are judged by the real server
against the demo's scripted stub judge (both on loopback, as `make demo` does), written as a
JSONL verdict export with the judging details and trace text, turned into a report with
`bsa-judge report`'s code, opened in headless chromium and photographed. The PNG is reduced
to a palette image to keep it small.
"""

from __future__ import annotations

import sys
from pathlib import Path

# A repository tool, as tools/demo.py: it uses tools/ (stub, traces) and tests/ (browser).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncio
import io
import tempfile

from bsa.judge.v1 import judge_pb2
from bsa_judge.metrics.report import MetricsOptions
from bsa_judge.report.page import ReportOptions, report_html
from bsa_judge.report.sources import VerdictFileSource
from bsa_judge_client import write_verdicts_jsonl
from google.protobuf import json_format
from PIL import Image

from tests.judging.harness import judge_service
from tests.support.browser import headless_chromium
from tools.demo_traces import DEMO_TRACES
from tools.judge_script import demo_judge
from tools.openai_stub import OpenAIStub

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "docs" / "report.png"


def trace_messages() -> list[judge_pb2.Trace]:
    """The demo's traces as the messages a caller sends."""
    messages = []
    for trace in DEMO_TRACES:
        item = trace.item
        message = judge_pb2.Trace()
        json_format.ParseDict(
            {
                "item": {
                    "id": item.id, "query": item.query, "risk_summary": item.risk_summary,
                    "scenario": "SCENARIO_" + item.scenario.name, "label": item.label,
                },
                "reasoning": trace.reasoning, "answer": trace.answer,
                "sample_status": "SAMPLE_STATUS_" + trace.sample_status.name,
                "model": trace.model, "sample_index": trace.sample_index,
            },
            message,
        )  # fmt: skip
        messages.append(message)
    return messages


async def main(folder: Path) -> None:
    traces = trace_messages()
    requests = [judge_pb2.JudgeTracesRequest(key=str(n), trace=t) for n, t in enumerate(traces)]
    async with OpenAIStub(demo_judge()) as stub, judge_service(stub) as client:
        verdicts = [r.verdict async for r in client.judge_traces(requests)]
    export = folder / "verdicts.jsonl"
    labels = {t.item.id: t.item.label for t in traces}
    write_verdicts_jsonl(verdicts, export, labels=labels, traces=traces, details=True)
    options = ReportOptions(
        metrics=MetricsOptions(k=2, bootstrap_resamples=1000), title="BSA report: the demo run"
    )
    page = folder / "report.html"
    page.write_text(report_html([VerdictFileSource(export)], options), encoding="utf-8")
    async with headless_chromium(folder / "profile") as browser:
        opened = await browser.open(page.as_uri(), width=1200, height=900)
        png = await opened.screenshot()
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    small = picture.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    small.save(SCREENSHOT, optimize=True)
    size = SCREENSHOT.stat().st_size
    sys.stdout.write(f"{page}\n{SCREENSHOT}: {picture.width}x{picture.height}, {size:,} bytes\n")


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bsa-report-"))
    )
    target.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
