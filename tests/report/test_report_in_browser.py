"""The report as a person sees it: opened from a file in Debian's headless chromium.

Nothing is fetched (the file itself is the only request), nothing logs an error, every
section is there, both plots are loaded at their size, and the `<script>` planted in a
trace shows as text and never runs. The screenshot is kept in test-artifacts/report.png.
"""

from __future__ import annotations

from pathlib import Path

from bsa_judge.cli import main

from tests.report.small_run import PLANTED, write_dataset, write_run_folder
from tests.support.browser import headless_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SECTIONS = [
    ["leaderboard", "Leaderboard"],
    ["think-vs-safe", "Think@1 against Safe@1"],
    ["categories", "Per risk category"],
    ["superficial-safety", "Superficial-safety cases"],
    ["judge-health", "Judge health"],
]
# Pixels of the PNGs: the scatter is 7 x 5.5 in, the heatmap 13 x (2.6 + 0.42 per model) in,
# both at 100 dpi.
IMAGES = [["think-vs-safe-plot", 700, 550], ["category-heatmap", 1300, 344]]


async def test_the_report_opens_offline_shows_everything_and_runs_nothing(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "run")
    page_file = tmp_path / "report.html"
    dataset = write_dataset(tmp_path / "dataset.csv")
    assert main(["report", str(run), "--k", "2", "--bootstrap", "200", "--output",
                 str(page_file), "--dataset", str(dataset)]) == 0  # fmt: skip
    url = page_file.as_uri()

    async with headless_chromium(tmp_path / "profile") as browser:
        page = await browser.open(url)
        sections = await page.evaluate(
            "[...document.querySelectorAll('section')]"
            ".map(s => [s.id, s.querySelector('h2').textContent])"
        )
        images = await page.evaluate(
            "[...document.images].map(i => [i.id, i.complete && i.naturalWidth, i.naturalHeight])"
        )
        leaders = await page.evaluate(
            "[...document.querySelectorAll('#leaderboard-table tbody tr')]"
            ".map(r => [...r.cells].slice(0, 3).map(c => c.textContent.trim()))"
        )
        reasonings = await page.evaluate(
            "[...document.querySelectorAll('.case dd')].map(d => d.textContent)"
        )
        planted_ran = await page.evaluate("typeof window.__planted !== 'undefined'")
        scripts = await page.evaluate("document.scripts.length")
        screenshot = await page.screenshot()

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(screenshot)
    assert page.errors == []
    assert [r for r in page.requests if not r.startswith("data:")] == [url]
    assert sections == SECTIONS
    assert images == IMAGES
    assert leaders == [["1", "careful-model", "100.00"], ["2", "shallow-model", "56.41"]]
    assert f"Sheds are easy. {PLANTED}" in reasonings
    assert (planted_ran, scripts) == (False, 0)
    assert screenshot.startswith(b"\x89PNG")
    assert len(screenshot) > 50_000
