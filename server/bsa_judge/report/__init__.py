"""The HTML report: one self-contained page per run or comparison of runs.

- `details`: what a verdict row may tell beyond its labels (the trace's text, the judges'
  explanations, attempts, cache hits, votes), read from the JSONL export's optional keys
  and a run folder's samples.jsonl.
- `sources`: where verdict rows come from (`VerdictSource`): verdict files, run folders.
- `health`, `cases`, `plots`: judge health, superficial-safety cases, the two figures.
- `page`: the whole report (`build_report`) and its HTML (`render_report`, Jinja2).
"""
