"""The BSA judge: the safety of an answer and the accuracy of its reasoning.

A `Trace` (validation.py) is judged by a `Judge` (port.py): a trace in, its two judgments
out, and who decided. The LLM judge (llm_judge.py) asks a `ChatModel` (bsa_judge.chat)
twice, concurrently: once with the safety template and once with the reasoning template of
the trace's scenario (template.py; our own four in builtin_templates.py, or the official
prompt files through official_prompts.py). The answers are read by parsing.py, re-asked
when unreadable, and kept in the judgment cache (cache.py). `MajorityVote` (vote.py) is a
judge made of judges. verdict.py turns a judge's judgments into a `Verdict` (judgment.py);
stream.py judges a stream of traces with a bound on work in flight. Which judge a request
gets is the application layer's choice (bsa_judge.app.judges).
"""
