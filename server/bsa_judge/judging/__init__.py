"""The BSA judge: the safety of an answer and the accuracy of its reasoning.

A `Trace` (validation.py) is judged by a `Judge` (judge.py): two calls to a judge model run
concurrently, one with the safety template and one with the reasoning template of the
trace's scenario (template.py; our own four in builtin_templates.py, or the official prompt
files through official_prompts.py). The answers are read by parsing.py, re-asked when
unreadable, and kept in the verdict cache (cache.py). `JudgePanel` (panel.py) picks the
judge a request names, or several for a majority vote (vote.py), and turns the judgments into
a `Verdict` (verdict.py, judgment.py). stream.py judges a stream of traces with a bound on
work in flight.
"""
